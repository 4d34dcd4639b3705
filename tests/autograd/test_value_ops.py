"""Every elementwise op in the table, through Value: gradients against central
differences (first and second order), the hand-specialised float kernels
against the table's generic rule, and the forward against the table."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradviz.autograd import Value, grad, gradcheck
from gradviz.autograd.kernel import FLOAT, kernel
from gradviz.autograd.ops import FM, OPS, arity_of, elementwise_ops
from gradviz.autograd.testing import apply_op, expressions, op_inputs, op_params

ELEMENTWISE = elementwise_ops()
EW_IDS = [op.key for op in ELEMENTWISE]
IDS = [op.key for op in ELEMENTWISE]


def test_table_has_every_value_method():
    # A new op in the table with no Value front end fails here, not silently.
    for op in ELEMENTWISE:
        args = [Value(0.5) for _ in range(arity_of(op))]
        params = {k: v[0] for k, v in op.params.items()}
        out = apply_op(op, args, params)
        assert out.op == op.name
        assert out.parents == tuple(args)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=IDS)
@given(data=st.data())
def test_first_order_gradcheck(op, data):
    xs = data.draw(op_inputs(op, margin=0.01), label="inputs")
    params = data.draw(op_params(op), label="params")
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    assert gradcheck(lambda *v: apply_op(op, v, params), *leaves)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=EW_IDS)
@given(data=st.data())
def test_second_order_gradcheck(op, data):
    xs = data.draw(op_inputs(op, margin=0.01), label="inputs")
    params = data.draw(op_params(op), label="params")
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    for i in range(arity_of(op)):
        # d/dx_j of (d op / d x_i), checked against central differences of the first derivative
        first = lambda *v, i=i: grad(apply_op(op, v, params), v[i], create_graph=True)
        assert gradcheck(first, *leaves, atol=1e-4, rtol=2e-3)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=IDS)
@given(data=st.data())
def test_forward_matches_table(op, data):
    xs = data.draw(op_inputs(op), label="inputs")
    params = data.draw(op_params(op), label="params")
    out = apply_op(op, [Value(x) for x in xs], params)
    expected = op.forward(FM, *xs, *params.values())
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-300)


def _fast_kernels():
    """Every row declaring a hand-specialised float rule, as a kernel."""
    ks = []
    for op in OPS.values():
        if "float" in op.fast and op.deriv is not None:
            for sample in (zip(*op.params.values()) if op.params else [()]):
                ks.append(kernel(op.key, FLOAT, **dict(zip(op.params, sample))))
    assert len(ks) >= 10
    return ks


@pytest.mark.parametrize("kern", _fast_kernels(), ids=repr)
@given(data=st.data(), g=st.floats(-5, 5, allow_nan=False))
def test_fast_backward_equals_table_rule(kern, data, g):
    xs = data.draw(op_inputs(kern.op), label="inputs")
    args = [Value(x) for x in xs]
    out = apply_op(kern.op, args, kern.params)
    assert out._op.op is kern.op and out._op.params == kern.params
    fast = kern.vjp(out, g)
    generic = tuple(g * d for d in kern.local_derivatives(out))
    assert fast == generic  # bit for bit


def _inlined_kernels():
    """Every Value kernel whose rule the fast pass inlines (a text rule,
    autograd.rulecode): the rows' own and the generic one-input rule."""
    ks = []
    for op in ELEMENTWISE:
        for sample in (zip(*op.params.values()) if op.params else [()]):
            k = kernel(op.key, FLOAT, **dict(zip(op.params, sample)))
            if k.tag:
                ks.append(k)
    assert {k.op.key for k in ks} >= {"add", "mul", "relu", "tanh", "sin", "mul_const"}
    return ks


@pytest.mark.parametrize("kern", _inlined_kernels(), ids=repr)
@given(data=st.data(), g=st.floats(-5, 5, allow_nan=False))
def test_the_inlined_rule_equals_the_rule_it_was_made_from(kern, data, g):
    """backward()'s loop runs the text rules inlined; the kernel's vjp is the
    same text compiled as a function. Both give the same bits, and both
    send every contribution to the right parent."""
    xs = data.draw(op_inputs(kern.op), label="inputs")
    args = [Value(x) for x in xs]
    out = apply_op(kern.op, args, kern.params)
    seed = Value(g)
    (out * seed).backward()  # the fast pass: out's rule inlined, with out.grad == g
    expected = kern.vjp(out, g)
    assert tuple(a.grad for a in args) == expected  # bit for bit, in operand order


@pytest.mark.slow
@given(expressions())
def test_random_expressions_gradcheck(expr):
    assert gradcheck(expr.fn, *expr.leaves, atol=1e-4, rtol=2e-3)


@given(expressions(max_ops=4))
def test_random_expressions_second_order(expr):
    first = lambda *v: grad(expr.fn(*v), v[0], create_graph=True)
    assert gradcheck(first, *expr.leaves, atol=1e-3, rtol=5e-3)


@given(expressions())
def test_backward_equals_grad(expr):
    g = grad(expr.output, expr.leaves)
    for leaf in expr.leaves:
        leaf.grad = 0.0
    expr.output.backward()
    assert [leaf.grad for leaf in expr.leaves] == [x.data for x in g]
