"""The expression language (whitelist, no eval) and the gradviz command line."""
import itertools
import math
import os
import shutil
import subprocess
import sys

import pytest

from gradviz.viz.cli import main
from gradviz.viz.expr import ExprError, build

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
CAR = "price=15; count=2; tax=1.1; total=price*count*tax"


# --- the language -----------------------------------------------------------
def test_build_car_tax():
    root, names = build(CAR)
    assert root is names["total"] and root.label == "total"
    assert math.isclose(root.data, 33.0)
    root.backward()
    assert math.isclose(names["price"].grad, 2.2) and names["count"].label == "count"
    assert root.parents[0].label == "price*count"  # intermediates named by their text


def test_functions_numbers_unary_and_final_expression():
    root, _names = build("x = 0.5\n y = -x ** 2 + tanh(x) / 2 - leaky_relu(-x, alpha=0.2) "
                        "+ elu(x, 1.0) + abs(-3)")
    want = -(0.5 ** 2) + math.tanh(0.5) / 2 - (-0.1) + 0.5 + 3
    assert math.isclose(root.data, want)
    root2, _ = build("a = 2; sigmoid(a) * 1")
    assert math.isclose(root2.data, 1 / (1 + math.exp(-2)))
    neg, _ = build("p = -3")
    assert neg.data == -3.0 and not neg.parents  # a negative literal is a leaf


@pytest.mark.parametrize("src,where", [
    ("__import__('os').system('echo PWNED')", "__import__('os').system"),
    ("x = 1; y = x.real", "x.real"),
    ("y = open('f')", "open('f')"),
    ("x = 'abc'", "'abc'"),
    ("x = [1, 2]", "[1, 2]"),
    ("x = 2; y = x @ x", "x @ x"),
    ("x = 2; y = x if x else 1", "x if x else 1"),
    ("x = 2; y = x // 2", "x // 2"),
    ("x = 2; y = x < 3", "x < 3"),
    ("y = (lambda: 1)()", "lambda: 1"),
    ("x = 2; y = exp(x, foo=1)", "foo=1"),
    ("x = 2; y = exp(x, 2)", "exp(x, 2)"),
    ("x = 2; y = leaky_relu(x, x)", "x"),
    ("y = z + 1", "z"),
    ("exp = 2", "exp"),
    ("x = True", "True"),
    ("import os", "import os"),
    ("x = 1; del x", "del x"),
    ("x = y = 2", "x = y = 2"),
    ("x = 2; x += 1", "x += 1"),
    ("x = 1" + "0" * 400, None),
])
def test_non_whitelisted_syntax_is_refused_with_a_pointer(src, where):
    with pytest.raises(ExprError) as e:
        build(src)
    msg = str(e.value)
    assert msg
    if where is not None:
        line = msg.splitlines()
        assert any(where in ln for ln in line), msg
        assert "^" in msg


def test_syntax_errors_and_limits():
    with pytest.raises(ExprError, match="syntax error"):
        build("x = 2; y = x +* 3")
    with pytest.raises(ExprError, match="empty"):
        build(" ; \n ")
    with pytest.raises(ExprError, match=r"a statement is 40,005 characters long; the limit is "
                                        r"20,000 \(split it into several\)"):
        build("x = 1" + " + 1" * 10000)
    with pytest.raises(ExprError, match=r"the expression is 1,\d{3},\d{3} characters long"):
        build("x = 1\n" * 200_000)


def test_a_long_program_of_short_statements_is_drawn_with_its_loop_folded(tmp_path, capsys):
    # 1,200 statements, ~40,000 characters: a lesson's unrolled iteration
    lines = ["x = 0.5"] + [f"v{i} = tanh({'x' if i == 1 else f'v{i - 1}'} * 1.01 + 0.01)"
                           for i in range(1, 1201)]
    src = tmp_path / "long.txt"
    src.write_text("\n".join(lines))
    assert main(["expr", "-f", str(src), "-o", str(tmp_path / "long.svg")]) == 0
    err = capsys.readouterr().err
    assert "3601 values deep, too long to read in one picture: the middle steps of its " \
           "unrolled loop (3588 values) are drawn as a box; add --collapse none" in err, err
    svg = (tmp_path / "long.svg").read_text()
    assert "1,196 × (× → + → tanh)" in svg and "steps 3&#45;1,198 of 1,200" in svg


def test_deep_expression_without_recursion():
    root, _ = build("x = 1; y = x" + " + x" * 600)
    assert root.data == 601.0
    with pytest.raises(ExprError, match="nested") as e:  # Python's parser gives up
        build("x = 1; y = " + "(" * 5000 + "x" + ")" * 5000)
    assert len(str(e.value)) < 400


def test_nothing_is_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExprError):
        build("y = __import__('pathlib').Path('pwned').touch()")
    assert not os.path.exists(tmp_path / "pwned")


# --- the command line ---------------------------------------------------------
@needs_dot
def test_cli_expr_svg(tmp_path, capsys):
    out = tmp_path / "car_tax.svg"
    assert main(["expr", CAR, "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    for number in ("33", "2.2", "16.5", "30", "1.1"):
        assert number in svg
    assert str(out) in capsys.readouterr().out


def test_cli_expr_dot_to_stdout(capsys):
    assert main(["expr", CAR, "--rankdir", "TB"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph") and "rankdir=TB" in out and "grad 2.2" in out


def test_cli_rankdir_in_either_case(tmp_path, capsys):
    # '--rankdir lr' was refused (a teacher's report): Graphviz's spelling is upper case
    assert main(["expr", CAR, "--rankdir", "tb"]) == 0
    assert "rankdir=TB" in capsys.readouterr().out
    page = tmp_path / "s.html"
    assert main(["steps", CAR, "-o", str(page), "--rankdir", "lr"]) == 0
    with pytest.raises(SystemExit) as e:
        main(["expr", CAR, "--rankdir", "up"])
    assert e.value.code == 2
    assert "invalid choice: 'up' (choose from LR, TB, RL, BT" in capsys.readouterr().err


def test_cli_injection_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["expr", "__import__('os').system('touch pwned')", "-o", str(tmp_path / "a.dot")])
    assert code == 2
    err = capsys.readouterr().err
    assert "not allowed" in err and "__import__" in err
    assert not os.path.exists(tmp_path / "pwned") and not os.path.exists(tmp_path / "a.dot")


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    assert main(["expr", CAR, "-o", str(tmp_path / "missing" / "a.svg")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["expr", CAR, "-o", str(tmp_path / "a.bmpx")]) == 2
    assert main(["steps", CAR]) == 2
    assert main(["steps", CAR, "-o", str(tmp_path / "a.svg")]) == 2
    assert main(["expr"]) == 2  # no expression: a message, not a traceback
    for argv in ([], ["nope"], ["expr", CAR, "--rankdir", "XX"], ["expr", CAR, "--collapse", "bogus"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2


@pytest.mark.parametrize("cmd", ["expr", "steps", "demo", "check"])
def test_an_unknown_option_gets_its_commands_usage(cmd, capsys):
    # was 'usage: gradviz [-h] [--version] COMMAND ...', which lists no option at all
    with pytest.raises(SystemExit) as e:
        main([cmd, "x=1", "--theme", "dark"] if cmd != "demo" else [cmd, "--theme", "dark"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: gradviz {cmd} ") and "Traceback" not in err
    assert f"gradviz {cmd}: error: unrecognized arguments: --theme dark" in err


@pytest.mark.parametrize("cmd", [[], ["expr"], ["steps"], ["demo"]])
def test_cli_help_for_every_subcommand(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main(cmd + ["--help"])
    assert e.value.code == 0
    assert "usage: gradviz" in capsys.readouterr().out


def test_cli_steps_text(capsys):
    assert main(["steps", CAR, "--text"]) == 0
    out = capsys.readouterr().out
    assert "step 1: total (op ×) has grad 1" in out
    assert "total: grad 1 × local 1.1 = 1.1 → price*count (running sum 1.1)" in out
    assert "dtotal/dprice = 2.2" in out


@needs_dot
def test_cli_steps_html(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["steps", CAR, "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'id="gv-data"' in page and "running sum 2.2" in page


@needs_dot
def test_cli_demo_writes_and_prints_paths(tmp_path, capsys):
    outdir = tmp_path / "out"
    assert main(["demo", "-o", str(outdir)]) == 0
    printed = capsys.readouterr().out
    for name in ("car_tax.svg", "car_tax_steps.html", "part_lifetime.svg"):
        assert (outdir / name).exists() and str(outdir / name) in printed
    assert "0.8676" in printed
    losses = [float(line.split("loss")[1]) for line in printed.splitlines()
              if line.strip().startswith("step ")]
    assert len(losses) >= 3 and all(b < a for a, b in itertools.pairwise(losses))
    assert "0.8676" in (outdir / "part_lifetime.svg").read_text(encoding="utf-8")


def test_cli_demo_parent_missing(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "a" / "b")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_script_runs():
    exe = shutil.which("gradviz", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "gradviz.viz.cli"]
    res = subprocess.run(cmd + ["expr", "x=2; y=x*x"], capture_output=True, text=True)
    assert res.returncode == 0 and "digraph" in res.stdout
    res = subprocess.run(cmd + ["expr", "y=().__class__"], capture_output=True, text=True)
    assert res.returncode == 2 and "not allowed" in res.stderr


# --- NAME=VALUE: other values without editing the expression ------------------
def test_inputs_give_new_names_and_replace_numbers_the_program_sets():
    root, names = build("y = tanh(x*w + b)", {"x": 0.5, "w": -2, "b": 1})
    assert root.data == 0.0 and [names[k].data for k in "xwb"] == [0.5, -2.0, 1.0]
    root, names = build("price=15; count=2; tax=1.1; total=price*count*tax", {"count": 3})
    assert math.isclose(root.data, 49.5)
    from gradviz.autograd.graph import topological_order
    leaves = [n.label for n in topological_order([root]) if n.is_leaf]
    assert sorted(leaves) == ["count", "price", "tax"]
    order = sorted((names[k].creation_index, k) for k in ("price", "count", "tax"))
    assert [k for _, k in order] == ["price", "count", "tax"]  # the program's order, kept


@pytest.mark.parametrize("src,inputs,message", [
    ("a = 2; x = a * 2; y = x * x", {"x": 2}, "x is given a value (x=2) but computed here"),
    ("x = 1; y = x * x", {"z": 2}, "z=2: the expression never uses this name"),
    ("y = x * x", {"tanh": 1}, "'tanh' is a function name"),
    ("y = x * x", {"1x": 1}, "'1x' cannot be a name"),
    ("y = x * x", {"x": "one"}, "x: the value must be a number, got str"),
])
def test_inputs_that_cannot_be_right_are_refused(src, inputs, message):
    with pytest.raises(ExprError) as e:
        build(src, inputs)
    assert message in str(e.value)


def test_cli_takes_name_value_arguments_after_the_expression(tmp_path, capsys):
    assert main(["expr", "y = tanh(x*w + b)", "x=0.5", "w=-2", "b=1"]) == 0
    dot = capsys.readouterr().out
    assert "data 0.5" in dot and "data -2" in dot and "grad 0.5" in dot  # dy/dw = x at tanh'(0)
    src = tmp_path / "model.txt"
    src.write_text("x = 0.5\ny = tanh(x) * w\n", encoding="utf-8")
    assert main(["steps", "-f", str(src), "w=2", "x=1", "--text"]) == 0
    assert "dy/dw = 0.7616" in capsys.readouterr().out       # tanh(1), with x=1 from here
    assert main(["check", "y = tanh(x*x)", "x=0.3"]) == 0
    assert "all 3 checked edges agree" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["expr", "y", "=", "x*x"], "an expression with spaces goes in quotes"),
    (["expr", "y=x*x", "x=abc"], "x=abc: 'abc' is not a number"),
    (["expr", "y=x*x", "x=1", "x=2"], "x is given twice (x=1 and x=2)"),
    (["expr", "y=x*x", "x=1", "q=2"], "q=2: the expression never uses this name"),
    (["check", "y=x*x", "x"], "'x': expected NAME=VALUE"),
])
def test_cli_name_value_mistakes_are_messages(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_build_knows_the_users_ops_in_this_process():
    from gradviz.autograd import define_op
    from gradviz.autograd.testing import unregister_op
    from gradviz.viz.expr import FUNCTIONS, functions
    cube = define_op("cube_e", forward=lambda M, a: a * a * a,
                     deriv=lambda M, o, a: (3.0 * a * a,), rule=("d/da = 3a²",))
    scaled = define_op("scaled_e", forward=lambda M, a, k: k * a, deriv=lambda M, o, a, k: (k,),
                       params={"k": 2.0}, rule=("d/da = k",))
    hyp = define_op("hyp_e", forward=lambda M, a, b, p: (a * a + b * b) ** p,
                    deriv=lambda M, o, a, b, p: (2 * p * a * o / (a * a + b * b),
                                                 2 * p * b * o / (a * a + b * b)),
                    params={"p": 0.5}, rule=("d/da = 2pa·o/(a²+b²)", "d/db = 2pb·o/(a²+b²)"))
    try:
        z, _ = build("a = 3; b = 4; z = hyp_e(a, b) + hyp_e(a, b, 1) + hyp_e(a, 2 * b, p=0.5)")
        assert z.data == pytest.approx(5 + 25 + 73 ** 0.5) and z.parents[0].parents[0].op == "hyp_e"
        with pytest.raises(ExprError, match=r"hyp_e takes \(x1, x2, p\), got 1 positional"):
            build("a = 1; z = hyp_e(a)")
        y, names = build("x = 1.5; y = cube_e(x) + scaled_e(x) + scaled_e(x, 3) + scaled_e(x, k=4)")
        y.backward()
        assert y.data == pytest.approx(1.5 ** 3 + 1.5 * 9) and y.parents[1].op == "scaled_e"
        assert names["x"].grad == pytest.approx(3 * 1.5 ** 2 + 9)
        assert "cube_e" in functions() and "cube_e" not in FUNCTIONS  # the CLI's set: built-ins
        with pytest.raises(ExprError, match=r"scaled_e takes \(x, k\), got 3"):
            build("x = 1; y = scaled_e(x, 1, 2)")
        with pytest.raises(ExprError, match="'cube_e' is a function name"):
            build("cube_e = 2; y = cube_e * 2")
    finally:
        unregister_op(cube)
        unregister_op(scaled)
        unregister_op(hyp)
    with pytest.raises(ExprError, match="a call of 'cube_e'"):
        build("x = 1; y = cube_e(x)")


def test_gradviz_check_runs_without_hypothesis(tmp_path):
    # the demo's setup installs the runtime only; `gradviz check` is gradcheck, not hypothesis
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "from gradviz.viz.cli import main\n"
            "sys.exit(main(['check', '--dtype', 'float32', 'x=0.5; y=x*3']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "the 1 checked edge agrees (float32)" in r.stdout
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import gradviz.autograd.testing\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "autograd.testing (strategies, check_op) needs hypothesis: pip install" in r.stderr
