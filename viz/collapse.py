"""Grouping nodes into boxes so big graphs stay readable.

Two ways to group (``draw(collapse=...)``):

* ``"module"`` -- by the nn module that made the nodes (see :mod:`viz.scope`):
  one box per innermost module (a Neuron, a Linear); ``"module:N"`` (or the
  int ``N``) groups by the first N names of the module path instead (``2``
  for the layers of an MLP). A box shows the module's name and class, its
  parameter count and the norm of its parameters' gradients. Graphs built
  outside nn modules fall back to the dotted labels nn gives parameters
  (``L1.n3.w2`` belongs to ``L1.n3``).
* ``"repeat"`` -- by repeated structure, with no modules needed: each node's
  subtree (the node and the ancestors only it uses) gets a structural
  signature; subtrees with the same signature and the same inputs are
  repeats, and the largest repeats become one box ("16 × Σ → relu");
  leftover regions of more than :data:`BIG_CONE` nodes get a box of their
  own. A region that is an unrolled loop (a chain whose ops repeat) gets a
  box for its middle steps, named after one step ("196 × (× → + → tanh)"),
  its first and last :data:`LOOP_ENDS` steps drawn in full.

The result is a :class:`Grouping`: node id -> box key, and per box its title
and text lines. Nodes in no box are drawn as usual.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import scope as _scope
from .text import fmt, grad_norm

__all__ = ["Grouping", "group", "BIG_CONE"]

BIG_CONE = 8
#: Ops after an unrolled loop, at the top of its chain, that do not hide it
#: (a mean, a regulariser added: the loss of the micrograd demo).
LOOP_AFTER = 4
#: Steps of an unrolled loop drawn in full at each end of its box (the reader
#: sees what one step does, and how the loop starts and ends).
LOOP_ENDS = 2
#: Box kinds that name a structure, not a module's class.
STRUCTURAL = ("repeat", "region", "loop", "more")


@dataclass
class Box:
    key: str
    title: str
    kind: str = ""
    members: list = field(default_factory=list)
    params: int = 0
    norm2: float = 0.0
    extra: str = ""
    #: what ``params`` counts: an nn model's parameters, or (a graph built
    #: outside nn modules) its labelled inputs
    counted: str = "param"

    def add(self, m: Any, params: set) -> None:
        """Put node ``m`` in the box; a parameter (without ``params``: a
        labelled leaf) counts towards its size and gradient norm."""
        self.members.append(m)
        if m.is_leaf and (id(m) in params if params else bool(m.label)):
            self.params += _size(m)
            self.norm2 += grad_norm(m.grad) ** 2

    def lines(self) -> list[str]:
        out = []
        if self.extra:
            out.append(self.extra)
        nodes = count_text(len(self.members), "node")
        out.append(f"{count_text(self.params, self.counted)} · {nodes}" if self.params else nodes)
        if self.params:
            out.append(f"‖grad‖ {fmt(self.norm2 ** 0.5)}")
        return out


def count_text(n: int, word: str) -> str:
    """``1 node``, ``1,475 nodes``: a count for a box's text."""
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def count_boxes(g: Grouping) -> str:
    """``1 box``, ``34 boxes``."""
    n = len(g.boxes)
    return f"{n:,} box{'es' if n != 1 else ''}"


@dataclass
class Grouping:
    of: dict            # id(node) -> box key
    boxes: dict         # box key -> Box (in first-seen order)
    #: id(root) -> the key of the box whose computation the root is: the root is
    #: drawn (its value, the diagram's output) as that box's output, without
    #: its op, which the box stands for
    outputs: dict = field(default_factory=dict)


def _size(node: Any) -> int:
    d = node.data
    return 1 if isinstance(d, float) else int(getattr(d, "size", 1))


_EXPECTED = "collapse: expected 'module', 'module:N', an int N or 'repeat', got "


def _parse(collapse: Any) -> tuple[str, int | None]:
    if isinstance(collapse, bool):
        raise ValueError(_EXPECTED + repr(collapse))
    if isinstance(collapse, int):
        if collapse < 1:
            raise ValueError(f"collapse: a module depth must be >= 1, got {collapse}")
        return "module", collapse
    if collapse == "repeat":
        return "repeat", None
    if collapse == "module":
        return "module", None
    m = re.fullmatch(r"module:(\d+)", str(collapse))
    if m and int(m.group(1)) >= 1:
        return "module", int(m.group(1))
    raise ValueError(_EXPECTED + repr(collapse))


def group(order: list, root: Any, collapse: Any, params: set) -> Grouping:
    """Group the nodes of ``order`` (topological, root last) as ``collapse`` says."""
    how, depth = _parse(collapse)
    if how == "repeat":
        return _by_repeat(order, root, params)
    return _by_module(order, root, depth, params)


# --------------------------------------------------------------------------
# by module
# --------------------------------------------------------------------------
def _label_paths(order: list, root: Any) -> dict:
    """Fallback without scope records: parameters labelled ``A.B.w1`` belong
    to ``A.B``; an unlabelled intermediate joins its consumers' module when
    they all agree (children first)."""
    paths: dict[int, tuple] = {}
    for n in order:
        lab = n.label
        if "." in lab:
            head = tuple(lab.split(".")[:-1]) if n.is_leaf else tuple(lab.split("."))
            paths[id(n)] = head
    consumers: dict[int, set] = {}
    for n in order:
        for p in n.parents:
            consumers.setdefault(id(p), set()).add(id(n))
    for n in reversed(order):
        i = id(n)
        if i in paths or n is root or n.is_leaf:
            continue
        got = {paths.get(c) for c in consumers.get(i, ())}
        if len(got) == 1:
            (only,) = got
            if only is not None:
                paths[i] = only
    return paths


def _by_module(order: list, root: Any, depth: int | None, params: set) -> Grouping:
    paths, modules = _scope.assign(order)
    if not paths:
        paths, modules = _label_paths(order, root), {}
    if depth is None:  # innermost: the full path
        keyf = lambda p: p
    else:
        keyf = lambda p: p[:depth]
    of: dict[int, str] = {}
    boxes: dict[str, Box] = {}
    outputs: dict[int, str] = {}
    for n in order:
        p = paths.get(id(n))
        if p is None:
            continue
        k = keyf(p)
        key = ".".join(k)
        if n is root:  # drawn anyway (the output), as what its module's box computes
            if key in boxes:
                outputs[id(n)] = key
            continue
        box = boxes.get(key)
        if box is None:
            mod = modules.get(k)
            kind = type(mod).__name__ if mod is not None else ""
            box = boxes[key] = Box(key, key, kind)
        box.members.append(n)
        of[id(n)] = key
        if n.is_leaf and id(n) in params:
            box.params += _size(n)
            box.norm2 += grad_norm(n.grad) ** 2
    for box in boxes.values():
        if not box.kind:  # class of the module at exactly this path, if any
            mod = modules.get(tuple(box.key.split(".")))
            box.kind = type(mod).__name__ if mod is not None else ""
    return Grouping(of, boxes, outputs)


# --------------------------------------------------------------------------
# by repeated structure
# --------------------------------------------------------------------------
def _by_repeat(order: list, root: Any, params: set, repeats: bool = True) -> Grouping:
    """Repeated subtrees, then big leftover regions (see the module docstring).

    A node's *subtree* is the node plus the ancestors used by it alone (a
    neuron's output, its linear map and its weights); the other nodes it
    reads are its *inputs*. Subtrees with the same structure and the same
    inputs repeat; the largest repeated ones, found from the output
    backwards, become one box each. What is left is boxed where a node's
    leftover subtree exceeds :data:`BIG_CONE` nodes. Without ``repeats``:
    the loop boxes alone, found on the whole graph (:func:`loops`).
    """
    consumers: dict[int, list] = {}
    for n in order:
        for p in n.parents:
            lst = consumers.setdefault(id(p), [])
            if not lst or lst[-1] is not n:
                lst.append(n)

    def exclusive(p, n) -> bool:  # p belongs to n's subtree
        cs = consumers.get(id(p), ())
        return len(cs) == 1 and cs[0] is n

    sig: dict[int, int] = {}
    ext: dict[int, frozenset] = {}
    size: dict[int, int] = {}
    for n in order:  # parents first
        i = id(n)
        if n.is_leaf:
            sig[i], ext[i], size[i] = _LEAF, frozenset(), 1
            continue
        parts: list = []
        e: set[int] = set()
        sz = 1
        seen: set[int] = set()
        for p in n.parents:
            if exclusive(p, n):
                parts.append(sig[id(p)])
                e |= ext[id(p)]
                if id(p) not in seen:
                    seen.add(id(p))
                    sz += size[id(p)]
            else:
                parts.append(_EXT)
                e.add(id(p))
        sig[i], ext[i], size[i] = hash((n.op, tuple(parts))), frozenset(e), sz
    classes: dict[tuple, list] = {}
    for n in order:
        if not n.is_leaf and size[id(n)] >= 3 and n is not root:
            classes.setdefault((sig[id(n)], ext[id(n)]), []).append(n)

    def subtree(n) -> list:
        out, todo = [], [n]
        got = set()
        while todo:
            m = todo.pop()
            if id(m) in got:
                continue
            got.add(id(m))
            out.append(m)
            todo.extend(p for p in m.parents if exclusive(p, m))
        return out

    of: dict[int, str] = {}
    boxes: dict[str, Box] = {}

    def make_box(title, kind, trees, extra=""):
        key = f"g{len(boxes)}"
        box = boxes[key] = Box(key, title, kind, extra=extra,
                               counted="param" if params else "input")
        for t in trees:
            for m in t:
                of[id(m)] = key
                box.add(m, params)
        return box

    for n in reversed(order) if repeats else ():  # outputs first: the largest repeats win
        if id(n) in of or n.is_leaf or n is root:
            continue
        cls = classes.get((sig[id(n)], ext[id(n)]), ())
        if len(cls) < 2:
            continue
        trees = [t for t in (subtree(m) for m in cls) if not any(id(x) in of for x in t)]
        if len(trees) < 2:
            continue
        leaves = sum(1 for m in trees[0] if m.is_leaf)
        make_box(f"{len(trees)} × {_ops(trees[0])}", "repeat", trees,
                 f"×{len(trees)} identical: {len(trees[0])} nodes, {leaves} leaves each")
    # leftovers: big regions of nodes used by one consumer
    in_loop: set[int] = set()  # regions made into a loop box, its drawn ends included
    for n in reversed(order):
        if id(n) in of or id(n) in in_loop or n.is_leaf or n is root:
            continue
        region, todo, got = [], [n], set()
        while todo:
            m = todo.pop()
            if id(m) in got or id(m) in of:
                continue
            got.add(id(m))
            region.append(m)
            todo.extend(p for p in m.parents if exclusive(p, m))
        if len(region) > BIG_CONE:
            loop = _loop(n, region, size, exclusive, order, consumers, of, root)
            if loop is None and not repeats:  # loops alone: a region is not boxed, nor searched
                in_loop.update(got)
            elif loop is None:
                make_box(_ops(region), "region", [region])
            else:  # an unrolled loop: its middle steps in one box, named after one step
                pattern, first, last, steps, middle, before = loop
                make_box(f"{last - first + 1:,} × ({pattern})", "loop", [middle],
                         f"steps {first:,}-{last:,} of {steps:,}")
                if len(before) > BIG_CONE and repeats:
                    make_box(_ops(before), "region", [before])
                in_loop.update(got)
    return Grouping(of, boxes)


def _loop(top: Any, region: list, size: dict, exclusive, order: list, consumers: dict,
          taken: dict, root: Any = None) -> tuple | None:
    """An unrolled loop in ``region`` (``y = tanh(y * w + b)`` a hundred
    times, after whatever computed the first ``y``): ``(one step's ops,
    first and last boxed step, number of steps, the boxed nodes)``, the first
    and last :data:`LOOP_ENDS` steps left out of the box; None unless the
    region's chain ends in ops that repeat with a short period, often enough
    to box some. The chain follows, from ``top`` towards the inputs, the
    operand with the largest subtree; a node off it belongs to the step of
    the chain node it feeds, and so does a node all of whose users are in
    that step (a sum of per-sample losses: each sample's forward pass and
    inputs are in its step). Nodes in ``taken`` (other boxes) stay out.
    The ``root`` (the output: drawn anyway, in no region) ends the chain
    when it is ``top``'s only user, so that the step it completes (the last
    ``tanh``) counts: 30 steps are "of 30", two drawn at each end."""
    inside = {id(x) for x in region}  # (nodes boxed already are not in the region)
    spine: list = []
    if root is not None and not root.is_leaf and exclusive(top, root):
        spine.append(root)  # (in no step's box: its step is the last, drawn)
    m = top
    while m is not None and not m.is_leaf:
        spine.append(m)
        nxt = None
        for p in m.parents:
            if id(p) in inside and not p.is_leaf and exclusive(p, m) \
                    and (nxt is None or size[id(p)] > size[id(nxt)]):
                nxt = p
        m = nxt
    spine.reverse()  # inputs side first
    seq = [x.op_info.symbol for x in spine]
    # (length of the periodic run, -period, its start, its end): the longest run ending
    # at the top or a few ops below it (a mean or a regulariser added after the loop:
    # (sum of losses) * 0.01 + 1e-4 * sum(p * p))
    best = None
    for end in range(len(seq), max(len(seq) - LOOP_AFTER, 0) - 1, -1):
        for period in range(1, 17):
            j = end - 1 - period
            while j >= 0 and seq[j] == seq[j + period]:
                j -= 1
            cand = (end - j - 1, -period, j + 1, end)
            if best is None or cand[:2] > best[:2]:
                best = cand
    if best is None:
        return None
    _, _, start, end = best
    period = -best[1]
    steps = (end - start) // period  # a partial step at the output end joins the last one
    if steps - 2 * LOOP_ENDS < 2:
        return None
    step_of: dict[int, int] = {}
    for i, x in enumerate(spine):  # -2: after the loop, neither in it nor before it
        step_of[id(x)] = (-1 if i < start else -2 if i >= end
                          else min((i - start) // period, steps - 1))
    for x in spine:  # what feeds a chain node and nothing else: its step
        todo = [p for p in x.parents if id(p) in inside and exclusive(p, x)]
        while todo:
            q = todo.pop()
            if id(q) in step_of:
                continue
            step_of[id(q)] = step_of[id(x)]
            todo.extend(r for r in q.parents if id(r) in inside and exclusive(r, q))
    for x in reversed(order):  # users first: a node only one step uses joins that step
        i = id(x)
        if i in step_of or i in taken or x is top:
            continue
        users = consumers.get(i)
        if users:
            s0 = step_of.get(id(users[0]), -1)
            if s0 >= 0 and all(step_of.get(id(u), -1) == s0 for u in users):
                step_of[i] = s0
    first, last = LOOP_ENDS, steps - 1 - LOOP_ENDS
    middle = [x for x in order if first <= step_of.get(id(x), -1) <= last]
    one_step = [x for x in region if step_of.get(id(x), -1) == first]
    before = [x for x in region if step_of.get(id(x), -1) == -1]  # what computed the start
    return _ops(one_step), first + 1, last + 1, steps, middle, before


def merge(g: Grouping, extra: Grouping, params: set, order: list | None = None) -> Grouping:
    """``g``'s boxes, then ``extra``'s (loop boxes) holding what ``g`` leaves
    out: a module box keeps its nodes, a loop box the rest of its steps (a
    box left with fewer than two nodes is dropped). With ``order`` (the
    graph's nodes), a loop whose steps run before and after ``g``'s boxes
    (a sum of per-sample losses: each sample's inputs go into the model's
    layer boxes, its loss comes out of them) is split in two boxes, the part
    feeding ``g``'s boxes and the rest, so that no two boxes feed each other
    (a cycle, which a layout can only draw with an edge turned back)."""
    of = dict(g.of)
    boxes = dict(g.boxes)
    feeds: set = set()
    if order is not None:
        for n in order:
            if id(n) in g.of:
                feeds.update(id(p) for p in n.parents if id(p) not in g.of)
    for key, box in extra.boxes.items():
        rest = [m for m in box.members if id(m) not in g.of]
        ids = {id(m) for m in rest}
        up: set = set()  # what feeds g's boxes, and what it is computed from
        todo = [m for m in rest if id(m) in feeds]
        while todo:
            m = todo.pop()
            if id(m) not in up:
                up.add(id(m))
                todo.extend(p for p in m.parents if id(p) in ids)
        ins = [m for m in rest if id(m) in up]
        outs = [m for m in rest if id(m) not in up]
        count = box.title.split(" × ", 1)[0]
        what = "inputs" if all(m.is_leaf for m in ins) else f"({_ops(ins[::-1])})"
        out_title = f"{count} × ({_ops(outs[::-1])})" if ins else box.title
        for k, part, title in ((f"{key}+in", ins, f"{count} × {what}"),
                               (f"{key}+", outs, out_title)):
            if len(part) < 2:
                continue
            nb = boxes[k] = Box(k, title, box.kind, extra=box.extra, counted=box.counted)
            for m in part:
                of[id(m)] = k
                nb.add(m, params)
    return Grouping(of, boxes)


def loops(order: list, root: Any, params: set) -> Grouping | None:
    """The unrolled loops of the graph as boxes of their middle steps, and
    nothing else (None if it has none): what :func:`viz.model.fold_long_loops`
    draws."""
    g = _by_repeat(order, root, params, repeats=False)
    return g if g.boxes else None


_LEAF = hash("leaf")
_EXT = hash("input")


def _ops(nodes: list) -> str:
    """The distinct ops of a subtree by symbol, inputs side first: "Σ → relu"."""
    ops: list[str] = []
    for n in reversed(nodes):  # subtree lists are output first
        if not n.is_leaf:
            sym = n.op_info.symbol
            if sym not in ops:
                ops.append(sym)
    return " → ".join(ops)
