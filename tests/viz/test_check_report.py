"""Gradcheck reports drawn by viz, and `gradviz check`."""
import io
import re

import graphviz
import numpy as np
import pytest

import gradviz  # noqa: F401  (registers the report drawer)
from gradviz.autograd import Value, define_op
from gradviz.autograd.check import GradcheckError, check_nodes, gradcheck
from gradviz.autograd.ops import OPS
from gradviz.autograd.testing import unregister_op
from gradviz.viz.check_report import BANDS, report_table
from gradviz.viz.cli import main


@pytest.fixture
def bad_cube():
    op = define_op("cube_v", forward=lambda M, a: a * a * a, deriv=lambda M, o, a: (2.0 * a * a,),
                   domain=((-3.0, 3.0),))
    yield op
    unregister_op(op)


def _failing_report(bad_cube):
    def f(x):
        y = x.tanh()
        y.label = "<script>y</script>"
        c = bad_cube(y)
        c.label = "cubed"
        return c + x.sin()
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, Value(0.5, label="x"))
    return info.value.report


def test_draw_highlights_the_failing_node_and_edge_and_colours_the_others(bad_cube):
    rep = _failing_report(bad_cube)
    dg = rep.draw()
    assert isinstance(dg, graphviz.Digraph)
    src = dg.source
    # the failing edge: thick, red, "analytic a · numeric b" with the report's numbers
    y = np.tanh(0.5)
    fail = [line for line in src.splitlines() if "analytic" in line and "->" in line]
    assert len(fail) == 1 and "penwidth=4" in fail[0]
    assert f"analytic {2 * y * y:.4g}" in fail[0] and f"numeric {3 * y * y:.4g}" in fail[0]
    # the failing op is filled; the other checked edges carry the colour of their band
    assert src.count("fillcolor=\"#fecaca\"") + src.count("fillcolor=\"#fecaca") >= 1
    green = BANDS[0][1]
    assert len(re.findall(rf'-> o\d+ \[[^\]]*color="{green}"', src)) >= 3
    assert "legend" in src and "rel. error &lt; 1e-6" in src
    assert "<script>" not in src and "&lt;script&gt;" in src  # labels are escaped


def test_render_writes_svg_dot_and_an_html_page_with_the_table(bad_cube, tmp_path):
    rep = _failing_report(bad_cube)
    svg = rep.render(tmp_path / "r.svg")
    text = open(svg).read()
    assert text.lstrip().startswith("<?xml") and "analytic" in text and "cube_v" in text
    assert "digraph" in open(rep.render(str(tmp_path / "r.dot"))).read()
    page = open(rep.render(str(tmp_path / "r.html"))).read()
    assert "<svg" in page and "<table>" in page and "wrong local derivative" in page
    assert "<script>y" not in page


def test_report_table_lists_every_edge_with_a_verdict():
    x = Value(0.0, label="x")
    out = x.relu() * 2.0 + x.tanh()
    text = report_table(check_nodes(out))
    lines = text.splitlines()
    assert lines[0].split() == ["node", "op", "analytic", "numeric", "rel.", "error", "verdict"]
    assert any("relu" in ln and "not differentiable" in ln for ln in lines)
    rep = check_nodes(out)
    n_ok = sum(c.verdict == "ok" for c in rep.checks)
    assert n_ok == len(rep.checks) - 1 >= 3
    assert sum(ln.rstrip().endswith(" ok") for ln in lines) == n_ok


# --- the CLI -------------------------------------------------------------------------
def test_cli_check_prints_the_table_and_exits_0_when_all_agree(capsys):
    assert main(["check", "x=0.5; y=tanh(x*x) + exp(x)/x"]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "all 8 checked edges agree (float64)" in out
    assert main(["check", "x=0.5; y=sigmoid(x)*x", "--dtype", "float32"]) == 0
    assert "(float32)" in capsys.readouterr().out


def test_cli_check_exits_1_on_a_mismatch_and_writes_the_diagram(monkeypatch, tmp_path, capsys):
    # the float32 path runs on Tensors, whose kernels read the table row's rule
    monkeypatch.setattr(OPS["sin"], "deriv", lambda M, o, a: (M.cos(a) * 1.5,))
    out_svg = tmp_path / "report.svg"
    assert main(["check", "x=0.5; y=sin(x*x)", "--dtype", "float32", "-o", str(out_svg)]) == 1
    out = capsys.readouterr().out
    assert "mismatch" in out and "wrong local derivative in op 'sin'" in out
    assert "analytic" in out_svg.read_text()


def test_cli_check_not_differentiable_is_not_a_mismatch(capsys):
    assert main(["check", "x=0; y=relu(x)*2"]) == 0
    assert "not differentiable at this point" in capsys.readouterr().out


def test_cli_check_reads_the_expression_from_a_file_or_stdin_as_expr_does(
        tmp_path, monkeypatch, capsys):
    src = tmp_path / "model.txt"
    src.write_text("x = 0.5\ny = tanh(x*x) + sigmoid(x)\n")
    assert main(["check", "-f", str(src)]) == 0
    assert "all 6 checked edges agree" in capsys.readouterr().out
    assert main(["check", "-f", str(src), "x=2", "--dtype", "float32"]) == 0
    assert "all 6 checked edges agree (float32)" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("w = 3\nz = w*w"))
    assert main(["check", "-"]) == 0
    assert "all 2 checked edges agree" in capsys.readouterr().out
    src.write_text("x = 1\ny = nope(x)\n")
    assert main(["check", "-f", str(src)]) == 2
    assert re.search(r"model\.txt: not allowed: a call of 'nope'.*line 2", capsys.readouterr().err)


@pytest.mark.parametrize("args, pattern", [
    (["check"], r"give the expression as an argument, '-' to read it from stdin, or -f FILE"),
    (["check", "-f", "/no/such/model.txt"], r"-f /no/such/model.txt: no such file"),
    (["check", "x=1; y=x.foo"], r"not allowed: attribute access.*\n.*\n\s+\^+"),
    (["check", "x=1; y=nope(x)"], r"not allowed: a call of 'nope'"),
    (["check", "x=1; y=x*2", "-o", "r.xyz"], r"cannot tell the format"),
    (["check", "x=1; y=x*2", "-o", "/no/such/dir/r.svg"], r"does not exist"),
])
def test_cli_check_bad_input_exits_2_with_a_message_and_no_traceback(args, pattern, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err), err
    assert "Traceback" not in err
