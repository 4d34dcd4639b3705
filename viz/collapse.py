"""Grouping nodes into boxes so big graphs stay readable.

Two ways to group (``draw(collapse=...)``):

* ``"module"`` -- by the nn module that made the nodes (see :mod:`viz.scope`):
  one box per innermost module (a Neuron, a Linear); ``"module:N"`` (or the
  int ``N``) groups by the first N names of the module path instead (``2``
  for the layers of an MLP). A box shows the module's name and class, its
  parameter count and the norm of its parameters' gradients. Graphs built
  outside nn modules fall back to the dotted labels nn gives parameters
  (``L1.n3.w2`` belongs to ``L1.n3``).
* ``"repeat"`` -- by repeated structure, with no modules needed: the graph is
  cut at nodes used more than once; each piece (a "cone": a node and the
  ancestors only it uses) gets a structural signature; pieces with the same
  signature and the same inputs become one box ("16 × Σwx+b → relu"), and
  any piece of more than :data:`BIG_CONE` nodes becomes a box of its own.

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


@dataclass
class Box:
    key: str
    title: str
    kind: str = ""
    members: list = field(default_factory=list)
    params: int = 0
    norm2: float = 0.0
    extra: str = ""

    def lines(self) -> list[str]:
        out = []
        if self.extra:
            out.append(self.extra)
        out.append(f"{self.params} params · {len(self.members)} nodes" if self.params
                   else f"{len(self.members)} nodes")
        if self.params:
            out.append(f"‖grad‖ {fmt(self.norm2 ** 0.5)}")
        return out


@dataclass
class Grouping:
    of: dict            # id(node) -> box key
    boxes: dict         # box key -> Box (in first-seen order)


def _size(node: Any) -> int:
    d = node.data
    return 1 if isinstance(d, float) else int(getattr(d, "size", 1))


def _parse(collapse: Any) -> tuple[str, int | None]:
    if isinstance(collapse, bool):
        raise ValueError(f"collapse: expected 'module', 'module:N', an int N or 'repeat', got {collapse!r}")
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
    raise ValueError(f"collapse: expected 'module', 'module:N', an int N or 'repeat', got {collapse!r}")


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
            head = tuple(lab.split(".")[:-1]) if not n._parents else tuple(lab.split("."))
            paths[id(n)] = head
    consumers: dict[int, set] = {}
    for n in order:
        for p in n._parents:
            consumers.setdefault(id(p), set()).add(id(n))
    for n in reversed(order):
        i = id(n)
        if i in paths or n is root or not n._parents:
            continue
        got = {paths.get(c) for c in consumers.get(i, ())}
        if len(got) == 1 and None not in got:
            paths[i] = got.pop()
    return paths


def _by_module(order: list, root: Any, depth: int | None, params: set) -> Grouping:
    paths, modules = _scope.assign(order)
    if not paths:
        paths, modules = _label_paths(order, root), {}
    if depth is None:  # innermost: the full path
        keyf = lambda p: p  # noqa: E731
    else:
        keyf = lambda p: p[:depth]  # noqa: E731
    of: dict[int, str] = {}
    boxes: dict[str, Box] = {}
    for n in order:
        p = paths.get(id(n))
        if p is None or n is root:
            continue
        k = keyf(p)
        key = ".".join(k)
        box = boxes.get(key)
        if box is None:
            mod = modules.get(k)
            kind = type(mod).__name__ if mod is not None else ""
            box = boxes[key] = Box(key, key, kind)
        box.members.append(n)
        of[id(n)] = key
        if not n._parents and id(n) in params:
            box.params += _size(n)
            box.norm2 += grad_norm(n.grad) ** 2
    for box in boxes.values():
        if not box.kind:  # class of the module at exactly this path, if any
            mod = modules.get(tuple(box.key.split(".")))
            box.kind = type(mod).__name__ if mod is not None else ""
    return Grouping(of, boxes)


# --------------------------------------------------------------------------
# by repeated structure
# --------------------------------------------------------------------------
def _by_repeat(order: list, root: Any, params: set) -> Grouping:
    consumers: dict[int, list] = {}
    for n in order:
        for p in n._parents:
            lst = consumers.setdefault(id(p), [])
            if not lst or lst[-1] is not n:
                lst.append(n)
    # cone roots: used by != 1 distinct consumer, the output, and its operands
    cone: dict[int, int] = {}
    members: dict[int, list] = {}
    near_root = {id(p) for p in root._parents}
    for n in reversed(order):  # consumers before their parents
        i = id(n)
        cs = consumers.get(i, ())
        if n is root or len(cs) != 1 or i in near_root:
            cone[i] = i
        else:
            cone[i] = cone[id(cs[0])]
        members.setdefault(cone[i], []).append(n)
    # signatures bottom-up (parents first); externals are cut points
    sig: dict[int, int] = {}
    ext: dict[int, set] = {}
    for n in order:
        i = id(n)
        c = cone[i]
        if not n._parents:
            sig[i] = hash("L")
            continue
        parts = []
        for p in n._parents:
            if cone[id(p)] == c and id(p) != c:
                parts.append(sig[id(p)])
            else:
                parts.append(hash("X"))
                ext.setdefault(c, set()).add(id(p))
        sig[i] = hash((n.op, tuple(parts)))
    classes: dict[tuple, list] = {}
    for c, ms in members.items():
        if len(ms) < 3 or c == id(root):
            continue
        key = (sig[c], frozenset(ext.get(c, ())))
        classes.setdefault(key, []).append(c)
    of: dict[int, str] = {}
    boxes: dict[str, Box] = {}
    for cones in classes.values():
        if len(cones) < 2 and len(members[cones[0]]) <= BIG_CONE:
            continue
        first = members[cones[0]]
        ops = []
        for n in reversed(first):  # reversed(children-first) = parents first
            if n._parents and n.op not in ops:
                ops.append(n.op)
        desc = " → ".join(ops)
        key = f"g{len(boxes)}"
        title = f"{len(cones)} × {desc}" if len(cones) > 1 else desc
        box = boxes[key] = Box(key, title, "repeat")
        leaves = sum(1 for n in first if not n._parents)
        box.extra = f"{len(first)} nodes each, {leaves} leaves each" if len(cones) > 1 else ""
        for c in cones:
            for n in members[c]:
                of[id(n)] = key
                box.members.append(n)
                if not n._parents and id(n) in params:
                    box.params += _size(n)
                    box.norm2 += grad_norm(n.grad) ** 2
    return Grouping(of, boxes)
