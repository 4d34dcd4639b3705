"""Users' own ops: define_op rows and autograd.Function, first class."""
import math
import pathlib

import numpy as np
import pytest

from gradviz import Tensor, Value, autograd, viz
from gradviz.autograd import Function, define_op, grad, gradcheck
from gradviz.autograd.ops import OPS, op_reference
from gradviz.autograd.testing import expressions

HERE = pathlib.Path(__file__).resolve()


@pytest.fixture(scope="module")
def cube():
    return define_op(
        "cube_t", forward=lambda M, a: a * a * a, deriv=lambda M, out, a: (3.0 * a * a,),
        rule=("d/da = 3a²",), domain=((-3.0, 3.0),), symbol="³")


def test_define_op_on_values(cube):
    x = Value(2.0, label="x")
    y = cube(x)
    y.backward()
    assert (y.data, x.grad, y.op) == (8.0, 12.0, "cube_t")
    assert y.parents == (x,) and y.op_info.rule == ("d/da = 3a²",)


def test_define_op_on_tensors_broadcasts(cube):
    t = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    cube(t).sum().backward()
    np.testing.assert_allclose(t.grad, 3 * t.data ** 2)
    a = Tensor(np.ones((2, 1)), requires_grad=True)
    assert cube(a).shape == (2, 1)


def test_define_op_second_order_for_free(cube):
    x = Value(0.7)
    (g,) = grad([cube(x)], [x], create_graph=True)
    (h,) = grad([g], [x])
    assert g.data == pytest.approx(3 * 0.49) and h.data == pytest.approx(6 * 0.7)
    assert gradcheck(cube, Value(0.5))
    assert autograd.gradcheck(lambda v: grad(cube(v), v, create_graph=True), Value(0.5))


def test_define_op_is_a_table_row_everyone_knows(cube):
    assert OPS["cube_t"] is cube
    assert "cube_t" in op_reference()
    x = Value(1.5, label="x")
    y = cube(x)
    y.backward()
    src = viz.draw(y).source
    assert "³" in src and "3a²" in src and "6.75" in src  # symbol, rule text, number on the edge
    step = next(y.backward_steps())
    assert step.node is y and step.contributions[0][1] == pytest.approx(6.75)


def test_expressions_strategy_draws_graphs_containing_the_op(cube):
    from hypothesis import given, settings

    seen = []

    @settings(max_examples=30, database=None)
    @given(expressions(ops=[cube]))
    def check(expr):
        seen.append(expr)
        assert gradcheck(expr.fn, *expr.leaves, atol=1e-4, rtol=2e-3)

    check()
    assert seen


def _graph_values(output):
    """Every non-leaf value of the graph, not only the output (a tanh at the
    end can flatten the output while the values before it are steep)."""
    nodes, stack = {}, [output]
    while stack:
        v = stack.pop()
        if id(v) not in nodes and v.parents:
            nodes[id(v)] = v
            stack.extend(v.parents)
    return list(nodes.values())


def _steepest(expr):
    """The largest |d element / d leaf element| over the graph's values."""
    worst = 0.0
    for v in _graph_values(expr.output):
        if isinstance(v, Value):
            for leaf in expr.leaves:
                leaf.grad = 0.0
            v.backward()
            worst = max([worst] + [abs(leaf.grad) for leaf in expr.leaves])
            continue
        for e in np.ndindex(v.shape):
            seed = np.zeros(v.shape)
            seed[e] = 1.0
            for g in grad(v, expr.leaves, grad_outputs=Tensor(seed)):
                worst = max(worst, float(np.abs(g.data).max(initial=0.0)))
    return worst


@pytest.mark.parametrize("which", ["cube", "every op", "cube, tensors"])
def test_expressions_never_draws_a_graph_too_steep_for_finite_differences(cube, which):
    # Three cube_t ops in a row, each operand shifted back into (-3, 3), made
    # a leaf's gradient reach 1e5: gradcheck then measures its step, not the
    # derivative, and the property fails for a correct op.
    from hypothesis import given, settings

    from gradviz.autograd.testing import MAX_SLOPE
    seen = []

    @settings(max_examples=200 if which != "cube, tensors" else 60, database=None)
    @given(expressions(ops=None if which == "every op"
                       else [cube], max_ops=8, tensors="tensors" in which))
    def check(expr):
        seen.append(_steepest(expr))
        assert seen[-1] <= MAX_SLOPE * (1 + 1e-9), expr

    check()
    assert max(seen) > MAX_SLOPE / 100  # steep graphs are still drawn


def test_vjp_op_gets_the_upstream_gradient():
    sumsq = define_op("sumsq_t", forward=lambda M, a: (a * a).sum(),
                      vjp=lambda M, g, out, a: (2.0 * a * g,), rule=("d/da = 2a",))
    t = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = sumsq(t)
    y.backward()
    assert y.data == 14.0
    np.testing.assert_allclose(t.grad, [2.0, 4.0, 6.0])
    assert gradcheck(sumsq, Tensor(np.array([0.3, -0.2]), requires_grad=True))


@pytest.mark.parametrize("kwargs, pattern", [
    ({"name": "tanh", "forward": lambda M, a: a, "deriv": lambda M, o, a: (1.0,)}, "clashes with a built-in"),
    ({"name": "two_d", "forward": lambda M, a: a, "deriv": lambda M, o, a: (1.0, 2.0)}, "returned 2 derivatives for 1 input"),
    ({"name": "dom_t", "forward": lambda M, a, b: a * b, "deriv": lambda M, o, a, b: (b, a),
          "domain": ((0.0, 1.0),)}, "domain has 1 entries for 2 inputs"),
    ({"name": "both_t", "forward": lambda M, a: a, "deriv": lambda M, o, a: (1.0,),
          "vjp": lambda M, g, o, a: (g,)}, "exactly one of deriv"),
    ({"name": "none_t", "forward": lambda M, a: a}, "exactly one of deriv"),
    ({"name": "bad name", "forward": lambda M, a: a, "deriv": lambda M, o, a: (1.0,)}, "identifier"),
])
def test_define_op_errors_at_definition_time(kwargs, pattern):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=pattern):
        define_op(name, **kwargs)
    assert name not in OPS or not OPS[name].user


def test_redefining_a_user_op_replaces_it():
    a = define_op("redef_t", forward=lambda M, x: 2.0 * x, deriv=lambda M, o, x: (2.0,))
    b = define_op("redef_t", forward=lambda M, x: 3.0 * x, deriv=lambda M, o, x: (3.0,))
    x = Value(1.0)
    y = b(x)
    y.backward()
    assert OPS["redef_t"] is b and a is not b and (y.data, x.grad) == (3.0, 3.0)


def test_user_op_nan_points_at_the_users_line_under_detect_anomaly():
    # a deriv that is nan past 0.4 (one that is nan everywhere is refused when defined)
    bad = define_op("nanderiv_t", forward=lambda M, a: a * a,
                    deriv=lambda M, o, a: (2 * a + 0 * M.sqrt(0.4 - a),))
    with autograd.detect_anomaly():
        x = Value(0.5)
        y = bad(x)  # the creation site is this line
        with pytest.raises(autograd.AnomalyError) as err:
            y.backward()
    assert "nanderiv_t" in str(err.value) and f"{HERE}:" in str(err.value)


class Clamp01(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x, 0.0, 1.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > 0) & (x < 1))


def test_function_pytorch_shape():
    t = Tensor(np.array([-0.5, 0.25, 0.5, 1.5]), requires_grad=True)
    y = Clamp01.apply(t)
    assert y.op == "Clamp01" and y.op_info.rule == ("custom backward",)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 1.0, 0.0])
    assert gradcheck(Clamp01.apply, Tensor(np.array([0.2, 0.7]), requires_grad=True))
    v = Value(0.3)
    out = Clamp01.apply(v)
    out.backward()
    assert (out.data, v.grad) == (0.3, 1.0)


def test_function_wrong_count_and_shape_name_the_function_and_input():
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return np.ones(5)

    t = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError,
                       match=r"TwoGrads.backward returned 2 gradients for 1 argument of forward"):
        TwoGrads.apply(t).sum().backward()
    with pytest.raises(ValueError, match=r"BadShape.backward returned a gradient of shape \(5,\) "
                                         r"for input 0 of shape \(3,\)"):
        BadShape.apply(t).sum().backward()


def test_user_op_is_callable_like_a_row_and_rejects_bad_calls(cube):
    with pytest.raises(TypeError, match="takes 1 input, got 2"):
        cube(Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match="input 0 must be a Value, a Tensor or a number"):
        cube("x")
    with pytest.raises(ValueError, match=r"input shapes \(2,\), \(3,\) do not broadcast"):
        OPS["mul"](Tensor(np.ones(2)), Tensor(np.ones(3)))


def test_a_one_input_user_op_takes_the_short_call_and_agrees_with_the_general_one():
    """A one-input row without constants is called straight into the node
    constructor; the result (value, op, gradient) is the general path's, on
    Values, float64/float32 Tensors and integer Tensors (which promote)."""
    from gradviz.autograd.custom import UnaryOp, apply
    op = define_op("short_softsign", forward=lambda M, a: a / (1.0 + M.abs(a)),
                   deriv=lambda M, o, a: (1.0 / ((1.0 + M.abs(a)) * (1.0 + M.abs(a))),),
                   rule="d/da = 1/(1+|a|)²")
    assert isinstance(op, UnaryOp)
    with pytest.raises(TypeError, match=r"short_softsign\(\) got an unexpected keyword .*alpha"):
        op(Value(1.0), alpha=2.0)
    with pytest.raises((TypeError, ValueError), match="short_softsign"):
        op(Value(1.0), Value(2.0))
    for make in (lambda: Value(-0.7),
                 lambda: Tensor(np.array([-0.7, 0.2, 3.0]), requires_grad=True),
                 lambda: Tensor(np.array([-0.7, 0.2], dtype=np.float32), requires_grad=True),
                 lambda: Tensor(np.array([-1, 2]))):
        a, b = make(), make()
        ya, yb = op(a), apply(op, b)
        recorded = isinstance(a, Value) or a.requires_grad
        assert ya.op == yb.op == ("short_softsign" if recorded else "")
        np.testing.assert_array_equal(np.asarray(ya.data), np.asarray(yb.data))
        assert np.asarray(ya.data).dtype == np.asarray(yb.data).dtype
        if recorded:
            (ya if isinstance(a, Value) else ya.sum()).backward()
            (yb if isinstance(b, Value) else yb.sum()).backward()
            np.testing.assert_array_equal(np.asarray(a.grad), np.asarray(b.grad))


def test_function_ctx_says_which_inputs_need_a_gradient_as_pytorch_does():
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            seen.append((ctx.needs_input_grad, ctx.saved_tensors))
            return g * ctx.k, None  # no gradient for the constant k

    x = Tensor(np.ones(3), requires_grad=True)
    Scale.apply(x, Tensor(np.full(3, 2.0))).sum().backward()
    a, b = Value(2.0), Value(3.0, requires_grad=False)
    Scale.apply(a, b).backward()
    assert seen == [((True, False), ()), ((True, False), ())]  # nothing saved: empty
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    assert a.grad == 3.0


# --- mistakes in a user's op: said when defined, or named when run -----------------------
def test_a_vjp_gradient_of_the_wrong_shape_is_an_error_not_a_broadcast(user_ops):
    # (4,) for a (3, 4) input would be broadcast into the input's grad: every row
    # the column sum, silently wrong
    colsum = user_ops("colsum_bug", forward=lambda M, a: a * 2.0,
                      vjp=lambda M, g, out, a: (g.sum(axis=0),))
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"op 'colsum_bug'.*shape \(4,\) for input 0 of shape "
                                         r"\(3, 4\)"):
        colsum(x).sum().backward()
    short = user_ops("short_bug", forward=lambda M, a: a * 2.0,
                     vjp=lambda M, g, out, a: (g[:, :2],))
    with pytest.raises(ValueError, match=r"op 'short_bug'.*shape \(3, 2\)"):
        short(Tensor(np.ones((3, 4)), requires_grad=True)).sum().backward()


def test_a_local_derivative_of_the_wrong_shape_on_arrays_is_an_error(user_ops):
    # a row of derivatives for a (4,) input: g * d would be (3, 4), summed back to (4,)
    wide = user_ops("wide_deriv", forward=lambda M, a: a * 1.0,
                    deriv=lambda M, o, a: (a * 0.0 + 1.0 if not hasattr(a, "shape")
                                           else np.ones((3,) + a.shape),))
    with pytest.raises(ValueError, match=r"op 'wide_deriv'.*\(3, 4\).*output's shape \(4,\)"):
        wide(Tensor(np.ones(4), requires_grad=True)).sum().backward()


def test_a_derivative_that_is_an_array_on_floats_is_refused_at_definition():
    with pytest.raises(TypeError, match=r"define_op\('arr_deriv'\): deriv returned a ndarray of "
                                        r"shape \(3,\) for input 0 on floats"):
        define_op("arr_deriv", forward=lambda M, a: a, deriv=lambda M, o, a: (np.ones(3),))
    assert "arr_deriv" not in OPS


def test_a_forward_that_is_not_finite_on_its_domain_is_refused_at_definition():
    with pytest.raises(ValueError, match=r"forward is nan at .*domain="):
        define_op("log_everywhere", forward=lambda M, a: M.log(a),
                  deriv=lambda M, o, a: (M.div(1.0, a),), domain=((-3.0, 3.0),))
    assert "log_everywhere" not in OPS


@pytest.mark.parametrize("kw, said", [
    ({"forward": lambda M, a, b: a * b, "vjp": lambda M, g, a, b: (g * b, g * a)},
     r"vjp is called as vjp\(M, g, out, x1, x2\)"),
    ({"forward": lambda M, a: a, "deriv": lambda M, a: (1.0,)},
     r"deriv is called as deriv\(M, out, x1\)"),
    ({"forward": lambda M, a: a, "deriv": lambda M, o, a: (1.0,), "params": {"k": 1.0}},
     r"forward takes 2 arguments.*then the 1 parameter"),
])
def test_a_function_of_the_wrong_signature_is_refused_at_definition_naming_the_call(kw, said):
    with pytest.raises(TypeError, match=r"define_op\('bad_sig'\): " + said):
        define_op("bad_sig", **kw)
    assert "bad_sig" not in OPS


def test_a_python_keyword_is_not_an_op_name():
    with pytest.raises(ValueError, match="not a Python keyword"):
        define_op("lambda", forward=lambda M, a: a, deriv=lambda M, o, a: (1.0,))


def test_a_node_given_as_a_constant_parameter_is_a_type_error(user_ops):
    st = user_ops("scaled_tanh", forward=lambda M, a, k: M.tanh(k * a),
                  deriv=lambda M, o, a, k: (k * (1.0 - o * o),), params={"k": 2.0})
    x, k = Value(0.3), Value(0.5)
    with pytest.raises(TypeError, match=r"op 'scaled_tanh': parameter k is a constant of the "
                                        r"op, got a Value"):
        st(x, k=k)
    assert st(x, k=0.5).data == pytest.approx(math.tanh(0.15))


def test_a_function_returning_several_outputs_is_a_clear_error():
    class TwoOut(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g):
            return g

    for x in (Tensor(np.ones(3), requires_grad=True), Value(1.0)):
        with pytest.raises(TypeError, match="TwoOut.forward returned 2 outputs"):
            TwoOut.apply(x)


def test_autograd_testing_is_reachable_as_an_attribute():
    import subprocess
    import sys
    code = ("from gradviz import autograd; "
            "print(autograd.testing.expressions.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "gradviz.autograd.testing"


def test_calling_an_op_after_it_was_unregistered_says_so():
    from gradviz.autograd.testing import unregister_op
    op = define_op("gone_op", forward=lambda M, a: a * 2.0, deriv=lambda M, o, a: (2.0,))
    unregister_op(op)
    with pytest.raises(ValueError, match="op 'gone_op' is not in the op table"):
        op(Value(1.0))


def test_the_strategies_say_which_ops_they_cannot_draw_graphs_with(user_ops):
    from hypothesis import given, settings

    from gradviz.autograd.testing import tensor_expressions

    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2.0 * x * g

    rowsum = user_ops("rowsum_t", forward=lambda M, a: a.sum(axis=-1, keepdims=True) + a,
                      vjp=lambda M, g, out, a: (g + g.sum(axis=-1, keepdims=True),))

    def draw_one(strategy):
        @settings(max_examples=1, database=None)
        @given(strategy)
        def run(_):
            pass
        run()

    for strategy in (expressions(ops=[Sq]), expressions(ops=[Sq], tensors=True),
                     tensor_expressions(ops=[Sq])):
        with pytest.raises(TypeError, match=r"Sq is an autograd.Function .* check_op\(Sq\)"):
            draw_one(strategy)
    with pytest.raises(TypeError, match=r"op 'rowsum_t' does not run on floats .*tensors=True"):
        draw_one(expressions(ops=[rowsum]))


def test_a_deriv_returning_a_number_not_a_tuple_is_said_plainly():
    with pytest.raises(ValueError, match=r"deriv returned a float, not a tuple of derivatives "
                                         r"\(one per input: return \(d,\) for one\)"):
        define_op("no_tuple", forward=lambda M, a: a * 2.0, deriv=lambda M, o, a: 2.0)


def test_a_tensor_failure_of_check_op_gives_the_tensor_inputs(user_ops):
    from gradviz.autograd.testing import OpCheckError, check_op
    # a row-wise softmax whose rule sums over the wrong axis: only Tensors of more
    # than one row show it, and the scalar text alone cannot rebuild them
    def fwd(M, a):
        e = M.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    bad = user_ops("rowsoftmax_bad", forward=fwd,
                   vjp=lambda M, g, out, a: (out * (g - (g * out).sum(axis=0, keepdims=True)),))
    with pytest.raises(OpCheckError) as info:
        check_op(bad, max_examples=30)
    msg = str(info.value)
    assert "Tensor inputs:" in msg and "shape (" in msg
    assert "each Tensor input written as its first element" in msg
    assert "builds it again" not in msg


def test_a_function_gradient_of_the_broadcast_shape_is_summed_back_as_pytorch_does():
    class AddRow(Function):
        """x (3, 4) + row (4,): the backward hands back g, of the output's shape"""

        @staticmethod
        def forward(ctx, x, row):
            return x + row

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = Tensor(np.ones((3, 4)), requires_grad=True)
    row = Tensor(np.zeros(4), requires_grad=True)
    AddRow.apply(x, row).sum().backward()
    assert row.grad.shape == (4,) and np.all(row.grad == 3.0)
    assert np.all(x.grad == 1.0)

    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g[:, :2]

    with pytest.raises(ValueError, match=r"Wrong.backward returned a gradient of shape "
                                         r"\(3, 2\) for input 0 of shape \(3, 4\)"):
        Wrong.apply(Tensor(np.ones((3, 4)), requires_grad=True)).sum().backward()


# --- found by an engineer porting PyTorch code --------------------------------
class SumAxis(Function):
    """x.sum(axis): the axis is a constant argument, as PyTorch code passes it."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.shape, ctx.axis = x.shape, axis
        return x.sum(axis=axis)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(np.expand_dims(g, ctx.axis), ctx.shape), None


def test_a_function_takes_constant_arguments_as_they_are_as_pytorch_does():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    y = SumAxis.apply(t, 1)
    assert y.shape == (2,) and y.op_info.params == {"axis": 1}  # an int, not array(1.)
    y.sum().backward()
    assert np.all(t.grad == 1.0)
    assert gradcheck(lambda a: (SumAxis.apply(a, 0) ** 2).sum(),
                     Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64))

    class Mode(Function):
        @staticmethod
        def forward(ctx, x, how):
            ctx.how = how
            return x * x if how == "square" else x

        @staticmethod
        def backward(ctx, g):
            return (2.0 * g if ctx.how == "square" else g), "oops"
    v = Value(3.0)
    with pytest.raises(ValueError, match=r"Mode.backward returned a gradient for argument 1 "
                                         r"\(how='square'\), which is not a Value or a Tensor"):
        Mode.apply(v, "square").backward()
    with pytest.raises(TypeError, match="SumAxis.apply: no Value or Tensor among its arguments"):
        SumAxis.apply(np.ones(3), 0)


def test_a_gradient_of_another_shape_than_input_or_output_is_an_error_not_summed(user_ops):
    class Outer(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return np.outer(g, 2 * x)  # (3, 3) for a (3,) input: summing would give 3x the truth
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, dtype=np.float64)
    with pytest.raises(ValueError, match=r"Outer.backward returned a gradient of shape \(3, 3\) "
                                         r"for input 0 of shape \(3,\) \(the output has shape"):
        Outer.apply(x).sum().backward()
    weird = user_ops("weird_vjp_shape", forward=lambda M, a, b: a * b,
                     vjp=lambda M, g, out, a, b: (g.sum(axis=0), g * a))  # (4,) for a (3, 1)
    a = Tensor(np.ones((3, 1)), requires_grad=True, dtype=np.float64)
    b = Tensor(np.ones((3, 4)), requires_grad=True, dtype=np.float64)
    with pytest.raises(ValueError, match=r"op 'weird_vjp_shape': its vjp rule returned a gradient "
                                         r"of shape \(4,\) for input 0 of shape \(3, 1\)"):
        weird(a, b).sum().backward()


def test_a_deriv_that_is_not_finite_where_forward_is_is_refused_at_definition():
    with pytest.raises(ValueError, match=r"define_op\('nan_deriv_op'\): deriv for input 0 is nan"):
        define_op("nan_deriv_op", forward=lambda M, a: a * a,
                  deriv=lambda M, out, a: (M.log(a - 10.0),))
    assert "nan_deriv_op" not in OPS


def test_second_order_through_a_function_names_it():
    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = Value(2.0)
    with pytest.raises(NotImplementedError, match="Sq is an autograd.Function: its hand-written "
                                                  "backward gives first derivatives only"):
        grad(Sq.apply(x), x, create_graph=True)


def test_an_op_written_for_arrays_called_on_a_value_is_named(user_ops):
    ssq = user_ops("ssq_t", forward=lambda M, a: (a * a).sum(axis=-1),
                   vjp=lambda M, g, out, a: (2 * a * g[..., None],))
    with pytest.raises(TypeError, match=r"op 'ssq_t': its forward failed on Values \(plain "
                                        r"floats\): AttributeError: .* is called on Tensors"):
        ssq(Value(2.0))
    assert ssq(Tensor(np.ones((2, 3)))).shape == (2,)


def test_an_anomaly_in_the_forward_pass_describes_its_inputs():
    with autograd.detect_anomaly():
        with pytest.raises(autograd.AnomalyError, match=r"inputs: the output of '\*' = -1$"):
            (Value(-1.0) * 1.0).log()
        with pytest.raises(autograd.AnomalyError, match=r"inputs: 'z' = 0 \(shape \(1,\)\)"):
            Tensor(np.array([0.0]), requires_grad=True, label="z").log()
        with pytest.raises(autograd.AnomalyError, match=r"an array of shape \(2, 2\)"):
            (Tensor(np.zeros((2, 2)), requires_grad=True) * 2.0).log()


# --- mistakes found by a user-persona run -------------------------------------
def test_definition_mistakes_in_params_and_kink_are_named():
    with pytest.raises(TypeError, match=r"params must be a dict .*got list"):
        define_op("bad_params", forward=lambda M, a, k: a * k, deriv=lambda M, o, a, k: (k,),
                  params=["k"])
    with pytest.raises(ValueError, match=r"kink failed at the sample point"):
        define_op("bad_kink_args", forward=lambda M, a: M.abs(a),
                  deriv=lambda M, o, a: (M.sign(a),), kink=lambda a, b, c: (a == 0,))
    with pytest.raises(ValueError, match=r"kink returned 2 flags for 1 input"):
        define_op("bad_kink_count", forward=lambda M, a: M.abs(a),
                  deriv=lambda M, o, a: (M.sign(a),), kink=lambda a: (a == 0, a == 1))


def test_a_deriv_written_with_numpy_is_named_when_differentiated_again():
    from gradviz.autograd import grad
    npsin = define_op("np_sin_deriv", forward=lambda M, a: M.sin(a),
                      deriv=lambda M, out, a: (np.cos(a),))
    x = Value(0.4)
    with pytest.raises(TypeError, match=r"op 'np_sin_deriv': its deriv could not run on nodes.*"
                                        r"M's functions"):
        grad(npsin(x), x, create_graph=True)


def test_a_function_backward_returning_a_list_is_told_to_return_a_tuple():
    from gradviz.autograd import Function

    class ListGrads(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return [g, g]
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(TypeError, match="returned a list of 2 gradients: return a tuple"):
        ListGrads.apply(a, b).backward()


def test_backward_on_a_tensor_made_under_no_grad_says_so():
    from gradviz.autograd import no_grad
    w = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        loss = (w * w).sum()
    with pytest.raises(RuntimeError, match=r"computed under no_grad\(\) or detached"):
        loss.backward()


def test_a_function_named_like_a_built_in_op_is_told_apart_in_reports():
    from gradviz.autograd import Function

    class tanh(Function):  # (a user's name, as found)
        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 3.0  # wrong: 2
    with pytest.raises(autograd.GradcheckError, match=r"op 'tanh \(Function\)'"):
        gradcheck(lambda x: tanh.apply(x), Value(0.5))
