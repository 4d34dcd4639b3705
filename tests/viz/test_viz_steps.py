"""viz.draw_steps / viz.steps / viz.steps_html / step text: a fresh backward
pass as data, no side effects, the page's data and escaping."""
import json
import re
import shutil

import numpy as np
import pytest

from gradviz import nn, viz
from gradviz.autograd import Tensor, Value
from gradviz.autograd import functional as F
from gradviz.viz.demo import car_tax
from gradviz.viz.steps import record_steps

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gv-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def final_texts(data: dict) -> dict:
    """unit name -> its grad cell text after the last frame."""
    out = {}
    for fr in data["frames"]:
        up = fr[3]
        for j in range(0, len(up), 3):
            u, slot, text = up[j:j + 3]
            if slot == data["units"][u]["g"]:
                out[data["units"][u]["n"]] = text
    return out


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


def _grads(d):
    return {k: v.grad for k, v in d.items()}


@needs_dot
def test_stepping_changes_no_grad_before_or_after_backward(tmp_path):
    ct = car_tax()
    viz.draw_steps(ct["total"])
    record_steps(ct["total"])
    viz.steps_html(ct["total"], tmp_path / "a.html")
    assert all(g == 0.0 for g in _grads(ct).values())  # nothing was written
    ct["total"].backward()
    before = _grads(ct)
    viz.draw_steps(ct["total"])
    viz.steps_html(ct["total"], tmp_path / "b.html")
    viz.steps(ct["total"])._repr_html_()
    assert _grads(ct) == before


@needs_dot
def test_page_after_two_backward_calls_shows_one_fresh_pass(tmp_path):
    ct = car_tax()
    ct["total"].backward()
    ct["total"].backward()  # leaves accumulated: price.grad is 4.4 now
    assert ct["price"].grad == pytest.approx(4.4)
    html = open(viz.steps_html(ct["total"], tmp_path / "p.html"), encoding="utf-8").read()
    data = page_data(html)
    fresh = car_tax()
    fresh["total"].backward()
    got = final_texts(data)
    for k in ("price", "count", "tax", "subtotal", "total"):
        assert got[k] == f"grad {viz.fmt(fresh[k].grad)}", k
    assert "4.4" not in json.dumps(data["frames"])
    assert ct["price"].grad == pytest.approx(4.4)  # still the user's value
    done = data["frames"][-1][2]
    assert "dtotal/dprice = 2.2" in done


@needs_dot
def test_the_last_step_lists_the_inputs_gradients_not_the_constants(tmp_path):
    from gradviz.viz.expr import build
    y, _ = build("x = 0.5; y = 2*x*x + 1")
    data = page_data(open(viz.steps_html(y, tmp_path / "c.html"), encoding="utf-8").read())
    assert data["frames"][-1][2] == ["done: every node holds its gradient of this pass",
                                     "dy/dx = 2"]


def test_step_text_is_the_chain_rule_arithmetic():
    _, steps = record_steps(car_tax()["total"])
    assert steps[0].lines[0] == "step 1: total (op ×) has grad 1"
    assert steps[0].lines[1].startswith(
        "total: grad 1 × local 1.1 = 1.1 → subtotal (running sum 1.1)")
    assert steps[1].lines[1].startswith(
        "subtotal: grad 1.1 × local 2 = 2.2 → price (running sum 2.2)")
    assert steps[1].lines[2].startswith(
        "subtotal: grad 1.1 × local 15 = 16.5 → count (running sum 16.5)")


def test_step_text_given_a_node_says_to_pass_its_steps():
    total = car_tax()["total"]
    with pytest.raises(TypeError, match=r"got a node: pass its steps one at a time, for step in "
                                        r"root\.backward_steps\(\)"):
        viz.step_text(total)
    with pytest.raises(TypeError, match="expected one step of a backward pass, got int"):
        viz.step_text(3)
    assert viz.step_text(next(total.backward_steps()))[0] == "step 1: total (op ×) has grad 1"


def test_running_sum_for_a_node_used_twice():
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    _, steps = record_steps(y)
    assert "running sum 3" in steps[0].lines[1] and "running sum 6" in steps[0].lines[2]
    assert steps[-1].known[id(x)] == 6.0 and x.grad == 0.0


def test_the_pass_matches_the_engines_steps():
    """Same order, grads and totals as backward_steps() (on a copy of the graph)."""
    def graph():
        a, b = Value(0.3, label="a"), Value(-1.2, label="b")
        h = (a * b + a).tanh()
        return (h * h + b.exp()).relu() + a
    _, ours = record_steps(graph())
    engine = list(graph().backward_steps())
    assert len(ours) == len(engine)
    for s, e in zip(ours, engine):
        assert s.node.op == e.node.op and s.grad == pytest.approx(e.grad)


@needs_dot
def test_steps_html_is_self_contained_and_labels_stay_text(tmp_path):
    a = Value(2.0, label="</script><script>alert(1)</script>")
    b = Value(3.0, label="<img src=x onerror=alert(1)>")
    y = a * b + a
    y.label = 'out "q" & {a|b}'
    path = viz.steps_html(y, tmp_path / "page.html", title="<img src=y onerror=alert(2)>")
    page = open(path, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>")
    assert "<img" not in page and "alert(1)</script>" not in page
    # our two script elements only: the JSON data and the page's code
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    data = page_data(page)
    names = {u["n"] for u in data["units"]}
    assert {a.label, b.label, y.label} <= names  # the labels come back exactly, as data


@needs_dot
def test_no_frame_limit_and_frames_are_forward_then_backward(tmp_path):
    x = Value(1.0, label="x")
    y = x
    for _ in range(300):
        y = y * 1.01
    data = page_data(viz.steps(y).html)
    phases = "".join(fr[1] for fr in data["frames"])
    assert phases == "f" * 301 + "s" + "b" * 300 + "d"
    assert data["steps"] == 300
    data = page_data(viz.steps(y, forward=False).html)
    assert "f" not in "".join(fr[1] for fr in data["frames"])


@needs_dot
def test_a_leaf_root_gives_a_page_saying_there_are_no_steps(tmp_path):
    x = Value(5.0, label="x")
    data = page_data(open(viz.steps_html(x, tmp_path / "leaf.html"), encoding="utf-8").read())
    assert data["steps"] == 0
    assert any("no backward steps" in fr[2][0] for fr in data["frames"])


@pytest.mark.parametrize("bad", ["x", 3.0, None, [Value(1.0)]])
def test_a_root_that_is_not_a_node_is_a_type_error_naming_it(bad, tmp_path):
    with pytest.raises(TypeError, match=type(bad).__name__):
        viz.steps_html(bad, tmp_path / "p.html")
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.steps(bad)
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.draw_steps(bad)
    assert not (tmp_path / "p.html").exists()


def test_steps_html_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.steps_html(car_tax()["total"], tmp_path / "no" / "p.html")


def test_tensor_steps_write_no_grad():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True, label="x")
    y = (x * x).sum()
    y.label = "y"
    frames = viz.draw_steps(y)
    assert len(frames) == 2
    assert x.grad is None
    _, steps = record_steps((x * 3.0).sum())
    assert "→ x" in "\n".join(steps[-1].lines)
    assert np.allclose(steps[-1].known[id(x)], [3.0, 3.0])


def test_a_tensor_root_of_many_elements_is_refused():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(3,\).*sum"):
        viz.draw_steps(x * 2.0)


def _digits_like():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
    x = Tensor(rng.standard_normal((5, 16)).astype(np.float32), label="images")
    loss = F.cross_entropy(model(x), rng.integers(0, 4, 5))
    loss.label = "loss"
    return model, loss


@needs_dot
def test_the_box_of_the_neuron_whose_sum_is_the_root_outputs_the_root():
    # a teacher's report: the last neuron's Σ is the root, drawn outside its box, so the
    # box holds only its 4 weights and bias; it said 'out: 5 values' and its
    # '‖grad‖ out' was its parameters' norm
    model = nn.MLP(3, [4, 4, 1], seed=0)
    out = model([Value(1.0, label="x0"), Value(2.0, label="x1"), Value(-1.0, label="x2")])
    data = page_data(viz.steps(out, collapse="module").html)
    boxes = {u["n"]: u for u in data["units"] if u["r"] == "box"}
    last, other = boxes["MLP.L3.n1 (Neuron)"], boxes["MLP.L2.n1 (Neuron)"]
    assert last["d"] == "5 params · 5 nodes · out: 1 value"
    assert other["d"].endswith("out: 1 value")
    texts = final_texts(data)
    assert texts["MLP.L3.n1 (Neuron)"] == "‖grad‖ out 1"        # the root's: the seed
    out.backward()
    want = float(np.sqrt(sum(p.grad ** 2 for p in model.parameters()[-5:])))
    last_unit = data["units"].index(last)
    params_text = [fr[3][j + 2] for fr in data["frames"] for j in range(0, len(fr[3]), 3)
                   if fr[3][j] == last_unit and fr[3][j + 1] == 0]
    assert params_text[-1] == f"‖grad‖ params {viz.fmt(want)}"


@needs_dot
def test_module_collapse_steps_box_to_box_with_shapes_and_norms():
    model, loss = _digits_like()
    data = page_data(viz.steps(loss, collapse="module").html)
    boxes = [u for u in data["units"] if u["r"] == "box"]
    assert [b["o"] for b in boxes] == ["Linear", "ReLU", "Linear"]
    assert "out (5, 8)" in boxes[0]["d"] and "out (5, 4)" in boxes[2]["d"]
    assert boxes[0]["d"].startswith("136 params · 4 nodes") and boxes[1]["d"].startswith("1 node ·")
    stepping = [data["units"][fr[0]]["n"] for fr in data["frames"] if fr[1] == "b"]
    assert stepping.index("Sequential.2 (Linear)") < stepping.index("Sequential.1 (ReLU)") < \
        stepping.index("Sequential.0 (Linear)")
    # the parameters' gradient norm on the first Linear matches a real backward
    texts = final_texts(data)
    loss.backward()
    want = float(np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2)
                             for p in model[0].parameters())))
    got = [fr[3] for fr in data["frames"]]
    flat = [t for up in got for t in up[2::3] if isinstance(t, str)]
    assert f"‖grad‖ params {viz.fmt(want)}" in flat
    assert texts["Sequential.0 (Linear)"].startswith("‖grad‖ out")
    by_depth = page_data(viz.steps(loss, collapse=1).html)
    assert [u["o"] for u in by_depth["units"] if u["r"] == "box"] == ["Sequential"]


@needs_dot
def test_steps_object_displays_in_a_sandboxed_iframe_and_saves(tmp_path):
    page = viz.steps(car_tax()["total"], title="car <tax>")
    frag = page._repr_html_()
    assert frag.startswith('<iframe sandbox="allow-scripts"') and "srcdoc=" in frag
    assert "<script" not in frag.split("srcdoc=", 1)[1].split('"')[1][:20000]  # escaped
    path = page.save(tmp_path / "s.html")
    assert open(path, encoding="utf-8").read() == page.html
    # the page is HTML under any name it is given, so a name that says otherwise is
    # refused as steps_html refuses it, and nothing is written
    for bad in ("b.svg", "noext"):
        with pytest.raises(ValueError, match=r"steps\.save: the page is HTML; give a path "
                                             r"ending in \.html"):
            page.save(tmp_path / bad)
        assert not (tmp_path / bad).exists()
    assert (tmp_path / "S.HTM").samefile(page.save(tmp_path / "S.HTM"))
    assert "car &lt;tax&gt;" in page.html
    frames = viz.draw_steps(car_tax()["total"])
    assert frames._repr_html_().startswith("<iframe")


@needs_dot
def test_digits_example_writes_a_module_by_module_step_page(tmp_path, capsys):
    import os
    import runpy
    pytest.importorskip("sklearn")
    here = os.path.dirname(os.path.abspath(__file__))
    main = runpy.run_path(os.path.join(here, "..", "..", "examples", "digits_mlp.py"))["main"]
    page = tmp_path / "digits.html"
    main(["--epochs", "0", "--limit", "200", "--hidden", "32", "--no-progress",
          "--steps", str(page)])
    assert str(page) in capsys.readouterr().out
    data = page_data(page.read_text(encoding="utf-8"))
    assert [u["o"] for u in data["units"] if u["r"] == "box"] == ["Linear", "ReLU", "Linear"]
    stepping = [data["units"][fr[0]]["n"] for fr in data["frames"] if fr[1] == "b"]
    assert stepping[0] == "loss" and stepping[-1] == "Sequential.0 (Linear)"
    texts = final_texts(data)
    assert texts["images"] == "grad none (not required)"


def test_unlabelled_nodes_are_named_from_their_expression_never_hash_n():
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    y = ((x * w + 1.0).tanh() * 2.0 - x / 0.5) ** 2
    _, steps = record_steps(y)
    text = "\n".join(line for s in steps for line in s.lines)
    assert "#" not in text
    heads = [s.lines[0] for s in steps]
    assert any(h.startswith("step") and ": x*w (op" in h for h in heads)
    assert any("(x*w)+1 (op" in h for h in heads) and any("tanh((x*w)+1) (op" in h for h in heads)
    assert "x/0.5 (op" in text  # a constant is named by its value
    assert any(": v" in h for h in heads)  # too long for a name: v<i>
    src = viz.draw_steps(y)[0].source
    assert ">#" not in src and ">x*w<" in src


@needs_dot
def test_constants_have_their_own_role_and_no_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="x")
    y = (x * Tensor(np.array([2.0, 2.0])) + Tensor(np.array([1.0, 1.0]))).sum()  # data, no grad
    y.label = "y"
    src = viz.draw(y).source
    const_fill = viz.dot.COLOURS["const"][0]
    const_lines = [line for line in src.splitlines() if const_fill in line]
    assert len(const_lines) == 2 and all("grad" not in line for line in const_lines)
    data = page_data(viz.steps(y).html)
    consts = [u for u in data["units"] if u["r"] == "const"]
    assert sorted(u["n"] for u in consts) == ["[1, 1]", "[2, 2]"]
    assert all(u["g"] == -1 for u in consts)
    idx = {data["units"].index(u) for u in consts}
    for fr in data["frames"]:
        up = fr[3]
        for j in range(0, len(up), 3):
            if up[j] in idx:
                assert "grad" not in up[j + 2]  # only their data, never a gradient


def test_unlabelled_value_leaves_keep_their_gradient():
    """A Value publishes no requires_grad: an unlabelled one may be a weight."""
    w = Value(0.5)
    y = w * Value(3.0, label="x")
    src = viz.draw(y).source
    assert viz.dot.COLOURS["const"][0] not in src and src.count("grad ") == 3


@needs_dot
def test_a_value_made_without_grad_is_a_constant():
    """``Value(x, requires_grad=False)``: the constant's look, no gradient, in
    the diagram and on the step page; the other leaves keep theirs."""
    w = Value(0.5, label="w")
    target = Value(3.0, label="target", requires_grad=False)
    loss = (w * Value(2.0, label="x") - target) ** 2
    src = viz.draw(loss).source
    const_fill = viz.dot.COLOURS["const"][0]
    const_lines = [line for line in src.splitlines() if const_fill in line]
    assert len(const_lines) == 1 and "target" in const_lines[0]
    assert "grad" not in const_lines[0] and src.count("grad ") == 5
    data = page_data(viz.steps(loss).html)
    consts = [u for u in data["units"] if u["r"] == "const"]
    assert [u["n"] for u in consts] == ["target"] and consts[0]["g"] == -1


def test_the_legend_lists_only_the_roles_present():
    src = viz.draw(car_tax()["total"], legend=True).source
    legend = next(line for line in src.splitlines() if line.strip().startswith("legend"))
    assert ">input<" in legend and ">output<" in legend and ">intermediate<" in legend
    assert "parameter" not in legend and "constant" not in legend
    assert "local derivative" in legend


@needs_dot
def test_layout_direction_from_the_graph_shape():
    from gradviz.viz.demo import part_lifetime
    _, _, loss = part_lifetime()
    assert viz.draw(loss).graph_attr["rankdir"] == "TB"  # 4.8:1 left to right
    assert viz.draw(loss, rankdir="LR").graph_attr["rankdir"] == "LR"
    assert viz.draw(car_tax()["total"]).graph_attr["rankdir"] == "LR"  # fits a slide as is


@pytest.mark.parametrize("name", ["page.svg", "noext", "page.png"])
def test_the_step_page_is_written_only_to_an_html_file(tmp_path, name):
    # as the CLI refuses them: an HTML page under another name opens as garbage
    x = Value(2.0, label="x")
    y = x * x
    with pytest.raises(ValueError, match=r"steps_html: the page is HTML; give a path ending in "
                                         r"\.html"):
        viz.steps_html(y, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_the_step_page_of_a_loss_over_many_samples_is_collapsed_with_its_loop(tmp_path, capsys):
    # the step page keeps a long chain whole, but a graph that must be collapsed
    # anyway folds its sample loop with the layers: it was module:2 with 601 values
    # left, and dot was stopped after 60 s
    import random
    rng = random.Random(0)
    net = nn.MLP(2, [16, 16, 1], seed=1)
    xs = [[Value(rng.uniform(-2, 2)), Value(rng.uniform(-2, 2))] for _ in range(100)]
    loss = sum((1 + -(1.0 if i % 2 else -1.0) * net(x)).relu() for i, x in enumerate(xs))
    loss = loss * (1.0 / len(xs))
    loss.backward()
    from gradviz.viz import model as _model
    from gradviz.viz.dot import diagram
    d = diagram(loss, who="steps", budget=_model.PAGE_BUDGET, fold_loops=False)
    assert len(d.drawn_values()) + len(d.grouping.boxes) <= _model.READABLE
    assert any(b.kind == "loop" for b in d.grouping.boxes.values())
    viz.steps_html(loss, tmp_path / "moons.html")
    assert "collapse='module:2'" in capsys.readouterr().err
    assert (tmp_path / "moons.html").stat().st_size < 1_000_000


def test_a_notebook_step_page_takes_its_height():
    # a projector wants more than 720 px; the frame's height was fixed
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.backward()
    assert "height:720px" in viz.steps(y)._repr_html_()
    assert "height:1000px" in viz.steps(y, height=1000)._repr_html_()
    for bad in (50, 1.5, True, "900"):
        with pytest.raises(ValueError, match="steps: height is the notebook frame's height"):
            viz.steps(y, height=bad)


def small_mlp_loss():
    """A lecturer's slide: MLP(2, [2, 1]) on inputs x₁, x₂, squared error against y."""
    model = nn.MLP(2, [2, 1], seed=0)
    x = [Value(0.5, label="x₁"), Value(-1.0, label="x₂")]
    y_hat = model(x)
    y_hat.label = "ŷ"
    loss = (y_hat - Value(1.0, label="y")) ** 2
    loss.label = "L"
    return loss


def test_inputs_and_gradients_are_listed_in_creation_order(tmp_path, capsys):
    # the lists read L2.n1.b, L2.n1.w1, L1.n1.b, L1.n1.w1, x₁, L1.n1.w2, x₂, ...: the
    # graph's topological order; a reader scans them as they were declared
    loss = small_mlp_loss()
    want = [f"L{i}.n{j}.{p}" for i, n in ((1, 2), (2, 1)) for j in range(1, n + 1)
            for p in ("w1", "w2", "b")] + ["x₁", "x₂", "y"]
    frames = page_data(open(viz.steps_html(loss, tmp_path / "mlp.html"),
                            encoding="utf-8").read())["frames"]
    inputs, done = frames[0][2], frames[-1][2]
    assert inputs[0].startswith("forward pass") and done[0].startswith("done")
    assert [ln.split(" = ")[0] for ln in inputs[1:]] == want
    assert [ln.split(" = ")[0] for ln in done[1:]] == [f"dL/d{w}" for w in want]
    # and the command line's summary likewise (here the program's order, not x, w, b)
    from gradviz.viz.cli import main
    assert main(["steps", "b=1; w=2; x=3; y=x*w+b", "--text"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == \
        "gradients: dy/db = 1, dy/dw = 3, dy/dx = 2"


@pytest.mark.parametrize("make, text", [
    (lambda x: x - 1, "y = x - 1 = 2"), (lambda x: 1 - x, "y = 1 - x = -2"),
    (lambda x: x * 2, "y = x × 2 = 6"), (lambda x: 2 / x, "y = 2 ÷ x = 0.6667"),
    (lambda x: x ** 2, "y = x ** 2 = 9"), (lambda x: 2 ** x, "y = 2 ** x = 8"),
])
def test_the_forward_text_spells_a_python_number_operand(make, text):
    # 'x - 1' read 'y = -(x) = 2': the 1, kept inside the op, was dropped
    from gradviz.viz.page import build_page
    x = Value(3.0, label="x")
    y = make(x)
    y.label = "y"
    html, _ = build_page(y)
    assert f"forward: {text}" in html


def test_the_expression_language_is_an_attribute_of_viz():
    import subprocess
    import sys
    code = "from gradviz import viz; print(viz.expr.build('x = 2; y = x * 3')[0].data)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "6.0"


def test_an_input_that_needs_no_gradient_is_said_so_not_none():
    # 'v6: grad ... × local -1 = none → Y (running sum none)' read as arithmetic
    X = Tensor(np.ones((4, 2)), label="X")
    Y = Tensor(np.zeros((4, 1)), label="Y")
    w = Tensor(np.ones((2, 1)), requires_grad=True, label="w")
    loss = ((X @ w - Y) ** 2).mean()
    text = "\n".join(line for s in loss.backward_steps() for line in viz.step_text(s))
    assert "nothing → Y (it needs no gradient)" in text and "none" not in text


def test_a_neurons_weighted_sum_is_spelled_out_in_the_forward_text():
    # 'Σ(L1.n1.b, L1.n1.w1, 2, L1.n1.w2, 3) = 2.9' read as adding five numbers
    from gradviz.viz.page import build_page
    m = nn.MLP(2, [1], seed=0)
    y = m([2.0, 3.0])
    y.label = "y"
    html, _ = build_page(y)
    b, w1, w2 = m.layers[0].neurons[0].b, *m.layers[0].neurons[0].w
    assert "forward: y = L1.n1.b + L1.n1.w1·2 + L1.n1.w2·3 = " in html
    assert abs(b.data + 2 * w1.data + 3 * w2.data - y.data) < 1e-12


def part_lifetime_loss():
    """A student's part-lifetime net: 2-2-1 sigmoid MLP, squared error against 1."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid"
                   ).set_weights(1.0, 0.5)
    x = [Value(0.1, label="length"), Value(0.2, label="width")]
    loss = nn.MSELoss()(model(x), 1.0)
    loss.label = "loss"
    return model, loss


STALE = "the graph's values changed since it was computed"


@needs_dot
def test_a_step_page_after_an_optimisers_step_says_its_numbers_will_not_add_up(tmp_path,
                                                                                capsys):
    # backward(), SGD.step(), then the page: the new weights beside the old results
    # ("v7 = b + w1·length + w2·width = 0.8" where those give 0.8034), silently
    model, loss = part_lifetime_loss()
    fresh = page_data(viz.steps(loss).html)
    assert fresh["stale"] is None and capsys.readouterr().err == ""
    loss.backward()
    loss.backward()  # grads accumulated twice: the page's own pass still adds up
    assert page_data(viz.steps(loss).html)["stale"] is None
    assert capsys.readouterr().err == ""
    opt = nn.optim.SGD(model.parameters(), lr=0.5)
    opt.zero_grad()
    loss.backward()
    opt.step()
    html = open(viz.steps_html(loss, tmp_path / "s.html"), encoding="utf-8").read()
    err = capsys.readouterr().err
    assert f"gradviz: steps: {STALE}" in err and "recompute the forward pass" in err
    note = page_data(html)["stale"]
    assert note.startswith(STALE) and "v7 holds 0.8 but its operands now give 0.8034" in note
    page = viz.steps(loss)
    saved = open(page.save(tmp_path / "t.html"), encoding="utf-8").read()
    assert page_data(saved)["stale"] == note
    # draw says it too, and no longer sends the reader to the step page for "one fresh pass"
    viz.draw(loss)
    err = capsys.readouterr().err
    assert f"gradviz: draw: {STALE}" in err and "viz.steps(root)" not in err


@needs_dot
def test_a_tensor_step_page_after_an_optimisers_step_says_so(capsys):
    layer = nn.Linear(2, 1, dtype=np.float64, seed=0)
    loss = (layer(Tensor(np.ones((3, 2)))) ** 2).sum()
    assert page_data(viz.steps(loss).html)["stale"] is None
    loss.backward()
    nn.optim.SGD(layer.parameters(), lr=0.1).step()
    assert page_data(viz.steps(loss).html)["stale"].startswith(STALE)
    assert STALE in capsys.readouterr().err


@needs_dot
def test_the_forward_highlight_is_no_roles_colour():
    # the node being computed was filled #dcfce7 with a #16a34a border, the
    # parameters' colours: in the forward pass it looked like a parameter
    from gradviz.viz.dot import COLOURS
    _, loss = part_lifetime_loss()
    data = page_data(viz.steps(loss).html)
    roles = {c for role in ("leaf", "param", "const", "inter", "output", "op", "box")
             for c in COLOURS[role]}
    for phase in ("f", "b"):
        fill, border = data["hl"][phase]
        assert fill not in roles and border not in roles, phase
    assert data["hl"]["f"] != data["hl"]["b"]


ARITHMETIC = re.compile(r"grad (\S+) × local (\S+) = (\S+) ")


@needs_dot
@pytest.mark.parametrize("src, line", [
    ("a=3; b=1.00049; y=(a*a)*b", "a*a: grad 1.00049 × local 3 = 3.001 → a"),
    ("a=0.5; w=1.0004; x=2.5; y=tanh(a)*(w*x)", "w*x: grad 0.46212 × local 1.0004 = 0.4623 → x"),
])
def test_the_factors_shown_give_the_product_shown(src, line, capsys, tmp_path):
    # rounded to 4 figures, "grad 1 × local 3 = 3.001" and "grad 0.4621 × local 1 = 0.4623"
    # looked wrong: the factors now get the figures (up to 7) that make the product
    from gradviz.viz.cli import main
    from gradviz.viz.expr import build
    assert main(["steps", src, "--text"]) == 0
    out = capsys.readouterr().out
    y, _ = build(src)
    frames = page_data(viz.steps(y).html)["frames"]
    page = "\n".join(ln for fr in frames for ln in fr[2])
    for text in (out, page):
        assert line in text
        found = ARITHMETIC.findall(text)
        assert len(found) >= 4
        for g, loc, c in found:
            assert viz.fmt(float(g) * float(loc)) == c, (g, loc, c)
    # four figures stay four where they give the product
    assert "y: grad 1 × local 9 = 9 → b" in out or "tanh(a): grad 2.501 × local 0.7864" in out
