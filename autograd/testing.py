"""Hypothesis strategies for property tests of gradients (yours and ours).

* :func:`values` -- Value leaves with finite data in a range;
* :func:`expressions` -- random computation graphs drawn from the op table,
  built over the leaves they return and kept inside every op's smooth domain,
  so ``gradcheck(expr.fn, *expr.leaves)`` must pass for a correct engine.

Example::

    from hypothesis import given
    from autograd import gradcheck
    from autograd.testing import expressions

    @given(expressions())
    def test_my_engine(expr):
        assert gradcheck(expr.fn, *expr.leaves)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from hypothesis import strategies as st

from .ops import OPS, Op, arity_of, elementwise_ops
from .value import Value

__all__ = ["values", "expressions", "Expression", "op_inputs", "apply_op"]


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
    """Apply table op ``op`` to nodes (Value or Tensor) through their public API."""
    params = params or {}
    a = args[0]
    k = op.key
    if k == "add": return a + args[1]
    if k == "sub": return a - args[1]
    if k == "mul": return a * args[1]
    if k == "div": return a / args[1]
    if k == "pow": return a ** args[1]
    if k == "pow_const": return a ** params["c"]
    if k == "neg": return -a
    if k == "abs": return abs(a)
    if k == "swish": return a.swish(args[1])
    if k == "swish_const": return a.swish(params["beta"])
    if k == "wsum":
        if hasattr(a, "_gc_array") and not hasattr(a, "shape"):
            from .value import wsum
            return wsum(args[1::2], args[2::2], a)
        return _tensor_wsum(args)
    method = getattr(a, k)
    return method(**params)


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
                bound: float = 8.0) -> Expression:
    """Random computation graphs over 1..``max_leaves`` Value leaves.

    Each step picks an op from ``ops`` (default: every elementwise op in the
    table) and operands from the leaves and earlier results. An operand
    outside the op's domain is first moved inside by adding a constant (a
    recorded step, so ``fn`` rebuilds the same graph); results larger than
    ``bound`` are squashed with tanh to keep later ops finite. The last
    result is the output; leaves used twice make shared subgraphs.
    """
    ops = list(ops) if ops is not None else elementwise_ops()
    leaf_strategy = leaves if leaves is not None else st.floats(-2.0, 2.0, allow_nan=False)
    n = draw(st.integers(1, max_leaves))
    leaf_vals = [draw(leaf_strategy) for _ in range(n)]
    steps: list[tuple] = []
    program: list[str] = []
    pool_vals: list[float] = list(leaf_vals)
    tanh = OPS["tanh"]
    fm = __import__("autograd.ops", fromlist=["FM"]).FM

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
