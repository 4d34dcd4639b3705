"""The diagram model: a computation graph walked once into what every picture
draws.

:func:`build` walks the graph ending at ``root`` (through the public node
protocol only: ``parents``, ``is_leaf``, ``op``, ``op_info``, ``data``,
``grad``, ``label``, ``local_derivatives()``) and returns a :class:`Diagram`:

* ``values`` -- one :class:`Item` per node, in topological order (parents
  first, the root last): its index, role, name, op symbol and operand
  indices;
* ``grouping`` -- the collapse boxes (:mod:`viz.collapse`), if any;
* ``edges`` -- the drawn edges (:class:`Edge`), each with its label: the
  local derivative (number and rule) for an edge into an op, a count for
  edges bundled between boxes.

:func:`viz.dot.draw` emits DOT from it, :func:`viz.render` lays that out,
and the step page (:mod:`viz.steps`) lays it out once and animates the
backward pass over it. Node ids are ``n<i>`` (the index in topological
order) and ``m<j>`` for boxes, so the same graph gives the same text on
every run.

Graphs too big for Graphviz are collapsed before they reach it: see
:func:`fit` (the cost estimate and the automatic collapse).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ..autograd.graph import topological_order
from . import collapse as _collapse
from . import scope as _scope
from .text import SMALL, fmt, grad_norm, summary

__all__ = ["Item", "Edge", "Diagram", "build", "topological", "is_node", "check_root",
           "cost", "fit", "DOT_BUDGET", "LeafPlan", "leaf_plan", "declaration_order"]


def is_node(x: Any) -> bool:
    """Does ``x`` speak the node protocol (a Value or a Tensor)?"""
    return (hasattr(x, "parents") and hasattr(x, "data") and hasattr(x, "vjp")
            and hasattr(x, "op_info"))


def check_root(root: Any, who: str) -> None:
    if not is_node(root):
        raise TypeError(f"{who}: expected a Value or Tensor as the root, got "
                        f"{type(root).__name__} {_short(root)}")


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def topological(root: Any) -> list:
    """Every node reachable from ``root``, parents before children, the root
    last (deterministic: operand order). No recursion: the engine's own
    :func:`autograd.graph.topological_order`."""
    return topological_order([root])


@dataclass
class Item:
    """One value node of the graph."""

    index: int
    node: Any
    role: str           # "leaf" | "param" | "const" | "inter" | "output"
    symbol: str         # the op's symbol ("" for a leaf)
    parents: tuple      # indices of the operands, in operand order
    scalar: bool

    @property
    def key(self) -> str:
        return f"n{self.index}"

    named: str = ""     # a name for an unlabelled node (see :func:`expression_names`)

    @property
    def name(self) -> str:
        """The label; for an unlabelled node, a name from its expression
        (``x*w``, ``tanh(h)``), its number (a constant such as ``0``) or
        ``v<i>``."""
        return self.node.label or self.named or f"v{self.index}"


@dataclass
class Edge:
    """A drawn edge, ``src -> dst`` (drawn ids). ``child``/``pos``: the value
    node and operand position it stands for (-1 for a bundled box edge);
    ``local``: the local derivative as text ("" when not a number);
    ``rule``: the op table's rule text; ``count``: edges bundled into it."""

    src: str
    dst: str
    child: int = -1
    pos: int = -1
    local: str = ""
    rule: str = ""
    count: int = 1


@dataclass
class Diagram:
    root: Any
    values: list                 # Item per node, topological order
    params: set                  # id() of parameter nodes
    grouping: Any = None         # collapse.Grouping or None
    box_ids: dict = field(default_factory=dict)   # box key -> "m<j>"
    edges: list = field(default_factory=list)
    consumers: list = field(default_factory=list)  # per index: indices of distinct consumers
    note: str = ""               # what the automatic collapse did (one line), if anything

    def __len__(self) -> int:
        return len(self.values)

    def box_of(self, i: int) -> str | None:
        """The box key of value ``i`` (None: drawn as itself)."""
        if self.grouping is None:
            return None
        return self.grouping.of.get(id(self.values[i].node))

    def unit(self, i: int) -> str:
        """The drawn id that stands for value ``i``: ``n<i>`` or its box ``m<j>``."""
        k = self.box_of(i)
        return self.box_ids[k] if k is not None else f"n{i}"

    def output_of(self, i: int) -> str | None:
        """The drawn id of the box whose output value ``i`` (the root) is
        drawn as, without its op; None: drawn with its op, as usual."""
        if self.grouping is None or not self.grouping.outputs:
            return None
        k = self.grouping.outputs.get(id(self.values[i].node))
        return self.box_ids[k] if k is not None else None

    def drawn_values(self) -> list:
        return [it for it in self.values if self.box_of(it.index) is None]


def _params_of(order: list, params: Iterable[Any] | None) -> set:
    if params is not None:
        return {id(p) for p in params}
    _, modules = _scope.assign(order)
    return _scope.parameters_of(m for m in modules.values() if m is not None)


def _role(node: Any, is_root: bool, params: set) -> str:
    """output, param, leaf (an input), const, or inter. A constant is a leaf
    no gradient is wanted for: an unlabelled tensor that does not require
    grad (a number an op wrapped, a loss's target), or a Value made with
    ``requires_grad=False``. Any other Value leaf, labelled or not, keeps its
    gradient (an unlabelled Value may be a weight made in user code)."""
    if is_root:
        return "output"
    if node.is_leaf:
        if id(node) in params:
            return "param"
        if isinstance(node.data, float):
            return "leaf" if node.requires_grad else "const"
        if getattr(node, "requires_grad", False):
            return "param"
        return "leaf" if node.label else "const"
    return "inter"


#: The operand letters of the table's rule texts ("d/da = b"), by position.
_LETTERS = ("a", "b")
#: Labels longer than this stay letters in rule texts (the edge would be too wide).
NAME_IN_RULE = 12


#: Marks that belong to a name after its first letter: primes (x', x′, x″).
_PRIMES = frozenset("'′″‴")


def _is_plain_name(label: str) -> bool:
    """A letter or ``_``, then letters, digits, ``_``, sub- and superscript
    digits (``x₁``, ``x²``), primes and combining accents (``x̂``). Not
    ``str.isidentifier``: Python lets ``·`` (U+00B7) into names, and
    ``d/dx₁·w₁`` reads as (d/dx₁)·w₁; only what cannot be taken for an
    operator is a name."""
    first = label[0]
    if not (first == "_" or unicodedata.category(first).startswith("L")):
        return False
    for ch in label[1:]:
        cat = unicodedata.category(ch)
        if ch == "_" or ch in _PRIMES or cat[0] in "LM" or cat == "Nd":
            continue
        if cat == "No" and unicodedata.decomposition(ch).startswith(("<sub>", "<super>")):
            continue  # ₁ ²: digits written small, not ½ or ⑴
        return False
    return True


def _rule_name(label: str) -> str | None:
    """How a label stands in a rule: a name as it is (``tax``, ``x₁``), a
    short expression in parentheses (``(price*count)``, ``(x₁·w₁)``), else None."""
    if not label or len(label) > NAME_IN_RULE or any(ch.isspace() or ch == "=" for ch in label):
        return None
    return label if _is_plain_name(label) or _bracketed(label) else f"({label})"


def _bracketed(label: str) -> bool:
    """A bracketed expression with a subscript, as the expression language
    names a repeated one (``(y*w)₁``): already one operand."""
    core = label.rstrip("₀₁₂₃₄₅₆₇₈₉")
    if core == label or not core.startswith("(") or not core.endswith(")"):
        return False
    depth = 0
    for i, ch in enumerate(core):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i == len(core) - 1
    return False


#: The operand letters of a one- and a two-input rule, as whole words.
_OPERANDS = {n: re.compile(r"(?<![A-Za-z_0-9])(" + "|".join(_LETTERS[:n]) + r")(?![A-Za-z_0-9])")
             for n in (1, 2)}


def _named_rule(text: str, node: Any) -> str:
    """``d/da = b`` as ``d/dsubtotal = tax`` (or ``d/d(price*count) = tax``)
    when the operands have short labels: the rule read with the names the
    picture shows."""
    parents = node.parents
    if not 1 <= len(parents) <= 2:
        return text
    names = [_rule_name(p.label) for p in parents]
    if not all(names):
        return text  # unnamed or long: the letters read better
    if len(parents) == 2 and names[0] == names[1]:
        return text  # x * x (the product rule's two slots), or two values of one name
    head, sep, rest = text.partition(" = ")
    if not sep or head not in (f"d/d{c}" for c in _LETTERS[:len(parents)]):
        return text
    sub = dict(zip(_LETTERS, cast("list[str]", names)))

    def name(m: re.Match) -> str:
        n = sub[m.group(1)]
        # in brackets already (tanh²(a)), or the whole right side: no brackets of its own
        bare = (m.start() == 0 and m.end() == len(rest)) or (
            rest[m.start() - 1:m.start()] == "(" and rest[m.end():m.end() + 1] == ")")
        return n[1:-1] if bare and n.startswith("(") else n
    named = f"d/d{sub[head[3:]]} = " + _OPERANDS[len(parents)].sub(name, rest)
    return named if len(named) <= len(text) + 16 else text  # too long for an edge: letters


def rule_text(node: Any, i: int) -> str:
    """The op table's rule for operand ``i``, with the operands' labels for
    its letters (when they have short ones) and the op's constant numbers."""
    info = node.op_info
    if info is None or i >= len(info.rule):
        return ""
    text = _named_rule(info.rule[i], node)
    if text and info.params:
        shown = [f"{k}={fmt(v)}" for k, v in info.params.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if shown:
            text += " (" + ", ".join(shown) + ")"
    return text


def local_numbers(node: Any) -> tuple | None:
    """A node's local derivatives as edge text, one per parent (None: not
    available): the number for a scalar, the numbers of a tiny tensor
    (``summary``), else the norm (``‖·‖ 3.162``); None for an op without an
    elementwise local derivative."""
    if node.is_leaf:
        return None
    try:
        locs = node.local_derivatives()
    except Exception:  # a rule that fails on these numbers: show the text only
        return None
    if locs is None:
        return None
    if isinstance(node.data, float):
        return tuple(fmt(x) for x in locs)
    out = []
    for x in locs:
        a = np.asarray(x)
        if a.size == 1 or np.all(a == a.reshape(-1)[0]):  # one number, or the same everywhere
            out.append(fmt(a.reshape(-1)[0]) if a.size else "")
        elif a.size <= SMALL:
            out.append(summary(a))
        else:
            out.append(f"‖·‖ {fmt(grad_norm(a))}")
    return tuple(out)


def build(root: Any, *, collapse: Any = None, params: Iterable[Any] | None = None,
          who: str = "draw", order: list | None = None) -> Diagram:
    """Walk ``root``'s graph once into a :class:`Diagram` (see the module docstring)."""
    check_root(root, who)
    if order is None:
        order = topological(root)
    pset = _params_of(order, params)
    index = {id(n): i for i, n in enumerate(order)}
    values = []
    consumers: list = [[] for _ in order]
    for i, n in enumerate(order):
        info = n.op_info
        ps = tuple(index[id(p)] for p in n.parents)
        for p in ps:
            lst = consumers[p]
            if not lst or lst[-1] != i:
                lst.append(i)
        values.append(Item(i, n, _role(n, n is root, pset), info.symbol if info else "",
                           ps, isinstance(n.data, float)))
    expression_names(values)
    d = Diagram(root, values, pset, consumers=consumers)
    if collapse is not None:
        set_grouping(d, _collapse.group(order, root, collapse, pset))
    return d


#: Ops written between their operands in expression names.
_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**", "@": "@"}
#: Expression names longer than this become ``v<i>``.
NAME_AT_MOST = 14


def constant_operand(node: Any) -> tuple[str, bool] | None:
    """For an operator with a Python number on one side (``x - 1``, ``2 ** x``:
    one parent, the number kept inside the op), that number as text and
    whether it stands first (``1 - x``); else None."""
    info = node.op_info
    if info is None or node.op not in _INFIX or len(node.parents) != 1:
        return None
    consts = [v for v in info.params.values()
              if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(consts) != 1:
        return None
    return fmt(consts[0]), info.key in ("rsub_const", "rdiv_const", "rpow_const")


def expression_names(values: list) -> None:
    """Names for unlabelled nodes, from their operands (parents first): an
    unlabelled scalar leaf is named by its value (a constant: ``0``, ``2``),
    an op's result by its expression where short (``x*w``, ``tanh(x*w)``),
    else ``v<i>``."""
    infix: dict[int, bool] = {}
    for it in values:
        node = it.node
        if node.label:
            continue
        if not it.parents:
            if it.scalar or it.role == "const":  # a number: named by its value
                if np.size(node.data) <= 6:
                    it.named = fmt(node.data) if it.scalar else summary(node.data)
            continue
        plain = [values[p].name for p in it.parents]
        args = [f"({a})" if infix.get(p) else a for p, a in zip(it.parents, plain)]
        op = node.op
        const = constant_operand(node)
        if op in _INFIX and len(args) == 2:
            text = f"{args[0]}{_INFIX[op]}{args[1]}"
            infix[it.index] = True
        elif op in _INFIX and len(args) == 1 and const is not None:  # x**2; 2**x, 1-x, 3/x
            c, first = const
            text = f"{c}{_INFIX[op]}{args[0]}" if first else f"{args[0]}{_INFIX[op]}{c}"
            infix[it.index] = True
        elif op == "neg" and len(args) == 1:
            text = f"-{args[0]}"
        else:
            text = f"{op}({', '.join(plain)})"
        if len(text) <= NAME_AT_MOST and not any(a.startswith("v") and a[1:].isdigit()
                                                 for a in args):
            it.named = text
        else:
            infix.pop(it.index, None)


def set_grouping(d: Diagram, grouping: Any) -> None:
    d.grouping = grouping
    d.box_ids = {k: f"m{j}" for j, k in enumerate(grouping.boxes)} if grouping else {}


def edges(d: Diagram, *, compact: bool, numbers: bool = True) -> list:
    """The drawn edges: into each op (or, compact, into its result) one per
    operand, labelled with its local derivative; edges to or from a box
    bundled, one per pair, with their count."""
    out: list = []
    bundled: dict = {}
    for it in d.values:
        if not it.parents:
            continue
        own = d.box_of(it.index)
        made_by = d.output_of(it.index)
        if made_by is not None:  # the root, computed by a box: operands into the box
            for p in it.parents:
                src = d.unit(p)
                if src != made_by:
                    bundled[(src, made_by)] = bundled.get((src, made_by), 0) + 1
            out.append(Edge(made_by, d.unit(it.index)))
            continue
        dst = d.unit(it.index) if (own is not None or compact) else f"n{it.index}op"
        locs = local_numbers(it.node) if (numbers and own is None) else None
        for j, p in enumerate(it.parents):
            src = d.unit(p)
            if own is not None or d.box_of(p) is not None:
                if src != dst:
                    bundled[(src, dst)] = bundled.get((src, dst), 0) + 1
                continue
            loc = f"× {locs[j]}" if locs is not None and j < len(locs) and locs[j] else ""
            out.append(Edge(src, dst, it.index, j, loc, rule_text(it.node, j)))
    for (src, dst), count in bundled.items():
        out.append(Edge(src, dst, count=count))
    return out


# --------------------------------------------------------------------------
# Where the leaves go (declaration order, inputs above the weights)
# --------------------------------------------------------------------------
@dataclass
class LeafPlan:
    """Layout hints for the leaves: ``rows`` -- groups of drawn leaf ids
    that sit on one rank, each in declaration order (to be kept in that
    order along the rank: the shared leaves, the inputs several ops read, in
    one row, the others, the weights, in another); ``lifted`` -- the (src,
    dst) edges from a shared leaf into an op that also reads a leaf of its
    own (a weight), when the inputs read best as a row of their own (see
    :func:`leaf_plan`): drawn one rank longer, so the inputs sit above the
    weights instead of mingling with them."""

    rows: list
    lifted: set


#: An op reading this many shared leaves (inputs) and some leaves of its own
#: (weights) gets its inputs a row above the weights (see :func:`leaf_plan`);
#: so does an op reading one leaf of its own.
LIFT_AT = 2


def declaration_order(items: list) -> list:
    """``items`` (leaf :class:`Item` s, in topological order) in the order
    they were created: the ones with a ``creation_index`` sorted by it,
    each one without (a leaf made inside the library) kept in its place
    (its first use)."""
    numbered = [(n, it) for it in items if (n := _creation(it.node)) is not None]
    pos = iter(it for _, it in sorted(numbered, key=lambda p: p[0]))
    return [next(pos) if _creation(it.node) is not None else it for it in items]


def _creation(node: Any) -> int | None:
    n = getattr(node, "creation_index", None)
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def leaf_plan(d: Diagram, drawn_edges: list, compact: bool) -> LeafPlan:
    """Which drawn leaves share a rank (see :class:`LeafPlan`), from a rank
    estimate made the way ``dot`` ranks: every other node as low as its
    longest path from the leaves, each leaf just above its highest
    consumer."""
    leaves = {it.key: it for it in d.values
              if not it.parents and d.box_of(it.index) is None}
    if len(leaves) < 2:
        return LeafPlan([], set())
    out: dict = {}    # drawn id -> its consumers (drawn ids), in order
    into: dict = {}   # drawn id -> its operands
    for e in drawn_edges:
        if e.src == e.dst:
            continue
        out.setdefault(e.src, []).append(e.dst)
        into.setdefault(e.dst, []).append(e.src)
    if not compact:  # op circle -> its result
        for it in d.values:
            if it.parents and d.box_of(it.index) is None:
                out.setdefault(f"{it.key}op", []).append(it.key)
                into.setdefault(it.key, []).append(f"{it.key}op")
    shared = {u for u in leaves if len(set(out.get(u, ()))) > 1}
    lifted = set()
    for u in shared:
        for c in set(out[u]):
            ops = set(into.get(c, ()))
            own = sum(1 for p in ops if p in leaves and p not in shared)
            # inputs above, each op's weights beside it (x*w, a neuron); but a lone
            # input among an op's weights (a one-input neuron) sits best between them
            if own == 1 or (own and len(ops & shared) >= LIFT_AT):
                lifted.add((u, c))
    # longest path from the leaves (drawn ids in a topological order: the values', ops first)
    order: list = []
    seen: set = set()
    for it in d.values:
        u = d.unit(it.index)
        for v in ((f"{u}op", u) if (not compact and it.parents and u[0] == "n") else (u,)):
            if v not in seen:
                seen.add(v)
                order.append(v)
    rank: dict = {}
    for v in order:
        if v in leaves:
            continue
        rank[v] = max((rank.get(p, 0) + (2 if (p, v) in lifted else 1)
                       for p in into.get(v, ()) if p != v), default=0)
    groups: dict = {}
    for u, it in leaves.items():
        cons = out.get(u)
        if not cons:
            continue
        r = min(rank.get(c, 1) - (2 if (u, c) in lifted else 1) for c in cons)
        groups.setdefault(r, []).append(it)
    rows = []
    for r in sorted(groups):  # on a rank: the inputs in order, the weights in order
        for kind in (True, False):
            row = [it for it in groups[r] if (it.key in shared) is kind]
            if len(row) > 1:
                rows.append([it.key for it in declaration_order(sorted(row,
                                                                        key=lambda it: it.index))])
    return LeafPlan(rows, lifted)


# --------------------------------------------------------------------------
# The picture's size, estimated (for choosing the layout direction)
# --------------------------------------------------------------------------
_CHAR = 6.4       # points per character at the diagrams' 11 pt
_GAP = 32.0       # ranksep, about (left to right)
_GAP_TB = 18.0    # ... and top to bottom
_SEP = 18.0       # nodesep, about


def _node_size(d: Diagram, it: Item, compact: bool) -> tuple:
    """((width, height) left to right, (width, height) top to bottom): top
    to bottom a labelled scalar node is stacked, its name over its numbers."""
    node = it.node
    if it.scalar:
        name = len(node.label or "")
        nums = 8 + len(fmt(node.data)) + 9 + (3 if compact else 0)
        lr = ((name + nums) * _CHAR + 24, 24.0)
        if name and not compact:
            return lr, (max(name + 2, nums) * _CHAR + 16, 42.0)
        return lr, lr
    return (30 * _CHAR, 62.0), (30 * _CHAR, 62.0)


def extent(d: Diagram, compact: bool, labels: bool) -> tuple:
    """Estimated ((width, height) left to right, (width, height) top to
    bottom) of the laid-out diagram in points: nodes ranked by longest path
    from the leaves (an op circle and an edge label each add a rank)."""
    rank: dict = {}
    sizes: dict = {}
    leaves: dict = {}   # a leaf sits one step before its first consumer, as dot puts it
    step = 1 if compact else (3 if labels else 2)
    for it in d.values:
        u = d.unit(it.index)
        if not it.parents and u.startswith("n"):
            leaves[u] = None
            sizes[u] = _node_size(d, it, compact)
            continue
        r = max((rank[d.unit(p)] + step if d.unit(p) in rank else step
                 for p in it.parents if d.unit(p) != u), default=0)
        if u in rank:
            rank[u] = max(rank[u], r)
            continue
        rank[u] = r
        if u.startswith("m"):
            box = d.grouping.boxes[next(k for k, v in d.box_ids.items() if v == u)]
            sizes[u] = (max(len(box.title) + 4, 24) * _CHAR, 70.0)
        else:
            sizes[u] = _node_size(d, it, compact)
    for it in d.values:
        u = d.unit(it.index)
        for p in it.parents:
            pu = d.unit(p)
            if pu in leaves and u in rank:
                r = max(rank[u] - step, 0)
                leaves[pu] = r if leaves[pu] is None else min(leaves[pu], r)
    for u, r in leaves.items():
        rank[u] = 0 if r is None else r
    by_rank: dict = {}
    by_rank_tb: dict = {}
    for u, r in rank.items():
        lr, tb = sizes[u] if isinstance(sizes[u][0], tuple) else (sizes[u], sizes[u])
        by_rank.setdefault(r, []).append(lr)
        by_rank_tb.setdefault(r, []).append(tb)
    if not compact:  # op circles and label ranks between the value ranks
        for r in range(max(by_rank, default=0) + 1):
            by_rank.setdefault(r, [(24.0, 24.0)])
            by_rank_tb.setdefault(r, [(24.0, 24.0)])
    lr_w = sum(max(w for w, _ in ns) + _GAP for ns in by_rank.values())
    lr_h = max(sum(h + _SEP for _, h in ns) for ns in by_rank.values())
    tb_w = max(sum(w + _SEP for w, _ in ns) for ns in by_rank_tb.values())
    # top to bottom, op and label ranks are thinner than the sum suggests
    tb_h = 0.78 * sum(max(h for _, h in ns) + _GAP_TB for ns in by_rank_tb.values())
    return (lr_w, lr_h), (tb_w, tb_h)


# --------------------------------------------------------------------------
# What Graphviz can take
# --------------------------------------------------------------------------
#: Drawn nodes + edges above which ``dot`` gets slow (seconds to minutes, and
#: gigabytes of memory); graphs above it are collapsed automatically.
DOT_BUDGET = 12000
#: ... and what a step page (one layout, a few seconds) allows.
PAGE_BUDGET = 12000


def cost(d: Diagram, compact: bool) -> int:
    """Estimated layout cost: the nodes and edges ``dot`` would get."""
    n = 0
    e = 0
    for it in d.values:
        if d.box_of(it.index) is not None:
            continue
        n += 1
        if it.parents and not compact:
            n += 1  # the op circle
            e += 1
        e += sum(1 for p in it.parents if d.box_of(p) is None)
    if d.grouping is not None:
        n += len(d.grouping.boxes)
        pairs = set()  # edges to or from a box: one per pair of drawn nodes
        for it in d.values:
            own = d.box_of(it.index)
            for p in it.parents:
                if own is not None or d.box_of(p) is not None:
                    pairs.add((d.unit(p), d.unit(it.index)))
        e += sum(1 for a, b in pairs if a != b)
    # dense graphs (many operands per node) cost dot's crossing reduction far more
    return int(n + e * max(1.0, e / max(n, 1)))


#: Drawn units (values and boxes), and boxes, above which an automatically
#: collapsed picture is no longer one a reader takes in: :func:`fit` prefers
#: a coarser grouping that stays under both (three layer boxes rather than
#: 700 values beside two repeat boxes, or 34 neuron boxes side by side).
READABLE = 80
READABLE_BOXES = 24


def _size_text(d: Diagram) -> str:
    """``1,038 values and 4,012 edges``: what the graph holds."""
    edges = sum(len(it.parents) for it in d.values)
    return f"{len(d.values):,} values and {edges:,} edges"


#: Drawn values above which a picture that Graphviz could lay out whole is
#: still far too big to read (the aim is :data:`READABLE` units): ``draw`` and
#: ``render`` then collapse it too (:func:`fit`'s ``readable_at``). A
#: micrograd MLP(2, [16, 16, 1]) on one sample (404 values, a picture 30,000
#: pixels tall) is collapsed; teaching graphs (a 2-2-1 network: 15 values,
#: MLP(3, [4, 4, 1]): 59, MLP(2, [12, 12, 1]): 255) are drawn whole.
COLLAPSE_AT = 300


def fit(d: Diagram, *, compact_at: int, budget: int = DOT_BUDGET,
        loops: Any = None, readable_at: int | None = None) -> Diagram:
    """Collapse ``d`` (built with no collapse, or with the long ``loops``
    :func:`fold_long_loops` folded) until its cost is within ``budget``:
    repeated structure first, then modules (innermost, then coarser),
    keeping its unrolled loops folded (``loops``, else those found here),
    taking the first grouping that fits and draws at most :data:`READABLE`
    units (else the first that fits), then
    everything beyond the ``budget`` nodes nearest the output as "+N more".
    With ``readable_at``, a graph within ``budget`` that draws more than
    ``readable_at`` values is collapsed the same way, but only into a grouping
    drawing at most ``readable_at`` units (else it is left whole).
    Sets ``d.note`` to one line saying what was done, or leaves ``d`` alone."""
    n_values = len(d.values)
    if cost(d, _compact(d, compact_at)) <= budget:
        if readable_at is None or len(d.drawn_values()) <= readable_at:
            return d
        return _fit_readable(d, loops, readable_at)
    size = _size_text(d)
    order = [it.node for it in d.values]
    if loops is None:  # to be collapsed anyway: its unrolled loops fold with the rest
        loops = _collapse.loops(order, d.root, d.params)
    fitting: tuple | None = None  # the first grouping that fits, if none reads well
    for how, g in _groupings(d, order, loops):
        if cost(d, _compact(d, compact_at)) <= budget:
            if len(g.boxes) <= READABLE_BOXES and \
                    len(d.drawn_values()) + len(g.boxes) <= READABLE:
                fitting = (how, g)
                break
            if fitting is None:
                fitting = (how, g)
    if fitting is not None:
        how, g = fitting
        set_grouping(d, g)
        d.note = (f"the graph has {size}, too many for one picture: drawn with "
                  f"collapse='{how}' ({_collapse.count_boxes(g)}, "
                  f"{len(d.drawn_values()):,} values); pass collapse='none' for the full graph "
                  f"(slow)")
        return d
    set_grouping(d, _nearest(d, budget // 6))
    hidden = sum(len(b.members) for b in d.grouping.boxes.values())
    d.note = (f"the graph has {size}, too many for one picture: drawn are the "
              f"{n_values - hidden:,} values nearest the output, the other {hidden:,} in "
              f"\"+N more\" boxes; pass collapse='none' for the full graph (slow), or "
              f"collapse='module' / 'repeat'")
    return d


def _groupings(d: Diagram, order: list, loops: Any):
    """The groupings :func:`fit` tries, finest first, each set on ``d`` as it
    is yielded: ``repeat``, ``module``, then one box per module N levels
    down (N = deepest - 1 ... 1, once ``module`` has shown the depth), with
    unrolled loops folded into the module boxes."""
    hows: list = ["repeat", "module"]
    i = 0
    while i < len(hows):
        how = hows[i]
        i += 1
        try:
            g = _collapse.group(order, d.root, how, d.params)
        except ValueError:
            continue
        if not g.boxes:
            continue
        if how == "module":
            deepest = max(len(k.split(".")) for k in g.boxes)
            hows += [f"module:{n}" for n in range(deepest - 1, 0, -1)]
        if loops is not None and how != "repeat":  # (repeat's own boxes fold loops)
            g = _collapse.merge(g, loops, d.params, order)
        set_grouping(d, g)
        yield how, g


def _fit_readable(d: Diagram, loops: Any, readable_at: int) -> Diagram:
    """:func:`fit` for a graph Graphviz can take whole but too big to read:
    the first grouping (as :func:`fit` tries them) drawing at most
    :data:`READABLE` units and :data:`READABLE_BOXES` boxes, else the first
    drawing at most ``readable_at`` units; none: ``d`` is left as it was."""
    before, n_drawn = d.grouping, len(d.drawn_values())
    order = [it.node for it in d.values]
    if loops is None:
        loops = _collapse.loops(order, d.root, d.params)
    chosen: tuple | None = None
    for how, g in _groupings(d, order, loops):
        units = len(d.drawn_values()) + len(g.boxes)
        if units <= READABLE and len(g.boxes) <= READABLE_BOXES:
            chosen = (how, g)
            break
        if chosen is None and units <= readable_at:
            chosen = (how, g)
    if chosen is None:
        set_grouping(d, before)
        return d
    how, g = chosen
    set_grouping(d, g)
    d.note = (f"the graph draws {n_drawn:,} values, too many to read in one picture (more "
              f"than {readable_at}): drawn with collapse='{how}' ({_collapse.count_boxes(g)}, "
              f"{len(d.drawn_values()):,} values); pass collapse='none' for the full graph")
    return d


#: Values along the longest path above which a picture is too long to read
#: in one row or column (an LR layout of 60 values and their ops is several
#: metres wide): an unrolled loop in it is then drawn as a box.
LONG_PATH = 60


def fold_long_loops(d: Diagram) -> Any:
    """When the longest path of ``d`` (built with no collapse) is longer than
    :data:`LONG_PATH` values and the length comes from unrolled loops, box
    the loops' middle steps (``collapse="repeat"``'s loop boxes, nothing
    else), say so in ``d.note`` and return that grouping (for :func:`fit`);
    otherwise leave ``d`` alone and return None."""
    depth = [0] * len(d.values)
    for it in d.values:  # parents first
        depth[it.index] = 1 + max((depth[p] for p in it.parents), default=0)
    if max(depth, default=0) <= LONG_PATH:
        return None
    g = _collapse.loops([it.node for it in d.values], d.root, d.params)
    if g is None:
        return None
    set_grouping(d, g)
    boxed = sum(len(b.members) for b in g.boxes.values())
    d.note = (f"the graph is {max(depth)} values deep, too long to read in one picture: the "
              f"middle steps of its unrolled loop{'s' if len(g.boxes) > 1 else ''} "
              f"({boxed} values) are drawn as "
              f"{'a box' if len(g.boxes) == 1 else f'{len(g.boxes)} boxes'}; pass "
              f"collapse='none' for every node")
    return g


def _compact(d: Diagram, compact_at: int) -> bool:
    return sum(1 for it in d.values if d.box_of(it.index) is None) > compact_at


def _nearest(d: Diagram, keep: int) -> Any:
    """A grouping keeping the ``keep`` values nearest the output (breadth
    first through operands) and boxing the rest: one "+N more" box per kept
    node whose operands are hidden (the hidden nodes go to the box of the
    first kept node that reads them)."""
    kept = {len(d.values) - 1}
    queue = [len(d.values) - 1]
    head = 0
    while head < len(queue) and len(kept) < keep:
        i = queue[head]
        head += 1
        for p in d.values[i].parents:
            if p not in kept and len(kept) < keep:
                kept.add(p)
                queue.append(p)
    of: dict = {}
    boxes: dict = {}
    owner: dict = {}
    # hidden nodes, children first: each joins the box of a consumer
    for it in reversed(d.values):
        i = it.index
        if i in kept:
            continue
        cons = d.consumers[i]
        key = None
        for c in cons:
            key = f"more{c}" if c in kept else owner.get(c)
            if key is not None:
                break
        if key is None:
            key = "more"
        owner[i] = key
        box = boxes.get(key)
        if box is None:
            box = boxes[key] = _collapse.Box(key, "", "more")
        box.members.append(it.node)
        of[id(it.node)] = key
    for box in boxes.values():
        box.title = f"+{len(box.members)} more"
        leaves = sum(1 for m in box.members if m.is_leaf)
        box.extra = f"{len(box.members) - leaves} ops, {leaves} leaves"
    return _collapse.Grouping(of, boxes)
