"""viz.draw / viz.render: content, determinism, escaping, files, errors."""
import os
import re
import shutil
import warnings

import graphviz
import numpy as np
import pytest

from gradviz import viz
from gradviz.autograd import Value
from gradviz.viz.demo import car_tax
from gradviz.viz.dot import COMPACT_AT, GraphTooBigWarning, GraphvizNotFoundError

HERE = os.path.dirname(__file__)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def _car_tax_total():
    ct = car_tax()
    ct["total"].backward()
    return ct["total"]


def test_car_tax_dot_matches_golden():
    with open(os.path.join(HERE, "car_tax.golden.dot"), encoding="utf-8") as f:
        golden = f.read()
    assert viz.draw(_car_tax_total()).source == golden


def test_same_graph_same_text_and_ids_not_from_memory():
    a, b = viz.draw(_car_tax_total()).source, viz.draw(_car_tax_total()).source
    assert a == b
    assert not re.search(r"\b\d{8,}\b", a)  # no id() in node names


def test_draw_shows_label_data_grad_op_and_local_derivative():
    src = viz.draw(_car_tax_total()).source
    for text in ("price", "data 15", "grad 2.2", "grad 16.5", "data 33", "×", "d/dprice = count",
                 "× 1.1", "× 30"):
        assert text in src
    assert "2.2000000000000002" not in src
    assert "data 2<" in src and "data 2.0" not in src


def test_show_grad_and_edge_grads_can_be_turned_off():
    src = viz.draw(_car_tax_total(), show_grad=False, show_edge_grads=False).source
    assert "grad " not in src and "d/da" not in src and "data 33" in src


def test_roles_have_distinct_colours():
    src = viz.draw(_car_tax_total()).source
    fills = {role: viz.dot.COLOURS[role][0] for role in ("leaf", "inter", "output")}
    assert len(set(fills.values())) == 3
    price = next(line for line in src.splitlines() if "price" in line and "TABLE" in line)
    total = next(line for line in src.splitlines() if ">total<" in line)
    assert fills["leaf"] in price and fills["output"] in total


def test_parameters_coloured_from_modules():
    from gradviz import nn
    model = nn.MLP(2, [2, 1], activation="sigmoid", seed=0)
    y = model([0.1, 0.2])
    y.backward()
    src = viz.draw(y).source
    w = next(line for line in src.splitlines() if "L1.n1.w1" in line)
    assert viz.dot.COLOURS["param"][0] in w


def test_rankdir_and_bad_rankdir(tmp_path):
    assert "rankdir=TB" in viz.draw(_car_tax_total(), rankdir="TB").source
    # either case: Graphviz's upper case is what goes to dot (a teacher typed "lr")
    assert "rankdir=LR" in viz.draw(_car_tax_total(), rankdir="lr").source
    assert "rankdir=TB" in open(viz.render(_car_tax_total(), tmp_path / "a.dot", rankdir="tb"),
                                encoding="utf-8").read()
    assert "rankdir=TB" in viz.draw_steps(_car_tax_total(), rankdir="Tb")[0].source
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(_car_tax_total(), rankdir="sideways")


def test_draw_rejects_non_nodes():
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.draw(3.0)


@pytest.mark.parametrize("x,want", [(2.2000000000000002, "2.2"), (33.0, "33"), (1e-06, "1e-06"),
                                    (0.8675966, "0.8676"), (-0.0, "0"), (float("nan"), "nan"),
                                    (float("-inf"), "-inf"), (123456789.0, "1.235e+08"),
                                    (16.5, "16.5"), (np.float32(0.1), "0.1"),
                                    (12345.0, "12345"), (12345.6, "12346"), (-2e6, "-2000000"),
                                    (0.00012345, "0.0001234"), (1234.5, "1234")])
def test_fmt(x, want):
    assert viz.fmt(x) == want


NASTY = ['<script>alert(1)</script>', "{a|b}", 'say "hi"', "back\\slash", "a & b", "<b>x</b>",
         "]; evil [", "tab\tnew\nline"]


@pytest.mark.parametrize("label", NASTY)
def test_labels_are_escaped_in_dot(label):
    a = Value(2.0, label=label)
    y = a * 3
    y.label = label
    y.backward()
    src = viz.draw(y).source
    assert "<script>" not in src and "<b>x</b>" not in src and 'say "hi"' not in src
    assert "&lt;script&gt;" in src or "<script" not in label


@needs_dot
@pytest.mark.parametrize("label", NASTY)
def test_labels_render_as_text_in_svg(tmp_path, label):
    a = Value(2.0, label=label)
    y = a * 3
    y.backward()
    path = viz.render(y, tmp_path / "g.svg")
    svg = open(path, encoding="utf-8").read()
    assert "<script" not in svg and "<b>" not in svg
    if "<script>" in label:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    if label == "{a|b}":
        assert "{a|b}" in svg


@needs_dot
def test_svg_contains_the_car_tax_numbers(tmp_path):
    path = viz.render(_car_tax_total(), tmp_path / "car.svg")
    assert path == str(tmp_path / "car.svg")
    svg = open(path, encoding="utf-8").read()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    for number in ("33", "2.2", "16.5", "30", "1.1"):
        assert re.search(rf">[^<]*\b{re.escape(number)}\b[^<]*<", svg), number


@needs_dot
@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_png_pdf(tmp_path, ext, magic):
    path = viz.render(_car_tax_total(), tmp_path / f"car{ext}")
    with open(path, "rb") as f:
        assert f.read(4) == magic


def test_dot_output_needs_no_dot_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    path = viz.render(_car_tax_total(), tmp_path / "car.dot")
    text = open(path, encoding="utf-8").read()
    assert text.startswith("digraph") and "grad 2.2" in text
    assert viz.render(_car_tax_total(), tmp_path / "car.gv").endswith(".gv")


def test_svg_without_dot_is_a_clear_error(tmp_path, monkeypatch):
    from gradviz.viz import backend
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backend, "_fallback_dirs", list)  # and no graphviz-pure
    monkeypatch.delenv(backend.RENDERER_ENV, raising=False)
    with pytest.raises(GraphvizNotFoundError, match="Graphviz.*apt-get install graphviz"):
        viz.render(_car_tax_total(), tmp_path / "car.svg")
    assert not os.listdir(tmp_path)  # nothing half-written


def test_missing_directory_and_unknown_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.render(_car_tax_total(), tmp_path / "nope" / "car.dot")
    with pytest.raises(ValueError, match="format"):
        viz.render(_car_tax_total(), tmp_path / "car.jpeg2000")


def test_render_accepts_a_digraph(tmp_path):
    g = viz.draw(_car_tax_total())
    assert isinstance(g, graphviz.Digraph)
    path = viz.render(g, tmp_path / "g.dot")
    assert open(path, encoding="utf-8").read() == g.source


def _chain(n):
    x = Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.001
    y.backward()
    return y


def test_big_graph_warns_with_count_and_collapse_hint():
    y = _chain(50)
    with pytest.warns(GraphTooBigWarning, match=r"\d+ nodes.*collapse="):
        viz.draw(y, max_nodes=100, collapse="none")  # a chain: else its loop is folded
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw(y, max_nodes=None, collapse="none")


def test_compact_style_puts_ops_inside_and_derivatives_in_tooltips():
    y = _car_tax_total()
    src = viz.draw(y, compact=True).source
    assert "op [" not in src and "tooltip=" in src and "× 1.1 · d/dsubtotal = tax" in src
    big = _chain(COMPACT_AT)
    assert "tooltip=" in viz.draw(big, collapse="none").source  # chosen automatically
    assert "tooltip=" not in viz.draw(_chain(3)).source


def test_deep_graph_draws_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y + 1.0
    src = viz.draw(y, max_nodes=None, show_edge_grads=False, collapse="none").source
    assert src.count("->") >= 5000  # one edge per op at least (the constant lives in the op)


def test_value_and_digraph_display_in_jupyter():
    y = _car_tax_total()
    g = viz.draw(y)
    bundle = g._repr_mimebundle_() if shutil.which("dot") else {}
    if shutil.which("dot"):
        assert "image/svg+xml" in bundle and "grad 2.2" in bundle["image/svg+xml"]
        assert "<svg" in y._repr_svg_()


def test_tensor_nodes_show_shape_dtype_and_summary():
    from gradviz.autograd.tensor import Tensor
    x = Tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True, label="x")
    w = Tensor(np.linspace(-1, 1, 60).reshape(3, 20), requires_grad=True, label="W")
    y = (x @ w).tanh().sum()
    y.label = "y"
    y.backward()
    src = viz.draw(y).source
    assert "(1, 3) float64" in src and "[[1, 2, 3]]" in src
    assert "(3, 20) float64" in src and "min -1 · mean 0 · max 1" in src
    assert "‖grad‖" in src and "d/dA = G·Bᵀ" in src
    assert viz.dot.COLOURS["param"][0] in next(ln for ln in src.splitlines() if ">W<" in ln)


def test_committed_readme_picture_is_the_car_tax():
    path = os.path.join(HERE, "..", "..", "docs", "img", "car_tax.svg")
    svg = open(path, encoding="utf-8").read()
    texts = re.findall(r">([^<>]+)</text>", svg)
    for want in ("price", "count", "tax", "subtotal", "total", "data 33", "grad 2.2",
                 "grad 16.5", "grad 30", "data 1.1", "× 1.1"):
        assert want in texts, want


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.floats(min_value=-1e300, max_value=1e300))  # 1.7975e308 shows as 1.798e+308
def test_fmt_reads_back_within_four_digits(x):
    s = viz.fmt(x)
    assert float(s) == pytest.approx(x, rel=5e-4, abs=0.0)
    assert len(s) <= 11


@given(st.text())
def test_esc_leaves_no_markup(text):
    out = viz.esc(text)
    assert not re.search(r"[<>\"'\n\r\t]", out)
    assert not re.search(r"&(?!(amp|lt|gt|quot|#39);)", out)


@pytest.mark.parametrize("name", ["g.dot", "g.svg", "page.html"])
def test_writers_take_str_bytes_and_pathlike_paths(tmp_path, name):
    import os
    y = _car_tax_total()
    for kind, p in (("str", str(tmp_path / ("s_" + name))), ("bytes", os.fsencode(tmp_path / ("b_" + name))),
                    ("path", tmp_path / ("p_" + name))):
        if name.endswith(".html"):
            viz.steps_html(y, p)
        else:
            viz.render(y, p)
        assert os.path.getsize(p) > 0, kind


def test_tensor_edges_show_numbers_when_tiny_and_a_norm_otherwise():
    import numpy as np

    from gradviz import Tensor
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="a")
    b = Tensor(np.array([3.0, -1.0]), requires_grad=True, label="b")
    src = viz.draw((a * b).sum()).source
    assert "× [3, -1]" in src and "× [1, 2]" in src       # d(a*b)/da = b, d/db = a
    w = Tensor(np.arange(16.0).reshape(4, 4) / 10, requires_grad=True)
    src = viz.draw((w * 2.0).tanh().sum()).source
    assert "× 2<" in src                                     # the same number everywhere: shown once
    assert "× ‖·‖ " in src                                    # tanh's 16 local derivatives: their norm


def test_the_legend_explains_only_what_is_drawn():
    x = Value(1.0, label="x")
    y = x * x
    y.backward()

    def legend(**kw):
        src = viz.draw(y, legend=True, **kw).source
        return next(ln for ln in src.splitlines() if ln.lstrip().startswith("legend ["))
    full = legend()
    assert "d(output)/d(node)" in full and "local derivative" in full
    bare = legend(show_grad=False, show_edge_grads=False)
    assert "d(output)/d(node)" not in bare and "local derivative" not in bare
    assert "local derivative" in legend(show_grad=False)
    assert "d(output)/d(node)" in legend(show_edge_grads=False)


def test_a_png_graphviz_had_to_shrink_is_said(tmp_path, capsys):
    # cairo makes bitmaps of at most 32,767 pixels a side; dot shrank bigger ones
    # in silence (a 1:35 picture came out at a third of its resolution)
    if viz.backend.find_renderer("png").name != "dot":
        pytest.skip("the system dot renders PNGs with cairo; graphviz-pure does not shrink")
    x = Value(1.0, label="x")
    y = (x * 2.0).tanh()
    y.backward()
    viz.render(y, tmp_path / "big.png", dpi=20000)
    assert "Graphviz shrank it to" in capsys.readouterr().err
    viz.render(y, tmp_path / "small.png")
    assert "shrank" not in capsys.readouterr().err


def test_edge_rules_read_with_the_operands_names_when_they_have_them():
    from gradviz.viz.model import rule_text
    sub, tax = Value(30.0, label="subtotal"), Value(1.1, label="tax")
    total = sub * tax
    assert (rule_text(total, 0), rule_text(total, 1)) == ("d/dsubtotal = tax",
                                                          "d/dtax = subtotal")
    x, b = Value(2.0, label="x"), Value(3.0, label="b")
    assert rule_text(x ** b, 0) == "d/dx = b·x^(b-1) (0 where b = 0)"
    assert rule_text(x * 3.0, 0) == "d/dx = c (c=3)"                   # a constant stays c
    assert rule_text((x * x).tanh(), 0) == "d/da = 1 - tanh²(a)"        # an unnamed operand
    assert (rule_text(x * x, 0), rule_text(x * x, 1)) == ("d/da = b", "d/db = a")  # one name twice
    e = x * 2.0
    e.label = "x*2"                                  # a short expression: in brackets
    assert rule_text(e * sub, 0) == "d/d(x*2) = subtotal"
    assert rule_text(e * sub, 1) == "d/dsubtotal = x*2"
    assert rule_text(e.tanh(), 0) == "d/d(x*2) = 1 - tanh²(x*2)"      # no double brackets
    e.label = "tanh(x*2)"                            # the named rule would be too long
    assert rule_text(e.tanh(), 0) == "d/da = 1 - tanh²(a)"
    e.label = "y = x"                                # an alias list: not a name
    assert rule_text(e * sub, 0) == "d/da = b"
    long = Value(1.0, label="a_very_long_label")
    assert rule_text(long * x, 0) == "d/da = b"


def test_a_label_with_an_operator_sign_is_bracketed_in_edge_rules():
    # Python lets "·" into identifiers: 'd/dx₁·w₁ = 1' read as (d/dx₁)·w₁ (a teacher's report)
    from gradviz.viz.model import rule_text
    a, b = Value(2.0, label="x₁"), Value(3.0, label="w₁")
    p = a * b
    p.label = "x₁·w₁"
    s = p + Value(1.0, label="c")
    s.backward()
    assert "d/d(x₁·w₁) = 1" in viz.draw(s).source
    assert rule_text(p, 0) == "d/dx₁ = w₁"           # subscripts are part of a name
    for sign in "·×⋅∙·‧∗−":
        p.label = f"x{sign}w"
        assert rule_text(s, 0) == f"d/d(x{sign}w) = 1", sign
    for name in ("x²", "x′", "x'", "x̂", "Δx", "w_1", "σ₁"):  # plain names: no brackets
        p.label = name
        assert rule_text(s, 0) == f"d/d{name} = 1", name


def test_a_diagram_says_what_it_is_where_a_notebook_cannot_show_it():
    # text/plain was '<gradviz.viz.backend.Digraph at 0x7f...>'
    text = repr(viz.draw(_car_tax_total()))
    assert text.startswith("<gradviz diagram: 7 boxes and circles, 6 edges;") and "0x" not in text


def test_a_diagram_whose_gradients_are_not_one_pass_says_so(capsys):
    # backward() twice: price's grad 4.4 beside edges that give 2.2 (a teacher's report)
    from gradviz import nn
    total = car_tax()["total"]
    viz.draw(total)                            # before any backward(): a forward picture
    total.backward()
    viz.draw(total)
    assert capsys.readouterr().err == ""
    total.backward()
    viz.draw(total)
    err = capsys.readouterr().err
    assert "not one backward pass from this output: 'price' has grad 4.4, one pass gives 2.2" \
        in err and "viz.steps(root) shows one fresh pass" in err
    viz.draw(total, show_grad=False)           # no gradients drawn: nothing to say
    assert capsys.readouterr().err == ""
    # an optimiser's step between backward() and the picture: the data changed
    model = nn.MLP(2, [2, 1], seed=0)
    loss = (model([Value(1.0, label="x0"), Value(2.0, label="x1")]) - 1.0) ** 2
    loss.backward()
    nn.optim.SGD(model.parameters(), lr=0.5).step()
    viz.draw(loss)
    err = capsys.readouterr().err  # a fresh pass would mix numbers too: recompute the forward
    assert "the graph's values changed since it was computed" in err
    assert "recompute the forward pass" in err and "viz.steps(root)" not in err


def test_infinite_gradients_equal_to_one_pass_are_not_called_another_pass(capsys):
    # log(0): x's grad is inf and one fresh pass gives inf too; inf - inf is nan, which
    # made equal values look different (a teacher's report)
    x = Value(0.0, label="x")
    y = x.log()
    y.backward()
    viz.draw(y)
    assert "not one backward pass" not in capsys.readouterr().err
    # but inf against a finite grad (or -inf) still differs
    x.grad = 1.0
    viz.draw(y)
    assert "'x' has grad 1, one pass gives inf" in capsys.readouterr().err
    x.grad = float("-inf")
    viz.draw(y)
    assert "not one backward pass" in capsys.readouterr().err


def test_a_picture_after_an_optimisers_step_says_the_graph_is_stale(capsys):
    from gradviz import Tensor, nn
    layer = nn.Linear(2, 1, dtype=np.float64, seed=0)
    opt = nn.optim.SGD(layer.parameters(), lr=0.1)
    loss = (layer(Tensor(np.ones((3, 2)))) ** 2).sum()
    loss.backward()
    opt.step()
    viz.draw(loss)
    assert "the data changed in place since this graph was built" in capsys.readouterr().err
