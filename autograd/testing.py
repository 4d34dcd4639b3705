"""Hypothesis strategies for property tests of gradients (yours and ours).

* :func:`values` -- Value leaves with finite data in a range;
* :func:`expressions` -- random computation graphs drawn from the op table,
  built over the leaves they return and kept inside every op's smooth domain,
  so ``gradcheck(expr.fn, *expr.leaves)`` must pass for a correct engine;
  ``expressions(tensors=True)`` draws Tensor graphs (broadcasting operands,
  reductions, reshapes, matmul, softmax, indexing);
* :func:`tensors` -- Tensor leaves (``requires_grad=True``) of a given or
  drawn shape and dtype.

Example::

    from hypothesis import given
    from . import gradcheck
    from .testing import expressions

    @given(expressions())
    def test_my_engine(expr):
        assert gradcheck(expr.fn, *expr.leaves)
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as e:  # the strategies are hypothesis's: say how to get it
    raise ImportError("gradviz.autograd.testing (strategies, check_op) needs hypothesis: pip "
                      "install hypothesis (or the package's [test] extra); gradcheck and "
                      "`gradviz check` do not") from e

from .custom import _SPELLED, Function, FunctionCtx, _merged, apply_op  # apply_op: public here too
from .ops import OPS, ArrayMath, FloatMath, Op, arity_of, elementwise_ops
from .value import Value


def _builtin(key: str) -> bool:
    """Is ``key`` one of the table's own rows? (Asked of the row: users' ops
    may be defined before this module is first imported.)"""
    row = OPS.get(key)
    return row is not None and not row.user


__all__ = ["values", "expressions", "Expression", "op_inputs", "apply_op", "tensors",
           "check_op", "OpCheckError", "graph_text", "graph_size",
           "tensor_expressions"]


def values(min_value: float = -3.0, max_value: float = 3.0,
           label: str = "") -> st.SearchStrategy[Value]:
    """Value leaves with finite float data in ``[min_value, max_value]``."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False).map(
        lambda x: Value(x, label=label))


def domain_of(op: Any) -> tuple:
    """``op.domain`` with every input's entry as a tuple of intervals (an
    entry may be one interval ``(lo, hi)``, as ``define_op`` allows)."""
    out: list[tuple] = []
    for entry in op.domain:
        if len(entry) == 2 and all(isinstance(v, (int, float)) for v in entry):
            out.append((tuple(entry),))
        else:
            out.append(tuple(tuple(iv) for iv in entry))
    return tuple(out)


def op_inputs(op: Op, margin: float = 0.0) -> st.SearchStrategy[tuple[float, ...]]:
    """Floats for each input of ``op``, drawn from its smooth domain."""
    per_input = []
    for intervals in domain_of(op):
        per_input.append(st.one_of(*[st.floats(lo + margin, hi - margin, allow_nan=False)
                                     for lo, hi in intervals]))
    return st.tuples(*per_input)


def op_params(op: Op) -> st.SearchStrategy[dict]:
    """Sample constant parameters of ``op`` (from the table's examples)."""
    if not op.params:
        return st.just({})
    return st.fixed_dictionaries({k: st.sampled_from(v) for k, v in op.params.items()})


def _tensor_wsum(args):
    out = args[0]
    for i in range(1, len(args), 2):
        out = out + args[i] * args[i + 1]
    return out


def _inside(op: Op, xs: Sequence[float], margin: float) -> bool:
    for x, intervals in zip(xs, domain_of(op)):
        if not any(lo + margin <= x <= hi - margin for lo, hi in intervals):
            return False
    return True


@dataclass
class Expression:
    """A random graph: ``fn(*leaves)`` rebuilds it; ``output`` is the graph
    built on ``leaves``; ``program`` lists the steps for readable failures;
    ``text`` is the graph in the ``gradviz expr`` language."""

    leaves: list
    program: list = field(default_factory=list)
    fn: Callable[..., Any] = None  # type: ignore[assignment]
    output: Any = None

    @property
    def text(self) -> str:
        return graph_text(self.output)

    @property
    def size(self) -> int:
        """Number of op nodes in the graph."""
        return graph_size(self.output)

    def __repr__(self) -> str:
        lv = ", ".join(f"x{i}={leaf.data!r}" for i, leaf in enumerate(self.leaves))
        return f"Expression({lv}; " + "; ".join(self.program) + ")"


def _make_fn(steps: list[tuple], n_leaves: int) -> Callable[..., Any]:
    def fn(*leaves):
        pool = list(leaves)
        for kind, *rest in steps:
            if kind == "op":
                op, idx, params = rest
                pool.append(_apply_any(op, [pool[i] for i in idx], params))
            else:  # "shift": bring a value into a domain with a constant
                i, offset = rest
                pool.append(pool[i] + offset)
        return pool[-1]
    return fn


@st.composite
def _raw_step(draw, ops: Sequence[Any], max_back: int = 7):
    """One step of a random graph, before it is placed: (op, params, picks).
    Operand ``k`` of the op is the value ``picks[k]`` places back from the
    newest one (modulo the pool), so 0 chains the ops and deleting a step
    still leaves a well-formed graph: hypothesis shrinks graphs by deleting
    steps and lowering picks."""
    op = draw(st.sampled_from(list(ops)))
    params = draw(op_params(op))
    picks = tuple(draw(st.integers(0, max_back)) for _ in range(arity_of(op)))
    return op, params, picks


#: :func:`expressions`' default bound on how fast a drawn graph's values may
#: move with a leaf (see there).
MAX_SLOPE = 200.0


def _local_slopes(op: Any, M: Any, xs: Sequence[Any], params: dict) -> list[float]:
    """The largest |d op / d input| at ``xs`` (floats with ``M`` FloatMath,
    arrays with ArrayMath: over the elements), per input: the row's deriv,
    or its vjp with an upstream gradient of ones. An input whose slope is
    not a finite number, or that gets none, counts as unbounded."""
    with np.errstate(all="ignore"):
        y = op.forward(M, *xs, *params.values())
        if op.deriv is not None:
            ds = op.deriv(M, y, *xs, *params.values())
        else:
            ds = op.vjp(M, np.ones_like(y) if isinstance(y, np.ndarray) else 1.0, y, *xs,
                        **params)
        out = []
        for d in ds:
            try:
                m = float(np.max(np.abs(d), initial=0.0))
            except (TypeError, ValueError):  # None (no gradient) or not a number
                m = math.inf
            out.append(m if m == m else math.inf)
    return out


def _into(x: float, intervals, margin: float) -> float:
    """The point of ``intervals`` (shrunk by 2·margin) nearest to ``x``."""
    best: float | None = None
    for lo, hi in intervals:
        lo2, hi2 = lo + 2 * margin, hi - 2 * margin
        if lo2 > hi2:
            lo2 = hi2 = (lo + hi) / 2
        y = min(max(x, lo2), hi2)
        if best is None or abs(y - x) < abs(best - x):
            best = y
    assert best is not None, "_into: no intervals"  # a domain entry has at least one
    return best


def _leaf_floats(intervals, lo_default=-2.0, hi_default=2.0):
    if not intervals:
        return st.floats(lo_default, hi_default, allow_nan=False)
    return st.one_of(*[st.floats(lo, hi, allow_nan=False) for lo, hi in intervals])


@st.composite
def expressions(draw, ops: Sequence[Any] | None = None, max_leaves: int = 3, max_ops: int = 6,
                leaves: st.SearchStrategy | None = None, margin: float = 0.05,
                bound: float = 8.0, tensors: bool = False,
                max_slope: float = MAX_SLOPE) -> Expression:
    """Random computation graphs over 1..``max_leaves`` Value leaves.

    The graph is a list of steps (hypothesis shrinks it by deleting steps,
    lowering operand picks and simplifying leaves), each an op from ``ops``
    (default: every elementwise op in the table; a user's op from
    ``define_op`` works too) applied to earlier results or leaves. An operand
    outside the op's domain is first moved inside by adding a constant (a
    recorded ``+`` step, so ``fn`` rebuilds the same graph); results larger
    than ``bound`` are squashed with tanh to keep later ops finite. A step
    whose result could move more than ``max_slope`` times as fast as a leaf
    (the chain rule's bound: the sum over paths of the local slopes'
    products) is left out: over a finite-difference step, such a function
    is not close to linear (three ``cube`` ops in a row reach 10^5), and
    gradcheck would measure the step, not the derivative. The last
    result is the output; values used twice make shared subgraphs.
    ``leaves``: a strategy of floats for the leaves (default: the first op's
    domain, else [-2, 2]). ``tensors=True``: Tensor graphs instead
    (:func:`tensor_expressions`).
    """
    if tensors:  # Tensor graphs: see tensor_expressions
        return draw(tensor_expressions(ops=ops, max_leaves=max_leaves, max_ops=max_ops,
                                       margin=margin, bound=bound))
    ops = list(ops) if ops is not None else elementwise_ops()
    if not ops:
        raise ValueError("expressions: ops is empty; give at least one op")
    for op in ops:
        _require_op("expressions", op)
        why = None if getattr(op, "deriv", None) is not None else _float_failure(op)
        if why is not None:  # a vjp row written for arrays (x.sum(axis=-1)...)
            raise TypeError(f"expressions: op {op.key!r} does not run on floats ({why}): draw "
                            f"its graphs with tensors=True, or check it with check_op")
    if leaves is None:
        leaves = st.floats(-2.0, 2.0, allow_nan=False)
    n = draw(st.integers(1, max_leaves))
    leaf_vals = [draw(leaves) for _ in range(n)]
    raw = draw(st.lists(_raw_step(ops), min_size=1, max_size=max_ops))
    steps: list[tuple] = []
    program: list[str] = []
    pool_vals: list[float] = list(leaf_vals)
    slope: list[float] = [1.0] * n  # a bound on |d value / d leaf|, per value
    tanh = OPS["tanh"]
    fm = FloatMath

    for op, params, picks in raw:
        idx = [len(pool_vals) - 1 - (p % len(pool_vals)) for p in picks]
        for j, (i, intervals) in enumerate(zip(idx, domain_of(op))):
            x = pool_vals[i]
            if any(lo + margin <= x <= hi - margin for lo, hi in intervals):
                continue
            offset = _into(x, intervals, margin) - x
            steps.append(("shift", i, offset))
            program.append(f"v{len(pool_vals)} = v{i} + {offset!r}")
            pool_vals.append(x + offset)
            slope.append(slope[i])
            idx[j] = len(pool_vals) - 1
        xs = [pool_vals[i] for i in idx]
        if not _inside(op, xs, margin):  # float rounding put it on the edge
            continue
        y = op.forward(fm, *xs, *params.values())
        if not isinstance(y, float) and getattr(y, "ndim", None) == 0 \
                and getattr(getattr(y, "dtype", None), "kind", "?") in "fiu":
            y = float(y)  # a 0-d array (np.where, np.asarray: how ported code returns numbers)
        if not isinstance(y, float) or y != y:
            continue
        s = sum(d * slope[i] for d, i in zip(_local_slopes(op, fm, xs, params), idx))
        if not s <= max_slope:
            continue
        steps.append(("op", op, tuple(idx), params))
        args = ", ".join(f"v{i}" for i in idx) + "".join(f", {k}={v!r}" for k, v in params.items())
        program.append(f"v{len(pool_vals)} = {getattr(op, 'key', op.name)}({args})")
        pool_vals.append(y)
        slope.append(s)
        if abs(y) > bound:
            steps.append(("op", tanh, (len(pool_vals) - 1,), {}))
            program.append(f"v{len(pool_vals)} = tanh(v{len(pool_vals) - 1})")
            pool_vals.append(fm.tanh(y / 1.0))
            slope.append(s * (1.0 - pool_vals[-1] ** 2))
    if len(pool_vals) == n:  # nothing applied: at least one op
        steps.append(("op", tanh, (n - 1,), {}))
        program.append(f"v{n} = tanh(v{n - 1})")
        pool_vals.append(fm.tanh(pool_vals[n - 1]))
    fn = _make_fn(steps, n)
    leaves_v = [Value(x, label=f"x{i}") for i, x in enumerate(leaf_vals)]
    expr = Expression(leaves=leaves_v, program=program, fn=fn)
    expr.output = fn(*leaves_v)
    return expr


# ==========================================================================
# Tensors (the Tensor engine's section)
# ==========================================================================
import numpy as np  # noqa: E402


def tensors(shape=None, dtype=np.float64, min_value: float = -3.0, max_value: float = 3.0,
            label: str = "", requires_grad: bool = True) -> st.SearchStrategy:
    """Tensor leaves with finite data in ``[min_value, max_value]``.

    ``shape``: a tuple, a strategy of tuples, or None for a small drawn shape
    (0 to 3 dimensions, sides 1 to 4). ``dtype``: float64 or float32.
    """
    from hypothesis.extra import numpy as hnp

    from .tensor import Tensor
    dt = np.dtype(dtype)
    if shape is None:
        shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                         width=32 if dt == np.float32 else 64)
    return hnp.arrays(dt, shape, elements=elements).map(
        lambda a: Tensor(a, requires_grad=requires_grad, label=label))


def _in_intervals(x, intervals, margin: float) -> bool:
    ok = np.zeros(np.shape(x), dtype=bool)
    for lo, hi in intervals:
        ok |= (x >= lo + margin) & (x <= hi - margin)
    return bool(ok.all())


def _inside_arr(op: Op, xs, margin: float) -> bool:
    return all(_in_intervals(x, iv, margin) for x, iv in zip(xs, domain_of(op)))


def _bshape(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


#: Structural steps tensor_expressions may draw, besides the table's
#: elementwise ops: name -> (op key in the table, how it is applied).
TENSOR_STEPS = ("sum", "mean", "max", "reshape", "transpose", "matmul", "softmax",
                "log_softmax", "getitem", "concatenate", "stack", "broadcast_to")


def _apply_step(kind, pool, args, F):
    from .tensor_ops import concatenate, stack
    if kind == "op":
        op, idx, params = args
        return apply_op(op, [pool[i] for i in idx], params)
    if kind == "shift":
        i, offset = args
        return pool[i] + offset
    i = args[0]
    x = pool[i]
    if kind == "sum":
        return x.sum(axis=args[1], keepdims=args[2])
    if kind == "mean":
        return x.mean(axis=args[1], keepdims=args[2])
    if kind == "max":
        return x.max(axis=args[1], keepdims=args[2])
    if kind == "reshape":
        return x.reshape(args[1])
    if kind == "transpose":
        return x.transpose(args[1])
    if kind == "matmul":
        return x @ pool[args[1]]
    if kind == "softmax":
        return F.softmax(x, axis=args[1])
    if kind == "log_softmax":
        return F.log_softmax(x, axis=args[1])
    if kind == "getitem":
        return x[args[1]]
    if kind == "concatenate":
        return concatenate([x, pool[args[1]]], axis=args[2])
    if kind == "stack":
        return stack([x, pool[args[1]]], axis=args[2])
    if kind == "broadcast_to":
        return x.broadcast_to(args[1])
    raise ValueError(kind)  # pragma: no cover


@st.composite
def tensor_expressions(draw, ops: Sequence[Op] | None = None, max_leaves: int = 3,
                       max_ops: int = 6, margin: float = 0.05, bound: float = 8.0,
                       max_side: int = 3, dtype=np.float64,
                       max_slope: float = MAX_SLOPE) -> Expression:
    """Random Tensor graphs: elementwise table ops on broadcasting operands
    mixed with the structural steps of :data:`TENSOR_STEPS`, over 1 to
    ``max_leaves`` float64 leaves of small mutually broadcastable shapes.
    Values are kept inside each op's smooth domain (shifted by a constant
    array when needed) and away from ties (``max``: distinct values), and no
    element moves more than ``max_slope`` times as fast as a leaf element
    (see :func:`expressions`), so ``gradcheck(expr.fn, *expr.leaves)`` must
    pass."""
    from hypothesis.extra import numpy as hnp

    from . import functional as F
    from .tensor import Tensor
    ops = list(ops) if ops is not None else elementwise_ops()
    for op in ops:
        _require_op("tensor_expressions", op)
        if getattr(op, "deriv", None) is None:
            raise TypeError(f"tensor_expressions: op {op.key!r} has a vjp rule, not a local "
                            "derivative: the graphs mix elementwise ops with the structural "
                            f"steps of TENSOR_STEPS; check_op({op.name}) checks it on Tensors")
    n = draw(st.integers(1, max_leaves))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3,
                                                    max_side=max_side)).input_shapes
    leaf_vals = [draw(hnp.arrays(np.float64, s, elements=st.floats(-2.0, 2.0, allow_nan=False)))
                 for s in shapes]
    pool: list = [Tensor(v) for v in leaf_vals]  # constants: the simulation
    slope: list[float] = [1.0] * n  # a bound on |d element / d leaf element|, per value
    steps: list[tuple] = []
    program: list[str] = []

    def record(kind, *args, text="", s=None):
        y = _apply_step(kind, pool, args, F)
        steps.append((kind, *args))
        program.append(f"v{len(pool)} = {text}")
        slope.append(slope[args[0]] if s is None else s)  # default: moves as its operand
        pool.append(y)
        return y

    def squash(y):
        if np.abs(y.data).max(initial=0.0) > bound:
            i = len(pool) - 1
            record("op", OPS["tanh"], (i,), {}, text=f"tanh(v{i})",
                   s=slope[i] * float(np.max(1.0 - np.tanh(y.data) ** 2, initial=0.0)))

    consts: set = set()  # pool positions of constant operands (never the output)
    for _ in range(draw(st.integers(1, max_ops))):
        i = draw(st.sampled_from([j for j in range(len(pool)) if j not in consts]))
        x = pool[i]
        kind = draw(st.sampled_from(("op", "op", "op") + TENSOR_STEPS))
        nd = x.data.ndim
        if kind == "op":
            op = draw(st.sampled_from(ops))
            params = draw(op_params(op))
            k = arity_of(op)
            idx = [i] + [draw(st.integers(0, len(pool) - 1)) for _ in range(k - 1)]
            if _bshape(*[pool[j].data.shape for j in idx]) is None:
                idx = [i] * k
            for j, (pi, intervals) in enumerate(zip(idx, domain_of(op))):
                if _in_intervals(pool[pi].data, intervals, margin):
                    continue
                lo, hi = draw(st.sampled_from(intervals))
                target = draw(hnp.arrays(np.float64, pool[pi].data.shape,
                                         elements=st.floats(lo + 2 * margin, hi - 2 * margin)))
                offset = target - pool[pi].data
                record("shift", pi, offset, text=f"v{pi} + const{offset.shape}")
                idx[j] = len(pool) - 1
            xs = [pool[j].data for j in idx]
            if not _inside_arr(op, xs, margin):
                continue
            s = sum(d * slope[j] for d, j in zip(_local_slopes(op, ArrayMath, xs, params), idx))
            if not s <= max_slope:
                continue
            args = (", ".join(f"v{j}" for j in idx)
                    + "".join(f", {a}={v!r}" for a, v in params.items()))
            y = record("op", op, tuple(idx), params, text=f"{op.key}({args})", s=s)
            squash(y)
            continue
        if kind in ("sum", "mean", "max"):
            if kind == "max":  # distinct values: no ties within 1e-3
                flat = x.data.size
                perm = np.array(draw(st.permutations(range(flat))), dtype=np.float64)
                vals = (perm * (4.0 / max(flat, 1)) - 2.0).reshape(x.data.shape)
                record("shift", i, vals - x.data, text=f"v{i} + const (distinct values)")
                i = len(pool) - 1
            axis = draw(st.one_of(st.none(), st.integers(0, nd - 1) if nd else st.none()))
            keep = draw(st.booleans())
            terms = x.data.size if axis is None else x.data.shape[axis]  # summed per result
            s = slope[i] * terms if kind == "sum" else slope[i]
            if not s <= max_slope:
                continue
            record(kind, i, axis, keep, text=f"v{i}.{kind}(axis={axis}, keepdims={keep})", s=s)
        elif kind == "reshape":
            shape = draw(st.sampled_from([(-1,), x.data.shape[::-1], (1,) + x.data.shape]))
            record(kind, i, shape, text=f"v{i}.reshape{shape}")
        elif kind == "transpose":
            axes_order = tuple(draw(st.permutations(range(nd))))
            record(kind, i, axes_order, text=f"v{i}.transpose{axes_order}")
        elif kind == "matmul" and nd >= 1:
            k = x.data.shape[-1]
            m = draw(st.integers(1, max_side))
            w = draw(hnp.arrays(np.float64, (k, m), elements=st.floats(-1.0, 1.0)))
            s = slope[i] * float(np.abs(w).sum(axis=0).max())
            if not s <= max_slope:
                continue
            consts.add(len(pool))
            pool.append(Tensor(w))  # a constant operand, not a leaf
            slope.append(0.0)
            steps.append(("const", w))
            program.append(f"v{len(pool) - 1} = const{w.shape}")
            record(kind, i, len(pool) - 1, text=f"v{i} @ v{len(pool) - 1}", s=s)
            squash(pool[-1])
        elif kind in ("softmax", "log_softmax") and nd >= 1:
            axis = draw(st.integers(-nd, nd - 1))
            # a result's row sum of |d softmax_i / d x_j| is 2 s_i (1 - s_i) <= 1/2; log_softmax's
            # is 2 (1 - s_i) < 2
            record(kind, i, axis, text=f"{kind}(v{i}, axis={axis})",
                   s=slope[i] * (0.5 if kind == "softmax" else 2.0))
        elif kind == "getitem" and nd >= 1:
            n0 = x.data.shape[0]
            index = draw(st.one_of(
                st.integers(0, n0 - 1),
                st.builds(slice, st.integers(0, n0 - 1), st.integers(1, n0)),
                st.lists(st.integers(0, n0 - 1), min_size=1, max_size=4).map(np.array)))
            if isinstance(index, slice) and index.start >= index.stop:
                index = slice(0, n0)
            record(kind, i, index, text=f"v{i}[{index!r}]")
        elif kind in ("concatenate", "stack"):
            same = [j for j, t in enumerate(pool) if t.data.shape == x.data.shape]
            j = draw(st.sampled_from(same))
            if kind == "concatenate" and nd == 0:
                continue
            axis = draw(st.integers(0, nd - 1 if kind == "concatenate" else nd))
            record(kind, i, j, axis, text=f"{kind}([v{i}, v{j}], axis={axis})",
                   s=max(slope[i], slope[j]))
        elif kind == "broadcast_to":
            shape = (draw(st.integers(1, max_side)),) + tuple(
                draw(st.integers(1, max_side)) if s == 1 else s for s in x.data.shape)
            record(kind, i, shape, text=f"v{i}.broadcast_to({shape})")
    if len(pool) == n:
        record("op", OPS["tanh"], (0,), {}, text="tanh(v0)", s=slope[0])

    def fn(*leaves):
        p = list(leaves)
        for kind, *args in steps:
            if kind == "const":
                p.append(Tensor(args[0]))
            else:
                p.append(_apply_step(kind, p, args, F))
        return p[-1]

    leaves_t = [Tensor(v, requires_grad=True, label=f"x{i}") for i, v in enumerate(leaf_vals)]
    expr = Expression(leaves=leaves_t, program=program, fn=fn)
    expr.output = fn(*leaves_t)
    return expr


# ==========================================================================
# Users' ops, the expression language, check_op
# ==========================================================================
_OP_FIELDS = ("forward", "domain", "kink", "params", "arity", "name")


def _is_op(op: Any) -> bool:
    return all(hasattr(op, f) for f in _OP_FIELDS) and (
        getattr(op, "deriv", None) is not None or getattr(op, "vjp", None) is not None)


def _require_op(who: str, op: Any) -> None:
    if isinstance(op, type) and issubclass(op, Function):
        raise TypeError(f"{who}: {op.__name__} is an autograd.Function (a hand-written "
                        f"backward, no local derivative to draw graphs with); "
                        f"check_op({op.__name__}) checks it in random graphs")
    if not _is_op(op):
        raise TypeError(
            f"{who}: expected an op -- a row of autograd.ops.OPS (e.g. OPS['tanh']) or what "
            f"autograd.define_op(...) returns (fields {', '.join(_OP_FIELDS)} and deriv or vjp); "
            f"got {type(op).__name__} {op!r:.60}")


def _apply_any(op: Any, args: Sequence[Any], params: dict):
    """Apply any op (a row of the table, built-in or the user's) to nodes."""
    return apply_op(op, args, params)


def unregister_op(op: Any) -> None:
    """Remove a user's op from the table (tests and benchmarks that define
    many throwaway ops); built-in ops cannot be removed."""
    from .kernel import forget
    key = getattr(op, "key", None)
    if key is not None and _builtin(key):
        raise ValueError(f"unregister_op: {key!r} is a built-in op")
    if key is not None and OPS.get(key) is op:
        del OPS[key]
        forget(key)


# --- the gradviz expr language, written from a graph -------------------------
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
_CONST_INFIX = {"add_const": "{a} + {c}", "sub_const": "{a} - {c}", "rsub_const": "{c} - {a}",
                "mul_const": "{a} * {c}", "div_const": "{a} / {c}", "rdiv_const": "{c} / {a}",
                "pow_const": "{a} ** {c}", "rpow_const": "{c} ** {a}"}
_KEYWORDS = frozenset(("and", "or", "not", "if", "else", "for", "in", "is", "lambda", "None",
                       "True", "False", "def", "class", "return", "import", "from", "as",
                       "with", "while", "try", "except", "finally", "raise", "pass", "del",
                       "global", "nonlocal", "assert", "yield", "break", "continue", "elif",
                       "async", "await"))


def _num_text(x: Any) -> str:
    import numpy as _np
    a = _np.asarray(x, dtype=_np.float64)
    return repr(float(a.reshape(-1)[0])) if a.size else "0.0"


def graph_text(output: Any) -> str:
    """``output``'s graph in the ``gradviz expr`` language (one statement per
    node, leaves first), e.g. ``x0 = 0.5; v1 = tanh(x0)``: paste it into
    ``gradviz check`` to check it again. Tensor data is written as its first
    element (the language is scalar). Ops the language cannot spell (a
    user's op, ``swish`` with a node beta, ``wsum``) are written as calls."""
    from .graph import topological_order
    order = topological_order([output])
    names: dict[int, str] = {}
    used: set = set()
    lines = []
    counters = {"x": 0, "v": 0}  # x<k> for unnamed leaves, v<k> for unnamed results

    def name_for(node: Any, prefix: str) -> str:
        lab = node.label
        if lab.isidentifier() and lab not in used and lab not in _KEYWORDS \
                and lab not in OPS and lab not in ("abs", "swish"):
            return lab
        k = counters[prefix]
        while f"{prefix}{k}" in used:
            k += 1
        counters[prefix] = k
        return f"{prefix}{k}"
    for node in order:
        if node.is_leaf:
            name = name_for(node, "x")
            lines.append(f"{name} = {_num_text(node.data)}")
        else:
            counters["v"] += 1  # v<k>: k counts op nodes, from 1
            name = name_for(node, "v")
            lines.append(f"{name} = {_spell(node, [names[id(p)] for p in node.parents])}")
        used.add(name)
        names[id(node)] = name
    return "; ".join(lines)


def _spell(node: Any, args: list) -> str:
    info = node.op_info
    key = info.key
    params = info.params
    if key in _INFIX and len(args) == 2:
        return f"{args[0]} {_INFIX[key]} {args[1]}"
    if key == "neg":
        return f"-{args[0]}"
    if key in _CONST_INFIX:
        c = params["c"]
        text = _CONST_INFIX[key]
        return text.format(a=args[0], c=repr(float(c)) if not hasattr(c, "shape") else repr(c))
    builtin = _builtin(key)
    name = "swish" if key == "swish_const" else (key if builtin else info.name)
    extra = "".join(f", {v!r}" for v in params.values()) if builtin else \
        "".join(f", {k}={v!r}" for k, v in params.items())
    return f"{name}({', '.join(args)}{extra})"


def _label_graph(output: Any) -> Any:
    """Label the unlabelled op nodes ``v1, v2, ...`` in topological order (the
    names :func:`graph_text` gives them)."""
    from .graph import topological_order
    if not hasattr(output, "_gc_array"):
        return output
    k = 0
    for node in topological_order([output]):
        if not node.is_leaf:
            k += 1
            if not node.label:
                node.label = f"v{k}"
    return output


def graph_size(output: Any) -> int:
    """The number of op nodes in ``output``'s graph."""
    from .graph import topological_order
    return sum(1 for n in topological_order([output]) if not n.is_leaf)


# --- check_op ---------------------------------------------------------------
class OpCheckError(AssertionError):
    """:func:`check_op` found a failing example. ``op`` (its name),
    ``prop`` (the property that failed), ``dtype``, ``text`` (the minimal
    failing graph in the ``gradviz expr`` language), ``size`` (its number of
    op nodes), ``report`` (the localised :class:`autograd.check.CheckReport`,
    or None), ``named`` (True when the report names ``op``), ``artifact``
    (the diagram's path, with ``artifacts_dir``)."""

    def __init__(self, message: str, op: str, prop: str, dtype, text: str, size: int,
                 report=None, artifact: str | None = None):
        super().__init__(message)
        self.op, self.prop, self.dtype, self.text, self.size = op, prop, dtype, text, size
        self.report, self.artifact = report, artifact

    @property
    def named(self) -> bool:
        return self.report is not None and self.report.op == self.op


def _domain_floats(op, j: int, margin: float):
    dom = domain_of(op)
    intervals = dom[j] if j < len(dom) else ((-2.0, 2.0),)
    return st.one_of(*[st.floats(lo + margin, hi - margin, allow_nan=False)
                       for lo, hi in intervals])


def _fail(op, prop: str, dtype, out, err, artifacts_dir):
    """An OpCheckError for a failed gradcheck ``err`` on graph ``out``."""
    import os

    import numpy as _np
    name = op.name
    text = graph_text(out)
    size = graph_size(out)
    report = getattr(err, "report", None)
    if report is not None:  # nodes made by check_op's own code: no user line to point at
        c = report.failing
        if c is not None and c.site and (f"{os.sep}hypothesis{os.sep}" in c.site
                                         or c.site == "<unknown>"):
            c.site = "check_op's generated graph"
        err = report.message()
    artifact = None
    if artifacts_dir is not None and report is not None:
        os.makedirs(artifacts_dir, exist_ok=True)
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
        from .fileio import write_atomic
        write_atomic(os.path.join(artifacts_dir, f"{stem}_minimal.txt"), text + "\n")
        try:
            artifact = report.render(os.path.join(artifacts_dir, f"{stem}_minimal.svg"))
        except (RuntimeError, OSError):  # no drawer or no Graphviz: the text is still there
            artifact = report.render(os.path.join(artifacts_dir, f"{stem}_minimal.dot")) \
                if "draw" in _drawers() else None
    key = getattr(op, "key", "")
    if _builtin(key):
        where = ", paste into `gradviz check`"
    elif getattr(op, "callable_by_name", False):
        where = ", gradviz.viz.expr.build(text) builds it again in this process"
    else:  # an autograd.Function: the language cannot call it
        where = (f"; the language cannot call a Function: in Python it is {name}.apply(...) "
                 f"on Values")
    from .graph import topological_order
    arrays = [n for n in topological_order([out]) if n.is_leaf and _np.ndim(n.data) > 0]
    inputs = ""
    if arrays:  # the language is scalar: the text holds each array's first element only
        where = "; each Tensor input written as its first element"
        inputs = "Tensor inputs:\n" + "\n".join(
            f"    {n.label or 'leaf'}: shape {_np.shape(n.data)}, {_np.asarray(n.data).dtype}, "
            + " ".join(_np.array2string(_np.asarray(n.data), precision=6, threshold=24,
                                        separator=", ").split())
            for n in arrays) + "\n"
    msg = (f"check_op({name}): failed on {prop} ({_np.dtype(dtype).name}).\n"
           f"Minimal failing graph ({size} op node{'s' if size != 1 else ''}; gradviz expr "
           f"language{where}):\n    {text}\n{inputs}{err}")
    if artifact:
        msg += f"\nDiagram: {artifact}"
    return OpCheckError(msg, name, prop, _np.dtype(dtype), text, size, report, artifact)


#: Exceptions from an op's own code (its forward or rules) that check_op reports
#: with what it was checking (hypothesis' own control flow passes through).
_USER_ERRORS = (ArithmeticError, AttributeError, IndexError, KeyError, LookupError,
                NotImplementedError, TypeError, ValueError)


def _drawers():
    from .check import _DRAWER
    return _DRAWER


class _FunctionView:
    """check_op's view of an :class:`autograd.Function` subclass: an op with
    the Function's inputs (from its ``forward``'s signature: every argument
    but those given in ``params``, which are constants drawn from their
    values, as a ``define_op`` op's are), a domain to draw inputs from, and
    a vector-Jacobian rule that runs the Function's own ``forward`` and
    ``backward`` (first order: there is no second)."""

    deriv = None
    kink = None
    has_second_order = False  # a hand-written backward gives first derivatives only

    def __init__(self, cls: type[Function], domain: Any, params: dict | None = None):
        row = cls._row()
        sig = inspect.signature(cls.forward)
        ps = list(sig.parameters.values())[1:]  # after ctx
        if not ps or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY)
                         for p in ps):
            raise ValueError(f"check_op({cls.__name__}): its forward(ctx, ...) must name its "
                             f"inputs (got forward{sig}), so that check_op knows how many to "
                             f"draw")
        self.names = [p.name for p in ps]
        params = {} if params is None else params
        if not isinstance(params, dict):
            raise TypeError(f"check_op({cls.__name__}): params= is a dict {{argument name: "
                            f"values to draw from}}")
        unknown = [k for k in params if k not in self.names]
        if unknown:
            raise ValueError(f"check_op({cls.__name__}): forward has no argument "
                             f"{', '.join(unknown)} (it takes: {', '.join(self.names)})")
        self.params = {k: tuple(v) if isinstance(v, (list, tuple)) else (v,)
                       for k, v in params.items()}
        if any(not v for v in self.params.values()):
            raise ValueError(f"check_op({cls.__name__}): a params= entry is empty")
        self.cls, self.key, self.name = cls, row.key, row.name
        self.arity = len(self.names) - len(self.params)
        if not self.arity:
            raise ValueError(f"check_op({cls.__name__}): params= names every argument of "
                             f"forward; at least one must be an input to differentiate")
        self.domain = (((-3.0, 3.0),),) * self.arity if domain is None else tuple(domain)
        if len(self.domain) != self.arity:
            consts = (f" ({', '.join(self.params)} being constants)" if self.params else
                      f"; an argument that is a constant (an exponent, an axis) is given "
                      f"as params={{{self.names[-1]!r}: [values to draw from]}}")
            raise ValueError(f"check_op({cls.__name__}): domain has {len(self.domain)} entries "
                             f"for {self.arity} inputs (one per input: an interval (lo, hi) or "
                             f"a tuple of them){consts}")

    def _merged(self, xs: Sequence[Any], params: dict) -> list:
        """The arguments of ``forward`` in its order: inputs and constants
        (given by name, or after the inputs in ``params``' order, as the
        table's forwards take them)."""
        if not params and len(xs) == self.arity + len(self.params):
            params = dict(zip(self.params, xs[self.arity:]))
            xs = xs[:self.arity]
        return _merged(tuple(xs), params, self.names)  # as Function.apply merges them

    def forward(self, M: Any, *xs: Any, **params: Any) -> Any:
        return self.cls.forward(FunctionCtx(), *self._merged(xs, params))

    def vjp(self, M: Any, g: Any, out: Any, *xs: Any, **params: Any) -> tuple:
        ctx = FunctionCtx()
        self.cls.forward(ctx, *self._merged(xs, params))
        grads = self.cls.backward(ctx, g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(c for n, c in zip(self.names, grads) if n not in self.params)

    def __call__(self, *args: Any, **params: Any) -> Any:
        return self.cls.apply(*self._merged(args, params))


def _with_param_samples(op: Any, params: Any) -> Any:
    """``op`` with the values to draw its parameters from replaced (a copy)."""
    import dataclasses
    if not isinstance(params, dict):
        raise TypeError("check_op: params= is a dict {parameter name: values to draw from}, for "
                        "an op with constant parameters")
    unknown = set(params) - set(op.params)
    if unknown:
        raise ValueError(f"check_op({op.key}): no parameter {', '.join(sorted(unknown))} (it "
                         f"takes: {', '.join(op.params) or 'none'})")
    samples = {}
    for k, vs in params.items():
        vs = tuple(vs) if isinstance(vs, (list, tuple)) else (vs,)
        if not vs:
            raise ValueError(f"check_op({op.key}): params[{k!r}] is empty")
        samples[k] = vs
    return dataclasses.replace(op, params={**op.params, **samples})


def check_op(op: Any, *, dtypes=None, max_examples: int | None = None,
             artifacts_dir: str | None = None, companions: Sequence[Any] | None = None,
             domain: Any = None, params: dict | None = None) -> bool:
    """A one-call hypothesis property test of one op (a row of
    :data:`autograd.ops.OPS`, a user's op from ``define_op``, or an
    :class:`autograd.Function` subclass).

    Checked, for each dtype in ``dtypes`` (default float32 and float64):
    the op's value against its ``forward`` on floats; first-order gradients
    (:func:`autograd.gradcheck`) at random points of its domain on Values
    and on Tensors of random broadcasting shapes; second order
    (:func:`autograd.check.gradgradcheck`) where the op has one; and random
    graphs from :func:`expressions` that contain it (with ``companions``,
    default a few common ops). ``max_examples`` per property (default 50).

    A failure shrinks to a minimal graph and raises :class:`OpCheckError`:
    that graph in the ``gradviz expr`` language, plus the localised report
    naming the wrong op. With ``artifacts_dir``, the minimal graph's text and
    diagram are written there. Returns True when everything passes.

    An ``autograd.Function`` is checked like an elementwise op, first order
    only, with inputs of one shape (a hand-written backward need not undo
    broadcasting): on Values, on Tensors of each dtype, and in random
    graphs; one whose forward fails on plain floats (written for arrays:
    ``x.sum(axis=-1)``) on Tensors of one or more dimensions only.
    ``domain`` says where to draw its inputs (one entry per input, an
    interval ``(lo, hi)`` or a tuple of them; default (-3, 3)).

    ``params``: values to draw each constant parameter from, ``{"alpha":
    [0.5, 3.0]}`` (a ``define_op`` op is otherwise checked at its defaults
    only, where a rule that ignores a parameter can pass). For a Function,
    the arguments of ``forward`` named here are constants (an exponent, an
    axis: what ``apply`` passes through and ``backward`` returns None for),
    and ``domain`` has an entry for each of the others.
    """
    import numpy as _np
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis.extra import numpy as hnp

    from .check import GradcheckError, gradcheck, gradgradcheck
    from .graph import topological_order
    from .tensor import Tensor
    function = isinstance(op, type) and issubclass(op, Function)
    if function:
        op = _FunctionView(op, domain, params)
    elif domain is not None:
        raise TypeError("check_op: domain= is for an autograd.Function; an op row or a "
                        "define_op op carries its own domain")
    _require_op("check_op", op)
    if params is not None and not function:
        op = _with_param_samples(op, params)
    arrays_only = function and _float_failure(op) is not None
    if getattr(op, "deriv", None) is None and _builtin(getattr(op, "key", "")) \
            and op.key not in _SPELLED:
        raise ValueError(
            f"check_op({op.key}): a built-in structural op whose inputs and parameters "
            f"check_op cannot draw; it checks every elementwise op, your own ops, and "
            f"{', '.join(_SPELLED)}")
    dtypes = (_np.float32, _np.float64) if dtypes is None else tuple(dtypes)
    for dt in dtypes:
        if _np.dtype(dt).kind != "f":
            raise TypeError(f"check_op: dtypes must be floating numpy dtypes, got {dt!r}")
    if max_examples is not None and (not isinstance(max_examples, int) or max_examples < 1):
        raise ValueError(f"check_op: max_examples must be a positive int, got {max_examples!r}")
    n_ex = max_examples or 50
    arity = arity_of(op)
    elementwise = getattr(op, "deriv", None) is not None or function
    name = op.name
    from hypothesis import Phase
    cfg = settings(max_examples=n_ex, deadline=None, report_multiple_bugs=False, database=None,
                   phases=[p for p in Phase if p.name != "explain"],
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                          HealthCheck.data_too_large])
    margin = 0.01
    point = st.tuples(*[_domain_floats(op, j, margin) for j in range(arity)])
    params_st = op_params(op)

    def call(args, params):
        return _apply_any(op, args, params)

    def run(prop, dtype, build0, *leaves, second=False):
        def build(*xs):  # op nodes named as in graph_text, so the report and the text agree
            return _label_graph(build0(*xs))
        try:
            out = build(*leaves)
            if second:
                gradgradcheck(build, *leaves)
            else:
                gradcheck(build, *leaves)
        except GradcheckError as e:
            if e.report is not None and e.report.kind == "not differentiable":
                assume(False)  # a kink inside the stencil: not a failure of the rule
            raise _fail(op, prop, dtype, out, e, artifacts_dir) from None
        except _USER_ERRORS as e:  # the op's own code broke: say where, keep the cause
            kinds = ", ".join(f"{type(x.data).__name__}"
                              + (f" of shape {x.data.shape}" if hasattr(x.data, "shape") else "")
                              for x in leaves)
            raise OpCheckError(f"check_op({name}): checking {prop} ({_np.dtype(dtype).name}, "
                               f"inputs: {kinds}), the op raised {type(e).__name__}: {e}",
                               name, prop, _np.dtype(dtype), "", 1) from e

    # 1. values
    @cfg
    @given(xs=point, params=params_st)
    def values_prop(xs, params):
        want = op.forward(FloatMath, *xs, *params.values()) if elementwise and not function \
            else None
        got = call([Value(x) for x in xs], params).data
        if want is not None and not _np.isclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True):
            raise OpCheckError(f"check_op({name}): value at {xs} is {got!r}, its forward on "
                               f"floats gives {want!r}", name, "values", _np.float64,
                               "", 1)
        for dt in dtypes:
            t = call([Tensor(_np.array(x, dtype=dt)) for x in xs], params)
            if _np.asarray(t.data).dtype != _np.dtype(dt):
                raise OpCheckError(f"check_op({name}): {_np.dtype(dt).name} inputs give a "
                                   f"{_np.asarray(t.data).dtype} result", name, "values", dt, "", 1)
            tol = 1e-4 if _np.dtype(dt).itemsize < 8 else 1e-9
            if not _np.isclose(float(t.data), got, rtol=tol, atol=tol, equal_nan=True):
                raise OpCheckError(f"check_op({name}): {_np.dtype(dt).name} Tensor value "
                                   f"{float(t.data)!r} vs Value {got!r} at {xs}", name, "values",
                                   dt, "", 1)

    # 2. first order on Values (float64)
    @cfg
    @given(xs=point, params=params_st)
    def grad_values(xs, params):
        leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
        run("gradients at random points of its domain", _np.float64,
            lambda *v: call(list(v), params), *leaves)

    # 3. first order on Tensors, broadcasting shapes, each dtype
    @st.composite
    def tensor_case(draw, dt):
        if function:  # one shape for every input
            shapes = (draw(hnp.array_shapes(min_dims=int(arrays_only), max_dims=2,
                                            max_side=3)),) * arity
        else:
            shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=arity, min_dims=0,
                                                            max_dims=2, max_side=3)).input_shapes
        arrays = []
        for j, shp in enumerate(shapes):
            size = int(_np.prod(shp)) if shp else 1
            vals = draw(st.lists(_domain_floats(op, j, margin), min_size=size, max_size=size))
            arrays.append(_np.array(vals, dtype=dt).reshape(shp))
        return arrays

    def grad_tensors(dt):
        @cfg
        @given(arrays=tensor_case(dt), params=params_st)
        def prop(arrays, params):
            leaves = [Tensor(a, requires_grad=True, label=f"x{i}") for i, a in enumerate(arrays)]
            assume(all(_in_domain(op, j, a.astype(_np.float64), margin / 2)
                       for j, a in enumerate(arrays)))
            if not elementwise:  # a vjp op may not take every pair of shapes (matmul)
                try:
                    call(list(leaves), params)
                except ValueError:
                    assume(False)
            # the output itself: gradcheck projects it on a random direction, so the op's
            # rule sees a random upstream gradient (a rule that ignores g is caught)
            run("gradients on Tensors" if function else "gradients on broadcasting Tensors", dt,
                lambda *t: call(list(t), params), *leaves)
        return prop

    # 4. second order on Values
    @cfg
    @given(xs=point, params=params_st)
    def second_order(xs, params):
        leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
        run("second-order gradients", _np.float64, lambda *v: call(list(v), params), *leaves,
            second=True)

    # 5. random graphs containing it
    comp = list(companions) if companions is not None else [
        OPS[k] for k in ("add", "mul", "tanh", "exp", "sin")]
    graph_ops = [op] + [c for c in comp if c is not op]
    leaf_st = st.one_of(*[_domain_floats(op, j, margin) for j in range(arity)])

    def graphs(dt):
        @cfg
        @given(expr=expressions(ops=graph_ops, max_ops=5, leaves=leaf_st, margin=0.02))
        def prop(expr):
            order = topological_order([expr.output])
            assume(any(not n.is_leaf and n.op == name for n in order))
            if _np.dtype(dt) == _np.float64:
                run("random graphs containing it", dt, expr.fn, *expr.leaves)
            else:
                leaves = [Tensor(_np.array(v.data, dtype=dt), requires_grad=True, label=v.label)
                          for v in expr.leaves]
                run("random graphs containing it", dt, expr.fn, *leaves)
        return prop

    if not elementwise or arrays_only:  # on Tensors only (no float forward, no Value spelling)
        for dt in dtypes:
            grad_tensors(dt)()
        return True
    values_prop()
    grad_values()
    for dt in dtypes:
        grad_tensors(dt)()
    if elementwise and getattr(op, "has_second_order", True):
        second_order()
    for dt in dtypes:
        graphs(dt)()
    return True


def _float_failure(op: Any) -> str | None:
    """Why a vjp row (or a Function's view) does not run on plain floats, as
    Values call it, at a point of its domain; None if it does. An op written
    for arrays only (``x.sum(axis=-1)``) is then drawn and checked on Tensors
    alone."""
    xs = [lo + 0.37 * (hi - lo) for (lo, hi), *_ in domain_of(op)]
    try:
        op.forward(FloatMath, *xs, **{k: v[0] for k, v in getattr(op, "params", {}).items()})
    except Exception as e:  # its own code failing on a float
        return f"{type(e).__name__}: {e}"
    return None


def _in_domain(op, j: int, a, margin: float) -> bool:
    import numpy as _np
    dom = domain_of(op)
    if j >= len(dom):
        return True
    ok = _np.zeros(_np.shape(a), dtype=bool)
    for lo, hi in dom[j]:
        ok |= (a >= lo + margin) & (a <= hi - margin)
    return bool(ok.all())
