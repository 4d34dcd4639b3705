"""Computation graphs as Graphviz diagrams: :func:`draw` and :func:`render`.

Reading a diagram (left to right by default, the direction of the forward
pass):

* a **value node** is a box ``label | data | grad``; a tensor node shows its
  label, shape and dtype, then its numbers (small tensors) or
  ``min · mean · max``, then its gradient (numbers, or its norm);
* an **op node** is a small circle with the op's symbol (``×``, ``+``,
  ``σ``...); it sits between its operands and its result;
* an **edge into an op** carries the local derivative of the op's output with
  respect to that operand: the number (``× 1.1``: backprop multiplies the
  incoming gradient by it) and the rule from the op table (``d/da = b``),
  tied to its edge by a thin light line (``decorate``).

Layout: leaves sit in the order they were created (``Node.creation_index``,
see :func:`viz.model.leaf_plan`), inputs that several ops read a row before
the weights; top to bottom, a labelled scalar node shows its label above
``data | grad`` (half as wide) and the ranks sit closer.

Colour legend (fill / border):

====================  ==================  ======================================
role                  colour              meaning
====================  ==================  ======================================
leaf                  light blue          an input
parameter             light green         a leaf that a module trains
constant              light grey          a number no gradient is wanted for
                                          (no grad shown)
intermediate          white / grey        computed on the way
output                light orange        the node ``backward()`` starts from
op                    pale yellow circle  the operation
module / repeat box   lavender box        a collapsed group (``collapse=``)
====================  ==================  ======================================

``draw(..., legend=True)`` also draws this legend into the picture.

Node ids come from :func:`autograd.graph.topological_order` (``n0``, ``n1``,
...), never from ``id()``, so the same graph gives the same DOT text on every
run. User text (labels) is escaped, so ``<script>`` or ``{a|b}`` is shown,
never interpreted.
"""
from __future__ import annotations

import inspect
import math
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable
from typing import Any

import graphviz
import numpy as np

from ..autograd.fileio import write_atomic
from . import backend
from . import collapse as _collapse
from . import model as _model
from .args import RANKDIRS
from .model import Diagram, Item
from .text import esc, fmt, grad_norm, summary

__all__ = ["draw", "render", "emit", "diagram", "State", "GraphTooBigWarning",
           "GraphvizNotFoundError", "LayoutError", "MAX_NODES", "COMPACT_AT", "COLOURS"]

#: Graphs with more drawn nodes than this warn (``dot`` gets slow).
MAX_NODES = 6000
#: Above this many drawn values, :func:`draw` switches to the compact style.
COMPACT_AT = 300
#: Above this many drawn values, dot's iterations are bounded (see :func:`emit`).
FAST_AT = 1500
#: Up to this many drawn values, leaves are kept in declaration order
#: (:func:`viz.model.leaf_plan`); bigger graphs leave the order to ``dot``
#: (its crossing reduction slows down several times on rows of a thousand
#: chained leaves: 4.6 s instead of 0.6 s for a 20-50-1 network).
ORDER_AT_MOST = 800
#: Collapsed graphs with more box-to-box edges than this bundle them.
CONCENTRATE_AT = 40

#: role -> (fill, border)
COLOURS = {
    "leaf": ("#dbeafe", "#2563eb"),
    "param": ("#dcfce7", "#16a34a"),
    "const": ("#f1f5f9", "#94a3b8"),
    "inter": ("#ffffff", "#64748b"),
    "output": ("#ffedd5", "#ea580c"),
    "op": ("#fef9c3", "#a16207"),
    "box": ("#ede9fe", "#7c3aed"),
    "active": ("#fef08a", "#dc2626"),
    # the step page's node being computed in the forward pass: a colour no role uses
    # (it was the parameters' green, so the active node read as a parameter)
    "forward": ("#fbcfe8", "#db2777"),
}
GRAD_COLOUR = "#b91c1c"
RULE_COLOUR = "#64748b"
#: The thin line that ties an edge's label to its edge (``decorate``).
LINK_COLOUR = "#b8c2cf"
#: The edges of the node sending its gradient (the step pictures).
HOT_COLOUR = "#dc2626"
FONT = "Helvetica"


class GraphTooBigWarning(UserWarning):
    """A graph so big that ``dot`` would take very long; collapse it."""


GraphvizNotFoundError = backend.GraphvizNotFoundError


# --------------------------------------------------------------------------
# Node and edge text (from the diagram model)
# --------------------------------------------------------------------------
_UNKNOWN = object()
_HOT_EDGE = ' [color="#dc2626" penwidth=2]'


def _cell(text: str, colour: str | None = None, bold: bool = False, width: int = 0) -> str:
    if bold:  # a bold face, not <B>: <B> shifts the baseline in dot's tables
        text = f'<FONT FACE="{FONT}-Bold">{text}</FONT>'
    if colour:
        text = f'<FONT COLOR="{colour}">{text}</FONT>'
    return f'<TD WIDTH="{width}">{text}</TD>' if width else f"<TD>{text}</TD>"


def grad_text(node: Any, grad: Any) -> str:
    """The grad cell of a value node: ``grad 2.2``, ``grad ?`` (unknown),
    a small tensor's numbers or a big one's norm."""
    if grad is _UNKNOWN:
        return "grad ?"
    if isinstance(node.data, float):
        return f"grad {fmt(grad)}"
    if grad is None:
        return "grad none (not required)" if not getattr(node, "requires_grad", True) \
            else "grad none"
    if np.size(grad) <= 6:
        return f"grad {summary(grad)}"
    return f"‖grad‖ {fmt(grad_norm(grad))}"


def data_text(node: Any) -> str:
    return f"data {fmt(node.data)}" if isinstance(node.data, float) else summary(node.data)


class State:
    """What a picture of one moment of a backward pass shows: ``grads``
    (index -> gradient; absent: unknown, "?"), ``active`` (the index of the
    node sending its gradient), ``steady`` (unlabelled nodes named ``#i``,
    room reserved for the grad so frames share one layout), ``texts``
    (index -> (data text, grad text), shown instead: the step page lays the
    graph out with the widest text each cell will hold), ``ids`` (give DOT
    nodes and edges ``id`` attributes for the page's script)."""

    def __init__(self, grads: dict | None = None, active: int | None = None,
                 steady: bool = False, texts: dict | None = None, box_lines: dict | None = None,
                 ids: bool = False):
        self.grads = grads
        self.active = active
        self.steady = steady
        self.texts = texts
        self.box_lines = box_lines
        self.ids = ids


def _value_label(it: Item, role: str, show_grad: bool, state: State, op_cell: bool,
                 stacked: bool = False) -> str:
    node = it.node
    fill, border = COLOURS[role]
    head = (f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" STYLE="ROUNDED" '
            f'BGCOLOR="{fill}" COLOR="{border}">')
    texts = state.texts.get(it.index) if state.texts else None
    if texts is not None:
        dtext, gtext = texts
    else:
        dtext = data_text(node)
        g = node.grad if state.grads is None else state.grads.get(it.index, _UNKNOWN)
        gtext = grad_text(node, g)
    if it.scalar:
        cells = []
        if op_cell and it.parents:  # compact mode: the op inside the node
            cells.append(f'<TD BGCOLOR="{COLOURS["op"][0]}">{esc(it.symbol or node.op)}</TD>')
        if node.label:
            cells.append(_cell(esc(node.label), bold=True))
        elif state.steady and it.parents:  # step frames name unlabelled results (x*w, v12)
            cells.append(_cell(esc(it.name), RULE_COLOUR))
        n_head = len(cells)
        cells.append(_cell(esc(dtext)))
        if show_grad and it.role != "const":  # a constant wants no gradient
            cells.append(_cell(esc(gtext), GRAD_COLOUR, width=76 if state.steady else 0))
        sep = '<TD BGCOLOR="' + border + '" WIDTH="1" CELLPADDING="0"></TD>'
        if stacked and n_head == 1 and len(cells) > 2:
            # top to bottom: the name over "data | grad", a node half as wide
            span = 2 * len(cells) - 3  # the cells below and their separators
            top = cells[0].replace("<TD", f'<TD COLSPAN="{span}"', 1)
            rule = (f'<TR><TD COLSPAN="{span}" BGCOLOR="{border}" HEIGHT="1" CELLPADDING="0">'
                    "</TD></TR>")
            return (head + f"<TR>{top}</TR>" + rule + "<TR>" + sep.join(cells[1:])
                    + "</TR></TABLE>>")
        return head + "<TR>" + sep.join(cells) + "</TR></TABLE>>"
    data = node.data
    if node.label:
        name = f'<FONT FACE="{FONT}-Bold">{esc(node.label)}</FONT>&#160;&#160;'
    elif state.steady and it.parents:
        name = f'<FONT COLOR="{RULE_COLOUR}">{esc(it.name)}</FONT>&#160;&#160;'
    else:
        name = ""
    title = name + f"{esc(tuple(data.shape))} {esc(data.dtype)}"
    if op_cell and it.parents:
        title = f"[{esc(it.symbol or node.op)}] " + title
    rows = [f"<TR><TD>{title}</TD></TR>", f"<TR><TD>{esc(dtext)}</TD></TR>"]
    if show_grad and it.role != "const":
        rows.append(f'<TR><TD><FONT COLOR="{GRAD_COLOUR}">{esc(gtext)}</FONT></TD></TR>')
    return head + "".join(rows) + "</TABLE>>"


def _box_label(box: Any, lines: list | None = None) -> str:
    fill, border = COLOURS["box"]
    title = f'<FONT FACE="{FONT}-Bold">{esc(box.title)}</FONT>'
    if box.kind and box.kind not in _collapse.STRUCTURAL:
        title += f" · {esc(box.kind)}"
    rows = "".join(f"<TR><TD>{esc(t)}</TD></TR>" for t in (lines if lines is not None
                                                          else box.lines()))
    return (f'<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'STYLE="ROUNDED" BGCOLOR="{fill}" COLOR="{border}"><TR><TD>{title}</TD></TR>'
            f"{rows}</TABLE>>")


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**kw: Any) -> str:
    return "[" + " ".join(f"{k}={v}" for k, v in kw.items() if v is not None) + "]"


def rankdir_of(rankdir: Any, who: str = "draw", allowed: tuple = RANKDIRS) -> Any:
    """``rankdir`` as Graphviz spells it, upper case: "lr" is "LR" (a student types
    either; the layout code compares with the upper case, and dot is given it).
    None stays None; anything else is a ValueError naming ``who``."""
    if rankdir is None:
        return None
    if isinstance(rankdir, str) and rankdir.upper() in allowed:
        return rankdir.upper()
    more = f" (or {', '.join(repr(r) for r in allowed[2:])})" if len(allowed) > 2 else ""
    raise ValueError(f"{who}: rankdir must be 'LR' or 'TB'{more}, got {rankdir!r}")


def _new_digraph(rankdir: str, who: str = "draw") -> graphviz.Digraph:
    rankdir = rankdir_of(rankdir, who)
    return backend.Digraph(
        "gradviz",
        graph_attr={"rankdir": rankdir, "bgcolor": "white", "nodesep": "0.25",
                    # top to bottom the edge labels sit beside their edges, between ranks
                    # that need little room: closer ranks fit a slide (16:9) larger
                    "ranksep": "0.25" if rankdir in ("TB", "BT") else "0.45",
                    "fontname": FONT, "pad": "0.2"},
        node_attr={"fontname": FONT, "fontsize": "11", "shape": "plain"},
        edge_attr={"fontname": FONT, "fontsize": "10", "color": "#475569",
                   "arrowsize": "0.7"})


def _is_compact(d: Diagram, compact: bool | None) -> bool:
    if compact is not None:
        return compact
    return sum(1 for it in d.values if d.box_of(it.index) is None) > COMPACT_AT


def emit(d: Diagram, *, show_grad: bool = True, show_edge_grads: bool = True,
         rankdir: str = "LR", legend: bool = False, compact: bool | None = None,
         state: State | None = None, who: str = "draw") -> graphviz.Digraph:
    """The DOT text of a diagram model (see :mod:`viz.model`)."""
    rankdir = rankdir_of(rankdir, who)
    dg = _new_digraph(rankdir, who)
    state = state or State()
    compact = _is_compact(d, compact)
    stacked = rankdir in ("TB", "BT") and not compact  # ranks are rows: narrow nodes
    if compact:
        dg.graph_attr["newrank"] = "true"
    n_drawn = sum(1 for it in d.values if d.box_of(it.index) is None)
    if n_drawn > FAST_AT:
        # dot's node placement (network simplex) and crossing reduction run
        # until done: seconds per thousand nodes. Bounded, a big graph is laid
        # out in a few seconds, a little less tidily.
        dg.graph_attr["nslimit"] = f"{max(0.01, 400 / n_drawn):.3g}"
        dg.graph_attr["mclimit"] = "0.3"
    body = dg.body
    active = state.active
    ids = state.ids
    if d.grouping is not None:
        for key, box in d.grouping.boxes.items():
            bid = d.box_ids[key]
            lines = state.box_lines.get(bid) if state.box_lines else None
            extra = f" id={bid}" if ids else ""
            body.append(f"\t{bid} [label={_box_label(box, lines)}{extra}]\n")
    for it in d.values:
        if d.box_of(it.index) is not None:
            continue
        nid = it.key
        role = "active" if it.index == active else it.role
        lab = _value_label(it, role, show_grad, state, compact, stacked)
        body.append(f"\t{nid} [label={lab}{' id=' + nid if ids else ''}]\n")
        if it.parents and not compact and d.output_of(it.index) is None:
            fill, border = COLOURS["active" if it.index == active else "op"]
            sym = it.symbol or it.node.op
            short = len(sym) <= 2
            body.append(f"\t{nid}op " + _attrs(
                label=_q(esc(sym)), shape="circle" if short else "box",
                style="filled" if short else '"rounded,filled"', fillcolor=_q(fill),
                color=_q(border), fontsize="12" if short else "10", width="0.3",
                height="0.3", margin="0.02" if short else '"0.06,0.02"',
                penwidth="2" if it.index == active else None,
                id=f"{nid}op" if ids else None) + "\n")
            hot = _HOT_EDGE if it.index == active else ""
            if ids:
                hot = (hot[:-1] + f" id={nid}opo]") if hot else f" [id={nid}opo]"
            body.append(f"\t{nid}op -> {nid}{hot}\n")
    n_box_edges = 0
    drawn_edges = _model.edges(d, compact=compact, numbers=show_edge_grads)
    plan = _model.leaf_plan(d, drawn_edges, compact) if n_drawn <= ORDER_AT_MOST else None
    lifted = plan.lifted if plan is not None else set()
    for k, e in enumerate(drawn_edges):
        eid = f" id=e{k}" if ids else ""
        if e.child < 0:  # between boxes: one per pair, counted
            if e.src[0] == "m" and e.dst[0] == "m":
                n_box_edges += 1
            # how many edges of the graph the one drawn stands for, said in words
            lab = (f'label="{e.count:,} edges" tooltip="{e.count:,} edges of the graph, drawn '
                   f'as one"' if e.count > 1 else "")
            attrs = (lab + eid).strip()
            body.append(f"\t{e.src} -> {e.dst}" + (f" [{attrs}]\n" if attrs else "\n"))
            continue
        hot = e.child == active
        extra = f' color="{HOT_COLOUR}" fontcolor="{HOT_COLOUR}" penwidth=2' if hot else ""
        if (e.src, e.dst) in lifted:  # an input: a row above the weights
            extra += " minlen=2"
        extra += eid
        if compact:  # the derivative as a tooltip: no layout cost
            tip = esc(" · ".join(t for t in (e.local, e.rule) if t)) if (
                show_edge_grads and not ids) else ""
            attrs = ((f"tooltip={_q(tip)}" if tip else "") + extra).strip()
            body.append(f"\t{e.src} -> {e.dst}" + (f" [{attrs}]\n" if attrs else "\n"))
            continue
        lab = ""
        if show_edge_grads:
            ink = HOT_COLOUR if hot else "#000000"
            parts = [f'<FONT COLOR="{ink}">{esc(e.local)}</FONT>'] if e.local else []
            if e.rule:
                parts.append(f'<FONT POINT-SIZE="9" COLOR="{RULE_COLOUR}">{esc(e.rule)}</FONT>')
            lab = "<" + "<BR/>".join(parts) + ">" if parts else ""
        if lab:  # tied to its edge by a thin light line (the label's font colour)
            extra = extra.replace(f' fontcolor="{HOT_COLOUR}"', "")
            lab += f' decorate=true fontcolor="{HOT_COLOUR if hot else LINK_COLOUR}"'
        attrs = (f"label={lab}" if lab else "") + extra
        body.append(f"\t{e.src} -> {e.dst} [{attrs.strip()}]\n" if attrs else
                    f"\t{e.src} -> {e.dst}\n")
    if plan is not None:
        _leaf_rows(body, plan)
    if d.grouping is not None and len(d.grouping.boxes) <= ORDER_AT_MOST:
        _sibling_rows(body, d, drawn_edges)
    if n_box_edges > CONCENTRATE_AT and not ids:
        dg.graph_attr["concentrate"] = "true"  # bundle box-to-box edges (layer to layer)
    if legend:
        _legend(body, d, show_grad, show_edge_grads and not compact)
    return dg


def _leaf_rows(body: list, plan: Any) -> None:
    """Each row of leaves on one rank, in declaration order: a ``rank=same``
    subgraph chained left to right (top to bottom) by invisible edges, which
    ``dot`` keeps in order."""
    for row in plan.rows:
        body.append("\t{rank=same; " + " -> ".join(row) + " [style=invis]}\n")


def _natural(key: str) -> tuple:
    """``MLP.L1.n10`` after ``MLP.L1.n9``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key))


def _sibling_rows(body: list, d: Diagram, edges: list) -> None:
    """Module boxes that are siblings of one kind fed by the same units (the
    neurons of a layer) on one rank in their own order, n1 n2 n3 n4: for
    ``dot`` any order of a fully connected layer crosses as many edges, and it
    picked n3 n4 n1 n2."""
    sources: dict = {}
    for e in edges:
        if e.dst[0] == "m":
            sources.setdefault(e.dst, set()).add(e.src)
    rows: dict = {}
    for key, box in d.grouping.boxes.items():
        if box.kind in _collapse.STRUCTURAL or "." not in key:
            continue
        bid = d.box_ids[key]
        srcs = frozenset(sources.get(bid, ()))
        if srcs:
            rows.setdefault((key.rsplit(".", 1)[0], box.kind, srcs), []).append(key)
    for keys in rows.values():
        if len(keys) > 1:
            chain = " -> ".join(d.box_ids[k] for k in sorted(keys, key=_natural))
            body.append("\t{rank=same; " + chain + " [style=invis]}\n")


#: Graphs with at most this many drawn values get their direction from their
#: shape when ``rankdir`` is None (bigger ones: "LR").
TRIAL_AT_MOST = 200
#: The picture size the automatic direction aims for (points, 16:9): a graph
#: that fits it left to right stays left to right (the car tax does).
SLIDE = (1000.0, 562.0)


def auto_rankdir(d: Diagram, who: str = "draw", **emit_options: Any) -> str:
    """The layout direction for a diagram: "LR" (the forward pass left to
    right) when the picture fits a 16:9 slide at full size, else whichever
    of "LR" and "TB" shows it larger on the slide ("TB" by a margin of 15 %).
    The sizes are estimated from the model (ranks, text widths), no layout
    is run; graphs of more than :data:`TRIAL_AT_MOST` drawn values keep "LR"."""
    drawn = sum(1 for it in d.values if d.box_of(it.index) is None)
    if drawn > TRIAL_AT_MOST:
        return "LR"
    compact = _is_compact(d, emit_options.get("compact"))
    labels = emit_options.get("show_edge_grads", True) and not compact
    (lw, lh), (tw, th) = _model.extent(d, compact, labels)
    lr = min(SLIDE[0] / max(lw, 1.0), SLIDE[1] / max(lh, 1.0))
    if lr >= 1.0:
        return "LR"
    tb = min(SLIDE[0] / max(tw, 1.0), SLIDE[1] / max(th, 1.0))
    return "TB" if tb > 1.15 * lr else "LR"


def draw(root: Any, *, show_grad: bool = True, show_edge_grads: bool = True,
         rankdir: str | None = None, collapse: Any = None, params: Iterable[Any] | None = None,
         legend: bool = False, max_nodes: int | None = MAX_NODES,
         compact: bool | None = None) -> graphviz.Digraph:
    """The computation graph ending at ``root`` as a :class:`graphviz.Digraph`.

    ``show_grad``: show each node's ``grad``. ``show_edge_grads``: label each
    edge into an op with the local derivative (number and rule).
    ``rankdir``: "LR" (left to right) or "TB" (top to bottom); None
    (default): "LR" unless the picture is too wide for a 16:9 slide and
    reads larger top to bottom (see :func:`auto_rankdir`).
    ``collapse``: None (automatic: a graph too big for Graphviz, or drawing
    more than :data:`viz.model.COLLAPSE_AT` values, is collapsed, with one
    line on stderr saying so), "none" (never), "module",
    "module:N" / N, or "repeat" (see :mod:`viz.collapse`). ``params``: the
    nodes to colour as parameters (default: the parameters of the nn modules
    that built the graph). ``legend``: draw the colour legend.
    ``max_nodes``: warn (:class:`GraphTooBigWarning`) above this many drawn
    nodes; None: never. ``compact``: draw each op inside its result's box
    and put the local derivatives in the edges' tooltips instead of on the
    edges (laid out several times faster); None (default) chooses it for
    graphs of more than :data:`COMPACT_AT` drawn values.
    See the module docstring for how to read the picture and the colours.
    """
    rankdir = rankdir_of(rankdir, "draw")  # (before any work)
    d = diagram(root, collapse=collapse, params=params, who="draw",
                readable_at=_model.COLLAPSE_AT)
    _warn_size(d, compact, max_nodes)
    if show_grad:
        _say_if_grads_are_not_one_pass(d, "draw")
    opts: dict[str, Any] = {"show_grad": show_grad, "show_edge_grads": show_edge_grads,
                            "legend": legend, "compact": compact}
    if rankdir is None:
        rankdir = auto_rankdir(d, "draw", **opts)
    return emit(d, rankdir=rankdir, **opts)


def diagram(root: Any, *, collapse: Any = None, params: Iterable[Any] | None = None,
            who: str = "draw", budget: int | None = None, fold_loops: bool = True,
            readable_at: int | None = None) -> Diagram:
    """The diagram model, collapsed automatically when too big (see
    :func:`viz.model.fit`; ``collapse="none"``: never), with ``readable_at``
    also when it would draw more than that many values (``draw`` and
    ``render``: :data:`viz.model.COLLAPSE_AT`), and, with ``fold_loops``,
    when too long to read because of an unrolled loop (see
    :func:`viz.model.fold_long_loops`)."""
    if isinstance(collapse, str) and collapse.lower() in ("none", "off", "full"):
        return _model.build(root, params=params, who=who)
    if collapse is False:
        return _model.build(root, params=params, who=who)
    d = _model.build(root, collapse=collapse, params=params, who=who)
    if collapse is not None and d.grouping is not None and not d.grouping.boxes:
        # "module" on a graph no nn module made (or "repeat" finding nothing): nothing
        # was boxed, so a big graph would go to dot whole; collapse as if unset
        why = " (no nn modules made it)" if str(collapse).startswith("module") or \
            isinstance(collapse, int) else ""
        say(f"{who}: collapse={collapse!r} found nothing to box in this graph{why}")
        _model.set_grouping(d, None)
        collapse = None
    if collapse is None:
        # (the step page keeps a long chain whole; fit() folds loops when it must collapse)
        loops = _model.fold_long_loops(d) if fold_loops else None
        _model.fit(d, compact_at=COMPACT_AT,  # still too big for Graphviz: collapse more
                   budget=_model.DOT_BUDGET if budget is None else budget, loops=loops,
                   readable_at=readable_at)
        if d.note:
            say(f"{who}: {d.note}")
    return d


#: Graphs up to this many values get their drawn gradients compared with one
#: fresh backward pass (a few milliseconds a thousand values).
FRESH_CHECK_AT = 5000


def _say_if_grads_are_not_one_pass(d: Diagram, who: str) -> None:
    """One line when the gradients the picture will show are not those of one
    backward pass from its output: the leaves hold several passes
    (backward() twice without zero_grad(): the step page shows one fresh
    pass), or the data changed since (an optimiser's step: then the values
    themselves do not add up, and the line says to recompute the forward pass,
    see :func:`changed_value`). The picture stays as the nodes are. Before any
    backward() (a forward picture) nothing is said."""
    if len(d.values) > FRESH_CHECK_AT or not d.values[-1].parents:
        return
    root = d.values[-1].node
    if root.grad is None or not np.any(root.grad):
        return  # no backward() yet: a forward picture, its zeros are what they are
    from ..autograd import GraphChangedError, grad
    leaves = [it for it in d.values
              if not it.parents and it.node.grad is not None and it.node.requires_grad]
    if not leaves:
        return
    if np.size(root.data) != 1:
        return  # seeded with an array of the user's: nothing to redo it from
    try:  # one fresh pass from the seed the last one used, writing no .grad (the engine's
        # own walk: about a millisecond a thousand values)
        fresh = grad(root, [it.node for it in leaves], grad_outputs=root.grad)
    except GraphChangedError:
        say(f"{who}: the data changed in place since this graph was built (an optimiser's "
            "step): the gradients shown are from before the change; build the graph again "
            "for current ones")
        return
    except Exception:  # a rule that fails on these numbers: nothing to compare
        return
    for it, want in zip(leaves, fresh if isinstance(fresh, tuple) else (fresh,)):
        g = it.node.grad
        want = want.data
        if g.__class__ is float and want.__class__ is float:
            # equal values are the same (inf and inf too: their difference is nan, and an
            # infinite want must not make every finite g close); nan and nan as well
            same = g == want or (g != g and want != want) or (
                abs(g - want) <= 1e-12 + 1e-9 * abs(want) and abs(want) != float("inf"))
        else:
            same = np.allclose(np.asarray(g, dtype=np.float64),
                               np.asarray(want, dtype=np.float64),
                               rtol=1e-9, atol=1e-12, equal_nan=True)
        if not same:
            if say_if_values_changed(d, who):  # a fresh pass would mix numbers too
                return
            differs = (f"{it.name!r} has grad {fmt(g)}, one pass gives {fmt(want)}"
                       if np.ndim(g) == 0 else f"{it.name!r}'s grad is not what one pass gives")
            say(f"{who}: the gradients shown are not one backward pass from this output: "
                f"{differs} (backward() run again without zero_grad()); viz.steps(root) "
                "shows one fresh pass")
            return


def changed_value(d: Diagram) -> tuple[Item, Any] | None:
    """The first computed value (in topological order) whose data is not what
    its op gives on its operands' data now -- ``(item, what the op gives)`` --
    or None when every value adds up. An optimiser's step (or any change of a
    leaf's ``.data``) after the forward pass leaves the graph holding new
    parameters beside results computed from the old ones: a picture of it, or
    a pass stepped through it, shows numbers that do not add up. Checked by
    running each op again on its operands (``op_forward``, the public node
    protocol); graphs above :data:`FRESH_CHECK_AT` values are not checked."""
    if len(d.values) > FRESH_CHECK_AT:
        return None
    for it in d.values:
        node = it.node
        if not it.parents:
            continue
        operands = [p.data for p in node.parents]
        try:
            want = node.op_forward(*operands)
        except Exception:  # an op that fails on these numbers: nothing to compare
            continue
        if not _close(node.data, want, operands):
            return it, want
    return None


def _close(have: Any, want: Any, operands: list) -> bool:
    """Equal up to rounding: relative to the result and to the operands (a
    difference of large operands is exact only to their size's last digits)."""
    if have.__class__ is float and want.__class__ is float:
        if have == want or (have != have and want != want):
            return True
        scale = max([abs(want)] + [abs(x) for x in operands if x.__class__ is float])
        return abs(have - want) <= 1e-12 + 1e-9 * scale and scale != float("inf")
    try:
        a = np.asarray(have, dtype=np.float64)
        b = np.asarray(want, dtype=np.float64)
        if a.shape != b.shape:
            return False
        tol = 1e-9 if np.result_type(have) == np.float64 else 1e-5
        scale = max([float(np.max(np.abs(x), initial=0.0)) for x in [b, *operands]
                     if np.size(x) and np.all(np.isfinite(x))], default=0.0)
        return bool(np.allclose(a, b, rtol=tol, atol=1e-12 + tol * scale, equal_nan=True))
    except (TypeError, ValueError):  # data that is not numbers: nothing to compare
        return True


def values_changed_text(d: Diagram) -> str | None:
    """One sentence when the graph's values changed since it was computed
    (see :func:`changed_value`), else None."""
    found = changed_value(d)
    if found is None:
        return None
    it, want = found
    shown = (f"{it.name} holds {fmt(it.node.data)} but its operands now give {fmt(want)}"
             if np.ndim(it.node.data) == 0 else
             f"{it.name} is not what its operands now give")
    return ("the graph's values changed since it was computed (an optimiser's step, or a "
            f".data set by hand): {shown}, so the numbers shown will not add up; recompute "
            "the forward pass (build the graph again) to see current ones")


def say_if_values_changed(d: Diagram, who: str) -> str | None:
    """:func:`values_changed_text`, said on stderr too; returns it."""
    text = values_changed_text(d)
    if text:
        say(f"{who}: {text}")
    return text


def say(line: str) -> None:
    """One line of news for the user (stderr)."""
    print(f"gradviz: {line}", file=sys.stderr, flush=True)


def _warn_size(d: Diagram, compact: bool | None, max_nodes: int | None) -> None:
    c = _is_compact(d, compact)
    n_drawn = sum(1 + (0 if c or not it.parents else 1) for it in d.values
                  if d.box_of(it.index) is None)
    if d.grouping is not None:
        n_drawn += len(d.grouping.boxes)
    if max_nodes is not None and n_drawn > max_nodes:
        warnings.warn(
            f"draw: the graph has {n_drawn} nodes to draw ({len(d.values)} values); Graphviz "
            f"`dot` may take minutes on it. Pass collapse='module' (one box per nn module) "
            f"or collapse='repeat' (one box per repeated piece) to draw it compactly, or "
            f"max_nodes=None to silence this.", GraphTooBigWarning, stacklevel=3)


_LEGEND = (("leaf", "input"), ("param", "parameter"), ("const", "constant"),
           ("inter", "intermediate"), ("output", "output"))


def _legend(body: list, d: Diagram | None = None, show_grad: bool = True,
            show_edge_grads: bool = True) -> None:
    """A compact legend: the roles present in the diagram, then what the
    red grad text and the edge numbers mean (those that are drawn)."""
    present = {it.role for it in d.values} if d is not None else {r for r, _ in _LEGEND}
    rows = ['<TD><FONT POINT-SIZE="9">legend</FONT></TD>']
    for role, text in _LEGEND:
        if role in present:
            fill, border = COLOURS[role]
            rows.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" STYLE="ROUNDED">'
                        f"{text}</TD>")
    fill, border = COLOURS["op"]
    rows.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" STYLE="ROUNDED">op</TD>')
    said = ([f'<FONT COLOR="{GRAD_COLOUR}">grad</FONT>: d(output)/d(node)'] if show_grad else [])
    if show_edge_grads:
        said.append("× n on an edge: the op's local derivative (backprop multiplies by it)")
    notes = (f'<TR><TD COLSPAN="{len(rows)}"><FONT POINT-SIZE="9">{" · ".join(said)}</FONT>'
             "</TD></TR>" if said else "")
    body.append("\tlegend [label=<<TABLE BORDER=\"0\" CELLSPACING=\"4\" CELLPADDING=\"3\">"
                f"<TR>{''.join(rows)}</TR>{notes}</TABLE>> fontsize=10]\n")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------
_IMAGE = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg"}
#: Bitmaps: drawn at a resolution (dpi, scale). Both renderers write JPEG too.
_BITMAP = (".png", ".jpg", ".jpeg")
_TEXT = (".dot", ".gv")


def _check_dir(path: str, who: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise FileNotFoundError(f"{who}: the directory {d!r} for {path!r} does not exist; "
                                "create it first")




def dot_program(fmt_: str = "svg") -> str:
    """Path of the renderer for ``fmt_`` (:mod:`viz.backend`); else GraphvizNotFoundError."""
    return backend.find_renderer(fmt_).path


#: Seconds ``dot`` may run before it is stopped (``render(timeout=...)``).
DOT_TIMEOUT = 60.0
#: Address space ``dot`` may use (bytes): a layout that needs more fails
#: cleanly instead of taking the machine down.
DOT_MEMORY = 2 * 1024 ** 3


class LayoutError(RuntimeError):
    """Graphviz ``dot`` failed, crashed or ran past its time limit."""


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (DOT_MEMORY, DOT_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def _layout(source: str, fmt_: str, timeout: float | None,
            progress: str | None) -> tuple | None:
    """Run the layout program: ``(returncode, stdout, stderr)``, or None when
    it ran past ``timeout`` seconds (it is stopped). The one place a layout
    program is started: the one :func:`viz.backend.find_renderer` picks
    (the system ``dot``, else graphviz-pure), under a time and memory
    limit. ``progress``: what to say every few seconds while it runs (None:
    nothing)."""
    r = backend.find_renderer(fmt_)
    if r.name == "graphviz-pure":
        source = backend._for_fallback(source)
    kw: dict[str, Any] = {"preexec_fn": _limit_memory} if os.name == "posix" else {}
    proc = subprocess.Popen([r.path, f"-T{fmt_}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)
    t0 = time.monotonic()
    data: bytes | None = source.encode("utf-8")
    while True:
        elapsed = time.monotonic() - t0
        wait = 3.0 if timeout is None else min(3.0, max(0.0, timeout - elapsed))
        try:
            out, err = proc.communicate(data, timeout=wait)
            return proc.returncode, out, err
        except subprocess.TimeoutExpired:
            data = None  # retrying communicate() carries on where it stopped
            elapsed = time.monotonic() - t0
            if timeout is not None and elapsed >= timeout:
                proc.kill()
                proc.communicate()
                return None
            if progress:
                say(f"{progress}: still laying out ({elapsed:.0f} s"
                    + (f", stopping at {timeout:g} s" if timeout else "") + ")")


def run_dot(source: str, fmt_: str, timeout: float | None = DOT_TIMEOUT,
            what: str = "the graph", progress: str | None = None) -> bytes:
    """``source`` laid out by ``dot`` as ``fmt_`` (svg, png, pdf) bytes.
    ``what`` names the graph in errors ("a graph of 2000 values").
    Raises :class:`LayoutError` when ``dot`` fails, crashes or runs past
    ``timeout`` seconds (it is stopped)."""
    res = _layout(source, fmt_, timeout, progress)
    hint = ("draw it collapsed further: collapse=2 or collapse=1 (one box per layer, or per "
            "model), or collapse='repeat' (repeated pieces as one box); or write a .dot file "
            "and lay it out yourself")
    if res is None:
        raise LayoutError(f"viz: Graphviz `dot` did not finish laying out {what} within "
                          f"{timeout:g} s and was stopped; {hint}")
    code, out, err = res
    if code != 0 and "concentrate=true" in source:  # dot's edge bundling
        return run_dot(source.replace("concentrate=true", "concentrate=false"), fmt_, timeout,
                       what, progress)
    if code != 0:
        why = (f"crashed (signal {-code})" if code < 0 else f"failed (exit {code})")
        msg = err.decode("utf-8", "replace").strip()[:300]
        raise LayoutError(f"viz: Graphviz `dot -T{fmt_}` {why} on {what}"
                          + (f": {msg}" if msg else "") + f"; {hint}")
    scaled = re.search(rb"Scaling by ([0-9.]+) to fit", err or b"")
    if scaled:  # cairo's bitmaps stop at 32,767 pixels a side: dot shrank the picture
        f = float(scaled.group(1))
        say(f"the picture is larger than a PNG can be made here (32,767 pixels a side): "
            f"Graphviz shrank it to {f:.0%} of the size asked for; write .svg or .pdf "
            "for every detail, or collapse the graph")
    return out


def describe(d: Diagram) -> str:
    """"a graph of N values (M drawn)" for messages."""
    drawn = sum(1 for it in d.values if d.box_of(it.index) is None)
    boxed = d.grouping is not None and d.grouping.boxes
    return (f"a graph of {len(d.values)} values" +
            (f" ({drawn} drawn, {_collapse.count_boxes(d.grouping)})" if boxed else ""))


#: The options render() passes on to draw().
_DRAW_OPTIONS = frozenset(n for n in inspect.signature(draw).parameters if n != "root")


def _positive_number(v: Any) -> bool:
    """A finite real number greater than 0 (not a bool): what ``dpi`` and ``scale`` take."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return bool(math.isfinite(v) and v > 0)


def render(root: Any, path: str | os.PathLike, *, timeout: float | None = DOT_TIMEOUT,
           dpi: float | None = None, scale: float | None = None, **draw_options: Any) -> str:
    """Draw ``root``'s graph into ``path`` and return the path.

    ``.svg .png .jpg .pdf`` are laid out by Graphviz ``dot`` (or, without it, by
    the pip-installed graphviz-pure for SVG, PNG and JPEG; with neither, a
    :class:`GraphvizNotFoundError` says how to get one; a layout that fails
    or runs past ``timeout`` seconds is a :class:`LayoutError` naming the
    graph's size and the options); ``.tex`` is a TikZ picture for LaTeX
    (:func:`viz.tikz.render_tikz`); ``.dot`` / ``.gv`` write the DOT text
    and need nothing. PNGs and JPEGs are 192 dpi unless ``dpi`` (or ``scale``:
    ``scale`` × 96 dpi; either a positive number) says otherwise. The file is written
    atomically.
    ``draw_options`` go to :func:`draw` (a graph too big for ``dot`` is
    collapsed automatically unless ``collapse`` says otherwise). ``root``
    may also be a :class:`graphviz.Digraph` from :func:`draw`.
    """
    path = os.fsdecode(os.fspath(path))  # str, bytes or a PathLike
    ext = os.path.splitext(path)[1].lower()
    if (dpi is not None or scale is not None) and ext not in _BITMAP:
        raise ValueError(f"render: dpi and scale apply to .png and .jpg output, not "
                         f"{ext or path!r}")
    if dpi is not None and scale is not None:
        raise ValueError("render: give dpi or scale, not both")
    for what, v in (("dpi", dpi), ("scale", scale)):  # as the command line's --dpi, --scale
        if v is not None and not _positive_number(v):
            raise ValueError(f"render: {what} must be a positive number, got {v!r}")
    if ext == ".tex":
        from .tikz import render_tikz
        return render_tikz(root, path, timeout=timeout, **draw_options)
    if ext not in _IMAGE and ext not in _TEXT:
        raise ValueError(f"render: cannot tell the format of {path!r}; use one of "
                         f"{', '.join(list(_IMAGE) + list(_TEXT) + ['.tex'])}")
    _check_dir(path, "render")
    if ext in _IMAGE:
        dot_program(_IMAGE[ext])  # fail before drawing
    unknown = sorted(set(draw_options) - _DRAW_OPTIONS)
    if unknown:
        raise TypeError(f"render() got an unexpected keyword argument {unknown[0]!r} (it takes "
                        f"path, timeout, dpi, scale and draw()'s options: "
                        f"{', '.join(sorted(_DRAW_OPTIONS))})")
    if isinstance(root, graphviz.Digraph):
        dg, what = root, "the graph"
    else:
        opts = dict(draw_options)
        opts["rankdir"] = rankdir_of(opts.get("rankdir"), "render")  # (before any work)
        d = diagram(root, collapse=opts.pop("collapse", None), params=opts.pop("params", None),
                    who="render", readable_at=_model.COLLAPSE_AT)
        _warn_size(d, opts.get("compact"), opts.pop("max_nodes", MAX_NODES))
        if opts.get("show_grad", True):
            _say_if_grads_are_not_one_pass(d, "render")
        if opts.get("rankdir") is None:
            opts["rankdir"] = auto_rankdir(d, "render", **{k: v for k, v in opts.items()
                                                           if k != "rankdir"})
        dg, what = emit(d, **opts), describe(d)
    if ext in _TEXT:
        write_atomic(path, dg.source)
        return path
    if ext in _BITMAP and (dpi is not None or scale is not None or "dpi" not in dg.graph_attr):
        dg = dg.copy()
        dpi_value = dpi if dpi is not None else 96 * (scale if scale is not None else 2)
        dg.graph_attr["dpi"] = f"{dpi_value:g}"
    write_atomic(path, run_dot(dg.source, _IMAGE[ext], timeout, what,
                               progress=f"render {os.path.basename(path)}"))
    return path
