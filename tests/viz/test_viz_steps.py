"""viz.draw_steps / viz.steps_html / step text: frames, arithmetic, grads, the page."""
import re
import shutil

import pytest

from gradviz import viz
from gradviz.autograd import Value
from gradviz.viz.demo import car_tax
from gradviz.viz.steps import record_steps

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def test_one_frame_per_step_with_the_active_node_highlighted():
    ct = car_tax()
    frames = viz.draw_steps(ct["total"])
    assert len(frames) == 2  # total, then subtotal
    red = viz.dot.COLOURS["active"][0]
    first = frames[0].source
    line_total = next(line for line in first.splitlines() if ">total<" in line)
    assert red in line_total
    # before subtotal's step its operands' grads are unknown
    assert "grad ?" in first and "grad 1.1" in first
    second = frames[1].source
    assert red in next(line for line in second.splitlines() if ">subtotal<" in line)
    assert "grad 2.2" in second and "grad 16.5" in second


def test_steps_leave_the_same_grads_as_backward():
    a, b = car_tax(), car_tax()
    viz.draw_steps(a["total"])
    b["total"].backward()
    for k in a:
        assert a[k].grad == b[k].grad


def test_step_text_is_the_chain_rule_arithmetic():
    _, steps = record_steps(car_tax()["total"])
    assert steps[0].lines[0] == "step 1: total (op ×) has grad 1"
    assert steps[0].lines[1].startswith(
        "total: grad 1 × local 1.1 = 1.1 → subtotal (running sum 1.1)")
    assert steps[1].lines[1].startswith(
        "subtotal: grad 1.1 × local 2 = 2.2 → price (running sum 2.2)")
    assert steps[1].lines[2].startswith(
        "subtotal: grad 1.1 × local 15 = 16.5 → count (running sum 16.5)")


def test_running_sum_for_a_node_used_twice():
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    _, steps = record_steps(y)
    assert "running sum 3" in steps[0].lines[1] and "running sum 6" in steps[0].lines[2]
    assert x.grad == 6.0


@needs_dot
def test_steps_html_is_self_contained_and_escaped(tmp_path):
    a = Value(2.0, label="<script>alert(1)</script>")
    b = Value(3.0, label="{a|b}")
    y = a * b + a
    y.label = 'out "q"'
    path = viz.steps_html(y, tmp_path / "page.html", title="<img src=x onerror=alert(1)>")
    page = open(path, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # one inline script (ours), no external resources
    assert page.count("<script") == 1 and "<script>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    frames = re.findall(r'<section class="frame"', page)
    _, steps = record_steps(y)
    assert len(frames) == len(steps) + 2  # start, each step, done
    assert page.count("<svg") == len(frames)


def test_steps_html_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.steps_html(car_tax()["total"], tmp_path / "no" / "p.html")


def test_draw_steps_rejects_non_nodes():
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.draw_steps("x")


def test_tensor_steps():
    import numpy as np
    from gradviz.autograd.tensor import Tensor
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True, label="x")
    y = (x * x).sum()
    y.label = "y"
    frames = viz.draw_steps(y)
    assert len(frames) == 2
    assert np.allclose(x.grad, [2.0, -4.0])
    _, steps = record_steps((x * 3.0).sum())
    assert "→ x" in "\n".join(steps[-1].lines)


def test_steps_html_refuses_too_many_frames(tmp_path):
    x = Value(1.0, label="x")
    y = x
    for _ in range(30):
        y = y * 1.5
    with pytest.raises(ValueError, match=r"30 backward steps.*--text"):
        viz.steps_html(y, tmp_path / "p.html", max_frames=20)
    assert not (tmp_path / "p.html").exists() and x.grad == 0.0  # nothing done
