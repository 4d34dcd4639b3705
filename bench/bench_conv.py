"""Convolution benchmark: gradviz's conv2d and a small CNN against PyTorch
(CPU), side by side in one run.

    python bench/bench_conv.py              # every task, table of ratios
    python bench/bench_conv.py --quick      # fewer rounds
    python bench/bench_conv.py --malloc-keep    # see "Allocator" below

Both engines run in this one process on one thread: the *_NUM_THREADS
variables are set before numpy and torch are imported, threadpoolctl limits
numpy's BLAS to one thread and ``torch.set_num_threads(1)``. Rounds are
interleaved: in every round each engine runs its task a few times and the
ratio of the two times is taken, so a busy machine slows both alike; the
table shows each engine's best time and the median ratio over rounds.

Tasks (float32, the same data and weights for both engines):

* ``conv 1->16``: ``conv2d`` forward + backward (input, weight and bias
  gradients) on a (32, 1, 28, 28) batch with 16 3x3 filters, padding 1;
* ``conv 16->32``: the same on (32, 16, 14, 14) with 32 3x3 filters;
* ``cnn step B``: one training step (forward, backward, SGD update) of the
  digits CNN of ``examples/digits_cnn.py`` on MNIST-sized 28x28 images at
  batch B: conv 3x3 (16) - ReLU - max-pool 2 - conv 3x3 (32) - ReLU -
  max-pool 2 - flatten - linear (1568 -> 10), mean cross-entropy.

Allocator: numpy allocates fresh arrays for every intermediate. Under some
virtual machines (this project's CI runs in one) the kernel hands freed
memory back to the host and every page of a new large array is then a slow
page fault, which can dominate numpy code. ``--malloc-keep`` asks glibc
(``mallopt``) to keep freed memory in the process for both engines, which
shows the engines' own cost; the default leaves the allocator alone.
"""
from __future__ import annotations

import argparse
import ctypes
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
from gradviz import nn  # noqa: E402
from gradviz.autograd import Tensor  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

LR = 0.01


def keep_freed_memory() -> bool:
    """glibc: never return freed memory to the kernel (mmap threshold and trim
    threshold raised); False where that is not possible."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)) and \
        bool(libc.mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1))


# ----------------------------------------------------------------------------
# conv2d forward + backward
# ----------------------------------------------------------------------------
def _conv_data(shape, filters, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((filters, shape[1], 3, 3)) * 0.2).astype(np.float32)
    b = rng.standard_normal(filters).astype(np.float32)
    g = rng.standard_normal((shape[0], filters) + shape[2:]).astype(np.float32)
    return x, w, b, g


def gradviz_conv_factory(shape, filters):
    x, w, b, g = _conv_data(shape, filters)
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))

    def run():
        X.grad = W.grad = B.grad = None
        F.conv2d(X, W, B, padding=1).backward(g)
        return W.grad
    return run


def torch_conv_factory(shape, filters):
    x, w, b, g = _conv_data(shape, filters)
    X, W, B = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    G = torch.from_numpy(g)

    def run():
        X.grad = W.grad = B.grad = None
        torch.nn.functional.conv2d(X, W, B, padding=1).backward(G)
        return W.grad
    return run


# ----------------------------------------------------------------------------
# the digits CNN's training step
# ----------------------------------------------------------------------------
def _cnn_model(seed=0):
    mods, cin, side = [], 1, 28
    for i, c in enumerate((16, 32)):
        mods += [nn.Conv2d(cin, c, 3, padding=1, seed=seed + i), nn.ReLU(), nn.MaxPool2d(2)]
        cin, side = c, side // 2
    mods += [nn.Flatten(), nn.Linear(cin * side * side, 10, nonlinearity="linear", seed=seed + 2)]
    return nn.Sequential(*mods)


def _batch(batch, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)


def gradviz_cnn_factory(batch):
    model = _cnn_model()
    ps = model.parameters()
    X, T = _batch(batch)
    X = Tensor(X)

    def step():
        loss = F.cross_entropy(model(X), T)
        for p in ps:
            p.grad = None
        loss.backward()
        for p in ps:
            p.data -= LR * p.grad
        return loss
    return step


def torch_cnn_factory(batch):
    ref = _cnn_model()
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                           tnn.Flatten(), tnn.Linear(1568, 10))
    with torch.no_grad():  # the same weights (Linear stores the transpose)
        for mine, theirs in zip((ref[0], ref[3]), (model[0], model[3])):
            theirs.weight.copy_(torch.from_numpy(mine.weight.data))
            theirs.bias.copy_(torch.from_numpy(mine.bias.data))
        model[7].weight.copy_(torch.from_numpy(ref[7].weight.data.T.copy()))
        model[7].bias.copy_(torch.from_numpy(ref[7].bias.data))
    ps = list(model.parameters())
    X, T = _batch(batch)
    X, T = torch.from_numpy(X), torch.from_numpy(T)

    def step():
        loss = torch.nn.functional.cross_entropy(model(X), T)
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
        return loss
    return step


# ----------------------------------------------------------------------------
# measuring
# ----------------------------------------------------------------------------
def _time(fn, reps):
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def race(ours, theirs, rounds, reps):
    """(our best seconds, their best seconds, median ratio ours/theirs)."""
    ours(), theirs()
    a, b, ratios = [], [], []
    for _ in range(rounds):
        ta, tb = _time(ours, reps), _time(theirs, reps)
        a.append(ta)
        b.append(tb)
        ratios.append(ta / tb)
    return min(a), min(b), statistics.median(ratios)


def tasks():
    yield "conv 1->16 (32,1,28,28)", gradviz_conv_factory((32, 1, 28, 28), 16), \
        torch_conv_factory((32, 1, 28, 28), 16)
    yield "conv 16->32 (32,16,14,14)", gradviz_conv_factory((32, 16, 14, 14), 32), \
        torch_conv_factory((32, 16, 14, 14), 32)
    for batch in (32, 128):
        yield f"cnn step, batch {batch}", gradviz_cnn_factory(batch), torch_cnn_factory(batch)


def main(argv=None) -> list:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--malloc-keep", action="store_true",
                    help="keep freed memory in the process (glibc mallopt) for both engines")
    args = ap.parse_args(argv)
    if torch is None:
        raise SystemExit("bench_conv: needs PyTorch (pip install -e .[bench])")
    from threadpoolctl import threadpool_limits
    kept = keep_freed_memory() if args.malloc_keep else False
    rounds, reps = (5, 3) if args.quick else (15, 5)
    print(f"gradviz vs PyTorch {torch.__version__} (CPU, 1 thread), numpy {np.__version__}; "
          f"allocator: {'freed memory kept (mallopt)' if kept else 'default'}; "
          f"{rounds} rounds x {reps} runs")
    print(f"{'task':30s} {'gradviz ms':>11s} {'torch ms':>9s} {'ratio':>6s}")
    rows = []
    with threadpool_limits(limits=1):
        for name, ours, theirs in tasks():
            a, b, r = race(ours, theirs, rounds, reps)
            rows.append((name, a, b, r))
            print(f"{name:30s} {a * 1e3:11.2f} {b * 1e3:9.2f} {r:6.2f}x", flush=True)
    return rows


if __name__ == "__main__":
    main()
