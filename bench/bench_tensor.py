"""Tensor engine benchmark: gradviz's Tensor against PyTorch (CPU) and a
hand-written numpy forward/backward, side by side in one run.

    python bench/bench_tensor.py            # both tasks, table of ratios
    python bench/bench_tensor.py --quick    # fewer repeats

All engines run in this one process, pinned to one thread (the *_NUM_THREADS
variables are set before numpy and torch are imported, and
``torch.set_num_threads(1)``). Each measurement is the best of several
rounds; the engines take turns inside every round, so a busy machine slows
them alike; times shown are each engine's best, ratios the median over
rounds of the ratio within a round. Tasks:

* ``mlp``: one training step (forward, backward, SGD update) of the
  784-512-256-10 ReLU MLP with mean cross-entropy, float32, at batch 32, 128
  and 1024. ``numpy`` is a hand-written forward and backward with no
  autograd: the floor any numpy-based engine can reach.
* ``ops``: per-op overhead: 200 chained ``*``/``+``/``tanh`` ops on (8, 8)
  float64 tensors (``y = y * w``, ``y = y + w``, ``y = tanh(y)``, ``x`` and
  ``w`` requiring grad) then ``y.sum()``, forward + backward, microseconds
  per op; the same chain written by hand in numpy shows what the numpy calls
  alone cost.

Needs torch for the comparison (the bench extra of the gradviz-engine
distribution: ``pip install -e '.[bench]'``); without it the torch columns
are left out and the script says how to get them.
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
           "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import gradviz.autograd.functional as F  # noqa: E402
from gradviz.autograd import Tensor  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

LR = 0.01
SIZES = (784, 512, 256, 10)


# ----------------------------------------------------------------------------
# MLP training step, three ways
# ----------------------------------------------------------------------------
def _params(seed=0):
    rng = np.random.default_rng(seed)
    ps = []
    for nin, nout in itertools.pairwise(SIZES):
        ps.append((rng.standard_normal((nin, nout)) * np.sqrt(2.0 / nin)).astype(np.float32))
        ps.append(np.zeros(nout, dtype=np.float32))
    return ps


def _data(batch, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((batch, SIZES[0]), dtype=np.float32), rng.integers(0, 10, batch)


def numpy_step_factory(batch):
    """Hand-written forward and backward: no graph, in-place where natural."""
    W1, b1, W2, b2, W3, b3 = _params()
    X, T = _data(batch)
    rows = np.arange(batch)

    def step():
        z1 = X @ W1
        z1 += b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2
        z2 += b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3
        z3 += b3
        z3 -= z3.max(axis=1, keepdims=True)
        e = np.exp(z3)
        s = e.sum(axis=1, keepdims=True)
        loss = -(z3[rows, T] - np.log(s[:, 0])).mean()
        e /= s                      # softmax
        e[rows, T] -= 1
        e *= 1.0 / batch            # d loss / d z3
        dW3 = h2.T @ e
        db3 = e.sum(axis=0)
        dh2 = e @ W3.T
        dh2 *= z2 > 0
        dW2 = h1.T @ dh2
        db2 = dh2.sum(axis=0)
        dh1 = dh2 @ W2.T
        dh1 *= z1 > 0
        dW1 = X.T @ dh1
        db1 = dh1.sum(axis=0)
        for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2), (W3, dW3), (b3, db3)):
            p -= LR * g
        return loss
    return step


def gradviz_step_factory(batch):
    ps = [Tensor(p, requires_grad=True) for p in _params()]
    W1, b1, W2, b2, W3, b3 = ps
    X, T = _data(batch)
    X = Tensor(X)

    def step():
        h = (X @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        loss = F.cross_entropy(h @ W3 + b3, T)
        for p in ps:
            p.grad = None
        loss.backward()
        for p in ps:
            p.data -= LR * p.grad
        return loss
    return step


def torch_step_factory(batch):
    ps = [torch.tensor(p, requires_grad=True) for p in _params()]
    W1, b1, W2, b2, W3, b3 = ps
    X, T = _data(batch)
    X, T = torch.from_numpy(X), torch.from_numpy(T)
    tF = torch.nn.functional

    def step():
        h = (X @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        loss = tF.cross_entropy(h @ W3 + b3, T)
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
        return loss
    return step


# ----------------------------------------------------------------------------
# per-op overhead
# ----------------------------------------------------------------------------
N_OPS = 200


def _chain(x, w, tanh):
    y = x
    for i in range(N_OPS):
        k = i % 3
        if k == 0:
            y = y * w
        elif k == 1:
            y = y + w
        else:
            y = tanh(y)
    return y


def gradviz_ops_factory():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((8, 8)), requires_grad=True)
    w = Tensor(rng.standard_normal((8, 8)) * 0.5, requires_grad=True)

    def run():
        x.grad = w.grad = None
        _chain(x, w, Tensor.tanh).sum().backward()
    return run


def numpy_ops_factory():
    """The same chain by hand in numpy (forward, then backward by hand, no
    graph): what the numpy calls alone cost."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 8))
    w = rng.standard_normal((8, 8)) * 0.5

    def run():
        ys = [x]
        y = x
        for i in range(N_OPS):
            k = i % 3
            y = y * w if k == 0 else (y + w if k == 1 else np.tanh(y))
            ys.append(y)
        g = np.ones_like(y)
        gw = None
        for i in range(N_OPS - 1, -1, -1):
            k = i % 3
            if k == 0:
                c = g * ys[i]
                gw = c if gw is None else gw + c
                g = g * w
            elif k == 1:
                gw = g if gw is None else gw + g
            else:
                o = ys[i + 1]
                g = g * (1.0 - o * o)
        return g, gw
    return run


def torch_ops_factory():
    rng = np.random.default_rng(2)
    x = torch.tensor(rng.standard_normal((8, 8)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((8, 8)) * 0.5, requires_grad=True)

    def run():
        x.grad = w.grad = None
        _chain(x, w, torch.tanh).sum().backward()
    return run


# ----------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------
def measure(fns: dict, rounds: int, inner: int):
    """Per-call times of each fn. Every round runs the engines back to back,
    so a busy machine slows them alike; returns the best time of each and,
    per round, the times (for ratios taken within a round)."""
    for f in fns.values():  # warm up
        for _ in range(max(2, inner // 4)):
            f()
    per_round = []
    for _ in range(rounds):
        times = {}
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            times[k] = (time.perf_counter() - t0) / inner
        per_round.append(times)
    best = {k: min(r[k] for r in per_round) for k in fns}
    return best, per_round


def ratio(per_round, a: str, b: str) -> float:
    """Median over rounds of time(a) / time(b) measured in the same round."""
    return statistics.median(r[a] / r[b] for r in per_round)


def check_same_losses(batch):
    """The three engines compute the same loss on the first step."""
    losses = {"numpy": float(numpy_step_factory(batch)()),
              "gradviz": float(gradviz_step_factory(batch)().data)}
    if torch is not None:
        losses["torch"] = float(torch_step_factory(batch)().detach())
    ref = losses["numpy"]
    for v in losses.values():
        if not np.isclose(v, ref, rtol=1e-4):
            raise SystemExit(f"loss mismatch at batch {batch}: {losses}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--task", choices=("all", "mlp", "ops"), default="all")
    args = ap.parse_args(argv)
    rounds = 5 if args.quick else 15
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", no torch")
          + f", python {sys.version.split()[0]}, threads pinned to 1")
    if torch is None:
        print("torch is not installed, so its columns are left out; for them install the bench "
              "extra: pip install -e '.[bench]'")

    if args.task in ("all", "mlp"):
        print("\nMLP 784-512-256-10 train step (float32, forward + backward + SGD), ms per step")
        head = f"{'batch':>6} {'numpy floor':>12} {'gradviz':>9} {'torch':>9} " \
               f"{'gradviz/numpy':>14} {'gradviz/torch':>14}"
        print(head)
        for batch in (32, 128, 1024):
            check_same_losses(batch)
            fns = {"numpy": numpy_step_factory(batch), "gradviz": gradviz_step_factory(batch)}
            if torch is not None:
                fns["torch"] = torch_step_factory(batch)
            inner = {32: 20, 128: 10, 1024: 2}[batch]
            t, per_round = measure(fns, rounds, inner)
            tt = t.get("torch", float("nan"))
            vs_torch = ratio(per_round, "gradviz", "torch") if torch is not None else float("nan")
            print(f"{batch:>6} {t['numpy'] * 1e3:>12.3f} {t['gradviz'] * 1e3:>9.3f} "
                  f"{tt * 1e3:>9.3f} {ratio(per_round, 'gradviz', 'numpy'):>13.3f}x "
                  f"{vs_torch:>13.3f}x")

    if args.task in ("all", "ops"):
        print(f"\nPer-op overhead: {N_OPS} chained */+/tanh on (8, 8) float64, forward + backward")
        fns = {"gradviz": gradviz_ops_factory(), "numpy": numpy_ops_factory()}
        if torch is not None:
            fns["torch"] = torch_ops_factory()
        t, per_round = measure(fns, rounds, 20)
        g_us = t["gradviz"] / N_OPS * 1e6
        n_us = t["numpy"] / N_OPS * 1e6
        line = f"  gradviz {g_us:.2f} us/op, numpy by hand (no graph) {n_us:.2f} us/op"
        if torch is not None:
            t_us = t["torch"] / N_OPS * 1e6
            line += (f", torch {t_us:.2f} us/op; gradviz/torch "
                     f"{ratio(per_round, 'gradviz', 'torch'):.3f}x")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
