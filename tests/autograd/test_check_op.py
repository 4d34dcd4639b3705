"""autograd.testing.check_op: one-call property test of an op, failures shrunk
to a minimal graph in the gradviz expr language."""
import math

import numpy as np
import pytest
from hypothesis import find, given, settings

from gradviz.autograd import Function, Value
from gradviz.autograd.check import gradcheck
from gradviz.autograd.ops import OPS
from gradviz.autograd.testing import (
    OpCheckError,
    check_op,
    expressions,
    graph_size,
    graph_text,
    unregister_op,
)

_BUILTIN_KEYS = [k for k, op in OPS.items() if op.deriv is not None] + [
    "sum", "mean", "max", "min", "matmul", "softmax", "log_softmax"]


@pytest.mark.parametrize("key", _BUILTIN_KEYS)
def test_every_correct_builtin_op_passes(key):
    assert check_op(OPS[key], max_examples=12) is True


def test_a_correct_user_op_passes(user_ops):
    cube = user_ops("cube_ok", forward=lambda M, a: a * a * a, deriv=lambda M, o, a: (3.0 * a * a,),
                    rule=("d/da = 3a²",), domain=((-3.0, 3.0),))
    assert check_op(cube, max_examples=15)


def test_a_wrong_rule_is_caught_named_and_shrunk_to_one_node(user_ops, tmp_path):
    bad = user_ops("softsign_bad", forward=lambda M, a: M.div(a, 1.0 + M.absolute(a)),
                   deriv=lambda M, o, a: (M.div(1.0, 1.0 + M.absolute(a)),),  # should be squared
                   domain=(((-3.0, -0.05), (0.05, 3.0)),), kink=lambda a: a == 0)
    with pytest.raises(OpCheckError) as info:
        check_op(bad, max_examples=30, artifacts_dir=str(tmp_path))
    e = info.value
    assert e.named and e.op == "softsign_bad" and e.size == 1
    assert e.report.kind == "mismatch" and e.report.op == "softsign_bad"
    assert e.text.endswith("= softsign_bad(x0)") and e.text.startswith("x0 = ")
    assert e.text in str(e) and "softsign_bad" in str(e)
    svg = (tmp_path / "softsign_bad_minimal.svg").read_text()
    assert "<svg" in svg and "softsign_bad" in svg and "analytic" in svg
    assert (tmp_path / "softsign_bad_minimal.txt").read_text().strip() == e.text
    assert "gradviz.viz.expr.build(text) builds it again in this process" in str(e)
    from gradviz.viz.expr import build  # the minimal graph, built again from its text
    again, _ = build(e.text)
    assert again.op == "softsign_bad"


def test_a_wrong_second_input_rule_of_a_binary_op_is_caught(user_ops):
    bad = user_ops("hypot_bad", forward=lambda M, a, b: M.sqrt(a * a + b * b),
                   deriv=lambda M, o, a, b: (M.div(a, o), M.div(a, o)),  # d/db should be b/o
                   domain=(((0.2, 3.0),), ((0.2, 3.0),)))
    with pytest.raises(OpCheckError) as info:
        check_op(bad, max_examples=30)
    assert info.value.named and info.value.report.input_index == 1 and info.value.size == 1
    from gradviz.viz.expr import build  # its minimal graph, built again from the text
    again, _ = build(info.value.text)
    assert again.op == "hypot_bad" and len(again.parents) == 2


def test_a_rule_wrong_only_in_float32_tensor_arithmetic_is_caught(user_ops):
    # right on floats, but the array version loses the broadcasting reduction's scale
    def deriv(M, o, a, b):
        if isinstance(a, np.ndarray) and a.shape != b.shape:
            return (b, a * 2.0)
        return (b, a)
    bad = user_ops("mul_bad", forward=lambda M, a, b: a * b, deriv=deriv,
                   domain=(((-2.0, 2.0),), ((-2.0, 2.0),)))
    with pytest.raises(OpCheckError) as info:
        check_op(bad, max_examples=40)
    assert info.value.prop == "gradients on broadcasting Tensors" and info.value.named


def test_check_op_rejects_what_is_not_an_op():
    for bad in ("tanh", 3, math.tanh, None):
        with pytest.raises(TypeError, match=r"check_op: expected an op.*OPS\['tanh'\].*define_op"):
            check_op(bad)
    with pytest.raises(TypeError, match="floating numpy dtypes"):
        check_op(OPS["tanh"], dtypes=(np.int32,))
    with pytest.raises(ValueError, match="max_examples"):
        check_op(OPS["tanh"], max_examples=0)


# --- graphs: structural shrinking, the expr language ---------------------------------
def test_expressions_shrink_by_deleting_nodes():
    ops = [OPS[k] for k in ("tanh", "mul", "sin", "exp", "add")]
    minimal = find(expressions(ops=ops, max_ops=6),
                   lambda e: any(n.op == "exp" for n in _order(e.output)),
                   settings=settings(database=None, max_examples=400))
    assert graph_size(minimal.output) == 1 and minimal.output.op == "exp"


def _order(out):
    from gradviz.autograd.graph import topological_order
    return topological_order([out])


@settings(max_examples=60)
@given(expressions(ops=[OPS[k] for k in ("add", "sub", "mul", "div", "neg", "tanh", "exp", "log",
                                         "sqrt", "sigmoid", "relu", "abs", "sin", "leaky_relu",
                                         "elu", "gelu", "softplus", "swish_const")]))
def test_graph_text_rebuilds_the_same_graph_in_the_expr_language(expr):
    from gradviz.viz.expr import build
    text = graph_text(expr.output)
    root, _ = build(text)
    assert root.data == pytest.approx(expr.output.data, rel=1e-12, abs=1e-12)
    assert graph_size(root) == graph_size(expr.output)
    assert gradcheck(expr.fn, *expr.leaves)


def test_graph_text_spells_operators_params_and_leaves():
    x = Value(0.5, label="x")
    y = Value(-2.0)
    out = ((x * y).leaky_relu(0.2) - (-x)) / x.swish(2.0) + x ** 3.0
    text = graph_text(out)
    assert text.startswith("x = 0.5; v1 = -x;") or "x = 0.5" in text
    for piece in ("leaky_relu(", ", 0.2)", "swish(", ", 2.0)", " ** 3.0", " / ", " - "):
        assert piece in text, (piece, text)


def test_check_op_catches_a_wrong_vjp_on_tensors():
    import dataclasses

    from gradviz.autograd.ops import register
    row = OPS["matmul"]
    swapped = register(dataclasses.replace(
        row, key="matmul_swapped", name="matmul_swapped", symbol="@?", fast={}, user=True,
        vjp=lambda M, g, out, a, b: tuple(reversed(row.vjp(M, g, out, a, b)))))
    try:
        with pytest.raises(OpCheckError) as info:
            check_op(swapped, max_examples=30)
        assert info.value.named and info.value.size == 1
        assert info.value.prop == "gradients on broadcasting Tensors"
    finally:
        unregister_op(swapped)
    assert check_op(OPS["matmul"], max_examples=10) and check_op(OPS["softmax"], max_examples=10)


def test_a_user_op_defined_before_the_testing_module_is_imported_is_still_the_users():
    """autograd.testing loads on demand (it needs hypothesis): an op defined
    before that is no built-in op. It could not be unregistered, and the
    expr text named it as a built-in op, when the built-in set was taken at
    import. Checked in a fresh process."""
    import subprocess
    import sys
    code = (
        "from gradviz.autograd import Value, define_op\n"
        "cube = define_op('early_cube', forward=lambda M, a, k: k * a * a * a,\n"
        "                 deriv=lambda M, out, a, k: (3.0 * k * a * a,), params={'k': 1.0})\n"
        "from gradviz.autograd.testing import graph_text, unregister_op\n"
        "print(graph_text(cube(Value(2.0, label='x'), k=2.0)).splitlines()[-1])\n"
        "unregister_op(cube)\n"
        "from gradviz.autograd.ops import OPS\n"
        "print('early_cube' in OPS)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text, still_there = res.stdout.split("\n")[:2]
    assert "early_cube(x, k=2.0)" in text and still_there == "False"


@pytest.mark.parametrize("key", ["prod", "cumsum", "conv2d", "cross_entropy"])
def test_a_builtin_op_check_op_cannot_draw_for_is_a_clear_error(key):
    with pytest.raises(ValueError, match=rf"check_op\({key}\): a built-in structural op .* "
                                         r"it checks every elementwise op"):
        check_op(OPS[key])


# --- autograd.Function subclasses (PyTorch's shape of a hand-written op) ----------
class _Softsign(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + np.abs(x)) ** 2


class _SoftsignBad(_Softsign):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + np.abs(x))  # the square is missing


class _Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, _b, out = ctx.saved_tensors
        return g * a / out, g * a / out  # the second should be g * _b / out


def test_a_correct_function_passes_on_values_tensors_and_graphs():
    assert check_op(_Softsign, max_examples=15)


def test_a_wrong_function_backward_is_caught_named_and_shrunk():
    with pytest.raises(OpCheckError) as info:
        check_op(_SoftsignBad, max_examples=25)
    e = info.value
    assert e.op == "_SoftsignBad" and e.size == 1 and e.named
    assert "wrong local derivative in op '_SoftsignBad'" in str(e)
    # no promise to rebuild a Function from text: how to call it instead
    assert "the language cannot call a Function: in Python it is _SoftsignBad.apply(...)" in str(e)


def test_a_function_with_two_inputs_is_checked_on_its_domain():
    # hypot is not smooth at (0, 0): the domain keeps the first input away from it
    with pytest.raises(OpCheckError, match=r"_Hypot.*input 1"):
        check_op(_Hypot, max_examples=25, domain=((0.5, 3.0), (-3.0, 3.0)))


def test_function_arguments_to_check_op_are_checked():
    class Star(Function):
        @staticmethod
        def forward(ctx, *xs):
            return sum(xs)

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(ValueError, match=r"check_op\(Star\): its forward\(ctx, \.\.\.\) must name"):
        check_op(Star)
    with pytest.raises(ValueError, match=r"domain has 1 entries for 2 inputs"):
        check_op(_Hypot, domain=((0.5, 3.0),))
    with pytest.raises(TypeError, match="domain= is for an autograd.Function"):
        check_op(OPS["tanh"], domain=((0.5, 3.0),))


class _Normalize(Function):
    """x / |x| along the last axis: written for arrays (x.sum(axis=-1))."""

    @staticmethod
    def forward(ctx, x):
        n = np.sqrt((x * x).sum(axis=-1, keepdims=True))
        ctx.save_for_backward(x, n)
        return x / n

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        y = x / n
        return (g - y * (g * y).sum(axis=-1, keepdims=True)) / n


class _NormalizeBad(_Normalize):
    @staticmethod
    def backward(ctx, g):
        _x, n = ctx.saved_tensors
        return g / n  # the projection is missing


def test_a_function_written_for_arrays_is_checked_on_tensors_alone():
    assert check_op(_Normalize, max_examples=20, domain=(((0.2, 3.0),),))
    with pytest.raises(OpCheckError, match=r"_NormalizeBad\): failed on gradients on Tensors"):
        check_op(_NormalizeBad, max_examples=20, domain=(((0.2, 3.0),),))


def test_an_exception_from_the_ops_own_code_says_what_was_being_checked():
    from gradviz.autograd import Function
    from gradviz.autograd.testing import OpCheckError, check_op

    class ArraysOnly(Function):
        """backward written for arrays only: float gradients have no .sum"""

        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return (g * 2.0).sum(axis=None) if hasattr(g, "sum") else g.sum()

    with pytest.raises(OpCheckError) as info:
        check_op(ArraysOnly)
    msg = str(info.value)
    assert msg.startswith("check_op(ArraysOnly): checking ")
    assert "the op raised AttributeError" in msg and "float" in msg


def test_check_op_draws_parameters_from_given_values(user_ops):
    # a deriv that ignores its parameter passes at the default (alpha = 1) alone
    scale_mul = user_ops("scale_mul_t", forward=lambda M, a, b, alpha=1.0: alpha * a * b,
                         deriv=lambda M, out, a, b, alpha=1.0: (b, alpha * a),
                         params={"alpha": 1.0})
    assert check_op(scale_mul, max_examples=20)
    with pytest.raises(OpCheckError, match=r"scale_mul_t\(x0, x1, alpha=(0.5|3.0)\)"):
        check_op(scale_mul, max_examples=50, params={"alpha": [0.5, 3.0]})
    with pytest.raises(ValueError, match=r"no parameter beta \(it takes: alpha\)"):
        check_op(scale_mul, params={"beta": [1.0]})


def test_a_function_returning_a_0d_array_is_checked_in_graphs_too():
    # np.where / np.asarray return 0-d arrays on floats (how ported code returns
    # numbers): the random graphs dropped such a Function, and check_op ended in
    # hypothesis's Unsatisfiable
    class HalfSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.asarray(0.5 * x * x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x
    assert check_op(HalfSquare, max_examples=15)


# --- a Function with a constant argument (found by a user-persona run) ---------
class _PowK(Function):
    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return x ** p

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.p * x ** (ctx.p - 1), None


class _PowKWrong(_PowK):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x ** (ctx.p - 1), None  # right for p = 2 only


def test_check_op_draws_a_function_s_constant_arguments_from_params():
    assert check_op(_PowK, max_examples=15, domain=((0.2, 3.0),), params={"p": [2, 3]})
    with pytest.raises(OpCheckError, match=r"_PowKWrong\(x0, p=3\)"):
        check_op(_PowKWrong, max_examples=30, domain=((0.2, 3.0),), params={"p": [2, 3]})
    with pytest.raises(ValueError, match=r"domain has 1 entries for 2 inputs .*params=\{'p'"):
        check_op(_PowK, max_examples=5, domain=((0.2, 3.0),))
    with pytest.raises(ValueError, match=r"no argument q \(it takes: x, p\)"):
        check_op(_PowK, max_examples=5, domain=((0.2, 3.0),), params={"q": [2]})
