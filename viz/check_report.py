"""Gradient-check reports as diagrams, pages and tables, and ``gradviz check``.

A :class:`autograd.check.CheckReport` (what ``err.report`` holds after a
failed :func:`autograd.gradcheck`, or what :func:`autograd.check.check_nodes`
returns) is drawn as the graph with each checked edge (an op's input)
coloured by the relative error between the op's analytic local gradient and
central differences of that op alone:

==================  =========  ==============================================
colour              band       meaning
==================  =========  ==============================================
green  ``#15803d``  < 1e-6     agrees to float64 precision
olive  ``#65a30d``  < 1e-3     agrees (float32 rounding, step error)
orange ``#ea580c``  < 1e-1     agrees within the tolerance, or a near miss
red    ``#b91c1c``  >= 1e-1    disagrees
purple ``#7e22ce``  dashed     not differentiable here (within a step of a kink)
grey   ``#94a3b8``  dotted     no gradient flows (integer index, constant)
==================  =========  ==============================================

The first failing op is filled red and its failing edge is drawn thick and
labelled "analytic a · numeric b". The drawing functions register
themselves with :func:`autograd.check.register_report_drawer` when
:mod:`viz` is imported, so ``err.report.draw()`` works for every user of
``import gradviz``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import graphviz
import numpy as np

from ..autograd.check import CheckReport, check_nodes, register_report_drawer
from ..autograd.fileio import write_atomic
from ..autograd.graph import topological_order
from .args import check_output
from .text import esc, fmt, summary

__all__ = ["draw_report", "render_report", "report_html", "report_table", "BANDS",
           "build_checked", "add_parser", "run"]

#: (upper bound of the relative error, colour, band text) for checked edges.
BANDS = ((1e-6, "#15803d", "< 1e-6"), (1e-3, "#65a30d", "< 1e-3"), (1e-1, "#ea580c", "< 0.1"),
         (math.inf, "#b91c1c", ">= 0.1"))
KINK_COLOUR = "#7e22ce"
NOGRAD_COLOUR = "#94a3b8"
FAIL_FILL = "#fecaca"


def _band(rel: float) -> str:
    for hi, colour, _ in BANDS:
        if rel < hi:
            return colour
    return BANDS[-1][1]


def _value_text(data: Any) -> str:
    if isinstance(data, float):
        return fmt(data)
    a = np.asarray(data)
    return f"{summary(a)} ({'×'.join(map(str, a.shape)) or 'scalar'}, {a.dtype})"


def draw_report(report: CheckReport, *, rankdir: str = "LR",
                legend: bool = True) -> graphviz.Digraph:
    """The report's diagram (see the module docstring for the colours)."""
    if not isinstance(report, CheckReport):
        raise TypeError(f"draw_report: expected a CheckReport, got {type(report).__name__}")
    from .dot import rankdir_of
    rankdir = rankdir_of(rankdir, "draw_report", ("LR", "TB"))
    order = topological_order([report.output])
    ids = {id(n): i for i, n in enumerate(order)}
    edges = {(id(c.node), c.input_index): c for c in report.checks}
    failing = report.failing
    dg = graphviz.Digraph("gradcheck")
    dg.attr(rankdir=rankdir, fontname="Helvetica", fontsize="10")
    dg.attr("node", fontname="Helvetica", fontsize="10")
    dg.attr("edge", fontname="Helvetica", fontsize="9")
    kind = {"ok": "every op agrees with central differences",
            "mismatch": f"wrong local derivative: op {report.op!r}",
            "not differentiable": "not differentiable at this point",
            "combination": "every op agrees locally, the whole does not: "
                           "the bug is in how ops are combined"}[report.kind]
    dg.attr(label=esc(f"gradcheck: {kind}"), labelloc="t")
    for n in order:
        k = ids[id(n)]
        title = n.label or ("leaf" if n.is_leaf else n.op)
        site = n.creation_site
        rows = f'<TR><TD><B>{esc(title)}</B></TD></TR><TR><TD>{esc(_value_text(n.data))}</TD></TR>'
        if site and failing is not None and n is failing.node:
            rows += f'<TR><TD><FONT POINT-SIZE="8">{esc(os.path.basename(site))}</FONT></TD></TR>'
        dg.node(f"v{k}", label=f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">{rows}</TABLE>>',
                shape="plaintext")
        if n.is_leaf:
            continue
        info = n.op_info
        bad = failing is not None and n is failing.node
        dg.node(f"o{k}", label=esc(info.symbol), shape="circle", style="filled",
                fillcolor=FAIL_FILL if bad else "#f1f5f9", color="#b91c1c" if bad else "#64748b",
                penwidth="3" if bad else "1")
        dg.edge(f"o{k}", f"v{k}", color="#64748b")
        for i, p in enumerate(n.parents):
            c = edges.get((id(n), i))
            attrs: dict[str, str] = {}
            if c is None or c.verdict == "no gradient":
                attrs = {"color": NOGRAD_COLOUR, "style": "dotted"}
            elif c.verdict == "not differentiable":
                attrs = {"color": KINK_COLOUR, "style": "dashed",
                         "label": "not differentiable here", "fontcolor": KINK_COLOUR}
            else:
                colour = _band(c.rel_error)
                attrs = {"color": colour, "fontcolor": colour, "penwidth": "1.6",
                         "label": f"rel. err {c.rel_error:.2g}"}
                if failing is not None and c is failing:
                    attrs.update(penwidth="4", color="#b91c1c", fontcolor="#b91c1c",
                                 label=esc(f"analytic {fmt(c.analytic)} · "
                                           f"numeric {fmt(c.numeric)}"))
            dg.edge(f"v{ids[id(p)]}", f"o{k}", **attrs)
    if legend:
        cells = "".join(f'<TR><TD BGCOLOR="{colour}" WIDTH="16"></TD><TD ALIGN="LEFT">'
                        f'rel. error {esc(text)}</TD></TR>' for _, colour, text in BANDS)
        cells += (f'<TR><TD BGCOLOR="{KINK_COLOUR}"></TD><TD ALIGN="LEFT">not differentiable '
                  f'here (dashed)</TD></TR><TR><TD BGCOLOR="{NOGRAD_COLOUR}"></TD>'
                  f'<TD ALIGN="LEFT">no gradient (dotted)</TD></TR>'
                  f'<TR><TD BGCOLOR="{FAIL_FILL}"></TD><TD ALIGN="LEFT">first failing op</TD></TR>')
        with dg.subgraph(name="cluster_legend") as lg:
            lg.attr(label="edges: analytic vs numeric, each op alone", fontsize="9",
                    color="#cbd5e1", style="rounded")
            lg.node("legend", label=f'<<TABLE BORDER="0" CELLSPACING="2">{cells}</TABLE>>',
                    shape="plaintext", fontsize="9")
    return dg


def report_table(report: CheckReport) -> str:
    """The per-edge table as text: node, op, analytic, numeric, rel. error,
    verdict."""
    head = ("node", "op", "analytic", "numeric", "rel. error", "verdict")
    rows = [head]
    for c in report.checks:
        who = c.label or ("(unlabelled)" if not c.node.is_leaf else "leaf")
        rows.append((f"{who} [in {c.input_index}]", c.op,
                     "" if math.isnan(c.analytic) else fmt(c.analytic, 6),
                     "" if math.isnan(c.numeric) else fmt(c.numeric, 6),
                     "" if c.verdict == "no gradient" else f"{c.rel_error:.2g}", c.verdict))
    widths = [max(len(str(r[j])) for r in rows) for j in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_html(report: CheckReport, title: str = "gradcheck report") -> str:
    """A self-contained page: the message, the diagram (inline SVG) and the
    table."""
    from .dot import run_dot
    svg = run_dot(draw_report(report).source, "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
        for row in [(c.label or "(unlabelled)", c.input_index, c.op, fmt(c.analytic, 6),
                     fmt(c.numeric, 6), f"{c.rel_error:.2g}", c.verdict) for c in report.checks])
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + esc(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}pre{background:#f8fafc;padding:1em;"
        "white-space:pre-wrap}table{border-collapse:collapse}td,th{border:1px solid #cbd5e1;"
        "padding:2px 8px}</style></head><body><h1>" + esc(title) + "</h1><pre>"
        + esc_pre(report.message()) + "</pre>" + svg +
        "<table><tr><th>node</th><th>input</th><th>op</th><th>analytic</th><th>numeric</th>"
        "<th>rel. error</th><th>verdict</th></tr>" + rows + "</table></body></html>")


def esc_pre(text: str) -> str:
    """Escape for HTML, keeping line breaks (inside <pre>)."""
    return "\n".join(esc(line) for line in text.split("\n"))


def render_report(report: CheckReport, path: str | os.PathLike, **opts: Any) -> str:
    """Write the report: .svg .png .pdf .dot .gv (the diagram) or .html (the
    page with the message and the table). Atomic; returns the path."""
    from .dot import render
    path = os.fsdecode(os.fspath(path))  # str, bytes or a PathLike
    if os.path.splitext(path)[1].lower() in (".html", ".htm"):
        d = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(d):
            raise FileNotFoundError(f"render: the directory {d!r} for {path!r} does not exist")
        write_atomic(path, report_html(report))
        return path
    return render(draw_report(report, **opts), path)


register_report_drawer(draw_report, render_report)


# --------------------------------------------------------------------------
# gradviz check
# --------------------------------------------------------------------------
def build_checked(text: str, dtype=np.float64, inputs: dict | None = None):
    """The expression's graph (with ``inputs`` for its names, see
    :func:`viz.expr.build`), as Values (float64) or as 0-d float32 Tensors
    replaying the same ops; returns (output, leaves)."""
    from ..autograd import Tensor
    from ..autograd.custom import apply_op
    from ..autograd.ops import OPS
    from .expr import build
    root, _ = build(text, inputs)
    order = topological_order([root])
    leaves = [n for n in order if n.is_leaf]
    if np.dtype(dtype) == np.float64:
        return root, leaves
    new: dict[int, Any] = {}
    out_leaves = []
    for n in order:
        if n.is_leaf:
            t = Tensor(np.array(n.data, dtype=dtype), requires_grad=True, label=n.label)
            out_leaves.append(t)
        else:
            info = n.op_info
            t = apply_op(OPS[info.key], [new[id(p)] for p in n.parents], info.params)
            t.label = n.label
        new[id(n)] = t
    return new[id(root)], out_leaves


def add_parser(sub, add_source: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``check`` subcommand to the CLI's subparsers; ``add_source``
    adds the expression arguments every command shares (the expression or
    ``-f FILE``, then NAME=VALUE)."""
    c = sub.add_parser(
        "check", help="check every op of an expression against central differences",
        description="Parse an expression (the 'gradviz expr' language), check each op's local "
                    "gradient against central differences of that op alone, print a table. "
                    "Exit 0: all agree; 1: a mismatch; 2: bad input.")
    add_source(c)
    c.add_argument("-o", "--output", metavar="PATH",
                   help="write the coloured diagram: .svg .png .pdf .dot .gv, or .html (page "
                        "with the table)")
    c.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="compute the graph in this dtype (default float64)")


def run(a: argparse.Namespace, text: str, origin: str, inputs: dict[str, float]) -> int:
    """``gradviz check`` on expression ``text`` (from ``origin``: '' for the
    command line, else the file it was read from) with NAME=VALUE
    ``inputs``: expression errors propagate as ``ExprError`` (the CLI prints
    them, exit 2); other usage errors are printed here."""
    try:
        if a.output:
            check_output(a.output, (".svg", ".png", ".pdf", ".dot", ".gv", ".html", ".htm"),
                         "use .svg .png .pdf .dot .gv or .html")
    except argparse.ArgumentTypeError as e:
        print(f"gradviz check: {e}", file=sys.stderr)
        return 2
    from .expr import ExprError
    try:
        out, _leaves = build_checked(text, np.float32 if a.dtype == "float32" else np.float64,
                                     inputs)
    except ExprError as e:
        raise ExprError(f"{origin}: {e}" if origin else str(e)) from None
    report = check_nodes(out)
    print(report_table(report))
    if report.kind == "mismatch":
        print("\n" + report.message())
    elif report.kind == "not differentiable":
        print("\n" + report.message())
    else:
        n_ok = sum(c.verdict == "ok" for c in report.checks)
        print(f"\n{'the 1 checked edge agrees' if n_ok == 1 else f'all {n_ok} checked edges agree'}"
              f" ({a.dtype})")
    if a.output:
        print(render_report(report, a.output))
    return 1 if report.kind == "mismatch" else 0
