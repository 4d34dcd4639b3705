"""Labels that used to crash or lie (issue 13, items 15-16) and the expression
language's smaller defects (issue 13: alpha given twice, a form feed)."""
import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradviz import Value, viz
from gradviz.viz.cli import main
from gradviz.viz.expr import ExprError, build
from gradviz.viz.text import DISPLAY_MAX, clean, esc, esc_html, shorten

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

HOSTILE = ["x\ud800y", "\udfff", "a\uffffb", "\ufffe", "z" * 17_000, "&" * 9_000,
           "a\\N b\\G \\E \\T \\H \\L", "tab\there\x0cform\x00nul", "<b>{a|b}</b>\"'"]


def _graph(label: str):
    x = Value(2.0, label=label)
    y = x * x
    y.label = label[:50]
    y.backward()
    return y


@needs_dot
@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: repr(s[:12]) + f"-{len(s)}")
@pytest.mark.parametrize("ext", [".dot", ".svg"])
def test_any_label_renders(tmp_path, label, ext):
    path = viz.render(_graph(label), tmp_path / f"g{ext}")
    text = open(path, encoding="utf-8").read()  # valid UTF-8 (a lone surrogate is not)
    assert "data 2" in text and len(text) < 60_000


@needs_dot
def test_long_labels_are_shortened_in_the_middle(tmp_path):
    label = "head" + "m" * 20_000 + "tail"
    svg = open(viz.render(_graph(label), tmp_path / "g.svg"), encoding="utf-8").read()
    assert "headmmm" in svg and "mmmtail" in svg and f"({len(label)} characters)" in svg


@needs_dot
def test_backslash_sequences_are_shown_as_typed(tmp_path):
    svg = open(viz.render(_graph("a\\N b\\G"), tmp_path / "g.svg"), encoding="utf-8").read()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "a\\N b\\G" in texts and not any(t.startswith("an0") for t in texts)


@given(st.text(max_size=300))
def test_escapes_give_encodable_markup_free_text(s):
    for f in (esc, esc_html):
        out = f(s)
        out.encode("utf-8")  # never a lone surrogate
        assert not re.search(r"[<>\"'\ufffe\uffff\x00-\x08]", out)
        assert "&" not in re.sub(r"&(amp|lt|gt|quot|#39);", "", out)
    assert esc(s) == esc_html(s).replace("\\", "\\\\")
    assert clean(s) == s or any(0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff"
                                or ord(c) < 32 or ord(c) == 127 for c in s)


def test_shorten_keeps_both_ends_and_says_how_long():
    s = "A" + "b" * 5000 + "Z"
    short = shorten(s)
    assert len(short) <= DISPLAY_MAX and short.startswith("Ab") and "bZ (5002 characters)" in short
    assert shorten("short") == "short" and shorten(s, None) == s


# --- the expression language -----------------------------------------------------------
@pytest.mark.parametrize("src,where", [
    ("x = 2; y = leaky_relu(x, 0.3, alpha=0.2)", "alpha=0.2"),
    ("x = 2; y = elu(x, 1.5, alpha=2)", "alpha=2"),
    ("x = 2; y = leaky_relu(x, alpha=0.1, alpha=0.2)", "alpha=0.2"),
])
def test_a_parameter_given_twice_is_refused(src, where, capsys):
    with pytest.raises(ExprError, match="twice") as e:
        build(src)
    lines = str(e.value).splitlines()
    i = next(i for i, ln in enumerate(lines) if where in ln)
    assert lines[i + 1].index("^") == lines[i].rindex(where)
    assert main(["expr", src]) == 2
    assert "twice" in capsys.readouterr().err


def test_parameters_still_work_once():
    a, _ = build("x = -2; y = leaky_relu(x, 0.3)")
    b, _ = build("x = -2; y = leaky_relu(x, alpha=0.3)")
    assert a.data == b.data == pytest.approx(-0.6)


@pytest.mark.parametrize("ws", ["\x0c", "\x0c\x0c", " \x0c "])
def test_a_form_feed_does_not_shift_labels(ws):
    root, _ = build(f"x=2; y=(x*x){ws}*3 + x*5")
    left, right = root.parents
    assert left.label == "(x*x) *3" and right.label == "x*5"
    assert left.parents[0].label == "x*x"


def test_labels_of_non_ascii_names_are_cut_by_character():
    root, _ = build("π=2; y=π*π+π*3")
    assert [p.label for p in root.parents] == ["π*π", "π*3"]


def test_carets_under_non_ascii_text():
    with pytest.raises(ExprError) as e:
        build("π = 2; y = π.real")
    lines = str(e.value).splitlines()
    assert lines[2].index("^") == lines[1].index("π.real")


@needs_dot
@pytest.mark.parametrize("text", ['"' * 20_000, "&" * 20_000, "日" * 20_000, "\\" * 20_000])
def test_a_tooltip_of_any_label_fits_dot(text):
    import subprocess

    from gradviz.viz.text import TOOLTIP_MAX
    tip = esc_html(text, TOOLTIP_MAX)
    quoted = '"' + tip.replace("\\", "\\\\").replace('"', '\\"') + '"'
    res = subprocess.run(["dot", "-Tsvg"], input=f"digraph G {{ a [tooltip={quoted}] }}".encode(),
                         capture_output=True)
    assert res.returncode == 0, res.stderr[:200]
