"""The core worked examples print what the teaching texts say."""
import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def load(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


def test_car_tax_prints_total_gradients_and_steps(capsys):
    grads = load("car_tax.py")["main"]()
    out = capsys.readouterr().out
    assert grads["price"] == pytest.approx(2.2) and grads["count"] == pytest.approx(16.5)
    assert grads["tax"] == pytest.approx(30) and grads["subtotal"] == pytest.approx(1.1)
    assert "= 33" in out
    assert "1.1 x 2 = 2.2 -> price" in out and "1.1 x 15 = 16.5 -> count" in out
    assert "1 x 30 = 30 -> tax" in out
    assert "2.2000000000000002" not in out


def test_wx_plus_b_partials(capsys):
    res = load("wx_plus_b.py")["main"](["2", "-3", "0.25"])
    assert res == {"z": -5.75, "dz/db": 1.0, "dz/dw": -3.0, "dz/dx": 2.0}
    assert "dz/dw = -3" in capsys.readouterr().out


def test_custom_op_example_defines_draws_checks_and_differentiates_twice(tmp_path, capsys):
    svg = tmp_path / "softsign.svg"
    assert load("custom_op.py")["main"](["--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    assert "gradcheck against central differences: ok" in out
    assert "second derivative at 0.5: -0.592593 (exact -0.592593)" in out
    text = svg.read_text(encoding="utf-8")
    assert "softsign" in text and "1/(1+|a|)²" in text  # the op and its rule on the edge
