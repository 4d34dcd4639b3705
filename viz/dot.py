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
  incoming gradient by it) and the rule from the op table (``d/da = b``).

Colour legend (fill / border):

====================  ==================  ======================================
role                  colour              meaning
====================  ==================  ======================================
leaf                  light blue          an input or a constant
parameter             light green         a leaf that a module trains
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

import os
import warnings
from typing import Any, Iterable

import graphviz
import numpy as np

from ..autograd.fileio import write_atomic
from ..autograd.graph import topological_order

from . import backend
from . import collapse as _collapse
from . import scope as _scope
from .text import esc, fmt, grad_norm, summary

__all__ = ["draw", "render", "GraphTooBigWarning", "GraphvizNotFoundError", "MAX_NODES",
           "COMPACT_AT", "COLOURS"]

#: Graphs with more drawn nodes than this warn (``dot`` gets slow).
MAX_NODES = 6000
#: Above this many drawn values, :func:`draw` switches to the compact style.
COMPACT_AT = 300
#: Collapsed graphs with more box-to-box edges than this bundle them.
CONCENTRATE_AT = 40

#: role -> (fill, border)
COLOURS = {
    "leaf": ("#dbeafe", "#2563eb"),
    "param": ("#dcfce7", "#16a34a"),
    "inter": ("#ffffff", "#64748b"),
    "output": ("#ffedd5", "#ea580c"),
    "op": ("#fef9c3", "#a16207"),
    "box": ("#ede9fe", "#7c3aed"),
    "active": ("#fef08a", "#dc2626"),
}
GRAD_COLOUR = "#b91c1c"
RULE_COLOUR = "#64748b"
FONT = "Helvetica"


class GraphTooBigWarning(UserWarning):
    """A graph so big that ``dot`` would take very long; collapse it."""


GraphvizNotFoundError = backend.GraphvizNotFoundError


# --------------------------------------------------------------------------
# Node and edge text
# --------------------------------------------------------------------------
def _is_scalar(node: Any) -> bool:
    return isinstance(node.data, float)


def _cell(text: str, colour: str | None = None, bold: bool = False, width: int = 0) -> str:
    if bold:  # a bold face, not <B>: <B> shifts the baseline in dot's tables
        text = f'<FONT FACE="{FONT}-Bold">{text}</FONT>'
    if colour:
        text = f'<FONT COLOR="{colour}">{text}</FONT>'
    return f'<TD WIDTH="{width}">{text}</TD>' if width else f"<TD>{text}</TD>"


def _value_label(node: Any, role: str, grad: Any, show_grad: bool, steady: bool = False,
                 number: int | None = None, op_cell: bool = False) -> str:
    """``steady``: reserve room for the grad so step frames share one layout."""
    fill, border = COLOURS[role]
    head = (f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" STYLE="ROUNDED" '
            f'BGCOLOR="{fill}" COLOR="{border}">')
    if _is_scalar(node):
        cells = []
        if op_cell and node._parents:  # compact mode: the op inside the node
            cells.append(f'<TD BGCOLOR="{COLOURS["op"][0]}">{esc(_symbol(node))}</TD>')
        if node.label:
            cells.append(_cell(esc(node.label), bold=True))
        elif steady and number is not None:  # step frames name unlabelled nodes #i
            cells.append(_cell(f"#{number}", RULE_COLOUR))
        cells.append(_cell(f"data {fmt(node.data)}"))
        if show_grad:
            g = "?" if grad is _UNKNOWN else fmt(grad)
            cells.append(_cell(f"grad {g}", GRAD_COLOUR, width=76 if steady else 0))
        sep = '<TD BGCOLOR="' + border + '" WIDTH="1" CELLPADDING="0"></TD>'
        return head + "<TR>" + sep.join(cells) + "</TR></TABLE>>"
    data = node.data
    if node.label:
        name = f'<FONT FACE="{FONT}-Bold">{esc(node.label)}</FONT>&#160;&#160;'
    elif steady and number is not None:
        name = f'<FONT COLOR="{RULE_COLOUR}">#{number}</FONT>&#160;&#160;'
    else:
        name = ""
    title = name + f"{esc(tuple(data.shape))} {esc(data.dtype)}"
    if op_cell and node._parents:
        title = f"[{esc(_symbol(node))}] " + title
    rows = [f"<TR><TD>{title}</TD></TR>", f"<TR><TD>{esc(summary(data))}</TD></TR>"]
    if show_grad:
        if grad is _UNKNOWN:
            g = "?"
        elif grad is None:
            g = "none (not required)" if not getattr(node, "requires_grad", True) else "none"
        elif np.size(grad) <= 6:
            g = esc(summary(grad))
        else:
            g = None
        text = f"grad {g}" if g is not None else f"‖grad‖ {fmt(grad_norm(grad))}"
        rows.append(f'<TR><TD><FONT COLOR="{GRAD_COLOUR}">{text}</FONT></TD></TR>')
    return head + "".join(rows) + "</TABLE>>"


def _symbol(node: Any) -> str:
    op = getattr(node._op, "op", None)
    return getattr(op, "symbol", "") or node.op


def _rule_for(node: Any, i: int) -> str:
    """The op table's rule text for operand ``i`` (with constant parameters)."""
    kern = node._op
    op = getattr(kern, "op", None)
    rule = getattr(op, "rule", ())
    if not rule:
        return ""
    if len(rule) == len(node._parents) or op.arity != -1:
        text = rule[i] if i < len(rule) else ""
    elif i == 0 or len(rule) < 3:
        # variadic (wsum: b, w1, x1, w2, x2, ...): rule[0] for the first
        # operand, then rule[1] and rule[2] alternate
        text = rule[0]
    else:
        text = rule[1] if i % 2 == 1 else rule[2]
    params = getattr(kern, "params", None)
    if text and params:  # constant numbers only (an exponent, a slope)
        shown = [f"{k}={fmt(v)}" for k, v in params.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if shown:
            text += " (" + ", ".join(shown) + ")"
    return text


def _local_derivs(node: Any) -> tuple | None:
    if not _is_scalar(node):
        return None
    try:
        return node.local_derivatives()
    except Exception:  # a rule that fails on these numbers: show the text only
        return None


def _edge_tip(node: Any, i: int, locs: tuple | None) -> str:
    """Plain text of an edge's local derivative (escaped for a DOT string by _q)."""
    rule = _rule_for(node, i)
    num = f"× {fmt(locs[i])}" if locs is not None and i < len(locs) else ""
    return esc(" · ".join(t for t in (num, rule) if t))


def _edge_label(node: Any, i: int, locs: tuple | None) -> str:
    rule = _rule_for(node, i)
    parts = []
    if locs is not None and i < len(locs):
        parts.append(f"× {fmt(locs[i])}")
    if rule:
        parts.append(f'<FONT POINT-SIZE="9" COLOR="{RULE_COLOUR}">{esc(rule)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">" if parts else ""


# --------------------------------------------------------------------------
# The diagram
# --------------------------------------------------------------------------
_UNKNOWN = object()
_HOT_EDGE = ' [color="#dc2626" penwidth=2]'


def _params_of(order: list, params: Iterable[Any] | None) -> set:
    if params is not None:
        return {id(p) for p in params}
    _, modules = _scope.assign(order)
    return _scope.parameters_of(m for m in modules.values() if m is not None)


def _role(node: Any, root: Any, params: set) -> str:
    if node is root:
        return "output"
    if not node._parents:
        if id(node) in params or (not _is_scalar(node) and getattr(node, "requires_grad", False)):
            return "param"
        return "leaf"
    return "inter"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**kw: Any) -> str:
    return "[" + " ".join(f"{k}={v}" for k, v in kw.items() if v is not None) + "]"


class _Frame:
    """What a step frame changes: grads known so far, the active node."""

    def __init__(self, grads: dict | None = None, active: Any = None):
        self.grads = grads
        self.active = active


def _new_digraph(rankdir: str) -> graphviz.Digraph:
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    return backend.Digraph(
        "gradviz",
        graph_attr={"rankdir": rankdir, "bgcolor": "white", "nodesep": "0.25", "ranksep": "0.45",
                    "fontname": FONT, "pad": "0.2"},
        node_attr={"fontname": FONT, "fontsize": "11", "shape": "plain"},
        edge_attr={"fontname": FONT, "fontsize": "10", "color": "#475569",
                   "arrowsize": "0.7"})


def draw(root: Any, *, show_grad: bool = True, show_edge_grads: bool = True,
         rankdir: str = "LR", collapse: Any = None, params: Iterable[Any] | None = None,
         legend: bool = False, max_nodes: int | None = MAX_NODES,
         compact: bool | None = None) -> graphviz.Digraph:
    """The computation graph ending at ``root`` as a :class:`graphviz.Digraph`.

    ``show_grad``: show each node's ``grad``. ``show_edge_grads``: label each
    edge into an op with the local derivative (number and rule).
    ``rankdir``: "LR" (left to right) or "TB" (top to bottom).
    ``collapse``: None, "module", "module:N" / N, or "repeat" (see
    :mod:`viz.collapse`). ``params``: the nodes to colour as parameters
    (default: the parameters of the nn modules that built the graph).
    ``legend``: draw the colour legend. ``max_nodes``: warn
    (:class:`GraphTooBigWarning`) above this many drawn nodes; None: never.
    ``compact``: draw each op inside its result's box and put the local
    derivatives in the edges' tooltips instead of on the edges (laid out
    several times faster); None (default) chooses it for graphs of more than
    :data:`COMPACT_AT` drawn values.
    See the module docstring for how to read the picture and the colours.
    """
    return _draw(root, show_grad, show_edge_grads, rankdir, collapse, params, legend, max_nodes,
                 _Frame(), compact=compact)


def _draw(root, show_grad, show_edge_grads, rankdir, collapse, params, legend, max_nodes,
          frame: _Frame, order: list | None = None, compact: bool | None = None
          ) -> graphviz.Digraph:
    if not (hasattr(root, "_parents") and hasattr(root, "data")):
        raise TypeError(f"draw: expected a Value or Tensor, got {type(root).__name__}")
    dg = _new_digraph(rankdir)
    if order is None:
        order = topological_order([root])
    pset = _params_of(order, params)
    grouping = _collapse.group(order, root, collapse, pset) if collapse is not None else None
    of = grouping.of if grouping else {}
    n_values = sum(1 for n in order if id(n) not in of)
    if compact is None:
        compact = n_values > COMPACT_AT
    if compact:
        dg.graph_attr["newrank"] = "true"
    n_drawn = (n_values if compact else sum(1 + (1 if n._parents else 0) for n in order
                                            if id(n) not in of)) + \
        (len(grouping.boxes) if grouping else 0)
    if max_nodes is not None and n_drawn > max_nodes:
        warnings.warn(
            f"draw: the graph has {n_drawn} nodes to draw ({len(order)} values); Graphviz "
            f"`dot` may take minutes on it. Pass collapse='module' (one box per nn module) "
            f"or collapse='repeat' (one box per repeated piece) to draw it compactly, or "
            f"max_nodes=None to silence this.", GraphTooBigWarning, stacklevel=3)
    ids = {id(n): f"n{i}" for i, n in enumerate(order)}
    body = dg.body
    grads = frame.grads
    active = frame.active
    # boxes first (in first-seen order), then nodes, then edges
    box_ids = {}
    if grouping:
        for j, box in enumerate(grouping.boxes.values()):
            bid = f"m{j}"
            box_ids[box.key] = bid
            fill, border = COLOURS["box"]
            title = f'<FONT FACE="{FONT}-Bold">{esc(box.title)}</FONT>'
            if box.kind and box.kind not in ("repeat", "region"):
                title += f" · {esc(box.kind)}"
            rows = "".join(f"<TR><TD>{esc(t)}</TD></TR>" for t in box.lines())
            lab = (f'<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
                   f'STYLE="ROUNDED" BGCOLOR="{fill}" COLOR="{border}"><TR><TD>{title}</TD></TR>'
                   f"{rows}</TABLE>>")
            body.append(f"\t{bid} {_attrs(label=lab)}\n")

    def rep(n):  # the drawn endpoint of node n's value
        k = of.get(id(n))
        return box_ids[k] if k is not None else ids[id(n)]

    for n in order:
        i = id(n)
        if i in of:
            continue
        nid = ids[i]
        role = "active" if n is active else _role(n, root, pset)
        g = n.grad if grads is None else grads.get(i, _UNKNOWN)
        lab = _value_label(n, role, g, show_grad, grads is not None, int(nid[1:]), compact)
        body.append(f"\t{nid} [label={lab}]\n")
        if n._parents and not compact:
            fill, border = COLOURS["active" if n is active else "op"]
            sym = n._op.op.symbol if hasattr(n._op, "op") else n.op
            short = len(sym) <= 2
            body.append(f"\t{nid}op " + _attrs(
                label=_q(esc(sym)), shape="circle" if short else "box",
                style="filled" if short else '"rounded,filled"', fillcolor=_q(fill),
                color=_q(border), fontsize="12" if short else "10", width="0.3",
                height="0.3", margin="0.02" if short else '"0.06,0.02"',
                penwidth="2" if n is active else None) + "\n")
            body.append(f"\t{nid}op -> {nid}{_HOT_EDGE if n is active else ''}\n")
    seen_edges: dict[tuple, int] = {}
    for n in order:
        i = id(n)
        if not n._parents:
            continue
        grouped = i in of
        dst = rep(n) if (grouped or compact) else ids[i] + "op"
        locs = _local_derivs(n) if (show_edge_grads and not grouped) else None
        for j, p in enumerate(n._parents):
            src = rep(p)
            if grouped or id(p) in of:  # edges to or from a box: one per pair, counted
                if src == dst:
                    continue
                seen_edges[(src, dst)] = seen_edges.get((src, dst), 0) + 1
                continue
            hot = n is active
            extra = ' color="#dc2626" fontcolor="#dc2626" penwidth=2' if hot else ""
            if compact:  # the derivative as a tooltip: no layout cost
                tip = _edge_tip(n, j, locs) if show_edge_grads else ""
                body.append(f"\t{src} -> {dst}" + (f" [tooltip={_q(tip)}{extra}]\n" if tip or hot
                                                   else "\n"))
                continue
            lab = _edge_label(n, j, locs) if show_edge_grads else ""
            attrs = (f"label={lab}" if lab else "") + extra
            body.append(f"\t{src} -> {dst} [{attrs.strip()}]\n" if attrs else f"\t{src} -> {dst}\n")
    if sum(1 for (a, b) in seen_edges if a[0] == "m" and b[0] == "m") > CONCENTRATE_AT:
        dg.graph_attr["concentrate"] = "true"  # bundle box-to-box edges (layer to layer)
    for (src, dst), count in seen_edges.items():
        lab = f' [label="{count}"]' if count > 1 else ""
        body.append(f"\t{src} -> {dst}{lab}\n")
    if legend:
        _legend(body)
    return dg


def _legend(body: list) -> None:
    body.append('\tsubgraph cluster_legend {\n\t\tlabel="legend" fontsize=10 color="#cbd5e1" '
                'style=rounded\n')
    prev = None
    for role, text in (("leaf", "leaf (input)"), ("param", "parameter"),
                       ("inter", "intermediate"), ("output", "output"), ("op", "op")):
        fill, border = COLOURS[role]
        shape = "circle" if role == "op" else "box"
        body.append(f'\t\tlegend_{role} [label="{text}" shape={shape} style="rounded,filled" '
                    f'fillcolor="{fill}" color="{border}" fontsize=9]\n')
        if prev:
            body.append(f"\t\t{prev} -> legend_{role} [style=invis]\n")
        prev = f"legend_{role}"
    body.append("\t}\n")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------
_IMAGE = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_TEXT = (".dot", ".gv")


def _check_dir(path: str, who: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise FileNotFoundError(f"{who}: the directory {d!r} for {path!r} does not exist; "
                                "create it first")




def dot_program(fmt_: str = "svg") -> str:
    """Path of the renderer for ``fmt_`` (:mod:`viz.backend`); else GraphvizNotFoundError."""
    return backend.find_renderer(fmt_).path


def run_dot(source: str, fmt_: str, timeout: float | None = 120.0) -> bytes:
    """``source`` laid out as ``fmt_`` (svg, png, pdf) bytes: :func:`viz.backend.render_source`."""
    return backend.render_source(source, fmt_, timeout=timeout)


def render(root: Any, path: str | os.PathLike, *, timeout: float | None = 120.0,
           dpi: float | None = None, scale: float | None = None, **draw_options: Any) -> str:
    """Draw ``root``'s graph into ``path`` and return the path.

    ``.svg .png .pdf`` are laid out by Graphviz ``dot`` (or, without it, by
    the pip-installed graphviz-pure for SVG and PNG; with neither, a
    :class:`GraphvizNotFoundError` says how to get one); ``.tex`` is a TikZ
    picture for LaTeX (:func:`viz.tikz.render_tikz`); ``.dot`` / ``.gv``
    write the DOT text and need nothing. PNGs are 192 dpi unless ``dpi`` (or
    ``scale``: ``scale`` × 96 dpi) says otherwise. The file is written
    atomically. ``draw_options`` go to :func:`draw`. ``root`` may also be a
    :class:`graphviz.Digraph` from :func:`draw`.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if (dpi is not None or scale is not None) and ext != ".png":
        raise ValueError(f"render: dpi and scale apply to .png output, not {ext or path!r}")
    if dpi is not None and scale is not None:
        raise ValueError("render: give dpi or scale, not both")
    if ext == ".tex":
        from .tikz import render_tikz
        return render_tikz(root, path, timeout=timeout, **draw_options)
    if ext not in _IMAGE and ext not in _TEXT:
        raise ValueError(f"render: cannot tell the format of {path!r}; use one of "
                         f"{', '.join(list(_IMAGE) + list(_TEXT) + ['.tex'])}")
    _check_dir(path, "render")
    if ext in _IMAGE:
        dot_program(_IMAGE[ext])  # fail before drawing
    dg = root if isinstance(root, graphviz.Digraph) else draw(root, **draw_options)
    if ext in _TEXT:
        write_atomic(path, dg.source)
        return path
    if ext == ".png" and (dpi is not None or scale is not None or "dpi" not in dg.graph_attr):
        dg = dg.copy()
        dg.graph_attr["dpi"] = f"{dpi if dpi is not None else 96 * (scale if scale is not None else 2):g}"
    write_atomic(path, run_dot(dg.source, _IMAGE[ext], timeout))
    return path
