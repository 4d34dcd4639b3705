"""The laid-out picture reads (issue 11): leaves in the order they were
declared, few crossings, each edge label tied to its own edge. Every test
lays the DOT out with the real ``dot`` and reads positions back
(``dot -Tjson``, :mod:`layout_geometry`)."""
import re

import layout_geometry as lg
import pytest

from gradviz import Value, viz
from gradviz.viz import model
from gradviz.viz.demo import part_lifetime


def tanh2():
    """The 2-neuron tanh network, declared x1 x2, w11 w12 w21 w22, b1 b2."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w11, w12 = Value(-3.0, label="w11"), Value(1.0, label="w12")
    w21, w22 = Value(0.5, label="w21"), Value(-1.0, label="w22")
    b1, b2 = Value(6.88, label="b1"), Value(0.1, label="b2")
    h1 = (x1 * w11 + x2 * w12 + b1).tanh()
    h2 = (x1 * w21 + x2 * w22 + b2).tanh()
    y = h1 + h2
    y.label = "y"
    y.backward()
    return y


def lifetime_loss():
    _, _, loss = part_lifetime()
    loss.backward()
    return loss


def laid_out(root, rankdir):
    return lg.layout(viz.draw(root, rankdir=rankdir).source)


def rows(root, rankdir):
    """The drawn leaves by rank: [[label, ...] along the rank, ...] from the
    first rank (top / left) on."""
    names = {it.key: it.node.label for it in model.build(root).values if not it.parents}
    pos = lg.nodes(laid_out(root, rankdir))
    by_rank: dict = {}
    for key, name in names.items():
        x, y = pos[key]
        rank, along = (-y, x) if rankdir == "TB" else (x, -y)  # dot's y grows upwards
        by_rank.setdefault(round(rank), []).append((along, name))
    return [[n for _, n in sorted(r)] for _, r in sorted(by_rank.items())]


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_tanh2_leaves_come_out_in_declaration_order(rankdir):
    # the inputs a row of their own, each weight beside its product, the biases lower
    assert rows(tanh2(), rankdir) == [["x1", "x2"], ["w11", "w12", "w21", "w22"], ["b1", "b2"]]


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_declaration_order_wins_over_operand_order(rankdir):
    b = Value(2.0, label="b")
    a = Value(3.0, label="a")
    c = Value(4.0, label="c")
    out = a * b + c  # used a, b, c; declared b, a, c
    out.label = "out"
    assert rows(out, rankdir) == [["b", "a"], ["c"]]  # c joins one op later, a rank lower


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_part_lifetime_parameters_and_inputs_in_creation_order(rankdir):
    loss = lifetime_loss()
    order = {it.node.label: it.node.creation_index for it in model.build(loss).values
             if not it.parents and it.node.label}
    # the model (its parameters) was made before the inputs, by nn.MLP in layer order
    assert sorted(order, key=order.get)[:6] == [
        "L1.n1.w1", "L1.n1.w2", "L1.n1.b", "L1.n2.w1", "L1.n2.w2", "L1.n2.b"]
    got = rows(loss, rankdir)
    # the inputs a row above the first layer's weights, each row in creation order
    assert got[0] == ["length", "width"]
    assert got[1] == ["L1.n1.w1", "L1.n1.w2", "L1.n1.b", "L1.n2.w1", "L1.n2.w2", "L1.n2.b"]
    assert got[2] == ["L2.n1.w1", "L2.n1.w2", "L2.n1.b"]


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_part_lifetime_has_at_most_its_one_unavoidable_crossing(rankdir):
    # both inputs feed both hidden neurons: one crossing cannot be avoided (was 2 top to
    # bottom: the inputs out of order crossed a weight's edge)
    assert lg.crossings(laid_out(lifetime_loss(), rankdir)) <= 1


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_tanh2_has_at_most_one_crossing(rankdir):
    assert lg.crossings(laid_out(tanh2(), rankdir)) <= 1


@pytest.mark.parametrize("make", [tanh2, lifetime_loss])
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_each_edge_label_is_tied_to_its_own_edge(make, rankdir):
    g = laid_out(make(), rankdir)
    anchors = lg.label_anchors(g)
    assert len(anchors) == 20
    for text, own, other in anchors:
        assert own is not None, f"{text}: no line from the label to its edge"
        assert own <= 1.5, f"{text}: the label's line ends {own:.1f} pt from its edge"
        assert other > own + 1, f"{text}: the label's line ends as near another edge"
    for e in lg.edges(g):
        if e["link"]:  # and the line starts at the label, not across the picture
            (x0, y0), (x1, _) = e["link"][:2]  # the underline, under the label's centre
            assert min(x0, x1) <= e["label"][0] <= max(x0, x1)
            assert abs(y0 - e["label"][1]) < 20


def test_label_text_is_unchanged_and_the_link_is_light():
    src = viz.draw(tanh2(), rankdir="TB").source
    labels = re.findall(r"label=<(<FONT COLOR=\"#000000\">× [^<]*</FONT>)", src)
    assert len(labels) == 20
    assert src.count(f'decorate=true fontcolor="{viz.dot.LINK_COLOUR}"') == 20


def test_step_page_and_tikz_keep_the_order(tmp_path):
    b = Value(2.0, label="bee")
    a = Value(3.0, label="ay")
    out = a * b
    out.label = "out"
    out.backward()
    tex = open(viz.render(out, tmp_path / "g.tex", rankdir="TB")).read()
    xs = {m.group(2): float(m.group(1)) for m in
          re.finditer(r"\\node\[gradviz/name[^\]]*\] at \(([-\d.]+),[-\d.]+\) "
                      r"\{\\gradvizsize\{[\d.]+\}(bee|ay)\}", tex)}
    assert xs["bee"] < xs["ay"]
    assert "gradviz/link" in tex
    html = open(viz.steps_html(out, tmp_path / "s.html", rankdir="TB")).read()
    svg_x = {m.group(2): float(m.group(1)) for m in
             re.finditer(r'<text[^>]* x="([-\d.]+)"[^>]*>(bee|ay)</text>', html)}
    assert svg_x["bee"] < svg_x["ay"]


#: A 16:9 slide (px) and the smallest size the diagrams' 11 pt node text may
#: shrink to on it when the picture is scaled to fit (px): readable from the back.
SLIDE_PX = (1920, 1080)
TEXT_PX_AT_LEAST = 14


@pytest.mark.parametrize("make", [tanh2, lifetime_loss])
def test_the_networks_fit_a_slide_at_a_readable_size(make):
    g = lg.layout(viz.draw(make()).source)  # the default direction: top to bottom
    assert g["rankdir"] == "TB"
    _, _, w, h = (float(v) for v in g["bb"].split(","))
    scale = min(SLIDE_PX[0] / w, SLIDE_PX[1] / h)  # px per pt, the picture fitted
    assert 11 * scale >= TEXT_PX_AT_LEAST, (w, h)
