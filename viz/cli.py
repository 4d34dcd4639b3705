"""The ``gradviz`` command line.

    gradviz expr "price=15; count=2; tax=1.1; total=price*count*tax" -o car_tax.svg
    gradviz expr -f model.txt -o model.tex          # the expression from a file
    echo "x=2; y=x*x" | gradviz expr - -o y.png      # ... or from stdin
    gradviz steps "price=15; count=2; tax=1.1; total=price*count*tax" -o car_tax.html
    gradviz steps "x=2; y=tanh(x*x)" --text
    gradviz check "x=0.5; y=cube(x)" --import my_ops.py   # your own define_op ops
    gradviz demo [-o out]

Exit codes: 0 done, 1 the environment is missing something (Graphviz ``dot``,
TeX's absence does not matter: ``.tex`` needs only ``dot``) or the reader of
the output went away (``gradviz ... | head``: quietly), 2 a usage error (bad
arguments, an expression the language does not allow, a file that cannot be
read, an output path that cannot be written, a graph Graphviz cannot lay
out). No Python traceback for any of these; messages use the command line's
words (``--collapse repeat``), never a Python keyword.

Output that the console cannot encode (a latin-1 or cp1252 terminal)
degrades: DOT text uses character references (``&#215;``, which Graphviz
reads back as ``×``), other text close ASCII spellings (``x``, ``->``) or ``?``.
"""
from __future__ import annotations

import argparse
import codecs
import contextlib
import inspect
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .args import RANKDIRS, check_output, positive, rankdir

__all__ = ["main"]

_EXPR_HELP = ("statements separated by ';' or new lines, e.g. \"price=15; count=2; tax=1.1; "
              "total=price*count*tax\": numbers, names, + - * / **, unary minus and the op "
              "table's functions (tanh(x), sigmoid(x), leaky_relu(x, 0.2), ...; your own with "
              "--import); the last statement is the output. A number inside an expression is "
              "a constant of its op, as in Python (x*3: one node, no gradient for 3); a name "
              "needs a value from an assignment or NAME=VALUE (there are no built-in "
              "constants: write pi=3.14159). '-' reads it from stdin; or use -f FILE")

_VALUES_HELP = ("values for the expression's names, to try others without editing it: "
                "gradviz expr \"y=tanh(x*w)\" x=0.5 w=2 (a name the expression sets to a "
                "number takes the value given here instead)")

#: Output formats of ``gradviz expr -o``.
FORMATS = (".svg", ".png", ".pdf", ".tex", ".dot", ".gv")
#: PNG resolution when neither --dpi nor --scale is given: sharp on a projector.
DEFAULT_DPI = 192
#: One unit of --scale: CSS pixels (96 per inch).
SCALE_DPI = 96


class _Usage(Exception):
    """A usage error: message, exit code 2."""


# --------------------------------------------------------------------------
# Consoles that are not UTF-8
# --------------------------------------------------------------------------
_ASCII = {"×": "x", "·": "*", "→": "->", "←": "<-", "÷": "/", "‖": "||", "√": "sqrt",
          "σ": "sigma", "α": "alpha", "β": "beta", "Σ": "sum", "²": "^2", "−": "-",
          "…": "...", "≤": "<=", "≥": ">=", "∞": "inf", "Φ": "Phi", "φ": "phi",
          "π": "pi",
          "∪": "u", "’": "'", "“": '"', "”": '"', "–": "-", "—": "--", "\u00a0": " "}


def _fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a close ASCII spelling, else ``?``."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(_ASCII.get(ch, "?") for ch in bad), err.end


codecs.register_error("gradviz-fallback", _fallback)


def _emit(text: str, stream: Any = None, errors: str = "gradviz-fallback") -> None:
    """Write ``text`` to ``stream`` (stdout) in what its encoding can show."""
    stream = sys.stdout if stream is None else stream
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
    except UnicodeEncodeError:
        text = text.encode(enc, errors).decode(enc)
    except LookupError:  # pragma: no cover - a stream with a made-up encoding
        pass
    stream.write(text)


def _emit_dot(text: str) -> None:
    """DOT text on stdout: UTF-8 as Graphviz expects, or, on a console that is
    not UTF-8, ASCII with character references (``&#963;``), which Graphviz
    reads back as the characters."""
    enc = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("_", "-")
    if enc not in ("utf-8", "utf8", "utf-8-sig"):
        text = text.encode("ascii", "xmlcharrefreplace").decode("ascii")
    _emit(text)


def _say(text: str) -> None:
    _emit(text + "\n")


def _tell(command: str, text: str) -> None:
    """A message on stderr, prefixed once with the command."""
    _emit(f"gradviz {command}: {_cli_words(text)}\n", sys.stderr)


def _warn(command: str, text: str) -> None:
    """A warning line (not an error: the command goes on)."""
    _emit(f"gradviz {command}: warning: {_cli_words(text)}\n", sys.stderr)


# --------------------------------------------------------------------------
# Library messages in the command line's words
# --------------------------------------------------------------------------
_PREFIX = re.compile(r"^(?:(?:viz|draw|render|steps_html|steps|draw_steps|collapse|"
                     r"render_tikz|tikz|expr|demo):\s+)+")
_OPTION = re.compile(r"\b(collapse|rankdir)=(['\"]?)([\w:]+)\2")
_PYONLY = re.compile(r",?\s*(?:or\s+)?(?:pass\s+)?\b(?:max_frames|max_nodes)=None"
                     r"(?:\s+to silence this)?", re.I)


def _cli_words(msg: str) -> str:
    """A library message as the command line says it: no function-name
    prefix (the command's own is added once), ``--collapse repeat`` instead
    of ``collapse='repeat'``, no advice only Python code can follow."""
    msg = _PREFIX.sub("", msg.strip())
    msg = _OPTION.sub(lambda m: f"--{m.group(1)} {m.group(3)}", msg)
    msg = _PYONLY.sub("", msg)
    msg = re.sub(r"\bleave collapse unset\b", "leave out --collapse", msg)
    msg = re.sub(r"\b[Pp]ass --", lambda m: ("Add" if m.group(0)[0] == "P" else "add") + " --",
                 msg)
    return msg


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------
def _collapse_arg(text: str) -> Any:
    """--collapse: 'module', 'module:N', 'repeat', 'none' (never, where the
    library collapses big graphs by itself) or a module depth N."""
    t = text.strip()
    if t in ("module", "repeat", "none"):
        return t
    m = re.fullmatch(r"(module:)?(\d+)", t)
    if m and int(m.group(2)) >= 1:
        return t if m.group(1) else int(m.group(2))
    raise argparse.ArgumentTypeError(
        f"expected module, module:N, repeat, none or a module depth N >= 1, got {text!r}")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("gradviz-engine")
    except Exception:  # running from a source tree that is not installed
        return "unknown (not installed)"


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", nargs="?", help=_EXPR_HELP)
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help=_VALUES_HELP)
    p.add_argument("-f", "--file", metavar="FILE",
                   help="read the expression from FILE ('-': stdin) instead of the command line")
    p.add_argument("--import", dest="imports", action="append", default=[],
                   metavar="MODULE_OR_FILE",
                   help="import a Python module by name (mypkg.ops) or run a .py file before "
                        "the expression is read, so that the ops it defines with "
                        "autograd.define_op can be called in the expression; repeatable")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gradviz",
        description="Draw computation graphs and step through backprop "
                    "(gradviz's autograd engine + Graphviz).",
        epilog="Run 'gradviz COMMAND --help' for a command's options.")
    ap.add_argument("--version", action="version", version=f"gradviz {_version()}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    e = sub.add_parser("expr", help="draw the graph of an expression, gradients included",
                       description="Parse an expression (no Python eval), backpropagate from "
                                   "its last statement and draw the graph.")
    _add_source(e)
    e.add_argument("-o", "--output", metavar="PATH",
                   help="output file: .svg .png .pdf (need Graphviz dot), .tex (a TikZ picture "
                        "for LaTeX, laid out by dot) or .dot .gv; default: DOT text on stdout")
    e.add_argument("--rankdir", type=rankdir, metavar="{" + ",".join(RANKDIRS) + "}",
                   help="layout direction: LR left to right, TB top to bottom "
                        "(default: chosen from the graph's shape)")
    e.add_argument("--no-grad", action="store_true", help="do not show gradients")
    e.add_argument("--no-edge-grads", action="store_true",
                   help="do not label edges with local derivatives")
    e.add_argument("--legend", action="store_true", help="draw the colour legend")
    e.add_argument("--collapse", metavar="HOW", type=_collapse_arg,
                   help="group nodes into boxes: 'repeat' (repeated structure), 'module' (one "
                        "box per nn module), 'module:N' or N (the first N levels of the "
                        "module path), 'none' (never); default: only graphs too big to lay "
                        "out are grouped, where this version does so")
    res = e.add_mutually_exclusive_group()
    res.add_argument("--dpi", type=positive(float, "a positive number of dots per inch"),
                     help=f"PNG resolution in dots per inch (default {DEFAULT_DPI}, sharp on a "
                          "projector; Graphviz's own is 96)")
    res.add_argument("--scale", type=positive(float, "a positive scale factor"),
                     help=f"PNG size as a multiple of {SCALE_DPI} dpi (--scale 2 is "
                          f"--dpi {2 * SCALE_DPI})")

    s = sub.add_parser("steps", help="step through backprop of an expression",
                       description="Parse an expression and write a self-contained HTML page "
                                   "that steps through its backward pass (or print the steps).")
    _add_source(s)
    s.add_argument("-o", "--output", metavar="PATH.html", help="the HTML page to write")
    s.add_argument("--text", action="store_true",
                   help="print the steps in the terminal instead (no browser needed)")
    s.add_argument("--rankdir", type=rankdir, metavar="{" + ",".join(RANKDIRS) + "}",
                   help="layout direction: LR left to right, TB top to bottom "
                        "(default: chosen from the graph's shape)")
    s.add_argument("--collapse", metavar="HOW", type=_collapse_arg,
                   help="step from box to box: 'repeat', 'module', 'module:N' or N "
                        "(see gradviz expr --help); default: every node")
    s.add_argument("--forward", action=argparse.BooleanOptionalAction, default=None,
                   help="the page first fills in values in the forward pass, then steps "
                        "backward (default: on)")
    s.add_argument("--title", help="page title (default: 'Backprop step by step: OUTPUT')")

    d = sub.add_parser("demo", help="write the car-tax diagram, its step page and the "
                                    "part-lifetime network into a directory",
                       description="Write out/car_tax.svg, out/car_tax_steps.html and "
                                   "out/part_lifetime.svg, run a small training run, and "
                                   "print where everything went.")
    d.add_argument("-o", "--outdir", default="out", metavar="DIR",
                   help="output directory (default ./out; created if missing)")
    from .check_report import add_parser as _add_check  # gradviz check (viz/check_report.py)
    _add_check(sub, _add_source)
    for command in sub.choices.values():  # whose usage an unknown option gets (see main)
        command.set_defaults(command_parser=command)
    return ap


# --------------------------------------------------------------------------
# Input and output paths
# --------------------------------------------------------------------------
def _source(a: argparse.Namespace) -> tuple[str, str, dict[str, float]]:
    """(expression text, where it came from: '' for the command line, the
    NAME=VALUE inputs)."""
    _import_user_code(getattr(a, "imports", None) or ())
    raw = list(getattr(a, "values", None) or ())
    if a.file is not None and a.expression is not None and _looks_like_value(a.expression):
        raw.insert(0, a.expression)  # with -f FILE, every positional argument is a value
        a.expression = None
    from .expr import parse_inputs
    inputs = parse_inputs(raw)
    text, origin = _text(a)
    return text, origin, inputs


def _looks_like_value(item: str) -> bool:
    """NAME=NUMBER (not a program such as "x=2; y=x*x")."""
    from .expr import ExprError, parse_inputs
    try:
        parse_inputs([item])
    except ExprError:
        return False
    return True


def _import_user_code(specs: Sequence[str]) -> None:
    """``--import``: each a module name or a .py file path, run in this
    process so that its ``define_op`` rows join the table
    (:func:`autograd.custom.import_ops`). Any failure is a usage error
    naming it and the exception (one line, no traceback)."""
    from ..autograd.custom import ImportOpsError, import_ops
    for spec in specs:
        try:
            import_ops(spec)
        except ImportOpsError as e:
            raise _Usage(str(e)) from None


def _text(a: argparse.Namespace) -> tuple[str, str]:
    given = [x for x in (a.expression, a.file) if x is not None]
    if len(given) != 1:
        raise _Usage("give the expression as an argument, '-' to read it from stdin, or "
                     "-f FILE" if not given else
                     "give the expression either as an argument or with -f FILE, not both")
    if a.file is None and a.expression != "-":
        return a.expression, ""
    path = a.file if a.file is not None else "-"
    if path == "-":
        try:
            return sys.stdin.read(), "stdin"
        except UnicodeDecodeError as e:
            raise _Usage(f"stdin is not text in {sys.stdin.encoding}: {e.reason}") from None
    if os.path.isdir(path):
        raise _Usage(f"-f {path}: is a directory, not a file")
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 22)
    except FileNotFoundError:
        raise _Usage(f"-f {path}: no such file") from None
    except OSError as e:
        raise _Usage(f"-f {path}: cannot read it ({e.strerror or e})") from None
    try:
        return raw.decode("utf-8-sig"), path
    except UnicodeDecodeError as e:
        raise _Usage(f"-f {path}: not UTF-8 text (byte {e.start})") from None


def _output_ok(path: str, exts: Sequence[str], what: str) -> str:
    try:
        return check_output(path, tuple(exts), what)
    except argparse.ArgumentTypeError as e:
        raise _Usage(str(e)) from None


def _build(text: str, origin: str, inputs: dict[str, float] | None = None):
    from .expr import ExprError, build
    try:
        return build(text, inputs)
    except ExprError as e:
        raise ExprError(f"{origin}: {e}" if origin else str(e)) from None


# --------------------------------------------------------------------------
# inf and nan
# --------------------------------------------------------------------------
def _named_order(root: Any) -> tuple[list, dict]:
    """The nodes reachable from ``root``, parents first, and the name each
    goes by in diagrams (its label, else a name from its expression such as
    ``x*w``, else ``v<i>``): the CLI's messages use the picture's names."""
    values = _named_items(root)
    return [it.node for it in values], {id(it.node): it.name for it in values}


def _named_items(root: Any) -> list:
    """The diagram's items (node and name) of ``root``'s graph, parents first."""
    from . import model
    return model.build(root, who="gradviz").values


def _d(name: str, newest: bool = True) -> str:
    """``name`` as it reads after a ``d`` (``dx``, ``d(x*w)``). A node with
    several names (``y = x``: an alias, see :mod:`viz.expr`) goes by its
    newest (the output: ``dy/dy``) or its oldest (an input: ``dy/dx``)."""
    from .model import _is_plain_name  # the edge rules' test: d/dx₁, d/d(x₁·w₁)

    def plain(n: str) -> bool:
        return bool(n) and _is_plain_name(n)
    names = name.split(" = ")
    if len(names) > 1 and all(plain(n) for n in names):
        name = names[0] if newest else names[-1]
    return name if plain(name) else f"({name})"


def _finite(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isfinite(x)
    except TypeError:
        import numpy as np
        return bool(np.all(np.isfinite(x)))


def _nonfinite_note(root: Any, with_grads: bool) -> str | None:
    """One line naming the first node whose value (forward order), else whose
    gradient (backward order), is inf or nan; None when all are finite."""
    from .text import fmt
    order, names = _named_order(root)

    def name(n: Any) -> str:
        return f"{names[id(n)]!r}" + (f" (op {n.op})" if n.op else "")
    for n in order:
        if not _finite(n.data):
            return (f"the value of {name(n)} is {fmt(n.data)}: the first inf or nan in the "
                    "forward pass; everything computed from it is suspect")
    if with_grads:
        for n in reversed(order):
            if not _finite(n.grad):
                return (f"the gradient of {name(n)} is {fmt(n.grad)}: the first inf or nan in "
                        "the backward pass")
    return None


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------
def _draw_options(a: argparse.Namespace) -> dict:
    opts: dict = {"show_grad": not a.no_grad, "show_edge_grads": not a.no_edge_grads,
                  "legend": a.legend, "collapse": a.collapse}
    if a.rankdir is not None:
        opts["rankdir"] = a.rankdir
    return opts


def _other_command(path: str, exts: Sequence[str], command: str, what: str) -> None:
    """``-o`` with the other command's kind of file (a page for ``expr``, a
    diagram for ``steps``): a usage error saying which command writes it."""
    if os.path.splitext(path)[1].lower() in exts:
        raise _Usage(f"{path!r}: {what} is written by gradviz {command}: "
                     f"gradviz {command} EXPRESSION -o {path}")


def _cmd_expr(a: argparse.Namespace) -> int:
    ext = None
    if a.output:
        _other_command(a.output, (".html", ".htm"), "steps", "a step-through page (.html)")
        ext = _output_ok(a.output, FORMATS, "use " + " ".join(FORMATS))
    if (a.dpi or a.scale) and ext != ".png":
        raise _Usage(f"--{'dpi' if a.dpi else 'scale'} applies to .png output only"
                     + (f", not {ext}" if ext else ""))
    text, origin, inputs = _source(a)
    root, _ = _build(text, origin, inputs)
    root.backward()
    note = _nonfinite_note(root, with_grads=True)
    if note:
        _warn("expr", note)
    opts = _draw_options(a)
    if ext is None:
        from .dot import draw
        _emit_dot(draw(root, **opts).source)
        return 0
    if ext == ".tex":
        from .tikz import render_tikz
        _say(render_tikz(root, a.output, **opts))
        return 0
    from .dot import render
    if ext == ".png":
        dpi = a.dpi or (a.scale * SCALE_DPI if a.scale else DEFAULT_DPI)
        _say(render(root, a.output, dpi=dpi, **opts))
        return 0
    _say(render(root, a.output, **opts))
    return 0


def _cmd_steps(a: argparse.Namespace) -> int:
    if not a.text and not a.output:
        raise _Usage("give -o PAGE.html, or --text to print the steps")
    if a.output:
        _other_command(a.output, FORMATS, "expr", "a diagram")
        _output_ok(a.output, (".html", ".htm"), "the page must be an .html file")
    text, origin, inputs = _source(a)
    root, _ = _build(text, origin, inputs)
    # a copy to look for inf/nan; the page runs its own pass
    check, _ = _build(text, origin, inputs)
    check.backward()
    note = _nonfinite_note(check, with_grads=True)
    if note:
        _warn("steps", note)
    if a.text:
        _print_steps(root)
        if not a.output:
            return 0
        root, _ = _build(text, origin, inputs)
    import importlib
    _steps = importlib.import_module(__package__ + ".steps")  # the module, not viz.steps()
    wanted = {"title": a.title, "collapse": a.collapse, "rankdir": a.rankdir,
              "forward": a.forward}
    kwargs, dropped = _accepted(_steps.steps_html, {k: v for k, v in wanted.items()
                                                    if v is not None})
    for k in dropped:
        flag = f"--{k}" if k != "forward" else ("--forward" if a.forward else "--no-forward")
        _warn("steps", f"{flag} is not supported by this version's step page; ignored")
    _say(_steps.steps_html(root, a.output, **kwargs))
    return 0


def _accepted(fn: Callable, kwargs: dict) -> tuple[dict, list]:
    """The keyword arguments ``fn`` takes, and the names it does not."""
    params = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return kwargs, []
    return ({k: v for k, v in kwargs.items() if k in params},
            [k for k in kwargs if k not in params])


def _print_steps(root: Any) -> None:
    """The backward pass in the terminal, printed as it runs (memory stays
    flat however long the pass is); grads shown are this pass's own."""
    from .model import declaration_order
    from .steps import step_text
    from .text import fmt
    items = _named_items(root)
    names = {id(it.node): it.name for it in items}
    # listed in the order they were created, as the step page and the diagram do
    leaves = [it.node for it in declaration_order([it for it in items if not it.node.parents])
              if it.node.label]
    del items

    def name(n: Any) -> str:
        return names[id(n)]
    r = _d(name(root))
    _say(f"forward: {name(root)} = {fmt(root.data)}; backward seeds d{r}/d{r} = 1")
    for step in root.backward_steps():
        lines = step_text(step, name)
        _say("\n".join([lines[0]] + ["    " + ln for ln in lines[1:]]))
    if leaves:
        _say("gradients: " + ", ".join(f"d{r}/d{_d(name(n), newest=False)} = {fmt(n.grad)}"
                                       for n in leaves))


def _cmd_demo(a: argparse.Namespace) -> int:
    from .demo import run_demo
    if os.path.exists(a.outdir) and not os.path.isdir(a.outdir):
        raise _Usage(f"{a.outdir!r} is a file; -o needs a directory (created if missing)")
    try:
        paths = run_demo(a.outdir, say=_say)
    except FileNotFoundError as e:
        raise _Usage(str(e)) from None
    _say("wrote:")
    for p in paths:
        _say(f"  {os.path.abspath(p)}")
    return 0


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's
    final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        pass


def main(argv: Sequence[str] | None = None) -> int:
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        try:  # argparse's own help and errors on a console that is not UTF-8
            sys.stdout.reconfigure(errors="gradviz-fallback")
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        ap = _parser()
        # exits with 2 on bad arguments. An option the command does not know is said
        # with the command's usage, not gradviz's (which lists no options to check it
        # against): parse_args would leave it to the top-level parser.
        a, unknown = ap.parse_known_args(argv)
        if unknown:
            a.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        return _run(a)
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except KeyboardInterrupt:
        _emit("\ngradviz: interrupted\n", sys.stderr)
        return 130


def _cmd_check(a: argparse.Namespace) -> int:
    from .check_report import run
    return run(a, *_source(a))


def _run(a: argparse.Namespace) -> int:
    from .dot import GraphvizNotFoundError
    from .expr import ExprError
    run = {"expr": _cmd_expr, "steps": _cmd_steps, "demo": _cmd_demo,
           "check": _cmd_check}[a.command]
    with warnings.catch_warnings(record=True) as caught, _library_news(a.command):
        warnings.simplefilter("always")
        try:
            code = run(a)
        except (ExprError, _Usage) as e:
            code = _fail(a.command, str(e), 2)
        except GraphvizNotFoundError as e:
            code = _fail(a.command, str(e), 1)
        except BrokenPipeError:
            raise
        except (TimeoutError, MemoryError) as e:
            code = _fail(a.command, str(e) or type(e).__name__, 2)
        except OSError as e:  # writing the output: permissions, a full disk, ...
            where = f" ({e.filename})" if getattr(e, "filename", None) else ""
            code = _fail(a.command, f"cannot write the output{where}: {e.strerror or e}", 2)
        except (ValueError, RuntimeError) as e:  # the library refused the graph or dot failed
            code = _fail(a.command, str(e), 2)
    for w in caught:  # the library's warnings (a graph too big...), not Python's own
        if issubclass(w.category, UserWarning):
            _warn(a.command, str(w.message))
    return code


@contextlib.contextmanager
def _library_news(command: str):
    """Lines the library prints for the user (``viz.dot.say``, e.g. "drawn with
    collapse='repeat'") said in the command line's words while a command runs."""
    import importlib
    dot: Any = importlib.import_module(__package__ + ".dot")  # its say() is replaced below
    say = getattr(dot, "say", None)
    if not callable(say):
        yield
        return
    dot.say = lambda line: _emit(f"gradviz {command}: {_cli_words(line)}\n", sys.stderr)
    try:
        yield
    finally:
        dot.say = say


def _fail(command: str, message: str, code: int) -> int:
    _tell(command, message)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
