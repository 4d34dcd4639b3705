"""The interactive step page: one layout, the pass as data.

:func:`build_page` lays the diagram model out once with Graphviz ``dot``
(the SVG goes inline) and turns the backward pass of :mod:`viz.steps` into
*frames*: per frame the active drawn node (a value or a collapse box), the
lines of chain-rule arithmetic, and the cell texts that change (a grad
becoming known, a running sum growing, a value computed in the forward
pass). The page's script (``templates/steps.html``) replays them over the
one SVG: it highlights, fills in numbers, zooms and searches.

The data is JSON inside a ``<script type="application/json">`` element with
``<``, ``>`` and ``&`` escaped, and the script only ever sets
``textContent``: a label such as ``</script>`` or ``<img onerror=...>``
stays text.

Cells: every drawn node's *slots* are its last SVG text elements counted
from the end (a value: 0 the grad, 1 the data; a box: 0 its parameters'
gradient norm and 1 its output's, or just 0 its output's). The layout is
made with the widest text each slot will hold, so nothing overflows.
"""
from __future__ import annotations

import heapq
import json
import re
from importlib import resources
from typing import Any

import numpy as np

from . import collapse as _collapse
from . import model as _model
from .dot import (
    COLOURS,
    DOT_TIMEOUT,
    State,
    _is_compact,
    auto_rankdir,
    data_text,
    describe,
    diagram,
    dot_program,
    emit,
    grad_text,
    rankdir_of,
    run_dot,
    say_if_values_changed,
)
from .model import Diagram
from .steps import backward_pass, num, seed_of, step_text
from .text import esc, fmt, grad_norm

__all__ = ["build_page", "page_data"]

#: Leaves listed by name in the first and last frames' text.
LIST_AT_MOST = 24


def _template() -> str:
    return resources.files(__package__).joinpath("templates/steps.html").read_text("utf-8")


def json_for_html(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element of an HTML page."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _norm_text(prefix: str, grads: list) -> str:
    known = [g for g in grads if g is not None]
    if not known:
        return f"{prefix} ?"
    return f"{prefix} {fmt(float(np.sqrt(sum(grad_norm(g) ** 2 for g in known))))}"


class _Units:
    """The drawn nodes of the page: ungrouped values and boxes."""

    def __init__(self, d: Diagram, compact: bool):
        self.d = d
        self.ids: list = []
        self.index: dict = {}
        self.of_value: list = []
        for it in d.values:
            uid = d.unit(it.index)
            if uid not in self.index:
                self.index[uid] = len(self.ids)
                self.ids.append(uid)
            self.of_value.append(self.index[uid])
        self.box_of_unit: dict = {}
        if d.grouping is not None:
            for key, bid in d.box_ids.items():
                if bid in self.index:
                    self.box_of_unit[self.index[bid]] = d.grouping.boxes[key]
        self.members: dict = {u: [] for u in self.box_of_unit}
        for it in d.values:
            u = self.of_value[it.index]
            if u in self.members:
                self.members[u].append(it.index)
        # a box's outputs: members read outside the box; its parameters. The box the
        # root is drawn as the output of (a neuron whose sum is the root: the box holds
        # only its weights and bias) outputs the root, and what only the root reads is
        # inside what it computes, not an output of its own.
        root = len(d.values) - 1
        made_by = d.output_of(root) if d.values else None
        root_box = self.index.get(made_by) if made_by is not None else None
        self.outputs: dict = {}
        self.params: dict = {}
        for u, mem in self.members.items():
            inside = set(mem) | ({root} if u == root_box else set())
            own = [i for i in mem if any(c not in inside for c in d.consumers[i])
                   or i == root]
            self.outputs[u] = ([root] + own if u == root_box else own) or mem
            self.params[u] = [i for i in mem if d.values[i].role == "param"
                              or id(d.values[i].node) in d.params]
        self.compact = compact

    def name(self, u: int) -> str:
        box = self.box_of_unit.get(u)
        if box is not None:
            return box.title + (f" ({box.kind})" if box.kind and box.kind not in
                                _collapse.STRUCTURAL else "")
        return self.d.values[int(self.ids[u][1:])].name

    def grad_slot(self, u: int) -> int:
        """The slot of the unit's gradient (-1: none, a constant)."""
        box = self.box_of_unit.get(u)
        if box is not None:
            return 1 if self.params[u] else 0
        return -1 if self.const(u) else 0

    def data_slot(self, u: int) -> int:
        return 0 if self.const(u) else 1

    def const(self, u: int) -> bool:
        uid = self.ids[u]
        return uid[0] == "n" and self.d.values[int(uid[1:])].role == "const"


def _shape_text(d: Diagram, idx: list) -> str:
    nodes = [d.values[i].node for i in idx]
    if all(isinstance(n.data, float) for n in nodes):
        return f"out: {len(nodes)} value{'s' if len(nodes) != 1 else ''}"
    return "out " + ", ".join(str(tuple(np.shape(n.data))) for n in nodes[:3]) + (
        f" +{len(nodes) - 3}" if len(nodes) > 3 else "")


#: An operand name that needs brackets beside an infix op: (L3.n1-1) ** 2, x - (-1).
_OPERATORISH = re.compile(r"[-+*/×÷·^ ]")


def _forward_order(vals: list, U: Any) -> list:
    """The computed values in the order the forward frames show them: a
    value alone, or a box once (as one of its members); a box after every
    value and box it reads from. The values' own order (topological) puts a
    box's last member after results that need only its first ones (the
    first sample's loss before the layers of the last sample), so the units
    are ordered themselves: Kahn's algorithm over the drawn units, ties taken
    in order of first appearance."""
    first: dict = {}   # unit -> the value standing for it (its first computed member)
    needs: dict = {}   # unit -> the units it reads from
    for it in vals:
        if not it.parents:
            continue
        u = U.of_value[it.index]
        first.setdefault(u, it)
        needs.setdefault(u, set()).update(  # (a leaf is there from the start: no need)
            U.of_value[p] for p in it.parents if vals[p].parents and U.of_value[p] != u)
    rank = {u: i for i, u in enumerate(first)}
    users: dict = {}
    waiting: dict = {}
    for u, ns in needs.items():
        waiting[u] = len(ns)
        for n in ns:
            users.setdefault(n, []).append(u)
    ready = [rank[u] for u in first if not waiting[u]]
    heapq.heapify(ready)
    units = list(first)
    out = []
    while ready:
        u = units[heapq.heappop(ready)]
        out.append(first[u])
        for v in users.get(u, ()):
            waiting[v] -= 1
            if not waiting[v]:
                heapq.heappush(ready, rank[v])
    if len(out) != len(first):  # a cycle between boxes (collapse splits them): values' order
        return [first[u] for u in first]
    return out


def page_data(d: Diagram, forward: bool) -> tuple[dict, dict, dict]:
    """(page data, value texts for the layout, box lines for the layout)."""
    compact = _is_compact(d, None)
    U = _Units(d, compact)
    vals = d.values
    n = len(vals)
    root = n - 1
    steps, final = backward_pass(d, "steps")
    index = {id(it.node): it.index for it in vals}
    name = lambda node: vals[index[id(node)]].name
    locals_of: dict = {s.item: [c[1] for c in s.contributions] for s in steps}

    frames: list = []
    slot_texts: dict = {}     # (u, slot) -> longest text

    def upd_list(pairs: list) -> list:
        out: list[tuple] = []
        for u, slot, text in pairs:
            key = (u, slot)
            old = slot_texts.get(key)
            if old is None or len(text) > len(old):
                slot_texts[key] = text
            out.extend((u, slot, text))
        return out

    def add(active: int, phase: str, lines: list, pairs: list) -> int:
        frames.append([active, phase, lines, upd_list(pairs)])
        return len(frames) - 1

    # the static rows of the boxes; their state rows come from the frames
    box_static: dict = {}
    for u, box in U.box_of_unit.items():
        lines = [box.extra] if box.extra else []
        mem = U.members[u]
        np_ = sum(int(np.size(vals[i].node.data)) for i in U.params[u])
        nodes = _collapse.count_text(len(mem), "node")
        lines.append(f"{_collapse.count_text(np_, 'param')} · {nodes}" if np_ else nodes)
        lines.append(_shape_text(d, U.outputs[u]))
        box_static[u] = lines

    def box_state(u: int, acc: dict) -> list:
        out = [(u, U.grad_slot(u), _norm_text("‖grad‖ out", [acc.get(i) for i in U.outputs[u]]))]
        if U.params[u]:
            out.append((u, 0, _norm_text("‖grad‖ params", [acc.get(i) for i in U.params[u]])))
        return out

    def initial(data_known) -> list:
        pairs = []
        for u, uid in enumerate(U.ids):
            if u in U.box_of_unit:
                pairs += box_state(u, {})
                continue
            it = vals[int(uid[1:])]
            if not U.const(u):
                pairs.append((u, 0, "grad ?"))
            if data_known or not it.parents:
                pairs.append((u, U.data_slot(u), data_text(it.node)))
            else:
                pairs.append((u, 1, "data ?" if it.scalar else "?"))
        return pairs

    # the inputs and gradients listed in the order they were created, as the diagram lays
    # the leaves out (a reader scans them so), not in the graph's topological order
    leaves = _model.declaration_order([it for it in vals if not it.parents
                                       and it.role != "const"])  # constants: no grad
    rname = vals[root].name
    seed = seed_of(vals[root].node) if n else None
    # ---- forward
    computed: dict = {}  # unit -> the forward frame that computes it (a value, not a box)
    if forward:
        listed = [f"{it.name} = {num(it.node.data)}" if it.node.label
                  else f"{num(it.node.data)} (unlabelled)" for it in leaves[:LIST_AT_MOST]]
        if len(leaves) > LIST_AT_MOST:
            listed.append(f"... and {len(leaves) - LIST_AT_MOST} more")
        add(-1, "f", ["forward pass: the inputs are set"] + listed, initial(False))
        for it in _forward_order(vals, U):
            u = U.of_value[it.index]
            if u in U.box_of_unit:
                add(u, "f", [f"forward: {U.name(u)} computes its output ("
                             f"{_shape_text(d, U.outputs[u])[4:].strip(': ')})"], [])
                continue
            args = [vals[p].name for p in it.parents]
            sym = it.symbol or it.node.op
            const = _model.constant_operand(it.node)  # x - 1: the number is in the op
            if const is not None:
                args = [const[0], args[0]] if const[1] else [args[0], const[0]]
            info = it.node.op_info
            br = [f"({a})" if _OPERATORISH.search(a) else a for a in args]  # for infix use
            if len(args) == 2 and len(sym) <= 2:
                expr = f" {sym} ".join(br)
            elif info is not None and info.key == "wsum" and len(args) % 2 and len(args) <= 25:
                # a neuron's b + Σ w_i·x_i, spelled out: Σ(b, w1, 2, w2, 3) read as a plain sum
                expr = " + ".join([br[0]] + [f"{br[k]}·{br[k + 1]}"
                                             for k in range(1, len(br), 2)])
            else:
                expr = f"{sym}({', '.join(args)})"
            computed[u] = add(u, "f", [f"forward: {it.name} = {expr} = {num(it.node.data)}"],
                              [(u, 1, data_text(it.node))])
    # ---- backward
    if not steps:
        add(-1, "n", [f"no backward steps: the root {rname} is a leaf (data "
                      f"{num(vals[root].node.data)}); there is nothing to send a gradient to"],
            [] if forward else initial(True))
    else:
        ru = U.of_value[root]
        add(ru, "s", [f"backward pass: seed d{rname}/d{rname} = {num(seed)}"],
            ([] if forward else initial(True)) + [(ru, 0, grad_text(vals[root].node, seed))])
        acc: dict = {root: seed}
        last_step: dict = {}
        for s in steps:
            u = U.of_value[s.item]
            if u in U.box_of_unit:
                last_step[u] = s.index
        pending: list = []
        dirty: set = set()
        sent: dict = {}
        k = 0
        for s in steps:
            i = s.item
            u = U.of_value[i]
            acc[i] = s.grad
            inbox = u in U.box_of_unit
            for p, (pn, _loc, c), total in zip(s.parents, s.contributions, s.totals):
                if total is not None:
                    acc[p] = total
                pu = U.of_value[p]
                if pu in U.box_of_unit:
                    dirty.add(pu)
                elif not U.const(pu):
                    pending.append((pu, 0, grad_text(pn, total) if total is not None
                                    else "grad ?"))
                if inbox and pu != u and c is not None:
                    box_sent = sent.setdefault(u, {})
                    prev = box_sent.get(p)
                    box_sent[p] = c if prev is None else prev + c
            if inbox and last_step.get(u) != s.index:
                continue
            k += 1
            if not inbox:
                lines = step_text(s, name)
                lines[0] = f"step {k}: " + lines[0].split(": ", 1)[1]
            else:
                out_norm = _norm_text('‖grad‖ at its output', [acc.get(j) for j in U.outputs[u]])
                lines = [f"step {k}: {U.name(u)} sends its gradient back ({out_norm})"]
                for p, c in sent.pop(u, {}).items():
                    if vals[p].scalar:
                        amount = f"contribution {num(c)} (running sum at {vals[p].name}: " \
                                 f"{num(acc.get(p))})"
                    else:
                        amount = f"‖contribution‖ {fmt(grad_norm(c))} (‖running sum‖ at " \
                                 f"{vals[p].name}: {fmt(grad_norm(acc.get(p)))})"
                    lines.append(f"{U.name(u)} → {U.name(U.of_value[p])}: {amount}")
            pairs = pending + [x for b in sorted(dirty) for x in box_state(b, acc)]
            pending, dirty = [], set()
            add(u, "b", lines, pairs)
        done = ["done: every node holds its gradient of this pass"]
        named = [it for it in leaves if it.index in final]
        for it in named[:LIST_AT_MOST]:
            done.append(f"d{rname}/d{it.name} = {num(final[it.index])}")
        if len(named) > LIST_AT_MOST:
            done.append(f"... and {len(named) - LIST_AT_MOST} more")
        unreached = [(U.of_value[it.index], 0, grad_text(it.node, None)) for it in vals
                     if it.index not in final and U.of_value[it.index] not in U.box_of_unit
                     and not U.const(U.of_value[it.index])]
        add(-1, "d", done, pending + [x for b in sorted(dirty) for x in box_state(b, acc)]
            + unreached)

    # ---- units: what the hover card and the highlight need
    edges = _model.edges(d, compact=compact, numbers=True)
    hot: dict = {}
    # An edge's local derivative ("× 30") is made of the op's operand values, so in
    # the forward frames it shows from the frame that computes the op's result on;
    # before that its operands read "data ?" (its rule, which names them, stays).
    later: list = []  # [edge index, the frame it shows from, its number's text]
    for k, e in enumerate(edges):
        dst = e.dst[:-2] if e.dst.endswith("op") else e.dst
        if dst in U.index:
            hot.setdefault(U.index[dst], []).append(f"e{k}")
        if e.local and e.child >= 0 and not compact and U.of_value[e.child] in computed:
            later.append([k, computed[U.of_value[e.child]], e.local])
    click: dict = {}
    for f, (a, ph, _, _upd) in enumerate(frames):
        if ph == "b" and a >= 0 and a not in click:
            click[a] = f
    last_upd: dict = {}
    for f, fr in enumerate(frames):
        upd = fr[3]
        for j in range(0, len(upd), 3):
            if upd[j + 1] == U.grad_slot(upd[j]) and fr[1] in ("b", "d"):
                last_upd[upd[j]] = f
    units = []
    for u, uid in enumerate(U.ids):
        box = U.box_of_unit.get(u)
        els = [uid]
        if box is not None:
            parents = sorted({U.of_value[p] for i in U.members[u] for p in vals[i].parents}
                             - {u})
            rec = {"id": uid, "n": U.name(u), "o": box.kind or "box", "r": "box",
                   "d": " · ".join(box_static[u]),
                   "p": [[U.name(p), "", ""] for p in parents], "g": U.grad_slot(u)}
        else:
            it = vals[int(uid[1:])]
            node = it.node
            if it.parents and not compact:
                els.append(uid + "op")
            info = node.op_info
            locs = locals_of.get(it.index, [None] * len(it.parents))
            ps = []
            for j, p in enumerate(it.parents):
                loc = locs[j] if j < len(locs) else None
                ps.append([vals[p].name, "" if loc is None else f"× {num(loc)}",
                           _model.rule_text(node, j)])
            rec = {"id": uid, "n": it.name, "o": (f"{info.symbol} ({info.name})"
                                                   if info and info.symbol != info.name
                                                   else node.op),
                   "r": it.role, "d": data_text(node), "p": ps, "g": U.grad_slot(u),
                   "doc": info.doc if info else ""}
        if len(els) > 1:  # the edge from the op circle to its result
            hot.setdefault(u, []).append(uid + "opo")
        rec["els"] = els
        rec["e"] = hot.get(u, [])
        rec["c"] = click.get(u, last_upd.get(u, len(frames) - 1))
        rec["f"] = computed.get(u, 0)  # the card's local derivatives: from this frame on
        units.append(rec)
    data = {"units": units, "frames": frames, "later": later,
            "root": rname, "forward": bool(forward), "steps": len(steps)}
    # ---- the texts to lay out: the widest each slot will show
    texts: dict = {}
    box_lines: dict = {}
    for u, uid in enumerate(U.ids):
        if u in U.box_of_unit:
            state = [slot_texts.get((u, s), "?") for s in
                     ((1, 0) if U.params[u] else (0,))]
            box_lines[uid] = box_static[u] + state
        else:
            i = int(uid[1:])
            texts[i] = (slot_texts.get((u, U.data_slot(u)), data_text(vals[i].node)),
                        slot_texts.get((u, 0), "grad ?"))
    return data, texts, box_lines


def build_page(root: Any, *, collapse: Any = None, rankdir: str | None = None,
               forward: bool = True,
               title: str | None = None, timeout: float | None = DOT_TIMEOUT) -> tuple[str, str]:
    """(the page's HTML, its title) for ``root``'s graph (see :func:`viz.steps`)."""
    dot_program()  # fail before any work
    rankdir = rankdir_of(rankdir, "steps")
    # the page pans and zooms to the active node: a long chain stays whole
    d = diagram(root, collapse=collapse, who="steps", budget=_model.PAGE_BUDGET, fold_loops=False)
    # new parameters beside results of the old ones (an optimiser's step since the
    # forward pass): said on stderr, as draw says it, and on the page
    stale = say_if_values_changed(d, "steps")
    data, texts, box_lines = page_data(d, forward)
    if rankdir is None:
        rankdir = auto_rankdir(d, "steps", state=State(steady=True, texts=texts,
                                                       box_lines=box_lines))
    dg = emit(d, rankdir=rankdir, state=State(steady=True, texts=texts, box_lines=box_lines,
                                                 ids=True), who="steps")
    svg = run_dot(dg.source, "svg", timeout, describe(d), progress="steps").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    ttl = title if title is not None else f"Backprop step by step: {data['root']}"
    data["note"] = d.note
    data["stale"] = stale
    data["hl"] = {"f": COLOURS["forward"], "b": COLOURS["active"]}  # the active node's colours
    fill = {"TITLE": esc(ttl), "SVG": svg, "DATA": json_for_html(data)}
    page = re.sub(r"\{\{([A-Z]+)\}\}", lambda m: fill[m.group(1)], _template())
    return page, ttl
