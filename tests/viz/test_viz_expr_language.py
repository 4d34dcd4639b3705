"""The expression language builds the graph Python builds, names every node
apart, and says what is wrong in its own words (user reports: literals as
leaves, 'used before it is assigned' for a name with no value, aliases and
reassignments, Python's syntax hints, step_text's 'node', --import, the
check message of '/')."""
import subprocess
import sys

import pytest

from gradviz import Value, viz
from gradviz.autograd.check import check_nodes
from gradviz.autograd.graph import topological_order
from gradviz.viz.cli import main
from gradviz.viz.expr import ExprError, build


def _ops(root):
    """(op key, params) of every op node, in topological order."""
    return [(n.op_info.key, dict(n.op_info.params)) for n in topological_order([root])
            if not n.is_leaf]


# --- 1. a number inside an expression is a constant of its op, as in Python ----------
@pytest.mark.parametrize("text, python", [
    ("x*3", lambda x: x * 3), ("3*x", lambda x: 3 * x), ("x+1", lambda x: x + 1),
    ("1+x", lambda x: 1 + x), ("x-1", lambda x: x - 1), ("1-x", lambda x: 1 - x),
    ("x**2", lambda x: x ** 2), ("2**x", lambda x: 2 ** x), ("x/2", lambda x: x / 2),
    ("3/x", lambda x: 3 / x), ("x*-3", lambda x: x * -3), ("2*3*x", lambda x: 2 * 3 * x),
    ("x**0.5 + 2*x - 1", lambda x: x ** 0.5 + 2 * x - 1),
])
def test_numbers_build_the_same_graph_as_python(text, python):
    y, env = build(f"x=2; y={text}")
    x = Value(2.0, label="x")
    expected = python(x)
    assert _ops(y) == _ops(expected)
    leaves = [n for n in topological_order([y]) if n.is_leaf]
    assert leaves == [env["x"]]  # no leaf for any number
    y.backward()
    expected.backward()
    assert y.data == pytest.approx(expected.data) and env["x"].grad == pytest.approx(x.grad)


def test_x_times_3_steps_and_draws_one_node(capsys):
    assert main(["steps", "x=2; y=x*3", "--text"]) == 0
    out = capsys.readouterr().out
    assert "→ 3" not in out and "→ x (running sum 3)   [d/dx = c (c=3)]" in out
    assert main(["expr", "x=2; y=x*3"]) == 0
    dot = capsys.readouterr().out
    assert "data 3" not in dot and "d/db" not in dot and "d/dx = c (c=3)" in dot


def test_numbers_alone_make_a_number_and_functions_of_numbers_are_constants():
    y, env = build("c = 2*3; x = 1/0; y = c*tanh(2)")
    assert env["c"].data == 6.0 and env["c"].is_leaf and env["c"].label == "c"
    assert env["x"].data == float("inf") and env["x"].is_leaf  # the engine's float rules
    t = y.parents[1]
    assert t.op == "tanh" and not t.parents[0].requires_grad  # Value(2, requires_grad=False)


def test_check_perturbs_no_constant(capsys):
    assert main(["check", "x=0.7; y=2**x + 3/x - x**2"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if "[in " in ln]
    assert len(rows) == 7 and all(ln.endswith(" ok") for ln in rows)  # 3 one-input ops, 2 two
    assert "all 7 checked edges agree" in out
    assert main(["check", "x=0.7; y=3*x", "--dtype", "float32"]) == 0
    assert "the 1 checked edge agrees (float32)" in capsys.readouterr().out


# --- 2. a name without a value ---------------------------------------------------------
@pytest.mark.parametrize("src, says", [
    ("x=2; y=x**0.5 + pi", ["'pi' is not a built-in constant", "pi=3.14159"]),
    ("y=x*2", ["the name 'x' has no value", "(x=2)", "x = 2;"]),
    ("y=x*2; x=3", ["'x' is read before the statement that assigns it"]),
    ("x=2; y=tanh*x", ["'tanh' is a function: call it"]),
])
def test_a_name_without_a_value_says_how_to_give_one(src, says, capsys):
    assert main(["steps", src, "--text"]) == 2
    err = capsys.readouterr().err
    assert "used before it is assigned" not in err and "not allowed" not in err
    assert all(s in err for s in says), err
    assert "Traceback" not in err


def test_the_cli_help_says_there_are_no_built_in_constants(capsys):
    with pytest.raises(SystemExit):
        main(["expr", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "no built-in constants" in out and "--import" in out


# --- 3. aliases and reassignments keep every name, and no two nodes share one ---------
def test_an_alias_adds_its_name(capsys):
    for src in ("x=2; y=+x", "x=2; y=x"):
        y, env = build(src)
        assert y is env["x"] and y.label == "y = x"
        assert main(["steps", src, "--text"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("forward: y = x = 2; backward seeds dy/dy = 1")
        assert "gradients: dy/dx = 1" in out
    z, _ = build("x=2; y=x; z=y")
    assert z.label == "z = y = x"
    w, _ = build("x=2; y=x; w=y*y")
    assert w.label == "w" and w.parents[0].label == "y = x"


def test_a_reassigned_name_and_a_repeated_text_are_named_apart(capsys, tmp_path):
    y, env = build("x=2; x=x*3; y=x+1")
    assert env["x"].label == "x₁" and env["x"].parents[0].label == "x"
    assert main(["steps", "x=2; x=x*3; y=x+1", "--text"]) == 0
    out = capsys.readouterr().out
    assert "step 2: x₁ (op ×)" in out and "→ x₁ (running sum 1)" in out
    assert main(["expr", "x=2; x=x*3; y=x+1"]) == 0
    assert "x₁" in capsys.readouterr().out
    page = tmp_path / "p.html"
    assert main(["steps", "x=2; x=x*3; y=x+1", "-o", str(page)]) == 0
    assert "x₁" in page.read_text(encoding="utf-8")
    y, _ = build("x=2; y=exp(x)*exp(x)*exp(x)")
    exps = [n.label for n in topological_order([y]) if n.op == "exp"]
    assert len(exps) == 3 and sorted(exps) == ["exp(x)", "exp(x)₁", "exp(x)₂"]


def test_a_repeated_compound_text_is_bracketed_before_its_subscript():
    # y*w₁ read as y times w₁ (a teacher's report): the subscript names the whole text
    y, _ = build("y=0.1; w=0.9; b=0.05; y=tanh(y*w + b); y=tanh(y*w + b)")
    labels = [n.label for n in topological_order([y])]
    assert labels == ["y", "w", "y*w", "b", "y*w + b", "y₁", "(y*w)₁", "(y*w + b)₁", "y₂"]
    t, _ = build("x=2; w=3; t=x*w + x*w")
    assert [p.label for p in t.parents] == ["x*w", "(x*w)₁"]
    z, _ = build("x=1; z=-x*2 + -x*2")
    assert "(-x)₁" in [n.label for n in topological_order([z])]
    x, _ = build("x₁=1; x₁=x₁*2")  # not x₁₁ (x eleven)
    assert x.label == "(x₁)₁"
    e, _ = build("x=1; e=exp(x)*exp(x) + exp(log(x))*exp(log(x))")  # a call stays bare
    names = [n.label for n in topological_order([e])]
    assert "exp(x)₁" in names and "exp(log(x))₁" in names
    # in a rule, the bracketed name is already one operand: d/d(y*w)₁, not d/d((y*w)₁)
    src = viz.draw(y).source
    assert "d/d(y*w)₁ = 1" in src and "((y*w)₁)" not in src


def test_names_with_subscripts_superscripts_and_primes(capsys, tmp_path):
    # the tool names a reassigned node x₁, and a lecturer writes x₁, w₁ on the board:
    # such names were a syntax error ("invalid character '₁'")
    src = "x₁=2; w₁=3; θ′=0.5; z=x₁*w₁ + θ′*x₁; w²=z*z"
    y, env = build(src)
    assert sorted(env) == ["w²", "w₁", "x₁", "z", "θ′"]  # the user's spelling
    assert y.label == "w²" and env["x₁"].label == "x₁" and env["θ′"].label == "θ′"
    y.backward()
    assert env["x₁"].grad == 2 * 7.0 * (3 + 0.5)
    assert [n.label for n in env["z"].parents] == ["x₁*w₁", "θ′*x₁"]  # source text
    assert main(["steps", src, "--text"]) == 0
    out = capsys.readouterr().out
    assert "dw²/dx₁ = 49" in out and "dw²/dθ′ = 28" in out  # the printed gradients
    page = tmp_path / "p.html"
    assert main(["steps", src, "-o", str(page)]) == 0
    assert "x₁" in page.read_text(encoding="utf-8")
    svg = tmp_path / "a.svg"
    assert main(["expr", "x₁=2; w₁=3; z=x₁*w₁", "-o", str(svg)]) == 0
    assert "w₁" in svg.read_text(encoding="utf-8")
    # the command line's values, too; a name assigned again gets the next free subscript
    assert main(["expr", "z=x₁*w′", "x₁=3", "w′=2"]) == 0
    assert "x₁" in capsys.readouterr().out
    y, env = build("x₁=2; x=1; x=x*x₁")
    assert env["x"].label == "x₁'" and env["x₁"].label == "x₁"
    # messages quote names as typed, carets stay in place; x² for a power is pointed out
    with pytest.raises(ExprError) as e:
        build("x₁=2; y=x²+x₁")
    msg = str(e.value)
    assert "'x²' has no value (for a power write x**2)" in msg
    line, caret = msg.splitlines()[-2:]
    assert line[caret.index("^"):caret.rindex("^") + 1] == "x²"
    with pytest.raises(ExprError, match="invalid character '²'"):
        build("x₁=2; y=2²*x₁")  # a mark after a number is not a name


# --- 4. syntax hints in the language's words ---------------------------------------------
def test_a_comma_between_statements_suggests_a_semicolon():
    with pytest.raises(ExprError) as e:
        build("x=2, y=x*3")
    msg = str(e.value)
    assert "separated by ';'" in msg and "==" not in msg and ":=" not in msg
    line, caret = msg.splitlines()[-2:]
    assert line[caret.index("^")] == ","


@pytest.mark.parametrize("src, ch, says", [
    ("y = x·3", "·", "write * for multiplication"),
    ("x = 2; y = x × 3", "×", "write * for multiplication"),
    ("x = 2; y = x ÷ 3", "÷", "write / for division"),
    ("x = 2; y = x − 3", "−", "ASCII minus"),
])
def test_maths_symbols_suggest_the_operator(src, ch, says):
    with pytest.raises(ExprError) as e:
        build(src)
    msg = str(e.value)
    assert says in msg and "is used before" not in msg
    line, caret = msg.splitlines()[-2:]
    assert line[caret.index("^")] == ch


@pytest.mark.parametrize("src, says, pointed", [
    ("tax=1,1; y=tax*2", "the decimal separator is '.' (1.1)", ","),
    ("x=2; y=x*1,25+3", "the decimal separator is '.' (1.25)", ","),
    ("x=2; y=2x", "write 2*x to multiply", "2x"),
    ("w₁=2; y=1+0.5w₁", "write 0.5*w₁ to multiply", "0.5w₁"),
    ("x=2; y=x*1e3x", "write 1e3*x to multiply", "1e3x"),
])
def test_common_slips_get_a_hint(src, says, pointed):
    # a decimal comma ("not allowed: Tuple syntax") and 2x for a product ("invalid
    # decimal literal"): Python's words, not the slip's
    with pytest.raises(ExprError) as e:
        build(src)
    msg = str(e.value)
    assert says in msg and "Tuple" not in msg and "literal" not in msg, msg
    line, caret = msg.splitlines()[-2:]
    assert line[caret.index("^"):caret.rindex("^") + 1] == pointed


def test_the_other_commands_file_names_the_command(tmp_path, capsys):
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "car.html")]) == 2
    err = capsys.readouterr().err
    assert "step-through page (.html) is written by gradviz steps" in err
    assert main(["steps", "x=2; y=x*x", "-o", str(tmp_path / "car.svg")]) == 2
    assert "a diagram is written by gradviz expr" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_other_syntax_errors_drop_pythons_advice():
    with pytest.raises(ExprError) as e:
        build("x = 2; y = (x = 3)")
    assert "Maybe you meant" not in str(e.value) and "syntax error" in str(e.value)


# --- 5. step_text names nodes as the diagrams do ---------------------------------------
def test_step_text_uses_the_diagrams_names():
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2, b = Value(0.0, label="x2"), Value(1.0, label="w2"), Value(6.88, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    names = {it.node: it.name for it in viz.model.build(o).values}
    text = "\n".join(line for s in o.backward_steps() for line in viz.step_text(s))
    assert "node" not in text
    assert f"step 1: {names[o]} (op tanh)" in text and "→ x1*w1 (running sum" in text
    from gradviz.viz.steps import record_steps
    _, recorded = record_steps(o)  # the step page's own text
    assert [ln for s in recorded for ln in s.lines] == text.splitlines()


# --- 6. --import a user's ops ----------------------------------------------------------
CUBE = """from gradviz import autograd
cube_{tag} = autograd.define_op("cube_{tag}", forward=lambda M, a: a * a * a,
    deriv=lambda M, out, a: ({k} * a * a,), rule=("d/da = 3a²",))
"""


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "gradviz.viz.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_check_imports_a_file_or_a_module_with_the_users_ops(tmp_path):
    (tmp_path / "good_ops.py").write_text(CUBE.format(tag="g", k="3.0"))
    (tmp_path / "bad_ops.py").write_text(CUBE.format(tag="b", k="2.0"))
    r = _run(["check", "x=0.5; y=cube_g(x)", "--import", "good_ops.py"], tmp_path)
    assert r.returncode == 0 and "the 1 checked edge agrees" in r.stdout, r.stderr
    r = _run(["check", "x=0.5; y=cube_g(x)", "--import", "good_ops"], tmp_path)  # a module
    assert r.returncode == 0, r.stderr
    r = _run(["check", "x=0.5; y=cube_b(x)", "--import", str(tmp_path / "bad_ops.py")],
             tmp_path)
    assert r.returncode == 1 and "mismatch" in r.stdout
    r = _run(["steps", "x=0.5; y=cube_g(x)", "--text", "--import", "good_ops.py"], tmp_path)
    assert r.returncode == 0 and "gradients: dy/dx = 0.75" in r.stdout
    r = _run(["check", "x=0.5; y=cube_g(x)"], tmp_path)  # not imported: not known
    assert r.returncode == 2 and "--import" in r.stderr


@pytest.mark.parametrize("name, body, says", [
    ("missing.py", None, "--import missing.py: no such file"),
    ("no_such_module", None, "no module named 'no_such_module'"),
    ("broken.py", "raise RuntimeError('oops\\nmore')", "RuntimeError: oops more"),
    ("syntax.py", "def f(:\n", "syntax error (line 1)"),
    ("exits.py", "import sys; sys.exit(3)", "SystemExit: 3"),
])
def test_a_failing_import_is_one_line_and_exit_2(tmp_path, name, body, says):
    if body is not None:
        (tmp_path / name).write_text(body)
    r = _run(["check", "x=1; y=x*x", "--import", name], tmp_path)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_python_m_autograd_takes_options(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "gradviz.autograd", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    r = run("--help")
    assert r.returncode == 0 and "--op NAME" in r.stdout and "| op |" not in r.stdout
    r = run("--op", "tanh")
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and len(lines) == 3 and lines[2].startswith("| `tanh`")
    r = run("--op", "nope")
    assert r.returncode == 2 and "no op 'nope'" in r.stderr
    (tmp_path / "ops.py").write_text(CUBE.format(tag="m", k="3.0"))
    r = run("--import", "ops.py", "--op", "cube_m")
    assert r.returncode == 0 and "| `cube_m`" in r.stdout
    r = run()
    assert r.returncode == 0 and r.stdout.startswith("# Op reference")


# --- 7. the check message for '/' -------------------------------------------------------
def test_the_check_message_reads_well_for_division(capsys, monkeypatch):
    # a division rule with a planted bug (d/da doubled), so that '/' is the op named
    from gradviz.autograd.kernel import FLOAT, kernel
    k = kernel("div", FLOAT)
    right = k.vjp
    monkeypatch.setattr(k, "vjp", lambda n, g: tuple(c * 2.0 if i == 0 else c
                                                     for i, c in enumerate(right(n, g))))
    assert main(["check", "x=3; y=x/(x-2)"]) == 1
    out = capsys.readouterr().out
    assert "d //d" not in out and "d(out)/d(input 0) of '/' alone" in out
    x = Value(3.0, label="x")
    assert "d(out)/d(input 0) of '/'" in check_nodes(x / (x - 2)).message()


def test_a_users_op_that_cannot_run_on_values_is_one_line_with_a_caret():
    from gradviz.autograd import define_op
    from gradviz.autograd.testing import unregister_op
    op = define_op("lse_rows_t", forward=lambda M, a: a.max(axis=-1),
                   vjp=lambda M, g, out, a: (g,))
    try:
        with pytest.raises(ExprError, match=r"lse_rows_t\(\.\.\.\) failed: op 'lse_rows_t': its "
                                            r"forward failed on Values") as info:
            build("x=0.7; y=lse_rows_t(x)")
        assert "^" in str(info.value)
        assert main(["check", "x=0.7; y=lse_rows_t(x)"]) == 2  # a usage error, not a mismatch
    finally:
        unregister_op(op)
