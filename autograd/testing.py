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

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from hypothesis import strategies as st

from .ops import OPS, FloatMath, Op, arity_of, elementwise_ops
from .value import Value

__all__ = ["values", "expressions", "Expression", "op_inputs", "apply_op", "tensors",
           "tensor_expressions"]


def values(min_value: float = -3.0, max_value: float = 3.0, label: str = "") -> st.SearchStrategy[Value]:
    """Value leaves with finite float data in ``[min_value, max_value]``."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False).map(
        lambda x: Value(x, label=label))


def op_inputs(op: Op, margin: float = 0.0) -> st.SearchStrategy[tuple[float, ...]]:
    """Floats for each input of ``op``, drawn from its smooth domain."""
    per_input = []
    for intervals in op.domain:
        per_input.append(st.one_of(*[st.floats(lo + margin, hi - margin, allow_nan=False)
                                     for lo, hi in intervals]))
    return st.tuples(*per_input)


def op_params(op: Op) -> st.SearchStrategy[dict]:
    """Sample constant parameters of ``op`` (from the table's examples)."""
    if not op.params:
        return st.just({})
    return st.fixed_dictionaries({k: st.sampled_from(v) for k, v in op.params.items()})


def apply_op(op: Op, args: Sequence[Any], params: dict | None = None):
    """Apply table op ``op`` to nodes (Value or Tensor): every row is callable."""
    return op(*args, **(params or {}))


def _tensor_wsum(args):
    out = args[0]
    for i in range(1, len(args), 2):
        out = out + args[i] * args[i + 1]
    return out


def _inside(op: Op, xs: Sequence[float], margin: float) -> bool:
    for x, intervals in zip(xs, op.domain):
        if not any(lo + margin <= x <= hi - margin for lo, hi in intervals):
            return False
    return True


@dataclass
class Expression:
    """A random graph: ``fn(*leaves)`` rebuilds it; ``output`` is the graph
    built on ``leaves``; ``program`` lists the steps for readable failures."""

    leaves: list
    program: list = field(default_factory=list)
    fn: Callable[..., Any] = None  # type: ignore[assignment]
    output: Any = None

    def __repr__(self) -> str:
        lv = ", ".join(f"x{i}={leaf.data!r}" for i, leaf in enumerate(self.leaves))
        return f"Expression({lv}; " + "; ".join(self.program) + ")"


def _make_fn(steps: list[tuple], n_leaves: int) -> Callable[..., Any]:
    def fn(*leaves):
        pool = list(leaves)
        for kind, *rest in steps:
            if kind == "op":
                op, idx, params = rest
                pool.append(apply_op(op, [pool[i] for i in idx], params))
            else:  # "shift": bring a value into a domain with a constant
                i, offset = rest
                pool.append(pool[i] + offset)
        return pool[-1]
    return fn


@st.composite
def expressions(draw, ops: Sequence[Op] | None = None, max_leaves: int = 3, max_ops: int = 6,
                leaves: st.SearchStrategy | None = None, margin: float = 0.05,
                bound: float = 8.0, tensors: bool = False) -> Expression:
    """Random computation graphs over 1..``max_leaves`` Value leaves.

    Each step picks an op from ``ops`` (default: every elementwise op in the
    table) and operands from the leaves and earlier results. An operand
    outside the op's domain is first moved inside by adding a constant (a
    recorded step, so ``fn`` rebuilds the same graph); results larger than
    ``bound`` are squashed with tanh to keep later ops finite. The last
    result is the output; leaves used twice make shared subgraphs.
    ``tensors=True``: Tensor graphs instead (:func:`tensor_expressions`).
    """
    if tensors:  # Tensor graphs: see tensor_expressions
        return draw(tensor_expressions(ops=ops, max_leaves=max_leaves, max_ops=max_ops,
                                       margin=margin, bound=bound))
    ops = list(ops) if ops is not None else elementwise_ops()
    leaf_strategy = leaves if leaves is not None else st.floats(-2.0, 2.0, allow_nan=False)
    n = draw(st.integers(1, max_leaves))
    leaf_vals = [draw(leaf_strategy) for _ in range(n)]
    steps: list[tuple] = []
    program: list[str] = []
    pool_vals: list[float] = list(leaf_vals)
    tanh = OPS["tanh"]
    fm = FloatMath

    def run(op: Op, idx: list[int], params: dict) -> float:
        xs = [pool_vals[i] for i in idx]
        return op.forward(fm, *xs, *params.values())

    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(ops))
        params = draw(op_params(op))
        idx = [draw(st.integers(0, len(pool_vals) - 1)) for _ in range(arity_of(op))]
        for j, (i, intervals) in enumerate(zip(idx, op.domain)):
            x = pool_vals[i]
            if any(lo + margin <= x <= hi - margin for lo, hi in intervals):
                continue
            lo, hi = draw(st.sampled_from(intervals))
            target = draw(st.floats(lo + 2 * margin, hi - 2 * margin, allow_nan=False))
            offset = target - x
            steps.append(("shift", i, offset))
            program.append(f"v{len(pool_vals)} = v{i} + {offset!r}")
            pool_vals.append(x + offset)
            idx[j] = len(pool_vals) - 1
        xs = [pool_vals[i] for i in idx]
        if not _inside(op, xs, margin):  # float rounding put it on the edge
            continue
        y = run(op, idx, params)
        steps.append(("op", op, tuple(idx), params))
        args = ", ".join(f"v{i}" for i in idx) + "".join(f", {k}={v!r}" for k, v in params.items())
        program.append(f"v{len(pool_vals)} = {op.key}({args})")
        pool_vals.append(y)
        if abs(y) > bound:
            steps.append(("op", tanh, (len(pool_vals) - 1,), {}))
            program.append(f"v{len(pool_vals)} = tanh(v{len(pool_vals) - 1})")
            pool_vals.append(fm.tanh(y / 1.0))
    if len(pool_vals) == n:  # nothing applied: at least one op
        steps.append(("op", tanh, (0,), {}))
        program.append(f"v{n} = tanh(v0)")
        pool_vals.append(fm.tanh(pool_vals[0]))
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
    return all(_in_intervals(x, iv, margin) for x, iv in zip(xs, op.domain))


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
                       max_side: int = 3, dtype=np.float64) -> Expression:
    """Random Tensor graphs: elementwise table ops on broadcasting operands
    mixed with the structural steps of :data:`TENSOR_STEPS`, over 1 to
    ``max_leaves`` float64 leaves of small mutually broadcastable shapes.
    Values are kept inside each op's smooth domain (shifted by a constant
    array when needed) and away from ties (``max``: distinct values), so
    ``gradcheck(expr.fn, *expr.leaves)`` must pass."""
    from hypothesis.extra import numpy as hnp
    from . import functional as F
    from .tensor import Tensor
    ops = list(ops) if ops is not None else elementwise_ops()
    n = draw(st.integers(1, max_leaves))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3,
                                                    max_side=max_side)).input_shapes
    leaf_vals = [draw(hnp.arrays(np.float64, s, elements=st.floats(-2.0, 2.0, allow_nan=False)))
                 for s in shapes]
    pool: list = [Tensor(v) for v in leaf_vals]  # constants: the simulation
    steps: list[tuple] = []
    program: list[str] = []

    def record(kind, *args, text=""):
        y = _apply_step(kind, pool, args, F)
        steps.append((kind, *args))
        program.append(f"v{len(pool)} = {text}")
        pool.append(y)
        return y

    def squash(y):
        if np.abs(y.data).max(initial=0.0) > bound:
            record("op", OPS["tanh"], (len(pool) - 1,), {}, text=f"tanh(v{len(pool) - 1})")

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
            for j, (pi, intervals) in enumerate(zip(idx, op.domain)):
                if _in_intervals(pool[pi].data, intervals, margin):
                    continue
                lo, hi = draw(st.sampled_from(intervals))
                target = draw(hnp.arrays(np.float64, pool[pi].data.shape,
                                         elements=st.floats(lo + 2 * margin, hi - 2 * margin)))
                offset = target - pool[pi].data
                record("shift", pi, offset, text=f"v{pi} + const{offset.shape}")
                idx[j] = len(pool) - 1
            if not _inside_arr(op, [pool[j].data for j in idx], margin):
                continue
            args = ", ".join(f"v{j}" for j in idx) + "".join(f", {a}={v!r}" for a, v in params.items())
            y = record("op", op, tuple(idx), params, text=f"{op.key}({args})")
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
            record(kind, i, axis, keep, text=f"v{i}.{kind}(axis={axis}, keepdims={keep})")
        elif kind == "reshape":
            shape = draw(st.sampled_from([(-1,), x.data.shape[::-1], (1,) + x.data.shape]))
            record(kind, i, shape, text=f"v{i}.reshape{shape}")
        elif kind == "transpose":
            perm = tuple(draw(st.permutations(range(nd))))
            record(kind, i, perm, text=f"v{i}.transpose{perm}")
        elif kind == "matmul" and nd >= 1:
            k = x.data.shape[-1]
            m = draw(st.integers(1, max_side))
            w = draw(hnp.arrays(np.float64, (k, m), elements=st.floats(-1.0, 1.0)))
            consts.add(len(pool))
            pool.append(Tensor(w))  # a constant operand, not a leaf
            steps.append(("const", w))
            program.append(f"v{len(pool) - 1} = const{w.shape}")
            record(kind, i, len(pool) - 1, text=f"v{i} @ v{len(pool) - 1}")
            squash(pool[-1])
        elif kind in ("softmax", "log_softmax") and nd >= 1:
            axis = draw(st.integers(-nd, nd - 1))
            record(kind, i, axis, text=f"{kind}(v{i}, axis={axis})")
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
            record(kind, i, j, axis, text=f"{kind}([v{i}, v{j}], axis={axis})")
        elif kind == "broadcast_to":
            shape = (draw(st.integers(1, max_side)),) + tuple(
                draw(st.integers(1, max_side)) if s == 1 else s for s in x.data.shape)
            record(kind, i, shape, text=f"v{i}.broadcast_to({shape})")
    if len(pool) == n:
        record("op", OPS["tanh"], (0,), {}, text="tanh(v0)")

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
