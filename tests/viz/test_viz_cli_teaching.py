"""The command line as a teacher meets it (issue 11) and as an adversarial user
does (issue 13): input from files and stdin, messages in the CLI's words, no
tracebacks, consoles that are not UTF-8, PNG resolution."""
import importlib
import inspect
import io
import os
import re
import struct
import subprocess
import sys
from importlib.metadata import version

import pytest

from gradviz.viz.cli import main

steps_mod = importlib.import_module("gradviz.viz.steps")  # the module, not viz.steps()

CAR = "price=15; count=2; tax=1.1; total=price*count*tax"
PYTHON_WORDS = re.compile(r"\b[a-z_]+=(None|True|False|'|\"|\d)")


def run(*args, env=None, stdin=None):
    """The installed console script in a subprocess: (exit code, stdout, stderr) as bytes."""
    exe = os.path.join(os.path.dirname(sys.executable), "gradviz")
    full_env = dict(os.environ, **(env or {}))
    res = subprocess.run([exe, *args], capture_output=True, input=stdin, env=full_env,
                         timeout=120)
    return res.returncode, res.stdout, res.stderr


# --- issue 11 item 4 ---------------------------------------------------------------
def test_collapse_takes_a_number(capsys):
    assert main(["expr", "x=2; y=x*x", "--collapse", "2"]) == 0
    assert capsys.readouterr().out.startswith("digraph")
    assert main(["expr", "x=2; y=x*x", "--collapse", "module:2"]) == 0
    capsys.readouterr()
    for bad in ("0", "-1", "bogus", "module:0"):
        with pytest.raises(SystemExit) as e:
            main(["expr", "x=2; y=x*x", "--collapse", bad])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "--collapse" in err and "module:N" in err and not PYTHON_WORDS.search(err)


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradviz {version('gradviz-engine')}"


def test_expression_from_a_file_and_from_stdin(tmp_path, capsys, monkeypatch):
    assert main(["expr", CAR]) == 0
    inline = capsys.readouterr().out
    prog = tmp_path / "car.txt"
    prog.write_text("# the car tax\nprice = 15\ncount = 2   # two cars\ntax = 1.1\n"
                    "total = price*count*tax\n", encoding="utf-8")
    assert main(["expr", "-f", str(prog)]) == 0
    from_file = capsys.readouterr().out
    assert "grad 2.2" in from_file and from_file.count("->") == inline.count("->")
    for argv in (["expr", "-"], ["expr", "-f", "-"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(CAR + "\n"))
        assert main(argv) == 0
        assert capsys.readouterr().out == inline
    code, out, err = run("expr", "-", stdin=CAR.encode())
    assert code == 0 and out.decode() == inline and not err


def test_file_syntax_error_points_at_the_files_line_and_column(tmp_path, capsys):
    prog = tmp_path / "bad.txt"
    prog.write_text("x = 2\n# a comment\n\ny = x +* 3\nz = y\n", encoding="utf-8")
    assert main(["expr", "-f", str(prog)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt" in err and "line 4, column 8" in err and "Traceback" not in err
    lines = err.splitlines()
    shown = next(i for i, ln in enumerate(lines) if ln.strip() == "y = x +* 3")
    assert lines[shown + 1].index("^") == lines[shown].index("*")
    # a refused construct in a file: same
    prog.write_text("x = 2\ny = x.real\n", encoding="utf-8")
    assert main(["expr", "-f", str(prog)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    shown = next(i for i, ln in enumerate(lines) if ln.strip() == "y = x.real")
    assert "line 2, column 5" in err and lines[shown + 1].index("^") == lines[shown].index("x.")


@pytest.mark.parametrize("kind", ["missing", "directory", "not utf-8"])
def test_unreadable_expression_file(tmp_path, capsys, kind):
    path = tmp_path / "prog.txt"
    if kind == "directory":
        path.mkdir()
    elif kind == "not utf-8":
        path.write_bytes(b"x = 2 \xff\xfe")
    assert main(["expr", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err and err.count("\n") == 1


def test_both_or_neither_expression_sources(tmp_path, capsys):
    assert main(["expr", CAR, "-f", str(tmp_path / "x")]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["expr"]) == 2
    assert "-f FILE" in capsys.readouterr().err


def test_inf_and_nan_give_one_warning_naming_the_first_node(capsys):
    assert main(["expr", "x=2; a=x/0; b=a*0; c=b+1"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("digraph")
    warns = [ln for ln in cap.err.splitlines() if "warning" in ln]
    assert len(warns) == 1 and "'a'" in warns[0] and "inf" in warns[0], cap.err
    assert main(["expr", "x=0; y=sqrt(x)+1"]) == 0  # finite values, infinite gradient
    err = capsys.readouterr().err
    assert "warning" in err and "gradient of 'x' is inf" in err
    assert main(["expr", CAR]) == 0
    assert capsys.readouterr().err == ""
    assert main(["expr", "x=1; tanh(x)/0"]) == 0  # an unnamed node: its diagram name
    assert "'tanh(x)/0' (op /) is inf" in capsys.readouterr().err


def test_steps_text_uses_the_diagrams_names_and_literals_are_constants(capsys):
    """The printed pass names unlabelled results as the diagram does (never
    v<i> or #N when the expression is short) and a number inside an
    expression is a constant inside its op, as in Python: no node, no
    gradient for it in the summary or picture."""
    assert main(["steps", "x=3; y=tanh(x*2)+1", "--text"]) == 0
    out = capsys.readouterr().out
    assert "step 2: tanh(x*2) (op tanh)" in out and "x*2 (op ×)" in out
    assert out.rstrip().splitlines()[-1].startswith("gradients: dy/dx = ")
    assert main(["steps", "x=3; x*x*2", "--text"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("gradients: d(x*x*2)/dx = 12")
    assert main(["expr", "x=3; y=tanh(x*2)+1"]) == 0
    src = capsys.readouterr().out
    from gradviz import viz
    const_lines = [ln for ln in src.splitlines() if viz.dot.COLOURS["const"][0] in ln]
    values = re.findall(r"^\s*n\d+ \[label", src, re.M)
    assert const_lines == [] and len(values) == 4  # x, x*2, tanh(x*2), y: no node for 2 or 1
    assert "d/dx = c (c=2)" in src and "d/d(tanh(x*2)) = 1 (c=1)" in src


def test_printed_gradients_bracket_what_the_edge_rules_bracket(capsys):
    """A name is bare after d as on the edges (d/dy₁, d/dθ′) and anything that
    reads as an expression is in parentheses: str.isidentifier took x·w for a
    name (Python lets · into names) and y₁ for none."""
    assert main(["steps", "x=2; y=x*3; y=y*y", "--text"]) == 0
    out = capsys.readouterr().out
    assert "backward seeds dy₁/dy₁ = 1" in out and "gradients: dy₁/dx = 36" in out
    from gradviz.viz.cli import _d
    assert _d("x·w") == "(x·w)" and _d("x*w") == "(x*w)" and _d("θ′") == "θ′"
    assert _d("y = x") == "y" and _d("y = x", newest=False) == "x"
    assert _d("y₁ = x₂", newest=False) == "x₂" and _d("") == "()"


def _closed_pipe_run(cmd):
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first write: every write is EPIPE
    try:
        res = subprocess.run(cmd, stdout=w, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(w)
    return res


@pytest.mark.parametrize("cmd", [
    ["-m", "gradviz.viz.cli", "expr", CAR],
    ["-m", "gradviz.viz.cli", "steps", "--text", CAR],
    ["-m", "gradviz.autograd"],
])
def test_a_closed_pipe_ends_quietly(cmd):
    res = _closed_pipe_run([sys.executable, *cmd])
    assert res.stderr == b"" and res.returncode == 1


def _messages(tmp_path, monkeypatch):
    """stderr of many mistakes (and warnings), each command in its own run."""
    big_sum = "x=1; s0=x; " + "; ".join(f"s{i + 1}=s{i}" + "+x" * 99 for i in range(66))
    deep = "x=1; y=x" + "+x" * 300
    page = str(tmp_path / "p.html")
    cases = [["steps", CAR], ["steps", CAR, "-o", str(tmp_path / "p.svg")],
             ["expr", CAR, "-o", str(tmp_path)], ["expr", CAR, "-o", str(tmp_path / "a.bmp")],
             ["expr", CAR, "-o", str(tmp_path / "no" / "a.svg")], ["demo", "-o", __file__],
             ["expr", CAR, "--dpi", "300"], ["expr", big_sum], ["steps", deep, "-o", page],
             ["expr", "x=2; y=leaky_relu(x, 0.3, alpha=0.2)"], ["expr", "x=2; y=x/0"]]
    out = []
    for argv in cases:
        with monkeypatch.context():
            buf = io.StringIO()
            monkeypatch.setattr(sys, "stderr", buf)
            monkeypatch.setattr(sys, "stdout", io.StringIO())
            code = main(argv)
        out.append((argv, code, buf.getvalue()))
    return out


def test_messages_use_cli_words_once_prefixed(tmp_path, monkeypatch):
    for argv, code, err in _messages(tmp_path, monkeypatch):
        assert err, argv
        assert "Traceback" not in err, (argv, err)
        said = [ln for ln in err.splitlines() if ln.startswith("gradviz")]  # not echoed input
        assert said and not any(PYTHON_WORDS.search(ln) for ln in said), (argv, err)
        for cmd in ("steps", "expr", "demo", "draw", "render", "steps_html", "viz"):
            assert f"{cmd}: {cmd}:" not in err, (argv, err)
        for line in err.splitlines():
            if line.startswith("gradviz"):
                assert re.match(r"gradviz (expr|steps|demo): (?!(viz|draw|render|steps_html|"
                                r"steps|expr|demo|collapse):)", line), line
        assert code in (0, 2), (argv, code, err)


def test_bad_output_paths_exit_2(tmp_path, capsys):
    assert main(["expr", CAR, "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    (tmp_path / "x.svg").mkdir()
    assert main(["expr", CAR, "-o", str(tmp_path / "x.svg")]) == 2
    assert "is a directory" in capsys.readouterr().err
    afile = tmp_path / "f.txt"
    afile.write_text("keep me")
    assert main(["demo", "-o", str(afile)]) == 2
    assert "is a file" in capsys.readouterr().err and afile.read_text() == "keep me"
    assert main(["steps", CAR, "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ascii"])
def test_a_console_that_is_not_utf8(tmp_path, encoding):
    # the console's encoding only (the command line itself arrives as text, as on Windows)
    env = {"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    code, out, err = run("steps", "--text", "x=2; y=tanh(x*x)", env=env)
    assert code == 0 and b"Traceback" not in err
    text = out.decode(encoding)
    assert "step 1:" in text and "dy/dx" in text and "→" not in text and "->" in text
    code, out, err = run("expr", "σ=2; y=σ*σ", env=env)  # DOT: character references
    assert code == 0 and b"Traceback" not in err
    svg = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, check=True).stdout
    assert "σ" in svg.decode("utf-8")
    code, out, err = run("expr", "σ=2; y=σ.real", env=env)  # a message with a caret
    assert code == 2 and b"Traceback" not in err
    msg = err.decode(encoding)
    assert "not allowed" in msg and "^" in msg
    code, out, err = run("expr", "x=2; y=x*x", "-o", str(tmp_path / "é日.dot"), env=env)
    assert code == 0 and b"Traceback" not in err and (tmp_path / "é日.dot").exists()


def _png_size(path) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_png_resolution(tmp_path, capsys):
    from gradviz.viz import render
    from gradviz.viz.expr import build
    root, _ = build("x=2; y=x*x")
    root.backward()
    plain = render(root, tmp_path / "plain.png", dpi=96)  # Graphviz's own 96 dpi
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "default.png")]) == 0
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "96.png"), "--dpi", "96"]) == 0
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "s1.png"), "--scale", "1"]) == 0
    w0, h0 = _png_size(plain)
    w, h = _png_size(tmp_path / "default.png")  # 192 dpi: twice Graphviz's size each way
    assert abs(w / w0 - 2) < 0.03 and abs(h / h0 - 2) < 0.05
    assert _png_size(tmp_path / "96.png") == _png_size(tmp_path / "s1.png")
    w96, _ = _png_size(tmp_path / "96.png")
    assert abs(w / w96 - 2) < 0.03
    capsys.readouterr()
    for argv in (["--dpi", "0"], ["--dpi", "x"], ["--dpi", "96", "--scale", "1"]):
        with pytest.raises(SystemExit):
            main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "e.png"), *argv])
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "e.svg"), "--dpi", "96"]) == 2
    assert "only" in capsys.readouterr().err


def test_svg_keeps_text_as_text(tmp_path):
    assert main(["expr", CAR, "-o", str(tmp_path / "car.svg")]) == 0
    svg = (tmp_path / "car.svg").read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for want in ("price", "grad 2.2", "data 33", "d/dprice = count"):
        assert want in texts


# --- issue 9 item 7: gradviz steps options -------------------------------------------
def test_steps_forwards_collapse_rankdir_forward(tmp_path, capsys, monkeypatch):
    got = {}

    def fake(root, path, *, title=None, collapse=None, rankdir=None, forward=True):
        got.update(collapse=collapse, rankdir=rankdir, forward=forward, title=title)
        return str(path)
    monkeypatch.setattr(steps_mod, "steps_html", fake)
    page = str(tmp_path / "p.html")
    assert main(["steps", CAR, "-o", page, "--collapse", "2", "--rankdir", "TB",
                 "--no-forward", "--title", "T"]) == 0
    assert got == {"collapse": 2, "rankdir": "TB", "forward": False, "title": "T"}
    got.clear()
    assert main(["steps", CAR, "-o", page, "--collapse", "repeat", "--forward"]) == 0
    assert got == {"collapse": "repeat", "rankdir": None, "forward": True, "title": None}
    got.clear()
    assert main(["steps", CAR, "-o", page]) == 0  # unset options: the page's defaults
    assert got == {"collapse": None, "rankdir": None, "forward": True, "title": None}
    capsys.readouterr()

    def older(root, path, *, title=None, rankdir="LR"):
        got.update(rankdir=rankdir)
        return str(path)
    monkeypatch.setattr(steps_mod, "steps_html", older)
    got.clear()
    assert main(["steps", CAR, "-o", page, "--collapse", "2", "--rankdir", "TB"]) == 0
    err = capsys.readouterr().err
    assert got == {"rankdir": "TB"} and "--collapse is not supported" in err


def test_steps_page_with_real_options(tmp_path, capsys):
    page = tmp_path / "p.html"
    assert main(["steps", CAR, "-o", str(page), "--rankdir", "TB"]) == 0
    assert "running sum 2.2" in page.read_text(encoding="utf-8")
    params = inspect.signature(steps_mod.steps_html).parameters
    assert "rankdir" in params


def test_steps_text_does_not_keep_a_copy_per_step(capsys):
    # the terminal view prints as the pass runs: grads are the pass's own
    assert main(["steps", "--text", "x=3; y=x*x*x"]) == 0
    out = capsys.readouterr().out
    assert "dy/dx = 27" in out


# --- issue 13 items 15-17: labels that used to crash ---------------------------------
def test_a_17000_character_name_renders(tmp_path, capsys):
    name = "a" * 17_000
    for ext in (".svg", ".dot"):
        out = tmp_path / f"long{ext}"
        assert main(["expr", f"{name} = 2; y = {name[:5]} = 3" if False else f"{name}=2",
                     "-o", str(out)]) == 0, capsys.readouterr().err
        text = out.read_text(encoding="utf-8")
        assert "17000 characters" in text and len(text) < 20_000


def test_backslash_sequences_show_as_typed(tmp_path):
    assert main(["expr", "x=2; y=x*x", "-o", str(tmp_path / "plain.svg")]) == 0
    from gradviz import Value, viz
    x = Value(2.0, label="a\\N b\\G c\\\\d")
    y = x * x
    y.backward()
    svg = open(viz.render(y, tmp_path / "bs.svg"), encoding="utf-8").read()
    assert "a\\N b\\G c\\\\d" in svg and "gradviz" not in re.findall(r"<text[^>]*>([^<]*)<", svg)
