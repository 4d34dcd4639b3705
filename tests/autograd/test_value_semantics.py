"""Value semantics that micrograd gets wrong, the math-error policy, numerical
stability at extreme inputs, modes, gradcheck's errors, and bad input."""
import gc
import math
import threading
import weakref

import numpy as np
import pytest

from gradviz.autograd import (
    AnomalyError,
    GradcheckError,
    Value,
    define_op,
    detect_anomaly,
    grad,
    gradcheck,
    no_grad,
)


def test_car_tax_chain_rule():
    price, count, tax = Value(15.0, label="price"), Value(2, label="count"), Value(1.1, label="tax")
    subtotal = price * count
    total = subtotal * tax
    total.backward()
    assert total.data == pytest.approx(33.0)
    assert price.grad == pytest.approx(2.2)
    assert count.grad == pytest.approx(16.5)
    assert tax.grad == pytest.approx(30.0)
    assert subtotal.grad == pytest.approx(1.1)
    assert isinstance(count.data, float) and isinstance(price.grad, float)


def test_wx_plus_b():
    w, x, b = Value(3.0), Value(-2.0), Value(0.5)
    z = w * x + b
    z.backward()
    assert (b.grad, w.grad, x.grad) == (1.0, -2.0, 3.0)


def test_micrograd_readme_example():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_same_operand_twice_has_two_parents_and_grad_two():
    a = Value(3.0)
    y = a + a
    assert y.parents == (a, a)
    y.backward()
    assert a.grad == 2.0
    z = Value(3.0)
    (z * z).backward()
    assert z.grad == 6.0


def test_second_backward_accumulates_leaves_only():
    x = Value(2.0)
    h = x * 3.0
    y = h * h
    y.backward()
    assert (x.grad, h.grad) == (36.0, 12.0)
    y.backward()
    assert x.grad == 72.0  # leaf accumulates
    assert h.grad == 12.0  # intermediate holds the latest pass, not 24
    x.grad = 0.0
    y.backward()
    assert x.grad == 36.0


def test_relu_kink_follows_pytorch():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    x2 = Value(0.0)
    abs(x2).backward()
    assert x2.grad == 0.0


def test_reflected_ops_and_value_exponent():
    x = Value(2.0)
    assert (2 - x).data == 0.0 and (1 / x).data == 0.5 and (2 ** x).data == 4.0
    assert (3 + x).data == 5.0 and (3 * x).data == 6.0
    y = Value(3.0)
    p = x ** y
    p.backward()
    assert p.data == 8.0
    assert x.grad == pytest.approx(12.0)           # y * x^(y-1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0))  # x^y ln x
    z = Value(3.0)
    (2 ** z).backward()
    assert z.grad == pytest.approx(8.0 * math.log(2.0))


def test_op_names_labels_and_leaf_defaults():
    x = Value(1.0, label="x")
    assert (x.op, x.grad, x.parents, Value(1.0).label) == ("", 0.0, (), "")
    assert (x + 1).op == "+" and (x * 2).op == "*" and (x ** 2).op == "**"
    assert x.tanh().op == "tanh" and (-x).op == "neg" and (x / 2).op == "/"
    assert "label='x'" in repr(x)


def test_backward_steps_matches_backward():
    def build():
        a, b = Value(0.3, label="a"), Value(-1.2, label="b")
        c = (a * b).tanh() + a.exp() * b
        return a, b, c
    a1, b1, c1 = build()
    c1.backward()
    a2, b2, c2 = build()
    steps = list(c2.backward_steps())
    assert (a2.grad, b2.grad) == (a1.grad, b1.grad)
    assert steps[0].node is c2 and steps[0].grad == 1.0
    for s in steps:
        for parent, local, contribution in s.contributions:
            assert contribution == s.grad * local
            assert parent in s.node.parents
    # every non-leaf node pushes exactly once, after all its consumers
    pushed = [s.node for s in steps]
    assert len(pushed) == len(set(map(id, pushed))) == 5


def test_million_node_chain_backpropagates():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0 and y.data == 1_000_001.0


def test_no_reference_cycles_graph_freed_by_refcount():
    gc.disable()
    try:
        x = Value(2.0)
        y = (x * x).tanh() + x.exp()
        y.backward()
        probe = weakref.ref(y.parents[0])
        del y
        assert probe() is None  # freed without the cycle collector
    finally:
        gc.enable()


# --- the math-error policy: IEEE like numpy, Value and numpy agree ---------
@pytest.mark.parametrize("build, expected", [
    (lambda: Value(1000.0).exp(), np.inf),
    (lambda: Value(0.0).log(), -np.inf),
    (lambda: Value(-1.0).log(), np.nan),
    (lambda: 1 / Value(0.0), np.inf),
    (lambda: -1 / Value(0.0), -np.inf),
    (lambda: Value(0.0) / 0.0, np.nan),
    (lambda: Value(-1.0).sqrt(), np.nan),
    (lambda: Value(-8.0) ** (1 / 3), np.nan),
    (lambda: Value(10.0) ** 400, np.inf),
    (lambda: Value(0.0) ** -1, np.inf),
])
def test_math_errors_give_ieee_values(build, expected):
    with np.errstate(all="ignore"):
        v = build()
    assert isinstance(v.data, float)
    if np.isnan(expected):
        assert math.isnan(v.data)
    else:
        assert v.data == expected


@pytest.mark.parametrize("x", [-1000.0, -60.0, 60.0, 1000.0])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "gelu", "silu", "elu"])
def test_smooth_functions_stable_at_extremes(name, x):
    v = Value(x)
    y = getattr(v, name)()
    y.backward()
    assert math.isfinite(y.data) and math.isfinite(v.grad)
    sig = lambda t: 1 / (1 + math.exp(-t)) if t > -700 else 0.0
    if x > 0:  # all of these approach the identity or 1 for large positive x
        limit, dlimit = {"sigmoid": (1.0, 0.0), "tanh": (1.0, 0.0)}.get(name, (x, 1.0))
        assert y.data == pytest.approx(limit, rel=1e-12)
        assert v.grad == pytest.approx(dlimit, abs=1e-20)
    else:
        expected = {"sigmoid": sig(x), "tanh": -1.0, "softplus": math.log1p(math.exp(x)) if x > -700 else 0.0,
                    "gelu": 0.0, "silu": x * sig(x), "elu": -1.0 + math.exp(x)}[name]
        assert y.data == pytest.approx(expected, rel=1e-9, abs=1e-300)
    if name == "sigmoid" and x == -60.0:
        # accurate in the tail, not just finite: sigma'(-60) = e^-60 / (1 + e^-60)^2
        assert v.grad == pytest.approx(math.exp(-60.0), rel=1e-9)


# --- modes -------------------------------------------------------------------
def test_no_grad_records_nothing_and_is_thread_local():
    x = Value(2.0)
    seen = {}

    def other_thread():
        seen["op"] = (x * 3).op

    with no_grad():
        y = x * 3
        t = threading.Thread(target=other_thread)
        t.start(); t.join()
    assert y.op == "" and y.parents == ()
    assert seen["op"] == "*"  # the other thread was still recording
    assert (x * 3).op == "*"


def test_detach_and_grad_leave_dot_grad_alone():
    x = Value(1.5, label="x")
    d = x.detach()
    assert (d.data, d.parents, d.label) == (1.5, (), "x")
    y = x.sin() * x
    (gx,) = grad(y, [x])
    assert x.grad == 0.0
    assert gx.data == pytest.approx(math.cos(1.5) * 1.5 + math.sin(1.5))


def test_grad_create_graph_second_and_third_derivative():
    x = Value(0.4)
    y = x ** 4
    d1 = grad(y, x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    d3 = grad(d2, x)
    assert (d1.data, d2.data, d3.data) == pytest.approx((4 * 0.4 ** 3, 12 * 0.4 ** 2, 24 * 0.4))


def test_grad_of_unused_input_is_zero():
    x, z = Value(1.0), Value(5.0)
    gx, gz = grad(x * 2, [x, z])
    assert (gx.data, gz.data) == (2.0, 0.0)


def test_detect_anomaly_names_op_and_user_line():
    x = Value(0.0)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as err:
            x.log()  # THE LINE
    msg = str(err.value)
    assert "'log'" in msg and "test_value_semantics.py:" in msg
    line = int(msg.split("test_value_semantics.py:")[1].split(")")[0])
    src = open(__file__).read().splitlines()[line - 1]
    assert "THE LINE" in src


def test_detect_anomaly_in_backward():
    x = Value(0.0)
    y = x.sqrt()  # forward is fine (0), the derivative 1/(2 sqrt 0) is inf
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="sqrt"):
            y.backward()


# --- gradcheck's own behaviour ------------------------------------------------
def test_gradcheck_reports_a_wrong_gradient():
    broken = define_op("broken_sin", forward=lambda M, a: M.sin(a),
                       deriv=lambda M, o, a: (2.0 + 0.0 * a,))  # wrong on purpose

    def f(x):
        return broken(x)
    with pytest.raises(GradcheckError) as err:
        gradcheck(f, Value(0.3, label="angle"))
    e = err.value
    assert e.label == "angle" and e.analytic == 2.0
    assert e.numeric == pytest.approx(math.cos(0.3), rel=1e-6)
    assert "angle" in str(e) and "2" in str(e)


def test_gradcheck_says_not_differentiable_at_a_kink():
    with pytest.raises(GradcheckError, match="not differentiable.*relu"):
        gradcheck(lambda x: x.relu(), Value(0.0))


# --- bad input -----------------------------------------------------------------
@pytest.mark.parametrize("bad, tname", [("abc", "str"), (None, "NoneType"), ([1, 2], "list")])
def test_value_rejects_non_numbers(bad, tname):
    with pytest.raises(TypeError, match=f"Value.*{tname}"):
        Value(bad)


@pytest.mark.parametrize("expr, sym", [(lambda x: x + "a", r"\+"), (lambda x: x * None, r"\*"),
                                       (lambda x: "a" - x, "-"), (lambda x: x ** [1], r"\*\*")])
def test_unsupported_operands_name_the_op(expr, sym):
    with pytest.raises(TypeError, match=sym):
        expr(Value(1.0))


def test_step_totals_are_running_sums_after_each_contribution():
    x = Value(3.0, label="x")
    y = x * x
    (step,) = list(y.backward_steps())
    assert [c for _, _, c in step.contributions] == [3.0, 3.0]
    assert step.totals == (3.0, 6.0)  # a parent used twice shows both partial sums
    assert x.grad == 6.0


def test_a_constant_value_does_not_require_grad():
    target = Value(3.0, requires_grad=False)
    w = Value(0.5)
    assert not target.requires_grad and w.requires_grad
    assert (w * target).requires_grad and target.is_leaf
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Value(1.0, requires_grad="no")


def test_leaves_know_their_creation_order():
    """``creation_index`` grows with creation, for Values and Tensors alike
    (constants included); results have none."""
    from gradviz.autograd import Tensor
    a, b = Value(1.0), Value(2.0, requires_grad=False)
    t = Tensor(np.ones(2))
    c = Value(3.0)
    idx = [a.creation_index, b.creation_index, t.creation_index, c.creation_index]
    assert all(isinstance(i, int) for i in idx) and idx == sorted(set(idx))
    assert (a * b).creation_index is None and (t * 2).creation_index is None


def test_numbers_the_engine_wraps_are_constants(user_ops):
    """A number wsum or a user's op wraps, and detach(), give constant leaves
    (no creation number, requires_grad False), as Tensor.detach() does;
    the user's own leaves stay inputs."""
    from gradviz.autograd import wsum
    x = Value(2.0)
    y = wsum([x], [3.0], bias=1.0)
    bias, w, three = y.parents
    assert w is x and w.requires_grad and w.creation_index is not None
    for c in (bias, three, x.detach()):
        assert not c.requires_grad and c.creation_index is None and c.is_leaf
    op = user_ops("wrap_pair", forward=lambda M, a, b: a * b, deriv=lambda M, o, a, b: (b, a))
    z = op(x, 4.0)
    assert not z.parents[1].requires_grad and z.parents[0] is x


def test_backward_on_a_value_without_graph_says_so_as_tensor_does():
    from gradviz.autograd import no_grad
    x = Value(2.0)
    with no_grad():
        y = x * 3.0
    assert y.requires_grad is False and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad and has no graph"):
        y.backward()
    assert x.grad == 0.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value(1.0, requires_grad=False).backward()
    leaf = Value(1.0)
    leaf.backward()  # a leaf that wants a gradient: d leaf/d leaf = 1
    assert leaf.grad == 1.0


# --- found by a student training with Values --------------------------------------
def test_an_sgd_step_on_value_parameters_updates_them_in_place_under_no_grad():
    from gradviz import nn
    from gradviz.autograd import no_grad
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    xs, ys = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    params = model.parameters()
    losses = []
    for _ in range(30):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        model.zero_grad()
        loss.backward()
        losses.append(loss.data)
        with no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
    assert losses[-1] < 0.9 * losses[0]                    # the model learnt
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.is_leaf and p.requires_grad for p in params)  # still parameters


def test_in_place_operators_on_values():
    from gradviz.autograd import no_grad
    w = Value(2.0, label="w")
    with no_grad():
        w += 1
        w *= Value(4.0)
        w /= 2
        w -= 0.5
    assert w.data == 5.5 and w.label == "w" and w.is_leaf
    acc = Value(0.0)  # with gradients on, += builds the graph (micrograd's way of summing)
    x = Value(3.0)
    acc += x * x
    acc.backward()
    assert acc.op == "+" and x.grad == 6.0
    h = x * 2  # a result keeps its data (its graph reads it): a new node even under no_grad
    with no_grad():
        h2 = h
        h2 += 1
    assert h.data == 6.0 and h2.data == 7.0 and h2 is not h


def test_mixing_values_and_tensors_or_arrays_is_a_clear_error():
    import numpy as np

    from gradviz import Tensor
    with pytest.raises(TypeError, match=r"a Tensor of shape \(2,\) and a Value in one op"):
        Value(2.0) * Tensor(np.ones(2))
    with pytest.raises(TypeError, match=r"a Tensor of shape \(2,\) and a Value in one op"):
        Tensor(np.ones(2)) + Value(2.0)
    with pytest.raises(TypeError):  # not an object array of Values
        np.ones(2) * Value(2.0)
    assert (np.float64(2.0) * Value(3.0)).data == 6.0  # numpy scalars are numbers
    assert Value(2.5).item() == 2.5


def test_grads_seed_message_names_the_parameter_grad_takes():
    import numpy as np

    from gradviz import Tensor
    from gradviz.autograd import grad
    t = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="pass grad_outputs= an array of that shape"):
        grad(t * 2, t)
    with pytest.raises(ValueError, match="pass grad= an array of that shape"):
        (t * 2).backward()


def test_an_array_beside_a_value_is_named_and_a_0d_array_is_a_number():
    import numpy as np
    with pytest.raises(TypeError, match=r"Value \*: the other operand is an array of shape "
                                        r"\(2,\); a Value holds one number"):
        np.ones(2) * Value(2.0)
    with pytest.raises(TypeError, match=r"Value \+: the other operand is a list of 2 items"):
        Value(2.0) + [1, 2]
    assert (Value(2.0) * np.array(3.0)).data == 6.0
    assert (np.array(3.0) - Value(2.0)).data == 1.0


def test_a_result_has_an_empty_label_until_one_is_given():
    x = Value(2.0, label="x")
    y = x * x
    assert (x.label, y.label, x.detach().label) == ("x", "", "x")
    y.label = "y"
    assert y.label == "y" and "label='y'" in repr(y)
