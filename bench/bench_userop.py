"""What a user's own op costs: a define_op row against the built-in op of the
same arithmetic, per node, forward + backward, in one run.

    python bench/bench_userop.py [--quick]

Two pairs: tanh written as a user would (``forward=M.tanh(a)``,
``deriv=1 - out*out``) against the built-in ``.tanh()``, which has a
hand-specialised forward and backward declared in its row; and sin
(``forward=M.sin(a)``, ``deriv=M.cos(a)``) against the built-in ``.sin()``,
which, like a user's op, runs the table's generic rule. Measured on Values
(chains of 300 ops) and on (8, 8) Tensors (chains of 100 ops), best of several rounds, rounds
interleaved, one thread. Target: the user op at most 1.5x the built-in.
"""
from __future__ import annotations

import argparse
import gc
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from gradviz import Tensor, Value, autograd

user_tanh = autograd.define_op("bench_tanh", forward=lambda M, a: M.tanh(a),
                               deriv=lambda M, out, a: (1.0 - out * out,),
                               rule=("d/da = 1 - tanh²(a)",))
user_sin = autograd.define_op("bench_sin", forward=lambda M, a: M.sin(a),
                              deriv=lambda M, out, a: (M.cos(a),), rule=("d/da = cos(a)",))


def _chain(make, step, n: int, chains: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(chains):
        y = make()
        for _ in range(n):
            y = step(y)
        if isinstance(y, Tensor):
            y.sum().backward()
        else:
            y.backward()
    return (time.perf_counter() - t0) / (n * chains)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="A define_op row against the built-in op of the "
                                "same arithmetic, per node (target <= 1.5x).")
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    a = p.parse_args(argv)
    rounds = 5 if a.quick else 15
    cases = {
        "Value": (lambda: Value(0.3), 300, 20),
        "Tensor (8, 8)": (lambda: Tensor(np.full((8, 8), 0.3), requires_grad=True), 100, 10),
    }
    print(f"one thread, best of {rounds} interleaved rounds\n")
    pairs = {"tanh": (lambda y: y.tanh(), user_tanh), "sin": (lambda y: y.sin(), user_sin)}
    for name, (make, n, chains) in cases.items():
        for op, (builtin, user) in pairs.items():
            best_b = best_u = float("inf")
            for _ in range(rounds):
                best_b = min(best_b, _chain(make, builtin, n, chains))
                best_u = min(best_u, _chain(make, user, n, chains))
            print(f"{name:15s} {op:4s} built-in {best_b * 1e6:7.2f} us/node   define_op "
                  f"{best_u * 1e6:7.2f} us/node   ratio {best_u / best_b:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
