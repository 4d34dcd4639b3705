"""Float rules written as text (autograd.rulecode): one text compiled into
the kernel's function and inlined into backward()'s loop."""
import linecache
import sys
import traceback

import pytest

from gradviz import Value
from gradviz.autograd import define_op, graph, rulecode
from gradviz.autograd.ops import OPS, FloatMath


def test_a_rule_text_compiles_to_the_function_the_kernel_calls():
    rule = OPS["mul"].fast["float"]
    assert rule.exprs == ("g * b.data", "g * a.data")
    x, w = Value(3.0), Value(-2.0)
    assert rule(x * w, 0.5) == (-1.0, 1.5)


def test_the_fast_pass_is_built_from_the_registered_rules():
    src = graph._in_place_source(rulecode.RULES)
    for r in rulecode.RULES:
        for e in r.exprs:
            assert e in src
    assert graph._built_for == len(rulecode.RULES)  # built once, at import


def test_the_common_rules_are_tested_first_in_the_order_registered():
    src = graph._in_place_source(rulecode.RULES)
    common = [r for r in rulecode.RULES if r.common]
    assert [r.__name__ for r in common][:2] == ["_mul_float", "_add_float"]
    tests = [src.index(f"if t == {r.tag}:") for r in common]
    assert tests == sorted(tests) and tests[-1] < src.index("if t < ")
    assert "if t == " not in src[src.index("if t < "):]  # the others: a tree


@pytest.mark.parametrize("exprs, msg", [
    ((), "one or two expressions"),
    (("g", "g", "g"), "one or two expressions"),
    (("g *",), "invalid syntax|was never closed|unexpected"),
    (("g * b.data",), "'b' .* one-input rule"),
    (("g * a.grad",), "reads a gradient"),
])
def test_a_malformed_rule_is_refused_where_it_is_written(exprs, msg):
    before = len(rulecode.RULES)
    with pytest.raises((ValueError, SyntaxError), match=msg):
        rulecode.float_rule(*exprs, math=FloatMath, name="bad")
    assert len(rulecode.RULES) == before  # nothing half-registered


def test_a_rule_registered_later_rebuilds_the_pass():
    before = len(rulecode.RULES)
    try:
        rule = rulecode.float_rule("g * 3.0", math=FloatMath, name="triple_test_rule")
        assert rulecode.tag_of(rule) == before + 1
        x = Value(2.0)
        y = x * 4.0
        y._op = type(y._op)(OPS["mul_const"], y._op.engine, {"c": 4.0})
        y._op.vjp, y._op.tag = rule, rulecode.tag_of(rule)  # a kernel with the new rule
        y.backward()
        assert x.grad == 3.0 and graph._built_for == before + 1
    finally:
        del rulecode.RULES[before:]
    Value(1.0).__mul__(Value(2.0)).backward()  # rebuilt without it
    assert graph._built_for == before


def test_a_user_rule_that_raises_inside_the_inlined_pass_shows_its_lines():
    broken = {"on": False}

    def deriv(M, o, a):
        if broken["on"]:
            raise RuntimeError("deriv broke")
        return (M.cos(a),)
    op = define_op("raising_rule_op", forward=lambda M, a: M.sin(a), deriv=deriv,
                   rule="d/da = cos a")
    x = Value(0.3)
    y = op(x) * 2.0
    broken["on"] = True
    with pytest.raises(RuntimeError, match="deriv broke") as info:
        y.backward()
    text = "".join(traceback.format_exception(info.value))
    assert 'raise RuntimeError("deriv broke")' in text  # the user's line
    assert "k.op.deriv(M, n.data, a.data)" in text      # and the pass's own, not blank
    broken["on"] = False
    y.backward()  # the failed pass left nothing half-counted
    assert x.grad == pytest.approx(2.0 * 0.9553364891256060)


def test_a_forward_written_as_text_is_inlined_into_a_method():
    f = rulecode.float_forward("x * 2.0 + M.exp(0.0)", math=FloatMath, name="lin_test")
    assert f(3.0) == 7.0 and f.expr == "x * 2.0 + M.exp(0.0)"
    node = Value(3.0)
    method = rulecode.inline_forward(f, lambda d, k, ps: (d, k, ps), "K", "lin_test")
    assert method(node) == (7.0, "K", (node,))  # the text itself, not a call of f
    with pytest.raises(SyntaxError):
        rulecode.float_forward("x *", name="bad_forward")


@pytest.mark.parametrize("x", [-2.5, -0.0, 0.0, 1e-300, 3.0, float("inf"), float("nan")])
def test_relu_s_inlined_method_gives_its_forward_s_bits(x):
    y = Value(x).relu()
    ref = OPS["relu"].forward(FloatMath, x)
    assert repr(y.data) == repr(ref) and y._op.op is OPS["relu"]
    assert "_record(0.0 if x <= 0.0 else x" in "".join(
        linecache.getlines(Value.relu.__code__.co_filename))


def test_a_node_made_by_generated_code_is_sited_at_the_user_s_line():
    """relu's method is generated: a creation site (gradcheck's report,
    detect_anomaly) names the user's line, not the method's text."""
    from gradviz.autograd.mode import record_sites
    x = Value(0.5)
    with record_sites():
        y = x.relu(); line = sys._getframe().f_lineno
    assert y.creation_site == f"{__file__}:{line}"
