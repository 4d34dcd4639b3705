"""Gradient-checking benchmark: does the checker find a wrong gradient, and
does it name the op? PyTorch's gradcheck on the same mutants, side by side.

    python bench/bench_check.py               # the full benchmark (~ a few minutes)
    python bench/bench_check.py --quick       # fewer examples and graphs
    python bench/bench_check.py --json out.json

Parts:

1. **Mutants.** For every elementwise op of the table, wrong variants of its
   derivative rule: sign flipped, doubled, operands swapped (binary ops), a
   constant added, a term (or factor) dropped, scaled by the input -- per
   input where the op has several. For the structural ops with a generic
   spelling (sum, mean, max, matmul, softmax, log_softmax), wrong vjp rules:
   sign, doubled, a constant added, the upstream gradient ignored, operands
   swapped (matmul), a term dropped. Variants equal to the true rule on the
   op's domain are dropped. Each mutant is plugged in as a user's op
   (:func:`user_op`) and checked with ``autograd.testing.check_op``:
   caught?, does the report name the mutated op?, size of the minimal
   failing graph, time. The same wrong rules go through
   ``torch.autograd.gradcheck`` as ``torch.autograd.Function``s (forward:
   the table's forward on numpy; backward: the same wrong rule) at as many
   random points of the domain.
2. **False failures.** ``gradcheck`` on 10,000 random graphs of correct ops
   per dtype (float64 Values, float32 Tensors), a quarter of them with an
   operand of a kinked op (relu, abs, leaky_relu, elu) placed on or within a
   step of its kink. A mismatch reported there is a false failure; "not
   differentiable here" is the right answer at a kink.
3. **Localisation cost.** A 200-op-node graph with one wrong op: time of
   ``gradcheck(..., localise=False)`` (says that it fails) against
   ``gradcheck`` (also names the op), same run.

Single thread (OMP/BLAS), one process; timings are wall-clock.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

from gradviz import autograd
from gradviz.autograd import Tensor, Value
from gradviz.autograd.check import GradcheckError, gradcheck
from gradviz.autograd.ops import AM, FM, OPS, SQRT1_2, Op, arity_of, elementwise_ops, register
from gradviz.autograd.testing import OpCheckError, check_op, unregister_op

KINKED = ("relu", "abs", "leaky_relu", "elu")


# ----------------------------------------------------------------------------
# Mutants
# ----------------------------------------------------------------------------
def user_op(row: Op, name: str, deriv) -> Op:
    """The op ``row`` with derivative rule ``deriv``, as a user's op named
    ``name``: a copy of the row registered in the table, as ``define_op``
    registers one (``define_op`` itself takes one value per parameter; the
    copy keeps all of the row's sample values, so check_op draws them all)."""
    return register(dataclasses.replace(row, key=name, name=name, symbol=name, deriv=deriv,
                                        fast={}, user=True))


def _dropped(key: str):
    """A term (or factor) dropped from op ``key``'s rule, written by hand
    where the rule has several; None: drop the whole derivative of input 0."""
    return {
        "tanh": lambda M, o, a: (o * 0.0 + 1.0,),
        "silu": lambda M, o, a: (M.sigmoid(a),),
        "gelu": lambda M, o, a: (0.5 * (1.0 + M.erf(a * SQRT1_2)),),
        "swish_const": lambda M, o, a, beta: (M.sigmoid(beta * a),),
        "swish": lambda M, o, a, beta: (M.sigmoid(beta * a), OPS["swish"].deriv(M, o, a, beta)[1]),
        "elu": lambda M, o, a, alpha: (M.where_pos(a, 1.0, o),),
        "leaky_relu": lambda M, o, a, alpha: (M.where_pos(a, 1.0, 0.0 * a),),
        "sigmoid": lambda M, o, a: (M.sigmoid(-a),),
        "pow": lambda M, o, a, b: (M.pow(a, b - 1.0), M.xlogy(o, a)),
        "pow_const": lambda M, o, a, c: (M.pow(a, c - 1.0) + 0.0 * a,),
        "erf": lambda M, o, a: (M.exp(-(a * a)),),
        "div": lambda M, o, a, b: (M.div(1.0, b), -M.div(1.0, b)),
        "sqrt": lambda M, o, a: (M.div(1.0, o),),
    }.get(key)


def mutants(row: Op) -> list[tuple[str, object]]:
    """(kind, wrong deriv) pairs for ``row`` (before the equality filter)."""
    true = row.deriv
    n = arity_of(row)
    out = []

    def edit(i, fn):
        def d(M, o, *xs):
            ds = list(true(M, o, *xs))
            ds[i] = fn(M, o, xs, ds[i])
            return tuple(ds)
        return d

    targets = range(n) if n <= 2 else (0, 1)
    for i in targets:
        tag = f"[{i}]" if n > 1 else ""
        out.append((f"sign{tag}", edit(i, lambda M, o, xs, d: -1.0 * d)))
        out.append((f"doubled{tag}", edit(i, lambda M, o, xs, d: 2.0 * d)))
        out.append((f"plus_const{tag}", edit(i, lambda M, o, xs, d: d + 0.5)))
        out.append((f"times_input{tag}", edit(i, lambda M, o, xs, d: d * xs[0])))
    if n >= 2:
        def swapped(M, o, *xs):
            ds = list(true(M, o, *xs))
            ds[0], ds[1] = ds[1], ds[0]
            return tuple(ds)
        out.append(("swapped", swapped))
    drop = _dropped(row.key)
    if drop is None:
        drop = edit(0, lambda M, o, xs, d: 0.0 * d)
    out.append(("term_dropped", drop))
    return out


def _sample_points(row: Op, rng, k: int = 40):
    pts = []
    for _ in range(k):
        xs = []
        for intervals in row.domain[:arity_of(row)]:
            lo, hi = intervals[rng.integers(len(intervals))]
            xs.append(float(rng.uniform(lo + 0.01, hi - 0.01)))
        pts.append(xs)
    return pts


def _param_sets(row: Op):
    if not row.params:
        return [{}]
    keys = list(row.params)
    return [dict(zip(keys, vals)) for vals in zip(*[row.params[k] for k in keys])] + \
        [{k: row.params[k][0] for k in keys}]


def differs(row: Op, wrong, rng) -> bool:
    """Whether ``wrong`` differs from the true rule somewhere on the domain."""
    for params in _param_sets(row):
        p = list(params.values())
        for xs in _sample_points(row, rng):
            o = row.forward(FM, *xs, *p)
            t = row.deriv(FM, o, *xs, *p)
            w = wrong(FM, o, *xs, *p)
            if any(abs(float(a) - float(b)) > 1e-6 * (1 + abs(float(a))) for a, b in zip(t, w)):
                return True
    return False


def run_mutants(max_examples: int, torch_points: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = [op for op in elementwise_ops() if not op.user]
    results = []
    skipped = []
    for row in rows:
        for kind, wrong in mutants(row):
            if not differs(row, wrong, rng):
                skipped.append(f"{row.key}:{kind}")
                continue
            name = f"{row.key}__mut__{kind.replace('[', '_').replace(']', '')}"
            op = user_op(row, name, wrong)
            results.append(_check_mutant(
                row.key, kind, name, op, op, max_examples,
                lambda row=row, wrong=wrong: torch_catches(row, wrong, rng, torch_points)))
    return {"results": results, "skipped": skipped}


def _check_mutant(key: str, kind: str, name: str, op, registered, max_examples: int,
                  torch_catch) -> dict:
    """One mutant through check_op (caught? named? how small?) and through
    torch's gradcheck (``torch_catch()``), timed; ``registered`` is the row
    to unregister afterwards."""
    t0 = time.perf_counter()
    rec = {"op": key, "kind": kind, "caught": False, "named": False, "size": None, "prop": None}
    try:
        check_op(op, max_examples=max_examples)
    except OpCheckError as e:
        rec.update(caught=True, named=e.named, size=e.size, prop=e.prop)
    except Exception as e:
        rec.update(prop=f"{type(e).__name__}: {str(e)[:80]}")
    finally:
        unregister_op(registered)
    rec["seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec["torch_caught"] = torch_catch()
    rec["torch_seconds"] = time.perf_counter() - t0
    print(f"  {name}: caught={rec['caught']} named={rec['named']} size={rec['size']} "
          f"{rec['seconds']:.1f}s torch={rec['torch_caught']} {rec['torch_seconds']:.1f}s "
          f"({rec['prop']})", file=sys.stderr, flush=True)
    return rec


# ----------------------------------------------------------------------------
# Structural (vjp) ops: sum, mean, max, matmul, softmax, log_softmax
# ----------------------------------------------------------------------------
STRUCTURAL = ("sum", "mean", "max", "matmul", "softmax", "log_softmax")


class StructuralOp:
    """A structural row with a wrong vjp, registered as a user's op, called on
    Tensors with the constant parameters the built-in spelling would use
    (read from the built-in node's public ``op_info.params``)."""

    def __init__(self, row: Op, original: Op):
        self.row, self.original = row, original

    def __getattr__(self, name):
        return getattr(self.__dict__["row"], name)

    def __call__(self, *xs, **_):
        from gradviz.autograd.testing import apply_op
        info = apply_op(self.original, list(xs), {}).op_info
        if info.key != self.original.key:  # e.g. softmax of a 0-d tensor is another op
            raise ValueError(f"{self.row.key}: the built-in spelling is not {self.original.key} "
                             "for these shapes")
        return self.row(*xs, **info.params)


def struct_user_op(row: Op, name: str, vjp) -> StructuralOp:
    """(See :func:`user_op`.) The row copy declares the parameters the kernel
    takes, so the user-op call path passes them through."""
    from gradviz.autograd.testing import apply_op
    sample = [Tensor(np.ones(shape), requires_grad=True)
              for shape in STRUCT_SHAPES.get(row.key, ((2, 3),))]
    keys = tuple(apply_op(row, sample, {}).op_info.params)
    return StructuralOp(register(dataclasses.replace(
        row, key=name, name=name, symbol=name, vjp=vjp, fast={}, user=True,
        params=dict.fromkeys(keys, (None,)), defaults={})), row)


def struct_mutants(row: Op) -> list[tuple[str, object]]:
    true = row.vjp

    def each(fn):
        return lambda M, g, out, *xs, **p: tuple(fn(c) for c in true(M, g, out, *xs, **p))
    out = [("sign", each(lambda c: c * -1.0)), ("doubled", each(lambda c: c * 2.0)),
           ("plus_const", each(lambda c: c + 0.5)),
           ("ignores_g", lambda M, g, out, *xs, **p: true(M, g * 0.0 + 1.0, out, *xs, **p))]
    if row.key == "matmul":
        out.append(("swapped",
                    lambda M, g, o, a, b, **p: tuple(reversed(true(M, g, o, a, b, **p)))))
        out.append(("term_dropped",
                    lambda M, g, o, a, b, **p: (true(M, g, o, a, b, **p)[0], b * 0.0)))
    elif row.key == "softmax":  # g·s - s·Σ(g·s)  ->  g·s
        out.append(("term_dropped", lambda M, g, o, x, **p: (g * o,)))
    elif row.key == "log_softmax":  # g - softmax·Σg  ->  g
        out.append(("term_dropped", lambda M, g, o, x, **p: (g * 1.0,)))
    elif row.key == "mean":  # the 1/n factor dropped: sum's rule
        out.append(("term_dropped", lambda M, g, o, x, **p: OPS["sum"].vjp(M, g, o, x, **p)))
    else:
        out.append(("term_dropped", each(lambda c: c * 0.0)))
    return out


STRUCT_SHAPES = {"matmul": ((2, 3), (3, 4))}


def torch_catches_struct(row: Op, wrong, rng, points: int):
    torch = _torch()
    if torch is None:
        return None
    from gradviz.autograd.tensor_ops import TA
    from gradviz.autograd.testing import apply_op
    shapes = STRUCT_SHAPES.get(row.key, ((3, 4),))
    for _ in range(points):
        arrs = [rng.uniform(-2, 2, s) for s in shapes]
        params = apply_op(row, [Tensor(a, requires_grad=True) for a in arrs], {}).op_info.params

        class Mutant(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *xs):
                ds = [x.detach().numpy() for x in xs]
                out = np.asarray(row.forward(AM, *ds, **params),  # noqa: B023 (used at once)
                                 dtype=np.float64)
                ctx.ds, ctx.out = ds, out
                return torch.from_numpy(out.copy())

            @staticmethod
            def backward(ctx, g):
                cs = wrong(TA, g.detach().numpy(), ctx.out, *ctx.ds, **params)  # noqa: B023
                return tuple(torch.from_numpy(np.array(np.broadcast_to(c, d.shape),
                                                       dtype=np.float64))
                             if np.size(c) == d.size or np.ndim(c) == 0 else
                             torch.from_numpy(np.zeros(d.shape)) + float("nan")
                             for c, d in zip(cs, ctx.ds))
        xs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrs)
        try:
            torch.autograd.gradcheck(Mutant.apply, xs)
        except Exception:
            return True
    return False


def run_struct_mutants(max_examples: int, torch_points: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    results = []
    for key in STRUCTURAL:
        row = OPS[key]
        for kind, wrong in struct_mutants(row):
            name = f"{key}__mut__{kind}"
            op = struct_user_op(row, name, wrong)
            results.append(_check_mutant(
                key, kind, name, op, op.row, max_examples,
                lambda row=row, wrong=wrong: torch_catches_struct(row, wrong, rng, torch_points)))
    return results


# ----------------------------------------------------------------------------
# PyTorch, same mutants
# ----------------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def torch_catches(row: Op, wrong, rng, points: int):
    """Whether torch.autograd.gradcheck rejects a Function with the table's
    forward and the wrong backward, at up to ``points`` random points of the
    domain (4 elements each). None when torch is not installed."""
    torch = _torch()
    if torch is None:
        return None
    n = arity_of(row)
    psets = _param_sets(row)
    for k in range(points):
        params = psets[k % len(psets)]
        p = list(params.values())

        class Mutant(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *xs):
                arrs = [x.detach().numpy() for x in xs]
                out = np.asarray(row.forward(AM, *arrs, *p), dtype=np.float64)  # noqa: B023
                ctx.save_for_backward(*xs)
                ctx.out = out
                return torch.from_numpy(out.copy())

            @staticmethod
            def backward(ctx, g):
                arrs = [x.detach().numpy() for x in ctx.saved_tensors]
                ds = wrong(AM, ctx.out, *arrs, *p)  # noqa: B023 (the class is used at once)
                gn = g.detach().numpy()
                return tuple(torch.from_numpy(np.array(np.broadcast_to(gn * d, a.shape),
                                                       dtype=np.float64)) for d, a in zip(ds, arrs))
        xs = []
        for intervals in row.domain[:n]:
            vals = []
            for _ in range(4):
                lo, hi = intervals[rng.integers(len(intervals))]
                vals.append(rng.uniform(lo + 0.01, hi - 0.01))
            xs.append(torch.tensor(vals, dtype=torch.float64, requires_grad=True))
        try:
            torch.autograd.gradcheck(Mutant.apply, tuple(xs))
        except Exception:
            return True
    return False


# ----------------------------------------------------------------------------
# False failures on correct ops
# ----------------------------------------------------------------------------
NEAR_KINK = (0.0, 1e-12, -1e-12, 1e-7, -1e-7, 3e-4, -3e-4, 1e-3, -1e-3)


def random_graph(rng, near_kink: bool, max_ops: int = 6):
    """(fn, leaf values, touched_kink): a random graph of correct ops, kept
    in each op's domain by constant shifts; with ``near_kink`` the first
    kinked op's operand is moved on or within a step of its kink."""
    ops = [op for op in elementwise_ops() if not op.user]
    kinked = [OPS[k] for k in KINKED]
    n = int(rng.integers(1, 4))
    vals = [float(rng.uniform(-2, 2)) for _ in range(n)]
    steps = []
    touched = False
    n_ops = int(rng.integers(1, max_ops + 1))
    kink_at = int(rng.integers(0, n_ops)) if near_kink else -1
    for s in range(n_ops):
        op = kinked[rng.integers(len(kinked))] if s == kink_at else ops[rng.integers(len(ops))]
        params = {k: v[rng.integers(len(v))] for k, v in op.params.items()}
        idx = [int(rng.integers(len(vals))) for _ in range(arity_of(op))]
        for j, i in enumerate(idx):
            x = vals[i]
            if s == kink_at and j == 0:
                target = NEAR_KINK[rng.integers(len(NEAR_KINK))]
                touched = True
            elif any(lo + 0.05 <= x <= hi - 0.05 for lo, hi in op.domain[j]):
                continue
            else:
                lo, hi = op.domain[j][rng.integers(len(op.domain[j]))]
                target = float(rng.uniform(lo + 0.1, hi - 0.1))
            steps.append(("shift", i, target - x))
            vals.append(target)
            idx[j] = len(vals) - 1
        y = op.forward(FM, *[vals[i] for i in idx], *params.values())
        steps.append(("op", op, tuple(idx), params))
        vals.append(y)
        if abs(y) > 8:
            steps.append(("op", OPS["tanh"], (len(vals) - 1,), {}))
            vals.append(math.tanh(y))

    from gradviz.autograd.testing import apply_op

    def fn(*leaves):
        pool = list(leaves)
        for kind, *rest in steps:
            if kind == "op":
                op, idx, params = rest
                pool.append(apply_op(op, [pool[i] for i in idx], params))
            else:
                i, off = rest
                pool.append(pool[i] + off)
        return pool[-1]
    return fn, vals[:n], touched


def run_false_failures(n_graphs: int, seed: int = 1) -> dict:
    out = {}
    for dtype in ("float64", "float32"):
        rng = np.random.default_rng(seed)
        counts = {"graphs": 0, "passed": 0, "not_differentiable": 0, "false_failures": 0,
                      "kink_graphs": 0, "kink_false_failures": 0, "examples": []}
        t0 = time.perf_counter()
        for g in range(n_graphs):
            near = g % 4 == 0
            fn, leaf_vals, touched = random_graph(rng, near)
            if dtype == "float64":
                leaves = [Value(v, label=f"x{i}") for i, v in enumerate(leaf_vals)]
            else:
                leaves = [Tensor(np.full(3, v, dtype=np.float32) + np.float32(1e-3) *
                                 np.arange(3, dtype=np.float32), requires_grad=True, label=f"x{i}")
                          for i, v in enumerate(leaf_vals)]
            counts["graphs"] += 1
            counts["kink_graphs"] += touched
            try:
                with np.errstate(all="ignore"):
                    gradcheck(lambda *xs, fn=fn: _sum(fn(*xs)), *leaves)
                counts["passed"] += 1
            except GradcheckError as e:
                if e.report is not None and e.report.kind == "not differentiable":
                    counts["not_differentiable"] += 1
                else:
                    counts["false_failures"] += 1
                    counts["kink_false_failures"] += touched
                    if len(counts["examples"]) < 5:
                        counts["examples"].append(str(e)[:600])
        counts["seconds"] = time.perf_counter() - t0
        out[dtype] = counts
    return out


def _sum(y):
    return y.sum() if hasattr(y, "shape") and y.shape else y


# ----------------------------------------------------------------------------
# Localisation cost on a 200-node graph
# ----------------------------------------------------------------------------
def run_localisation(repeats: int = 40) -> dict:
    row = OPS["sin"]
    bad = user_op(row, "sin__mut__bench", lambda M, o, a: (M.cos(a) * 1.5,))
    coef = np.random.default_rng(3).uniform(0.2, 1.0, 66)

    def fn(*xs):
        # 66 terms c_k * x_(k mod 4) -> sin or tanh, summed: 198 op nodes, gradients O(1);
        # term 40 goes through the wrong sin
        acc = None
        for k, c in enumerate(coef):
            u = xs[k % len(xs)] * float(c)
            v = _apply(bad, u) if k == 40 else (u.sin() if k % 2 else u.tanh())
            acc = v if acc is None else acc + v
        return acc
    leaves = [Value(0.1 * (i + 1), label=f"x{i}") for i in range(4)]
    out = fn(*leaves)
    n_nodes = sum(1 for n in autograd.graph.topological_order([out]) if not n.is_leaf)
    times = {"plain": [], "localised": []}
    named = None
    gc.collect()
    gc.disable()  # the same conditions for both: no collection of earlier garbage mid-timing
    for _ in range(repeats):
        for mode in ("plain", "localised"):
            t0 = time.perf_counter()
            try:
                gradcheck(fn, *leaves, localise=(mode == "localised"))
            except GradcheckError as e:
                if mode == "localised":
                    named = e.report.op
            times[mode].append(time.perf_counter() - t0)
    bad_rule = bad.deriv
    bad.deriv = row.deriv  # the same graph, correct: a plain gradcheck that checks everything
    passing = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gradcheck(fn, *leaves)
        passing.append(time.perf_counter() - t0)
    gc.enable()
    bad.deriv = bad_rule
    unregister_op(bad)
    plain, loc, full = min(times["plain"]), min(times["localised"]), min(passing)
    return {"op_nodes": n_nodes, "plain_s": plain, "localised_s": loc, "passing_s": full,
                "ratio": loc / plain, "ratio_vs_passing": loc / full, "named": named}


def _apply(op, x):
    from gradviz.autograd.testing import apply_op
    return apply_op(op, [x], {})


# ----------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer examples and graphs")
    ap.add_argument("--graphs", type=int, default=None, help="random graphs per dtype (10000)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--only", choices=("ff", "loc", "struct"), help="run one part: false failures, "
                    "localisation cost")
    a = ap.parse_args(argv)
    t_start = time.perf_counter()
    max_ex = 10 if a.quick else 30
    n_graphs = a.graphs or (500 if a.quick else 10_000)
    from hypothesis import settings
    settings.register_profile("bench", derandomize=True, deadline=None, database=None)
    settings.load_profile("bench")

    if a.only == "ff":
        ff = run_false_failures(n_graphs)
        print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "examples"}
                          for k, v in ff.items()}))
        for dt, c in ff.items():
            for ex in c["examples"]:
                print(f"\n{dt} false failure example:\n{ex}")
        return 0
    if a.only == "loc":
        print(run_localisation())
        return 0
    if a.only == "struct":
        for r in run_struct_mutants(max_ex, max_ex):
            print(r)
        return 0
    loc = run_localisation()  # first, in a fresh process: timings are not skewed by the rest
    mut = run_mutants(max_ex, torch_points=max_ex)
    mut["results"] += run_struct_mutants(max_ex, torch_points=max_ex)
    res = mut["results"]
    caught = [r for r in res if r["caught"]]
    sizes = [r["size"] for r in caught if r["size"] is not None]
    torch_avail = res and res[0]["torch_caught"] is not None
    ff = run_false_failures(n_graphs)
    total = time.perf_counter() - t_start

    def pct(k, n):
        return f"{100.0 * k / n:.1f}%" if n else "n/a"
    print(f"# gradcheck benchmark ({len(res)} mutants of {len({r['op'] for r in res})} ops; "
          f"{max_ex} examples per property)\n")
    print("| | gradviz check_op | torch.autograd.gradcheck |")
    print("|---|---|---|")
    print(f"| mutants caught | {pct(len(caught), len(res))} ({len(caught)}/{len(res)}) | "
          + (f"{pct(sum(bool(r['torch_caught']) for r in res), len(res))} "
             f"({sum(bool(r['torch_caught']) for r in res)}/{len(res)})" if torch_avail
             else "torch not installed") + " |")
    print(f"| report names the mutated op | {pct(sum(r['named'] for r in res), len(res))} | "
          "no (names the function's input/output index) |")
    print(f"| median minimal failing graph (op nodes) | "
          f"{statistics.median(sizes) if sizes else 'n/a'} (max {max(sizes) if sizes else 'n/a'}) "
          "| n/a (no shrinking) |")
    print(f"| time for all mutants | {sum(r['seconds'] for r in res):.1f} s | "
          + (f"{sum(r['torch_seconds'] for r in res):.1f} s" if torch_avail else "") + " |")
    print()
    missed = [f"{r['op']}:{r['kind']}" + (f" ({r['prop']})" if r["prop"] else "")
              for r in res if not r["caught"]]
    unnamed = [f"{r['op']}:{r['kind']} ({r['prop']})"
               for r in res if r["caught"] and not r["named"]]
    torch_missed = [f"{r['op']}:{r['kind']}" for r in res if r["torch_caught"] is False]
    print(f"missed: {missed or 'none'}")
    print(f"caught but not named: {unnamed or 'none'}")
    print(f"torch missed: {torch_missed or 'none'}")
    print(f"mutants equal to the true rule on the domain (not counted): {mut['skipped']}\n")
    print("| false failures on correct ops | graphs | passed | not differentiable (kink) | "
          "false failures | of which at kinks | time |")
    print("|---|---|---|---|---|---|---|")
    for dt, c in ff.items():
        print(f"| {dt} | {c['graphs']} | {c['passed']} | {c['not_differentiable']} | "
              f"{c['false_failures']} ({pct(c['false_failures'], c['graphs'])}) | "
              f"{c['kink_false_failures']} of {c['kink_graphs']} near-kink graphs | "
              f"{c['seconds']:.1f} s |")
    for dt, c in ff.items():
        for ex in c["examples"]:
            print(f"\n{dt} false failure example:\n{ex}")
    print(f"\nlocalisation on a {loc['op_nodes']}-op-node graph (4 leaves, one wrong op): "
          f"plain gradcheck stopping at the first wrong element {loc['plain_s'] * 1e3:.1f} ms; "
          f"plain gradcheck of the same graph with the op correct (checks everything) "
          f"{loc['passing_s'] * 1e3:.1f} ms; localising gradcheck {loc['localised_s'] * 1e3:.1f} "
          f"ms = x{loc['ratio']:.1f} the first (localising adds "
          f"x{(loc['localised_s'] - loc['plain_s']) / loc['plain_s']:.1f} its time), "
          f"x{loc['ratio_vs_passing']:.2f} the second; names {loc['named']!r}")
    print(f"\nwhole benchmark: {total:.0f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"mutants": mut, "false_failures": ff, "localisation": loc,
                       "seconds": total}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
