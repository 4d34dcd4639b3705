"""gradcheck that finds the bug: localised reports, numerics, kinks,
gradgradcheck, bad input."""
import ast
import math
import os

import numpy as np
import pytest

from gradviz.autograd import Tensor, Value, detect_anomaly
from gradviz.autograd.check import (
    CheckReport,
    GradcheckError,
    check_nodes,
    gradcheck,
    gradgradcheck,
)
from gradviz.autograd.ops import NM


def _cube(user_ops, wrong=False):
    return user_ops("cube_t", forward=lambda M, a: a * a * a,
                    deriv=(lambda M, o, a: (2.0 * a * a,)) if wrong else
                    (lambda M, o, a: (3.0 * a * a,)),
                    rule=("d/da = 3a²",), domain=((-3.0, 3.0),))


def test_the_error_names_the_wrong_op_its_label_site_input_and_numbers(user_ops):
    cube = _cube(user_ops, wrong=True)

    def f(x):
        y = (x * 2.0).tanh()
        c = cube(y)
        c.label = "cubed"
        return c.exp() + x
    x = Value(0.4, label="x")
    line = f.__code__.co_firstlineno + 2  # the line `c = cube(y)`
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, x)
    err = info.value
    rep = err.report
    assert isinstance(rep, CheckReport) and rep.kind == "mismatch"
    assert rep.op == "cube_t" and rep.node.label == "cubed" and rep.input_index == 0
    y = math.tanh(0.8)
    (_index, a, n, rel), = rep.rows
    assert a == pytest.approx(2 * y * y) and n == pytest.approx(3 * y * y, rel=1e-8)
    assert rel == pytest.approx(1 / 3, rel=1e-6)
    msg = str(err)
    assert "'cube_t'" in msg and "'cubed'" in msg and "relative error 0.333" in msg
    assert f"{os.path.basename(__file__)}:{line}" in msg
    # the whole-function comparison is still there, as before
    assert err.label == "x" and err.index == () and err.analytic != pytest.approx(err.numeric)


def test_tensor_reports_give_the_five_worst_elements_worst_first(user_ops):
    cube = _cube(user_ops, wrong=True)
    x = Tensor(np.linspace(-1.5, 1.5, 8), requires_grad=True, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: cube(t * 1.0).sum(), x)
    rows = info.value.report.rows
    assert len(rows) == 5
    rels = [r[3] for r in rows]
    assert rels == sorted(rels, reverse=True)
    # rows compare <g, J> for a fixed random upstream g: the wrong rule is 2/3 of the right one
    assert all(r[1] == pytest.approx(2 / 3 * r[2], rel=1e-6) for r in rows)


def test_the_first_failing_node_in_topological_order_is_named(user_ops):
    cube = _cube(user_ops, wrong=True)

    def f(x):
        a = cube(x)
        a.label = "first"
        b = cube(a * 0.5)
        b.label = "second"
        return b
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, Value(0.7))
    rep = info.value.report
    assert rep.node.label == "first"
    assert [c.label for c in rep.checks if c.failed] == ["first", "second"]


def test_every_op_right_but_the_whole_wrong_blames_the_combination():
    def f(x):  # x.data leaves the graph: d/dx of x * x is 2x, the graph says x
        return x * float(x.data)
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, Value(1.5))
    rep = info.value.report
    assert rep.kind == "combination" and rep.failing is None
    assert all(c.verdict in ("ok", "no gradient") for c in rep.checks)
    assert "how the ops are combined" in str(info.value)


@pytest.mark.parametrize("x0", [0.0, 1e-12, -1e-9, 1e-4, -3e-4])
def test_points_on_or_within_a_step_of_a_kink_are_not_differentiable_not_a_mismatch(x0):
    for f in (lambda x: (x * 1.0).relu() * 3.0, lambda x: abs(x * 1.0),
              lambda x: (x * 1.0).leaky_relu(0.2), lambda x: (x * 1.0).elu()):
        x = Value(x0)
        try:
            gradcheck(f, x)
        except GradcheckError as e:
            assert e.report.kind == "not differentiable", str(e)
            assert "not differentiable" in str(e) and e.kink


@pytest.mark.parametrize("reduce", ["max", "min"])
@pytest.mark.parametrize("gap", [0.0, 1e-8, 1e-5])
def test_near_ties_of_a_max_or_min_are_not_differentiable_not_a_mismatch(reduce, gap):
    """Found by check_op on random float32 data: max over [0, 1e-8] was a
    "wrong local derivative" (the reductions had no kink predicate, so the
    one-sided slopes were never looked at)."""
    data = np.array([[0.0], [gap]], dtype=np.float32) * (1 if reduce == "max" else -1)
    x = Tensor(data, requires_grad=True)
    try:
        gradcheck(lambda t: getattr(t, reduce)(), x)
    except GradcheckError as e:
        assert e.report.kind == "not differentiable", str(e)


def test_a_max_or_min_away_from_ties_is_still_checked():
    from gradviz.autograd import define_op
    from gradviz.autograd.ops import OPS
    from gradviz.autograd.testing import unregister_op
    x = np.array([[0.0, 3.0], [2.0, 3.0]])
    (tied,) = OPS["max"].kink(x, None, False)  # the two 3s
    assert tied.tolist() == [[False, True], [False, True]]
    (alone,) = OPS["min"].kink(x, 1, False)    # each row's minimum is unique
    assert not alone.any()
    # a max with the same tie predicate and a doubled rule: away from ties, a mismatch
    wrong = define_op("doubled_max", forward=lambda M, a: a.max(),
                      vjp=lambda M, g, out, a: (2.0 * g * (a == out),),
                      kink=lambda a: (a == a.max()) & ((a == a.max()).sum() > 1))
    try:
        with pytest.raises(GradcheckError) as info:
            gradcheck(wrong, Tensor(np.array([[0.0, 3.0], [2.0, 1.0]]), requires_grad=True))
        assert info.value.report.kind == "mismatch"
    finally:
        unregister_op(wrong)


def test_a_kink_reached_only_by_the_whole_functions_step_is_not_a_mismatch():
    # relu's input moves 40x faster than x: the whole check's step crosses the kink,
    # relu's own (smaller) step does not
    x = Value(2e-7)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: (v * 40.0).relu(), x)
    assert info.value.report.kind == "not differentiable"
    # 100 times farther, both steps cross the kink too, and agree on the wrong
    # slope; still differentiable there: a smaller step settles it
    assert gradcheck(lambda v: (v * 40.0).relu(), Value(2e-5))


@pytest.mark.parametrize("f, x", [
    (lambda x: x.exp(), 20.0),              # value 5e8
    (lambda x: x * x * x, 1e3),             # value 1e9
    (lambda x: x.log(), 1e-3),              # steep, near the domain's edge
    (lambda x: x.sqrt(), 1e-4),
    (lambda x: (x * 50.0).sin(), 0.3),      # fast oscillation
    (lambda x: x ** -2.0, 0.05),
])
def test_correct_gradients_do_not_fail_for_step_size_reasons(f, x):
    assert gradcheck(f, Value(x))


@pytest.mark.parametrize("x", [0.0011, 0.002, -0.0015])
def test_a_wrong_sign_next_to_a_singularity_is_caught(user_ops, x):
    # the step (0.001) almost reaches 1/x's pole at 0: the rough estimate there
    # must not widen the tolerance enough to pass any answer
    wrong = user_ops("recip_wrong_sign", forward=lambda M, a: M.div(1.0, a),
                     deriv=lambda M, o, a: (M.div(1.0, a * a),))
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, Value(x))
    assert info.value.report.op == "recip_wrong_sign"
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: wrong(t).sum(), Tensor(np.array([x], np.float32), requires_grad=True))
    right = user_ops("recip_right", forward=lambda M, a: M.div(1.0, a),
                     deriv=lambda M, o, a: (-M.div(1.0, a * a),))
    assert gradcheck(right, Value(x))


def test_a_step_landing_on_a_pole_of_plain_float_code_is_retried_smaller(user_ops):
    # 1.0 / a raises ZeroDivisionError for a = 0.0 exactly (x - step, here)
    recip = user_ops("recip_plain", forward=lambda M, a: 1.0 / a,
                     deriv=lambda M, o, a: (-1.0 / (a * a),))
    assert gradcheck(recip, Value(0.001))
    wrong = user_ops("recip_plain_wrong", forward=lambda M, a: 1.0 / a,
                     deriv=lambda M, o, a: (1.0 / (a * a),))
    with pytest.raises(GradcheckError):
        gradcheck(wrong, Value(0.001))


@pytest.mark.parametrize("fn, x, op", [
    (lambda v: v.sqrt(), 0.0, "sqrt"),        # a vertical tangent: nan to the left
    (lambda v: v.log(), -1.0, "log"),         # outside the domain: the value is nan
    (lambda v: 1.0 / v, 0.0, "/"),            # a pole
    (lambda v: v * float("nan"), 1.0, "*"),   # nan in, nan out
    (lambda v: v * v, 1e300, "*"),            # overflow
])
@pytest.mark.parametrize("tensor", [False, True])
def test_an_op_that_is_not_finite_here_is_not_called_wrong(fn, x, op, tensor):
    # the built-in op is right: the point is off its domain, not its derivative
    if tensor:
        node, f = Tensor(np.array([x, 1.5]), requires_grad=True), (lambda t: fn(t).sum())
    else:
        node, f = Value(x), fn
    with np.errstate(all="ignore"), pytest.raises(GradcheckError) as info:
        gradcheck(f, node)
    report = info.value.report
    assert report.kind == "not differentiable", str(info.value)
    assert "wrong local derivative" not in str(info.value)
    assert "not finite at or next to this point" in str(info.value)
    assert any(c.op == op for c in report.kinks)


def test_a_derivative_that_is_infinite_where_the_op_is_smooth_is_still_a_mismatch(user_ops):
    # 1/0, inf, at 0.7, where 2a is right (a deriv infinite everywhere is refused when defined)
    bad = user_ops("inf_deriv", forward=lambda M, a: a * a,
                   deriv=lambda M, o, a: (M.div(1.0, a - 0.7),))
    with np.errstate(all="ignore"), pytest.raises(GradcheckError) as info:
        gradcheck(bad, Value(0.7))
    assert info.value.report.kind == "mismatch"
    assert info.value.report.op == "inf_deriv"


def test_float32_tensors_are_checked_with_float64_numerics():
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    assert gradcheck(lambda a, b: ((a @ b).tanh() * a.sum(axis=1, keepdims=True).log()).sum(),
                     x, w)
    with detect_anomaly():
        out = ((x @ w).sigmoid() * 3.0).sum()
    rep = check_nodes(out)
    assert rep.ok and rep.dtype == np.float32
    assert all(c.rel_error < 1e-2 for c in rep.checks)


def test_check_nodes_reports_every_edge_of_a_correct_graph():
    x = Value(0.5, label="x")
    out = (x * x).tanh() + x.exp() / x
    rep = check_nodes(out)
    assert rep.kind == "ok"
    assert [(c.op, c.input_index) for c in rep.checks] == [
        ("*", 0), ("*", 1), ("tanh", 0), ("exp", 0), ("/", 0), ("/", 1), ("+", 0), ("+", 1)]
    assert all(c.rel_error < 1e-5 for c in rep.checks)


def test_a_wrong_broadcast_reduction_in_a_vjp_is_localised(monkeypatch):
    # sum's vjp giving the wrong shape back: the node is blamed with a note
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = (x * 2.0).sum(axis=0)
    node = out
    orig = type(node).vjp
    monkeypatch.setattr(type(node), "vjp", lambda self, g: (
        (np.ones(3),) if self is node else orig(self, g)))
    rep = check_nodes(node)
    assert rep.kind == "mismatch" and rep.op == "sum" and "shape" in rep.failing.note


# --- gradgradcheck -------------------------------------------------------------
def test_gradgradcheck_passes_for_correct_second_derivatives():
    assert gradgradcheck(lambda x: (x * x).tanh() * x.sin(), Value(0.4))
    t = Tensor(np.linspace(-1, 1, 5), requires_grad=True)
    assert gradgradcheck(lambda a: (a * a.sigmoid()).sum(), t)
    a = Tensor(np.linspace(0.5, 1.5, 4), requires_grad=True)
    b = Tensor(np.linspace(-1, 1, 4), requires_grad=True)
    assert gradgradcheck(lambda u, v: (u.log() * v.tanh()).sum(), a, b)


def test_gradgradcheck_catches_a_first_derivative_that_is_not_differentiable(user_ops):
    # right value, but on nodes it is a constant: the second derivative comes out 0
    def deriv(M, o, a):
        if M is NM:
            return (a._constant(3.0 * a.data * a.data),)
        return (3.0 * a * a,)
    cube = user_ops("cube_flat2", forward=lambda M, a: a * a * a, deriv=deriv,
                    domain=((-3.0, 3.0),))
    assert gradcheck(lambda x: cube(x), Value(0.7))
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: cube(x), Value(0.7))
    assert info.value.report is not None


# --- bad input -------------------------------------------------------------------
def test_fn_returning_a_non_node_is_a_type_error_naming_fn():
    def my_fn(x):
        return float(x.data)
    with pytest.raises(TypeError, match=r"gradcheck: fn \(my_fn\) returned a float"):
        gradcheck(my_fn, Value(1.0))


def test_mixed_dtypes_are_a_type_error_naming_the_inputs():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True, label="a")
    b = Tensor(np.ones(2), requires_grad=True, label="b")
    with pytest.raises(TypeError, match=r"mix dtypes.*input 0 \(a\) float32.*input 1 \(b\) float64"):
        gradcheck(lambda u, v: (u * v).sum(), a, b)


def test_an_input_that_does_not_require_grad_is_named():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), label="bias")
    with pytest.raises(ValueError, match=r"input 1 \(bias.*does not require grad"):
        gradcheck(lambda u, v: (u * v).sum(), a, b)
    with pytest.raises(TypeError, match="input 0 is a float"):
        gradcheck(lambda u: u, 1.0)
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0))


def test_inputs_as_one_tuple_or_list_as_pytorch_spells_them(user_ops):
    a = Tensor(np.array([0.3, -0.7]), requires_grad=True, label="a")
    b = Tensor(np.array([1.5, 0.2]), requires_grad=True, label="b")
    assert gradcheck(lambda u, v: (u * v.tanh()).sum(), (a, b))
    assert gradgradcheck(lambda u, v: (u * v.tanh()).sum(), [a, b])
    cube = _cube(user_ops, wrong=True)
    with pytest.raises(GradcheckError, match="cube_t"):
        gradcheck(lambda u: cube(u).sum(), (a,))
    with pytest.raises(TypeError, match="input 1 is a float"):
        gradcheck(lambda u, v: u * v, (a, 2.0))


def test_drawing_without_a_registered_drawer_says_what_to_import(monkeypatch):
    from gradviz.autograd import check
    monkeypatch.setattr(check, "_DRAWER", {})
    rep = check_nodes(Value(0.5).tanh())
    with pytest.raises(RuntimeError, match="import gradviz"):
        rep.draw()


def test_autograd_check_and_testing_do_not_import_viz():
    import gradviz.autograd.check as c
    import gradviz.autograd.testing as t
    for mod in (c, t):
        tree = ast.parse(open(mod.__file__, encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert "viz" not in (node.module or "") and not (
                    node.level >= 2 and node.module and node.module.startswith("viz")), mod
            elif isinstance(node, ast.Import):
                assert all("viz" not in a.name for a in node.names), mod


def test_a_rule_that_ignores_its_upstream_gradient_is_caught_even_for_a_scalar_output():
    from gradviz.autograd import Function

    class SinIgnoresG(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):  # should be g * cos(x)
            (x,) = ctx.saved_tensors
            return np.cos(x)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: SinIgnoresG.apply(x), Value(0.3))
    assert info.value.report.op == "SinIgnoresG"
    # the numbers are per unit upstream gradient: the derivative itself
    assert info.value.numeric == pytest.approx(math.cos(0.3), rel=1e-8)


def test_max_pool_near_ties_are_not_differentiable_and_its_ties_are_its_kinks():
    import gradviz.autograd.functional as F
    from gradviz.autograd.conv import max_pool2d_ties
    x = np.zeros((1, 1, 2, 2), np.float32)
    x[0, 0, 1, 1] = 1e-8  # one window, two maxima 1e-8 apart in float32
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: F.max_pool2d(t, 2).sum(), Tensor(x, requires_grad=True))
    assert info.value.report.kind == "not differentiable"
    x = np.array([[[[1.0, 3.0, 3.0], [0.0, 2.0, 1.0], [5.0, 5.0, 0.0]]]])
    (ties,) = max_pool2d_ties(x, (2, 2), (1, 1))  # overlapping windows
    assert ties[0, 0].astype(int).tolist() == [[0, 1, 1], [0, 0, 0], [1, 1, 0]]
    (ties,) = max_pool2d_ties(x[:, :, :2, :2], (2, 2), (2, 2), (1, 1, 1, 1))  # padding: -inf
    assert not ties.any()
    assert gradcheck(lambda t: F.max_pool2d(t, 2, stride=1).sum(),
                     Tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True))


def test_a_backward_that_raises_is_said_as_such_not_as_an_infinite_error():
    from gradviz.autograd import Function

    class BadCount(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g  # one gradient for two inputs

    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: BadCount.apply(a, b), Value(1.0), Value(2.0))
    msg = str(info.value)
    assert msg.startswith("gradcheck: the backward rule of op 'BadCount'")
    assert "raised ValueError: BadCount.backward returned 1 gradient for 2 arguments" in msg
    assert "relative error" not in msg and msg.count("returned 1 gradient") == 1


def test_a_one_element_tensor_node_reports_its_local_derivative_itself():
    # a 0-d float32 tensor: the table showed g·sqrt'(3) for a random g (0.036), not 0.2887
    x = Tensor(np.array(3.0, np.float32), requires_grad=True, label="x")
    report = check_nodes(x.sqrt())
    (edge,) = report.checks
    assert not edge.weighted
    assert edge.analytic == pytest.approx(0.5 / math.sqrt(3.0), rel=1e-5)
    assert edge.numeric == pytest.approx(0.5 / math.sqrt(3.0), rel=1e-5)


def test_a_tensor_report_shows_only_the_elements_that_disagree_and_says_what_they_are(user_ops):
    # wrong for negative inputs only: two of eight elements disagree
    bad = user_ops("neg_wrong", forward=lambda M, a: M.sin(a),
                   deriv=lambda M, o, a: (M.choose(M.val(a) < -1.0, -M.cos(a), M.cos(a)),))
    x = Tensor(np.linspace(-1.5, 1.5, 8), requires_grad=True, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: bad(t * 1.0).sum(), x)
    rows = info.value.report.rows
    assert sorted(r[0] for r in rows) == [(0,), (1,)]
    assert info.value.report.failing.weighted
    assert "for a fixed random upstream gradient g" in str(info.value)


def test_a_vjp_that_leaves_out_g_is_said_as_such_with_what_the_rule_gave(user_ops):
    # the commonest vjp bug: the numbers divided by the seed would contradict what
    # the user sees (x.grad is 1.2214, the rule's out; the report said 0.888)
    bad = user_ops("mexp_no_g", forward=lambda M, a: M.exp(a), vjp=lambda M, g, out, a: (out,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: bad(x) * 3.0, Value(0.2, label="x"))
    msg = str(info.value)
    assert msg.startswith("gradcheck: the backward rule of op 'mexp_no_g'")
    assert "is not linear in its upstream gradient g: for input 0 it gave 1.2214028 with " \
           "g = 1.375 and 1.2214028 with twice that g" in msg
    assert info.value.report.failing.not_linear
    t = Tensor(np.array([0.2, 0.3]), requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError, match="is not linear in its upstream gradient g"):
        gradcheck(lambda a: (bad(a) * 3.0).sum(), t)


def test_gradgradcheck_at_a_user_ops_kink_says_not_twice_differentiable(user_ops):
    # the derivative's graph does not carry the op's kink=: at |x| = lam the first
    # derivative jumps, and the check called a correct op a combination bug
    shrink = user_ops("shrink_kink_t", forward=lambda M, a, lam: a - M.clip(a, -lam, lam),
                      deriv=lambda M, out, a, lam: (M.step(M.abs(a) - lam),),
                      domain=(((-3.0, -0.55), (-0.45, 0.45), (0.55, 3.0)),),
                      kink=lambda a, lam=0.5: (abs(a) == lam,), params={"lam": 0.5})
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: shrink(x, lam=1.0), Value(-1.0))
    assert info.value.report.kind == "not differentiable"
    assert str(info.value).startswith("gradgradcheck: not twice differentiable at this point")
    assert gradgradcheck(lambda x: shrink(x, lam=1.0) * x, Value(-2.0))  # away from it: fine


@pytest.mark.parametrize("f, x", [
    (lambda v: 1 / v, 1e-4),       # the step 1e-3 straddles the pole; 1e-4 lands on it
    (lambda v: v ** -1.0, 1e-5),
    (lambda v: v.log(), 1e-8),     # every step down to 1e-8 leaves the domain
    (lambda v: v.sqrt(), 1e-8),
    (lambda v: (v * 1e-3).log(), 1e-6),
])
def test_correct_ops_next_to_a_pole_or_domain_edge_pass(f, x):
    # found by a researcher: '/' was blamed at 1e-4 (numeric +5e6 for -1e8), log at 1e-8
    assert gradcheck(f, Value(x))


# --- elements of very different sizes (found by a user-persona run) ----------
def test_a_small_element_beside_a_large_one_is_checked_not_blamed():
    # t[1] moves (t*t).sum() = 1e12 + 1 by less than its rounding at a step of 1e-3:
    # the '*' op was blamed (analytic 2 vs numeric 2.28); longer steps see it
    t = Tensor(np.array([1e6, 1.0]), requires_grad=True)
    assert gradcheck(lambda t: (t * t).sum(), t)
    u = Tensor(np.array([30.0, 0.0, -2.0]), requires_grad=True)
    assert gradcheck(lambda u: u.exp() * 3.0, u)  # (an array output: differenced per element)


def test_what_no_finite_difference_can_see_is_said_not_blamed_on_an_op():
    t = Tensor(np.array([80.0, 10.0]), requires_grad=True)  # exp(10) summed with exp(80)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: t.exp().sum(), t)
    text = str(info.value)
    assert "cannot be checked at this point" in text and "wrong local derivative" not in text
    assert "too far apart in size" in text


def test_a_closure_over_the_inputs_gets_told_gradcheck_moves_copies():
    w = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    x = np.array([2.0, 3.0])
    with pytest.raises(GradcheckError, match="copies of its inputs"):
        gradcheck(lambda *params: (w * x).sum(), w)  # reads w, not its argument


def test_second_order_at_a_declared_kink_whose_slopes_agree_is_not_a_bug():
    # abs at 0: both one-sided slopes are 0 at first order, so nothing looked kinked,
    # and the jump of sign(a) was called a combination bug
    from gradviz.autograd import define_op, gradgradcheck
    my_abs = define_op("kinked_abs_2nd", forward=lambda M, a: M.abs(a),
                       deriv=lambda M, out, a: (M.sign(a),), kink=lambda a: (a == 0,))
    for fn in (lambda x: x.abs(), my_abs):
        with pytest.raises(GradcheckError, match=r"not twice differentiable .*at 0 \(input 0\)"):
            gradgradcheck(fn, Value(0.0))


def test_gradgradcheck_names_a_user_op_whose_deriv_leaves_the_graph():
    # first derivatives right, second ones half: M.val takes a factor out of the graph
    from gradviz.autograd import define_op, gradgradcheck
    half = define_op("half_second_cube", forward=lambda M, a: a * a * a,
                     deriv=lambda M, out, a: (3.0 * a * M.val(a),))
    assert gradcheck(half, Value(0.7))
    with pytest.raises(GradcheckError, match=r"the deriv of op 'half_second_cube' .*created at "
                                             r".*test_check.py:\d+.*analytic 2.1 vs numeric 4.2"):
        gradgradcheck(lambda x: half(x) * 1.0, Value(0.7, label="x"))
    whole = define_op("whole_second_cube", forward=lambda M, a: a * a * a,
                      deriv=lambda M, out, a: (3.0 * a * a,))
    assert gradgradcheck(lambda x: whole(x) * 1.0, Value(0.7))
