"""Backprop step by step: the pass as data (:func:`backward_pass`), frames
(:func:`draw_steps`), terminal text (:func:`step_text`, :func:`record_steps`)
and the interactive page (:func:`steps`, :func:`steps_html`; built by
:mod:`viz.page`).

No side effects: stepping never writes any ``.grad``. The pass shown is a
fresh backward pass from the root (every gradient starting at zero, the
root seeded with 1), computed here from the public node protocol -- each
node's ``vjp(g)`` and ``local_derivatives()`` over the diagram model's
topological order -- with its own running sums. So a page drawn after
``backward()`` shows the same numbers as one drawn before it, and the
graph's grads are untouched either way.

A step is one node pushing its gradient to its parents. For each parent the
panel shows the chain rule: ``upstream grad × local derivative =
contribution``, and the parent's running sum in this pass.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Any

import graphviz
import numpy as np

from ..autograd import no_grad
from ..autograd.fileio import write_atomic
from . import model as _model
from .dot import State, _check_dir, emit, rankdir_of
from .model import Diagram, rule_text
from .text import esc, fmt, summary

__all__ = ["draw_steps", "steps_html", "steps", "step_text", "record_steps", "backward_pass",
           "StepInfo", "Step", "Steps", "StepFrames"]


@dataclass(frozen=True)
class Step:
    """One node pushing its gradient to its parents (the shape of
    :class:`autograd.graph.Step`, plus diagram indices): ``item`` is the
    node's index in the diagram model, ``parents`` its operands' indices."""

    index: int
    node: Any
    grad: Any
    contributions: tuple   # (parent, local derivative or None, contribution or None)
    totals: tuple          # the parent's running sum right after each contribution
    item: int
    parents: tuple


def seed_of(root: Any, who: str = "steps") -> Any:
    """d(root)/d(root): 1 (an array of ones for a one-element tensor)."""
    if isinstance(root.data, float):
        return 1.0
    data = np.asarray(root.data)
    if data.size != 1:
        raise ValueError(f"{who}: the root has shape {tuple(data.shape)}; a backward pass starts "
                         f"from one number -- step through a reduction of it (e.g. .sum())")
    return np.ones_like(data)


def backward_pass(d: Diagram, who: str = "steps") -> tuple[list, dict]:
    """A fresh backward pass over the diagram model's graph, without writing
    any ``.grad``: ``(steps, grads)`` where ``grads`` maps a value's index to
    its complete gradient (absent: none flows there). The same order and
    arithmetic as ``root.backward_steps()`` (Kahn's algorithm from the root)."""
    vals = d.values
    uses = [0] * len(vals)
    for it in vals:
        for p in it.parents:
            uses[p] += 1
    root = len(vals) - 1
    acc: dict = {root: seed_of(vals[root].node, who)}
    ready = [root]
    steps: list = []
    with no_grad():
        while ready:
            i = ready.pop()
            it = vals[i]
            g = acc[i]
            if not it.parents:
                continue
            node = it.node
            contribs = node.vjp(g)
            try:
                locs = node.local_derivatives()
            except Exception:  # a rule that fails on these numbers: shown as text
                locs = None
            if locs is None:
                locs = (None,) * len(it.parents)
            totals = []
            for j, p in enumerate(it.parents):
                c = contribs[j]
                if c is not None:
                    prev = acc.get(p)
                    acc[p] = c if prev is None else prev + c
                elif p not in acc:
                    acc[p] = None
                totals.append(acc[p])
                uses[p] -= 1
                if uses[p] == 0:
                    if acc[p] is None:
                        del acc[p]
                        continue
                    ready.append(p)
            steps.append(Step(len(steps), node, g,
                              tuple(zip(node.parents, locs, contribs)), tuple(totals),
                              i, it.parents))
    return steps, acc


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------
def num(x: Any) -> str:
    if x is None:
        return "none"
    if isinstance(x, float):
        return fmt(x)
    return summary(x)


#: The most significant figures :func:`factors` gives a factor.
FACTOR_DIGITS_AT_MOST = 7


def factors(grad: Any, local: Any, contrib: Any) -> tuple[str, str]:
    """``grad`` and ``local`` as the arithmetic line shows them: 4 significant
    figures (:func:`viz.fmt`), or more -- up to :data:`FACTOR_DIGITS_AT_MOST`
    -- when the rounded factors would not give the rounded product: ``grad 1 ×
    local 3 = 3.001`` is ``grad 1.0005 × local 3 = 3.001``."""
    g, loc = num(grad), num(local)
    try:
        gf, lf, want = float(grad), float(local), fmt(float(contrib))
    except (TypeError, ValueError):  # arrays: shown as they are
        return g, loc
    for digits in range(4, FACTOR_DIGITS_AT_MOST + 1):
        g, loc = fmt(gf, digits), fmt(lf, digits)
        if fmt(float(g) * float(loc)) == want:
            return g, loc
    return num(grad), num(local)  # (nan, inf, or a product no rounding reproduces)


def step_text(step: Any, name=None) -> list[str]:
    """The chain-rule arithmetic of one step (this module's :class:`Step` or
    :class:`autograd.graph.Step`) as lines:
    ``total: grad 1 × local 1.1 = 1.1 → subtotal (running sum 1.1)``.

    ``name(node) -> str`` names the nodes; by default an unlabelled node
    goes by the name the diagrams and the step page give it (``w1*x1``,
    ``tanh(x)``, ``v7``: :attr:`viz.model.Item.name`, from the graph of the
    pass the step belongs to)."""
    if not (hasattr(step, "node") and hasattr(step, "contributions")):
        what = ("a node: pass its steps one at a time, for step in root.backward_steps(): "
                "print('\\n'.join(viz.step_text(step)))" if hasattr(step, "parents")
                else type(step).__name__)
        raise TypeError(f"step_text: expected one step of a backward pass, got {what}")
    name = name or _pass_namer(step)
    node = step.node
    info = node.op_info
    sym = info.symbol if info is not None else node.op
    head = f"step {step.index + 1}: {name(node)} (op {sym}) has grad {num(step.grad)}"
    lines = [head]
    for j, ((p, local, contrib), total) in enumerate(zip(step.contributions, step.totals)):
        rule = rule_text(node, j)
        loc = num(local) if local is not None else (rule or "vjp")
        if contrib is None:  # an input that wants no gradient (a target, a constant)
            lines.append(f"{name(node)}: nothing → {name(p)} (it needs no gradient)")
            continue
        g = num(step.grad)
        if local is not None:  # factors that give the product shown
            g, loc = factors(step.grad, local, contrib)
        lines.append(f"{name(node)}: grad {g} × local {loc} = {num(contrib)} "
                     f"→ {name(p)} (running sum {num(total)})"
                     + (f"   [{rule}]" if rule and local is not None else ""))
    return lines


@dataclass
class StepInfo:
    """One backward step, with the grads known after it (id(node) -> grad)."""

    index: int
    node: Any
    grad: Any
    lines: list
    known: dict


def _names(d: Diagram) -> dict:
    """id(node) -> the name it goes by in the diagrams (:attr:`Item.name`)."""
    return {id(it.node): it.name for it in d.values}


def _namer(d: Diagram):
    names = _names(d)

    def name(n: Any) -> str:
        return names[id(n)]
    return name


#: The names of the pass :func:`step_text` last named nodes for: (a weak
#: reference to its root, {id(node): the name an unlabelled node goes by}). A
#: pass's steps are named from one model of the whole graph, built at its
#: first step (whose node is the root), so a loop over ``backward_steps()``
#: costs one walk; while the root lives, so do the nodes the ids stand for.
_LAST_PASS: list = [None, {}]


def _pass_namer(step: Any):
    """:attr:`viz.model.Item.name` of ``step``'s nodes (see :data:`_LAST_PASS`)."""
    import weakref
    ref, names = _LAST_PASS
    node = step.node
    if getattr(step, "index", 0) == 0 or ref is None or ref() is None or id(node) not in names:
        try:
            d = _model.build(node, who="step_text")
        except (TypeError, ValueError):  # not a node the diagrams know: its label
            return lambda n: n.label or "node"
        names = _names(d)
        try:
            ref = weakref.ref(node)
        except TypeError:  # pragma: no cover - a node type without weak references
            names = {}
        _LAST_PASS[:] = [ref, names]

    def name(n: Any) -> str:
        return names.get(id(n)) or n.label or "node"
    return name


def record_steps(root: Any) -> tuple[list, list[StepInfo]]:
    """A fresh backward pass, step by step, without touching any ``.grad``:
    ``(topological order, steps)``; each step's ``known`` holds the grads
    known after it (id(node) -> grad): the last one holds every gradient."""
    d = _model.build(root, who="draw_steps")
    return _record(d)


def _record(d: Diagram) -> tuple[list, list[StepInfo]]:
    steps, _ = backward_pass(d, "draw_steps")
    name = _namer(d)
    known: dict = {id(d.root): steps[0].grad} if steps else {}
    out = []
    for s in steps:
        known[id(s.node)] = s.grad
        for (p, _, _), total in zip(s.contributions, s.totals):
            known[id(p)] = total
        out.append(StepInfo(s.index, s.node, s.grad, step_text(s, name), dict(known)))
    return [it.node for it in d.values], out


# --------------------------------------------------------------------------
# Frames (one DOT diagram per step)
# --------------------------------------------------------------------------
class StepFrames(list):
    """The frames of :func:`draw_steps` (a list of :class:`graphviz.Digraph`);
    in Jupyter it shows as the interactive step page."""

    def __init__(self, frames: list, root: Any, options: dict):
        super().__init__(frames)
        self._root = root
        self._options = options

    def _repr_html_(self) -> str:
        return steps(self._root, **self._options)._repr_html_()


def draw_steps(root: Any, *, rankdir: str = "LR", show_edge_grads: bool = True
               ) -> list[graphviz.Digraph]:
    """One diagram per backward step: the active node and the edges it sends
    gradient along in red, grads filled in as they become known ("?" before).
    A fresh pass: no ``.grad`` is changed (see the module docstring). In
    Jupyter the list shows as the interactive page (:func:`steps`)."""
    rankdir = rankdir_of(rankdir, "draw_steps")
    d = _model.build(root, who="draw_steps")
    steps_, _ = backward_pass(d, "draw_steps")
    known: dict = {}
    if steps_:
        known[len(d.values) - 1] = steps_[0].grad
    frames = []
    for s in steps_:
        known[s.item] = s.grad
        for p, total in zip(s.parents, s.totals):
            known[p] = total
        frames.append(emit(d, show_edge_grads=show_edge_grads, rankdir=rankdir,
                           state=State(dict(known), s.item, steady=True), who="draw_steps"))
    return StepFrames(frames, root, {"rankdir": rankdir})


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------
class Steps:
    """The interactive step page of one graph: ``.html`` (the page),
    ``.save(path)``, and inline display in Jupyter (``_repr_html_``: the page
    in a sandboxed iframe, offline)."""

    def __init__(self, html_text: str, title: str, height: int = 720):
        self.html = html_text
        self.title = title
        self.height = height  # of the notebook's iframe, in CSS pixels

    def save(self, path: str | os.PathLike) -> str:
        path = _html_path(path, "steps.save")
        _check_dir(path, "steps.save")
        write_atomic(path, self.html)
        return path

    def _repr_html_(self) -> str:
        return (f'<iframe sandbox="allow-scripts" style="width:100%;height:{self.height}px;'
                f'border:1px solid #e2e8f0;border-radius:8px" title="{esc(self.title)}" '
                f'srcdoc="{html.escape(self.html, quote=True)}"></iframe>')

    def __repr__(self) -> str:
        return f"<gradviz step page: {self.title} ({len(self.html):,} bytes)>"


def steps(root: Any, *, collapse: Any = None, rankdir: str | None = None, forward: bool = True,
          title: str | None = None, height: int = 720) -> Steps:
    """The interactive step page for ``root``'s graph, as an object that
    shows inline in Jupyter and has ``.save(path)``.

    ``collapse``: None (automatic: only a graph too big for Graphviz is
    collapsed), "none", "module", "module:N" / N, "repeat" (then the pass
    steps from box to box, with shapes and gradient norms). ``rankdir``:
    "LR" / "TB" (None: chosen from the graph's shape, see
    :func:`viz.dot.auto_rankdir`). ``forward``: show the forward pass (values
    filled in, in topological order) before the backward pass.
    The graph is laid out once by Graphviz ``dot``; the page holds the pass
    as data and its script animates it. No ``.grad`` is changed.
    ``height``: the page's height in a notebook, in pixels (a projector in a
    lecture hall wants more than the default 720).
    """
    from .page import build_page
    _model.check_root(root, "steps")
    if isinstance(height, bool) or not isinstance(height, int) or not 200 <= height <= 5000:
        raise ValueError(f"steps: height is the notebook frame's height in pixels, an int from "
                         f"200 to 5000, got {height!r}")
    text, ttl = build_page(root, collapse=collapse, rankdir=rankdir, forward=forward,
                           title=title)
    return Steps(text, ttl, height)


def _html_path(path: str | os.PathLike, who: str) -> str:
    """``path`` as a str, refused unless it ends in .html / .htm: the page is HTML,
    and a browser (or an image viewer) goes by the name, so "b.svg" or "noext"
    would be a file that opens as the wrong thing or not at all."""
    path = os.fsdecode(os.fspath(path))  # str, bytes or a PathLike
    if os.path.splitext(path)[1].lower() not in (".html", ".htm"):
        raise ValueError(f"{who}: the page is HTML; give a path ending in .html, got "
                         f"{path!r}")
    return path


def steps_html(root: Any, path: str | os.PathLike, *, collapse: Any = None,
               rankdir: str | None = None, forward: bool = True, title: str | None = None) -> str:
    """Write the interactive step page (see :func:`steps`) to ``path``, a
    self-contained HTML file (no network); returns the path."""
    path = _html_path(path, "steps_html")
    _model.check_root(root, "steps_html")
    _check_dir(path, "steps_html")
    page = steps(root, collapse=collapse, rankdir=rankdir, forward=forward, title=title)
    write_atomic(path, page.html)
    return path
