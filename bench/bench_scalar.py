"""Scalar engine benchmark: gradviz's Value against micrograd, in one run.

    python bench/bench_scalar.py            # all tasks, table of ratios
    python bench/bench_scalar.py --quick    # fewer repeats

Each measurement runs in a fresh subprocess (so one engine's garbage cannot
slow the other), pinned to one thread, best of several repeats. The ratios
against micrograd come from interleaved rounds: each round runs gradviz and
then micrograd back to back, and the ratio printed is the median of the
rounds' ratios (with their range), so a slow spell of the machine falls on
both engines of a round instead of on one engine's whole measurement. Tasks:

* ``demo``: micrograd's demo step -- MLP(2, [16, 16, 1]) on 100 two-moons
  points, SVM max-margin loss + 1e-4 L2, full-batch forward, backward, SGD.
  micrograd is measured with the cycle collector on (as users run it) and off.
* ``chain``: a chain of scalar ops (alternating * and + with a constant
  Value), forward + backward, microseconds per op.
* ``million``: build and backpropagate a 1,000,000-node chain: seconds and
  peak memory (micrograd's recursive topological sort cannot do this).
* ``mixed``: code written the ordinary way -- a chain cycling ``y * w``,
  ``y + b``, ``y.relu()`` with Values ``w``, ``b``: microseconds per op.
* ``pyconst``: ``y = y * 1.0001 + 0.0001`` with Python-number constants,
  N = 1,000,000 (seconds, peak memory) and N = 100,000 against micrograd
  (its recursion limit raised, run in a thread with a large stack; best of
  several fresh processes per engine, interleaved).

Needs the bench extra of the gradviz-engine distribution: ``pip install -e
'.[bench]'`` (micrograd, scikit-learn); without it the script says so.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ----------------------------------------------------------------------------
# Workers (run in a subprocess)
# ----------------------------------------------------------------------------
def _engine(name):
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP
        return Value, lambda: MLP(2, [16, 16, 1])
    sys.path.insert(0, ROOT)
    from gradviz import nn
    from gradviz.autograd import Value
    return Value, lambda: nn.MLP(2, [16, 16, 1], seed=1337)


def _moons():
    from sklearn.datasets import make_moons
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return X.tolist(), (y * 2 - 1).tolist()


def work_demo(engine: str, repeats: int, gc_off: bool) -> dict:
    import gc
    import random
    random.seed(1337)
    Value, make = _engine(engine)
    model = make()
    X, y = _moons()
    if gc_off:
        gc.disable()

    def step(k):
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= lr * p.grad
        return total_loss.data

    times = []
    for k in range(repeats):
        t0 = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "median": sorted(times)[len(times) // 2]}


def work_chain(engine: str, repeats: int, n: int = 400, chains: int = 50) -> dict:
    """``chains`` chains of ``n`` ops each (micrograd's recursive topological
    sort overflows the stack past ~1000 nodes, so chains stay short)."""
    Value, _ = _engine(engine)
    c1, c2 = Value(1.0001), Value(0.0001)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(chains):
            y = x = Value(0.5)
            for _ in range(n // 2):
                y = y * c1
                y = y + c2
            y.backward()
        best = min(best, time.perf_counter() - t0)
        del y, x
    return {"us_per_op": best / (n * chains) * 1e6}


def mixed_chain(make, repeats: int, n: int = 399, chains: int = 50) -> tuple[float, float]:
    """Chains cycling ``y * w``, ``y + b``, ``y.relu()`` (as users write code)
    with ``make`` (a Value class): microseconds per op (best of ``repeats``)
    and the last chain's dL/dw (so engines can be checked against each other)."""
    best = float("inf")
    grad = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(chains):
            y, w = build_chain(make, n)
            y.backward()
        best = min(best, time.perf_counter() - t0)
        grad = w.grad
        del y
    return best / (n * chains) * 1e6, grad


def build_chain(make, n: int):
    """One chain of ``n`` ops cycling ``y * w``, ``y + b``, ``y.relu()``:
    returns (its output, w)."""
    w, b = make(1.0001), make(0.0001)
    y = make(0.5)
    for _ in range(n // 3):
        y = y * w
        y = y + b
        y = y.relu()
    return y, w


def work_mixed(engine: str, repeats: int) -> dict:
    Value, _ = _engine(engine)
    return {"us_per_op": mixed_chain(Value, repeats)[0]}


def work_pyconst(engine: str, n: int) -> dict:
    """``y = y * 1.0001 + 0.0001`` n times, then backward: seconds, peak RSS."""
    import resource
    import threading
    Value, _ = _engine(engine)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))
    threading.stack_size(1 << 30)  # micrograd's recursive sort needs a deep C stack
    res: dict = {}

    def run():
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res.update(seconds=t2 - t0, build=t1 - t0, backward=t2 - t1, peak_mb=peak / 1024,
                   delta_mb=(peak - base) / 1024, grad=x.grad)

    th = threading.Thread(target=run)
    th.start()
    th.join()
    return res or {"error": "the worker thread failed"}


def work_million(engine: str) -> dict:
    import resource
    Value, _ = _engine(engine)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    x = Value(1.0)
    y = x
    one = Value(1.0)
    try:
        for _ in range(1_000_000):
            y = y + one
        y.backward()
    except RecursionError:
        return {"error": "RecursionError"}
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": secs, "peak_mb": peak / 1024, "delta_mb": (peak - base) / 1024,
            "ok": x.grad == 1.0}


#: module -> what it is, for the message when a peer is missing
PEERS = {"micrograd": "micrograd (the peer engine)", "sklearn": "scikit-learn (the moons data)"}
INSTALL = "pip install -e '.[bench]'   (the bench extra of the gradviz-engine distribution)"


def missing_peers() -> list[str]:
    import importlib
    missing = []
    for mod, what in PEERS.items():
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(what)
    return missing


def _run_worker(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                         text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout)


class Rounds:
    """Interleaved rounds of one task: per engine the median of its rounds'
    figures, the median of the rounds' ratios, and their range."""

    def __init__(self, ours: list, peer: list):
        ratios = sorted(o / p for o, p in zip(ours, peer))
        self.ours, self.peer = _median(ours), _median(peer)
        self.ratio = _median(ratios)
        self.spread = f"(rounds {ratios[0]:.3f}-{ratios[-1]:.3f})"


def _median(xs: list) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _rounds(args: list, key: str, rounds: int) -> Rounds:
    """``rounds`` rounds of worker ``args`` ("{}" stands for the engine), each
    running gradviz and then micrograd in fresh processes back to back, so a
    slow spell of the machine falls on both engines of a round."""
    ours, peer = [], []
    for _ in range(rounds):
        for eng, out in (("gradviz", ours), ("micrograd", peer)):
            res = _need(_run_worker([x.format(eng) for x in args]), f"{eng} {args[0]}")
            out.append(res[key])
    return Rounds(ours, peer)


def _need(res: dict, what: str) -> dict:
    """A worker's result, or a clear stop when it failed."""
    if "error" in res:
        print(f"bench_scalar: the {what} run failed: {res['error']}", file=sys.stderr)
        raise SystemExit(1)
    return res


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        task, engine, *rest = a.worker
        if task == "demo":
            res = work_demo(engine, int(rest[0]), rest[1] == "1")
        elif task == "chain":
            res = work_chain(engine, int(rest[0]))
        elif task == "mixed":
            res = work_mixed(engine, int(rest[0]))
        elif task == "pyconst":
            res = work_pyconst(engine, int(rest[0]))
        else:
            res = work_million(engine)
        print(json.dumps(res))
        return
    missing = missing_peers()
    if missing:
        print(f"bench_scalar: not installed: {', '.join(missing)}. Install the bench extra:\n"
              f"    {INSTALL}", file=sys.stderr)
        raise SystemExit(2)
    reps = 3 if a.quick else 7
    rounds = 3 if a.quick else 5
    print(f"python {sys.version.split()[0]}, one thread; {rounds} rounds, each running "
          f"gradviz and then micrograd in fresh processes (best of {reps} or more repeats "
          "each); the ratio is the median of the rounds' ratios\n")
    demo = _rounds(["demo", "{}", str(reps), "0"], "seconds", rounds)
    mg_off = _need(_run_worker(["demo", "micrograd", str(reps), "1"]), "micrograd demo")
    print("micrograd demo step (MLP(2,[16,16,1]), 100 moons, SVM loss + L2, fwd+bwd+SGD)")
    print(f"  gradviz                  {demo.ours * 1e3:8.1f} ms")
    print(f"  micrograd (gc on)        {demo.peer * 1e3:8.1f} ms   ratio gradviz/micrograd = "
          f"{demo.ratio:.3f} {demo.spread}  (target <= 0.067 = 1/15)")
    print(f"  micrograd (gc off)       {mg_off['seconds'] * 1e3:8.1f} ms   ratio = "
          f"{demo.ours / mg_off['seconds']:.3f}")
    # each repeat is ~20 ms, so short bursts of other work on the machine
    # matter: take the best of more repeats (as timeit does)
    chain = _rounds(["chain", "{}", str(reps * 3)], "us_per_op", rounds)
    print("\nscalar op chain (forward + backward)")
    print(f"  gradviz                  {chain.ours:8.3f} us/op  (target <= 1.0)")
    print(f"  micrograd                {chain.peer:8.3f} us/op  ratio = {chain.ratio:.3f} "
          f"{chain.spread}")
    mixed = _rounds(["mixed", "{}", str(reps * 3)], "us_per_op", rounds)
    print("\nmixed chain y*w, y+b, y.relu() (forward + backward)")
    print(f"  gradviz                  {mixed.ours:8.3f} us/op  (target <= 1.0)")
    print(f"  micrograd                {mixed.peer:8.3f} us/op  ratio = {mixed.ratio:.3f} "
          f"{mixed.spread}  (target <= 0.25)")
    # one build + backward per fresh process (the collector's state is part of
    # the cost), best of a few processes per engine, interleaved
    p_runs: dict = {"gradviz": [], "micrograd": []}
    for _ in range(3 if a.quick else 5):
        for eng in p_runs:
            p_runs[eng].append(_run_worker(["pyconst", eng, "100000"]))
    p_ours, p_mg = (min(p_runs[eng], key=lambda r: r.get("seconds", float("inf")))
                    for eng in ("gradviz", "micrograd"))
    print("\ny = y * 1.0001 + 0.0001 with Python constants, N = 100,000")
    print(f"  gradviz                  {p_ours.get('seconds', float('nan')):8.3f} s")
    if "error" in p_mg:
        print(f"  micrograd                fails: {p_mg['error']}")
    else:
        print(f"  micrograd                {p_mg['seconds']:8.3f} s   ratio = "
              f"{p_ours['seconds'] / p_mg['seconds']:.3f}  (target <= 0.15)")
    p_big = _run_worker(["pyconst", "gradviz", "1000000"])
    print("  N = 1,000,000: gradviz   "
          f"{p_big.get('seconds', float('nan')):8.2f} s "
          f"(build {p_big.get('build', float('nan')):.2f} s)"
          f"   peak RSS {p_big.get('peak_mb', float('nan')):.0f} MB (targets: 5 s, 500 MB)")
    m_ours = _run_worker(["million", "gradviz"])
    m_mg = _run_worker(["million", "micrograd"])
    print("\n1,000,000-node chain: build + backward")
    print(f"  gradviz                  {m_ours.get('seconds', float('nan')):8.2f} s   peak RSS "
          f"{m_ours.get('peak_mb', float('nan')):.0f} MB (targets: 3 s, 500 MB)")
    if "error" in m_mg:
        print(f"  micrograd                fails: {m_mg['error']}")
    else:
        print(f"  micrograd                {m_mg['seconds']:8.2f} s   "
              f"peak RSS {m_mg['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
