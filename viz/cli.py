"""The ``gradviz`` command line.

    gradviz expr "price=15; count=2; tax=1.1; total=price*count*tax" -o car_tax.svg
    gradviz steps "price=15; count=2; tax=1.1; total=price*count*tax" -o car_tax.html
    gradviz steps "x=2; y=tanh(x*x)" --text
    gradviz demo [-o out]

Exit codes: 0 done, 1 the environment is missing something (Graphviz ``dot``),
2 a usage error (bad arguments, an expression the language does not allow, an
output path in a missing directory, an unknown file type).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

__all__ = ["main"]

_EXPR_HELP = ("statements separated by ';', e.g. \"price=15; count=2; tax=1.1; "
              "total=price*count*tax\": numbers, names, + - * / **, unary minus and the op "
              "table's functions (tanh(x), sigmoid(x), leaky_relu(x, 0.2), ...); the last "
              "statement is the output")


class _Usage(Exception):
    """A usage error: message, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gradviz",
        description="Draw computation graphs and step through backprop "
                    "(gradviz's autograd engine + Graphviz).",
        epilog="Run 'gradviz COMMAND --help' for a command's options.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    e = sub.add_parser("expr", help="draw the graph of an expression, gradients included",
                       description="Parse an expression (no Python eval), backpropagate from "
                                   "its last statement and draw the graph.")
    e.add_argument("expression", help=_EXPR_HELP)
    e.add_argument("-o", "--output", metavar="PATH",
                   help="output file: .svg .png .pdf (need Graphviz dot) or .dot .gv; "
                        "default: DOT text on stdout")
    e.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="layout direction (default LR: left to right)")
    e.add_argument("--no-grad", action="store_true", help="do not show gradients")
    e.add_argument("--no-edge-grads", action="store_true",
                   help="do not label edges with local derivatives")
    e.add_argument("--legend", action="store_true", help="draw the colour legend")
    e.add_argument("--collapse", metavar="HOW",
                   help="group nodes: 'repeat' (repeated structure); see viz.collapse")

    s = sub.add_parser("steps", help="step through backprop of an expression",
                       description="Parse an expression and write a self-contained HTML page "
                                   "that steps through its backward pass (or print the steps).")
    s.add_argument("expression", help=_EXPR_HELP)
    s.add_argument("-o", "--output", metavar="PATH.html", help="the HTML page to write")
    s.add_argument("--text", action="store_true",
                   help="print the steps in the terminal instead (no browser needed)")
    s.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="layout direction (default LR)")
    s.add_argument("--title", help="page title")

    d = sub.add_parser("demo", help="write the car-tax diagram, its step page and the "
                                    "part-lifetime network into a directory",
                       description="Write out/car_tax.svg, out/car_tax_steps.html and "
                                   "out/part_lifetime.svg, run a small training run, and "
                                   "print where everything went.")
    d.add_argument("-o", "--outdir", default="out", metavar="DIR",
                   help="output directory (default ./out; created if missing)")
    return ap


def _output_dir_ok(path: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise _Usage(f"the output directory {d!r} does not exist (for {path!r}); create it first")


def _build(text: str):
    from .expr import build
    root, names = build(text)
    return root, names


def _cmd_expr(a: argparse.Namespace) -> int:
    from .dot import draw, render
    if a.output:
        ext = os.path.splitext(a.output)[1].lower()
        if ext not in (".svg", ".png", ".pdf", ".dot", ".gv"):
            raise _Usage(f"cannot tell the format of {a.output!r}: use .svg .png .pdf .dot or .gv")
        _output_dir_ok(a.output)
    root, _ = _build(a.expression)
    root.backward()
    opts = dict(rankdir=a.rankdir, show_grad=not a.no_grad, show_edge_grads=not a.no_edge_grads,
                legend=a.legend, collapse=a.collapse)
    if a.collapse is not None:
        from .collapse import _parse
        try:
            _parse(a.collapse)
        except ValueError as e:
            raise _Usage(str(e)) from None
    if not a.output:
        sys.stdout.write(draw(root, **opts).source)
        return 0
    print(render(root, a.output, **opts))
    return 0


def _cmd_steps(a: argparse.Namespace) -> int:
    if not a.text and not a.output:
        raise _Usage("steps: give -o PAGE.html, or --text to print the steps")
    if a.output:
        if os.path.splitext(a.output)[1].lower() not in (".html", ".htm"):
            raise _Usage(f"steps: the page must be an .html file, got {a.output!r}")
        _output_dir_ok(a.output)
    root, _ = _build(a.expression)
    if a.text:
        from .steps import record_steps
        order, steps = record_steps(root)
        name = (lambda n: n.label or "node")
        print(f"forward: {name(root)} = {_num(root.data)}; backward seeds "
              f"d{name(root)}/d{name(root)} = 1")
        for s in steps:
            print(s.lines[0])
            for line in s.lines[1:]:
                print("    " + line)
        leaves = [n for n in order if not n._parents and n.label]
        if leaves:
            print("gradients: " + ", ".join(f"d{name(root)}/d{n.label} = {_num(n.grad)}"
                                            for n in leaves))
        if not a.output:
            return 0
        root, _ = _build(a.expression)
    from .steps import steps_html
    try:
        print(steps_html(root, a.output, title=a.title, rankdir=a.rankdir))
    except ValueError as e:  # too many steps for one page
        raise _Usage(str(e)) from None
    return 0


def _num(x) -> str:
    from .text import fmt
    return fmt(x)


def _cmd_demo(a: argparse.Namespace) -> int:
    from .demo import run_demo
    try:
        paths = run_demo(a.outdir)
    except FileNotFoundError as e:
        raise _Usage(str(e)) from None
    print("wrote:")
    for p in paths:
        print(f"  {os.path.abspath(p)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = _parser()
    a = ap.parse_args(argv)  # exits with 2 on bad arguments
    from .dot import GraphvizNotFoundError
    from .expr import ExprError
    run = {"expr": _cmd_expr, "steps": _cmd_steps, "demo": _cmd_demo}[a.command]
    try:
        return run(a)
    except ExprError as e:
        print(f"gradviz {a.command}: {e}", file=sys.stderr)
        return 2
    except _Usage as e:
        print(f"gradviz {a.command}: {e}", file=sys.stderr)
        return 2
    except GraphvizNotFoundError as e:
        print(f"gradviz {a.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
