"""Graphs too big for Graphviz never reach it: the cost estimate, the
automatic collapse and its one line of news, and clear errors when ``dot``
fails or runs past its time limit."""
import os
import shutil
import stat

import pytest

from gradviz import viz
from gradviz.autograd import Value
from gradviz.viz import model
from gradviz.viz.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def sum_of_products(n_terms: int) -> Value:
    total = Value(0.0, label="start")
    for i in range(n_terms):
        total = total + Value(0.01 * i, label=f"x{i}") * Value(0.5, label=f"w{i}")
    return total


def test_small_graphs_are_drawn_in_full_and_say_nothing(capsys):
    src = viz.draw(sum_of_products(10)).source
    assert "more" not in src and "identical" not in src
    assert capsys.readouterr().err == ""


def test_a_graph_over_budget_is_collapsed_with_one_line_saying_how_to_get_it_all(
        monkeypatch, capsys):
    monkeypatch.setattr(model, "DOT_BUDGET", 5)  # too small even for the repeat boxes
    root = sum_of_products(200)  # 801 values
    src = viz.draw(root).source
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "801 values" in err[0] and "collapse='none'" in err[0]
    assert "+800 more</FONT>" in src  # the box says how many nodes it hides
    full = viz.draw(root, collapse="none").source
    assert "more</FONT>" not in full and full.count("->") >= 800
    assert capsys.readouterr().err == ""


def test_a_graph_too_big_to_read_is_collapsed_even_when_graphviz_could_take_it(capsys):
    # micrograd's MLP(2, [16, 16, 1]) on one sample: 404 values, well within DOT_BUDGET,
    # but drawn whole a single column 30,000 pixels tall
    from gradviz import nn
    out = nn.MLP(2, [16, 16, 1], seed=0)([Value(0.5, label="x1"), Value(-0.3, label="x2")])
    out.backward()
    d = model.build(out)
    assert len(d.values) > model.COLLAPSE_AT and model.cost(d, True) <= model.DOT_BUDGET
    src = viz.draw(out).source
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "404 values" in line and "collapse='none'" in line, line
    assert src.count("identical") == 2 and src.count("data ") <= model.READABLE
    full = viz.draw(out, collapse="none").source
    assert "identical" not in full and full.count("data ") == 404
    assert capsys.readouterr().err == ""
    # teaching graphs stay whole: the 2-2-1 network, car tax, a 12-12-1 network (255 values)
    from gradviz.viz import demo
    for root in (nn.MLP(2, [2, 1], seed=0)([0.5, -1.0]), demo.car_tax()["total"],
                 nn.MLP(2, [12, 12, 1], seed=0)([0.5, -1.0])):
        assert "identical" not in viz.draw(root).source
    assert capsys.readouterr().err == ""


def test_repeated_structure_is_collapsed_first_and_says_identical(monkeypatch, capsys):
    monkeypatch.setattr(model, "DOT_BUDGET", 400)
    xs = [Value(float(i), label=f"x{i}") for i in range(3)]
    outs = []
    for k in range(60):  # 60 identical neurons reading the same inputs
        ws = [Value(0.1 * k + j, label=f"n{k}.w{j}") for j in range(3)]
        outs.append(sum((w * x for w, x in zip(ws, xs)), Value(0.0)).tanh())
    while len(outs) > 1:  # summed as a tree: shallow (a 60-term chain would be a loop, folded)
        outs = [a + b for a, b in zip(outs[::2], outs[1::2])] + outs[len(outs) // 2 * 2:]
    src = viz.draw(outs[0]).source
    assert "×" in src and "identical" in src
    assert "collapse='repeat'" in capsys.readouterr().err


def test_the_cost_grows_with_density():
    from gradviz import nn
    chain = model.build(sum_of_products(50))
    dense = model.build(nn.MLP(16, [16, 16, 1], seed=0)([0.5] * 16))  # 33 operands a neuron

    def plain(d):
        return len(d) + sum(len(v.parents) for v in d.values)
    assert model.cost(chain, True) == plain(chain)
    assert model.cost(dense, True) > 1.4 * plain(dense)


@needs_dot
def test_dot_past_its_time_limit_is_stopped_with_a_clear_error(tmp_path):
    root = sum_of_products(20)
    with pytest.raises(viz.LayoutError, match=r"81 values.*within 0 s.*collapse="):
        viz.render(root, tmp_path / "g.svg", timeout=0)
    assert not (tmp_path / "g.svg").exists()


@pytest.fixture
def crashing_dot(tmp_path, monkeypatch):
    """A `dot` on PATH that dies of a segfault, as Graphviz does on huge graphs."""
    d = tmp_path / "bin"
    d.mkdir()
    exe = d / "dot"
    exe.write_text("#!/bin/sh\ncat >/dev/null\nkill -SEGV $$\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{d}{os.pathsep}{os.environ['PATH']}")
    return exe


def test_a_dot_crash_is_a_clear_error_naming_the_size_and_options(crashing_dot, tmp_path,
                                                                   capsys):
    with pytest.raises(viz.LayoutError, match=r"crashed \(signal 11\) on a graph of 81 values"):
        viz.render(sum_of_products(20), tmp_path / "g.svg")
    with pytest.raises(viz.LayoutError, match="collapse="):
        viz.steps_html(sum_of_products(3), tmp_path / "p.html")
    assert main(["expr", "y = 1 + 2 * 3", "-o", str(tmp_path / "e.svg")]) == 2
    err = capsys.readouterr().err
    assert "crashed" in err and "Traceback" not in err and err.count("\n") == 1


@needs_dot
def test_a_2000_term_sum_renders(tmp_path, capsys):
    """It used to run dot for 22 s, take 6 GB and segfault. (A sum of numbers
    alone is one number, as in Python: the chain starts at an input.)"""
    expr = "x = 1; y = x + " + " + ".join(str(i % 9 + 1) for i in range(1999))
    out = tmp_path / "sum.svg"
    assert main(["expr", expr, "-o", str(out), "--collapse", "none"]) == 0  # every node
    assert out.stat().st_size > 100_000
    # by default the sum, 2000 values deep, is a loop of +: its middle is one box
    capsys.readouterr()
    assert main(["expr", expr, "-o", str(out)]) == 0
    assert "2000 values deep, too long to read" in capsys.readouterr().err
    assert "1,995 × (+)" in out.read_text() and out.stat().st_size < 100_000
