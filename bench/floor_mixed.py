"""How fast can any pure-Python engine run the mixed chain? A floor, measured.

    python bench/floor_mixed.py [--quick] [--plot PATH]

``bench_scalar.py``'s mixed chain (``y * w``, ``y + b``, ``y.relu()``,
chains of 399 ops, forward + backward) asks gradviz for at most 0.25x
micrograd's time. This script measures, in one run and one thread, what two
throwaway engines written for nothing but this chain achieve:

* ``inlined``: gradviz's algorithm (use counts found by a discovery pass,
  then Kahn's algorithm) with everything a general engine must not do:
  the three ops hard-coded in the class, their gradients inlined in the walker,
  no op table, no kernels, no modes, no labels, no constructor function.
* ``no-discovery``: the same, but without a discovery pass: each result
  draws a creation number and the walk takes the newest reached node first
  (every user of a node is newer than it, so its gradient is complete when
  it is taken). That costs an int object per node (32 bytes: 64 MB more on
  ``bench_scalar``'s two-million-node Python-constant chain, whose gate is
  500 MB).

Both check their gradients against gradviz's. If the ``inlined`` engine alone
sits near 0.25x, the gap between it and gradviz is the price of the design
the engine issue asks for (one constructor, one table, one walker), not
slack in its code.
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench_scalar import build_chain, mixed_chain  # noqa: E402  (the same workload, timed the same way)

_alloc = object.__new__
MUL, ADD, RELU = 1, 2, 3


class Inlined:
    """Discovery (use counts), then Kahn's algorithm following chains."""

    __slots__ = ("data", "grad", "op", "parents", "pending")

    def __init__(self, data):
        self.data, self.grad, self.op, self.parents, self.pending = data, 0.0, 0, (), 0

    def __mul__(self, o):
        v = _alloc(Inlined)
        v.data, v.grad, v.pending, v.op, v.parents = self.data * o.data, 0.0, 0, MUL, (self, o)
        return v

    def __add__(self, o):
        v = _alloc(Inlined)
        v.data, v.grad, v.pending, v.op, v.parents = self.data + o.data, 0.0, 0, ADD, (self, o)
        return v

    def relu(self):
        d = self.data
        v = _alloc(Inlined)
        v.data, v.grad, v.pending, v.op, v.parents = d if d > 0.0 else 0.0, 0.0, 0, RELU, (self,)
        return v

    def backward(self):
        stack = [self]
        while stack:
            for p in stack.pop().parents:
                if p.parents:
                    n = p.pending
                    p.pending = n + 1
                    if not n:
                        p.grad = 0.0
                        stack.append(p)
        self.grad = 1.0
        ready: list = []
        node = self
        while node is not None:
            g, ps = node.grad, node.parents
            if node.op is MUL:
                a, b = ps
                a.grad += g * b.data
                b.grad += g * a.data
            elif node.op is ADD:
                a, b = ps
                a.grad += g
                b.grad += g
            else:
                a, b = ps[0], None
                a.grad += g if a.data > 0.0 else 0.0
            node = None
            if b is not None and b.parents:
                n = b.pending - 1
                b.pending = n
                if not n:
                    ready.append(b)
            if a.parents:
                n = a.pending - 1
                a.pending = n
                if not n:
                    node = a
            if node is None and ready:
                node = ready.pop()


_order = itertools.count(1)


class NoDiscovery:
    """A creation number per result; the newest reached node goes first."""

    __slots__ = ("data", "grad", "op", "parents", "seq")

    def __init__(self, data):
        self.data, self.grad, self.op, self.parents, self.seq = data, 0.0, 0, (), 0

    def __mul__(self, o):
        v = _alloc(NoDiscovery)
        v.data, v.grad, v.seq, v.op, v.parents = (self.data * o.data, 0.0, next(_order), MUL,
                                                  (self, o))
        return v

    def __add__(self, o):
        v = _alloc(NoDiscovery)
        v.data, v.grad, v.seq, v.op, v.parents = (self.data + o.data, 0.0, next(_order), ADD,
                                                  (self, o))
        return v

    def relu(self):
        d = self.data
        v = _alloc(NoDiscovery)
        v.data, v.grad, v.seq, v.op, v.parents = (d if d > 0.0 else 0.0, 0.0, next(_order), RELU,
                                                  (self,))
        return v

    def backward(self):
        # a reached, not yet taken node carries its creation number negated
        self.grad = 1.0
        heap: list = []
        node = self
        while node is not None:
            g, ps = node.grad, node.parents
            if node.op is MUL:
                a, b = ps
                ca, cb = g * b.data, g * a.data
            elif node.op is ADD:
                a, b = ps
                ca = cb = g
            else:
                a, b = ps[0], None
                ca = g if a.data > 0.0 else 0.0
            node = None
            if b is not None:
                q = b.seq
                if q <= 0:  # a leaf, or reached already
                    b.grad += cb
                else:  # first reached: its gradient starts here
                    b.seq = -q
                    b.grad = cb
                    heapq.heappush(heap, (-q, id(b), b))
            q = a.seq
            if q <= 0:
                a.grad += ca
            else:
                a.seq = -q
                a.grad = ca
                node = a
                if heap and -heap[0][0] > q:  # a newer node is waiting: it goes first
                    heapq.heappush(heap, (-q, id(a), a))
                    node = None
            if node is None and heap:
                node = heapq.heappop(heap)[2]
            if node is not None:
                node.seq = -node.seq  # taken


ENGINES = ("gradviz", "inlined", "no-discovery", "micrograd")


def _worker(name: str, reps: int) -> None:
    if name == "gradviz":
        from gradviz.autograd import Value as make
    elif name == "micrograd":
        from micrograd.engine import Value as make
    else:
        make = Inlined if name == "inlined" else NoDiscovery
    us, grad = mixed_chain(make, reps)
    print(json.dumps({"us": us, "grad": grad, "phases": _phases(make, reps)}))


def _phases(make, repeats: int, n: int = 399, chains: int = 50) -> dict:
    """The same chains with build, backward and freeing timed apart (ns per
    op, from the round with the least total): where an engine's time goes."""
    clock = time.perf_counter
    best = None
    for _ in range(repeats):
        build = back = free = 0.0
        for _ in range(chains):
            t0 = clock()
            y, w = build_chain(make, n)
            t1 = clock()
            y.backward()
            t2 = clock()
            del y, w
            t3 = clock()
            build, back, free = build + t1 - t0, back + t2 - t1, free + t3 - t2
        if best is None or build + back + free < sum(best):
            best = (build, back, free)
    assert best is not None
    return {k: v / (n * chains) * 1e9 for k, v in zip(("build", "backward", "free"), best)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--plot", metavar="PATH",
                   help="also draw where each engine's time goes (a bar per engine)")
    p.add_argument("--worker", nargs=2, metavar=("ENGINE", "REPEATS"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        _worker(a.worker[0], int(a.worker[1]))
        return
    if a.plot:  # checked here, not by argparse: a worker must not import gradviz for nothing
        # (more live objects make micrograd's garbage collector, and so its time, slower)
        from gradviz.viz.args import plot_file
        try:
            plot_file(".png", ".svg", ".pdf")(a.plot)
        except argparse.ArgumentTypeError as e:
            p.error(f"argument --plot: {e}")
    try:
        import micrograd  # noqa: F401
    except ImportError:
        raise SystemExit("floor_mixed: micrograd is not installed (pip install micrograd)") \
            from None
    reps, rounds = (5, 1) if a.quick else (21, 3)
    best: dict = {}
    for _ in range(rounds):  # each engine in a fresh process, rounds interleaved
        for name in ENGINES:
            out = subprocess.run([sys.executable, __file__, "--worker", name, str(reps)],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            if name not in best or r["us"] < best[name]["us"]:
                best[name] = r
    ref, mg = best["gradviz"]["grad"], best["micrograd"]["us"]
    print(f"python {sys.version.split()[0]}, one thread, each engine in its own process, "
          f"best of {reps} x {rounds}; mixed chain y*w, y+b, y.relu(), forward + backward\n")
    for name, r in best.items():
        ok = "" if abs(r["grad"] - ref) <= 1e-9 * max(1.0, abs(ref)) else \
            f"  (dL/dw {r['grad']} != {ref})"
        print(f"  {name:13s} {r['us']:6.3f} us/op   / micrograd {r['us'] / mg:5.3f}{ok}")
    print("\n  target for gradviz: <= 0.25 x micrograd")
    print("\nwhere the time goes, ns per op (build / backward / free; micrograd frees its")
    print("nodes, which hold reference cycles, in the garbage collector during the build):")
    for name, r in best.items():
        ph = r["phases"]
        print(f"  {name:13s} {ph['build']:5.0f} / {ph['backward']:5.0f} / {ph['free']:4.0f}")
    if a.plot:  # each bar: the engine's time per op, split in the proportions measured apart
        _plot(a.plot, {name: {k: v * r["us"] * 1e3 / sum(r["phases"].values())
                              for k, v in r["phases"].items()} for name, r in best.items()})


def _plot(path: str, phases: dict) -> None:
    from gradviz.autograd.fileio import atomic_path
    from gradviz.nn.plot import pyplot
    plt = pyplot("floor_mixed --plot")
    names = list(phases)
    fig, ax = plt.subplots(figsize=(6.5, 3.2), dpi=120)
    try:
        left = [0.0] * len(names)
        for part, colour in (("build", "#60a5fa"), ("backward", "#f59e0b"), ("free", "#a3a3a3")):
            widths = [phases[n][part] for n in names]
            ax.barh(names, widths, left=left, color=colour, label=part)
            left = [x + w for x, w in zip(left, widths)]
        ax.axvline(0.25 * sum(phases["micrograd"].values()), color="#dc2626", linestyle="--",
                   label="0.25 x micrograd")
        ax.set_xlabel("ns per op (y*w, y+b, y.relu() chains, forward + backward)")
        ax.invert_yaxis()
        ax.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        with atomic_path(path, suffix=os.path.splitext(path)[1] or ".png") as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main()
