"""Backprop step by step: frames (:func:`draw_steps`), terminal text
(:func:`step_text`) and a self-contained HTML page (:func:`steps_html`).

All three run ``root.backward_steps()`` once, to the end: that IS a backward
pass, so afterwards the graph's grads are exactly what ``root.backward()``
would have left (leaves accumulate into ``.grad`` as usual; zero them first
if you have run backward before and want to see fresh numbers).

A step is one node pushing its gradient to its parents. For each parent the
panel shows the chain rule: ``upstream grad × local derivative =
contribution``, and the parent's running sum in this pass.
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import graphviz

from ..autograd.graph import topological_order

from ..autograd.fileio import write_atomic

from .dot import _draw, _Frame, _rule_for, run_dot, _check_dir, dot_program
from .text import esc, fmt, summary

__all__ = ["draw_steps", "steps_html", "step_text", "record_steps", "StepInfo"]


@dataclass
class StepInfo:
    """One backward step, with the grads known after it (id(node) -> grad)."""

    index: int
    node: Any
    grad: Any
    lines: list
    known: dict


def _num(x: Any) -> str:
    if x is None:
        return "none"
    if isinstance(x, float):
        return fmt(x)
    return summary(x)


def _namer(order: list):
    ids = {id(n): i for i, n in enumerate(order)}

    def name(n: Any) -> str:
        return n.label or f"#{ids[id(n)]}"
    return name


def step_text(step: Any, name=None) -> list[str]:
    """The chain-rule arithmetic of one :class:`autograd.graph.Step` as lines:
    ``total: grad 1 × local 1.1 = 1.1 → subtotal (running sum 1.1)``."""
    name = name or (lambda n: n.label or "node")
    node = step.node
    sym = getattr(getattr(node._op, "op", None), "symbol", node.op)
    head = f"step {step.index + 1}: {name(node)} (op {sym}) has grad {_num(step.grad)}"
    lines = [head]
    # step.totals: the parent's running sum right after each contribution
    for j, ((p, local, contrib), total) in enumerate(zip(step.contributions, step.totals)):
        rule = _rule_for(node, j)
        loc = _num(local) if local is not None else (rule or "vjp")
        lines.append(f"{name(node)}: grad {_num(step.grad)} × local {loc} = {_num(contrib)} "
                     f"→ {name(p)} (running sum {_num(total)})"
                     + (f"   [{rule}]" if rule and local is not None else ""))
    return lines


def record_steps(root: Any) -> tuple[list, list[StepInfo]]:
    """Run the backward pass step by step; returns (topological order, steps)."""
    if not hasattr(root, "backward_steps"):
        raise TypeError(f"draw_steps: expected a Value or Tensor, got {type(root).__name__}")
    order = topological_order([root])
    name = _namer(order)
    known: dict[int, Any] = {}
    out = []
    for step in root.backward_steps():
        known[id(step.node)] = step.grad
        for (p, _, _), total in zip(step.contributions, step.totals):
            known[id(p)] = total
        out.append(StepInfo(step.index, step.node, step.grad, step_text(step, name), dict(known)))
    return order, out


def _frames(root, order, steps, rankdir, show_edge_grads) -> list[graphviz.Digraph]:
    return [_draw(root, True, show_edge_grads, rankdir, None, None, False, None,
                  _Frame(s.known, s.node), order=order) for s in steps]


def draw_steps(root: Any, *, rankdir: str = "LR", show_edge_grads: bool = True
               ) -> list[graphviz.Digraph]:
    """One diagram per backward step: the active node and the edges it sends
    gradient along in red, grads filled in as they become known ("?" before).
    Runs the backward pass (see the module docstring)."""
    order, steps = record_steps(root)
    return _frames(root, order, steps, rankdir, show_edge_grads)


def _svgs(frames: list[graphviz.Digraph]) -> list[str]:
    """All frames laid out by one ``dot`` run (it accepts several graphs)."""
    if not frames:
        return []
    out = run_dot("".join(f.source for f in frames), "svg").decode("utf-8")
    parts = [p for p in out.split("<svg")[1:]]
    if len(parts) != len(frames):  # pragma: no cover - dot's output format changed
        raise RuntimeError(f"steps_html: dot returned {len(parts)} SVGs for {len(frames)} frames")
    return ["<svg" + p.split("</svg>")[0] + "</svg>" for p in parts]


def _template() -> str:
    return resources.files(__package__).joinpath("templates/steps.html").read_text("utf-8")


#: steps_html refuses graphs needing more diagrams than this (max_frames=None: no limit).
MAX_FRAMES = 200


def steps_html(root: Any, path: str | os.PathLike, *, title: str | None = None,
               rankdir: str = "LR", max_frames: int | None = MAX_FRAMES) -> str:
    """Write one self-contained HTML page stepping through backprop from
    ``root``: prev/next buttons, a slider, the arrow keys, and a panel with
    each step's chain-rule arithmetic. The SVG frames are made by ``dot``
    now and embedded; the page loads nothing from the network. Runs the
    backward pass (see the module docstring). Returns the path."""
    path = os.fspath(path)
    _check_dir(path, "steps_html")
    dot_program()
    order = topological_order([root])
    n_steps = sum(1 for n in order if n._parents)
    if max_frames is not None and n_steps + 2 > max_frames:
        raise ValueError(
            f"steps_html: the graph has {n_steps} backward steps ({len(order)} nodes); a page of "
            f"{n_steps + 2} diagrams would take long to lay out. Step through a smaller graph, "
            f"print the steps instead (gradviz steps ... --text), or pass max_frames=None.")
    order, steps = record_steps(root)
    name = _namer(order)
    done = _Frame({id(n): n.grad for n in order}, None)  # steady: the same layout
    final = _draw(root, True, True, rankdir, None, None, False, None, done, order=order)
    start = _Frame({id(root): _seed_of(steps, root)}, None)
    first = _draw(root, True, True, rankdir, None, None, False, None, start, order=order)
    frames = [first] + _frames(root, order, steps, rankdir, True) + [final]
    svgs = _svgs(frames)
    ids = {id(n): f"n{i}" for i, n in enumerate(order)}
    texts = [(["start: the forward pass is done; backward seeds "
               f"d{name(root)}/d{name(root)} = {_num(_seed_of(steps, root))}"], "", "")]
    for s in steps:
        texts.append((s.lines, ids[id(s.node)], name(s.node)))
    leaves = [n for n in order if not n._parents]
    texts.append((["done: every node holds its gradient"] +
                  [f"d{name(root)}/d{name(n)} = {_num(n.grad)}" for n in leaves], "", ""))
    blocks = []
    for i, (svg, (lines, active, label)) in enumerate(zip(svgs, texts)):
        head, rest = lines[0], lines[1:]
        panel = f'<div class="head">{esc(head)}</div>' + "".join(
            f'<div class="line">{esc(line)}</div>' for line in rest)
        blocks.append(f'<section class="frame" id="f{i}" data-active="{esc(active)}" '
                      f'data-label="{esc(label)}"{"" if i == 0 else " hidden"}>'
                      f'<div class="svg">{svg}</div><div class="panel">{panel}</div></section>')
    fill = {"TITLE": esc(title or f"Backprop step by step: {name(root)}"),
            "COUNT": str(len(blocks)), "MAX": str(len(blocks) - 1), "FRAMES": "\n".join(blocks)}
    # one pass, so text inserted for one placeholder is never read as another
    page = re.sub(r"\{\{([A-Z]+)\}\}", lambda m: fill[m.group(1)], _template())
    write_atomic(path, page)
    return path


def _seed_of(steps: list, root: Any) -> Any:
    return steps[0].grad if steps else root.grad


html_escape = html.escape  # re-exported for tests
