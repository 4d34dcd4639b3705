"""The graph walker: one backward pass for Value and Tensor graphs.

Discovery counts, for every node reachable from the outputs, how many times
it is used inside the graph (an explicit stack, never recursion, so a chain
of a million nodes is fine). Then Kahn's algorithm runs from the outputs: a
node is ready once every use has sent its contribution, so its gradient is
complete when it is processed. Processing a node is one method,
:meth:`Pass.step` (its gradient through :func:`contributions`, the node's
kernel's rule: plain, with its local derivatives, or as a graph);
:func:`walk` runs it as a generator of :class:`Step` records
(``backward_steps()``), :meth:`Pass.run` as a procedure (``grad()``, anomaly
mode). :func:`backward` is the one fast pass, generic over node types, which
sums gradients straight in the ``grad`` slots (for floats, with its use
counts in the nodes too, and the rows' text rules inlined: its loop is
generated from them, see :mod:`autograd.rulecode`); tests check it against
the stepping walk.

Grad semantics: leaves accumulate into ``.grad`` across calls (until zeroed);
an intermediate node's ``.grad`` is set to its gradient from the latest pass.

The modes (``no_grad``, ``detect_anomaly``...) live in :mod:`autograd.mode`;
the node protocol is :class:`Node`.
"""
from __future__ import annotations

import itertools
import linecache
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import mode as _mode
from . import rulecode as _rulecode
from .mode import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad, record_sites

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "record_sites",
           "AnomalyError", "Node", "OpInfo", "Step", "Pass", "walk", "backward", "grad",
           "topological_order", "count_uses", "contributions"]


#: The next leaf's creation number (Value's and Tensor's constructors draw one,
#: kept in the leaf's otherwise unused ``_ctx`` slot): which leaf came first.
next_leaf_number = itertools.count(1).__next__

#: How nodes show themselves in Jupyter: mime kind -> function(node) -> text.
#: ``viz`` registers its diagram here when imported (``import gradviz`` does
#: that); the engine itself knows nothing of drawing.
DISPLAYS: dict = {}


def register_display(kind: str, render) -> None:
    """Show nodes in notebooks with ``render(node) -> str`` for ``kind`` ("svg")."""
    DISPLAYS[kind] = render


@dataclass(frozen=True)
class OpInfo:
    """What a diagram or a checker may know about a node's op (its table row,
    bound to the node's constant parameters): ``name`` (as ``node.op``),
    ``key`` (the table key), ``symbol`` (short, for diagrams), ``rule`` (the
    local-derivative rule as text, one string per parent), ``params`` (the
    constant parameters: a slope, an exponent, an axis), ``elementwise``
    (True when the op has a local derivative per input, False for ops with a
    vector-Jacobian rule: matmul, reductions, reshapes, fused losses) and
    ``doc``."""

    name: str
    key: str
    symbol: str
    rule: tuple
    params: dict
    elementwise: bool
    doc: str


def _rule_texts(op, n: int) -> tuple:
    """The row's rule text for each of ``n`` parents (a variadic op such as
    wsum lists the first operand's rule, then two that alternate)."""
    rule = tuple(op.rule)
    if len(rule) == n or op.arity != -1:
        return tuple(rule[i] if i < len(rule) else "" for i in range(n))
    if len(rule) < 3:
        return tuple(rule[0] if rule else "" for _ in range(n))
    return tuple(rule[0] if i == 0 else (rule[1] if i % 2 == 1 else rule[2]) for i in range(n))


class Node:
    """The node protocol: what Value and Tensor share, and all that the
    walker's callers, ``viz`` and the checkers may read.

    * ``data``, ``grad``, ``label`` (slots of the subclasses);
    * ``op`` -- the op's name ("+", "*", "@", "tanh", ...), "" for a leaf;
    * ``parents`` -- the operands in operand order (a node used twice
      appears twice);
    * ``is_leaf``;
    * ``op_info`` -- an :class:`OpInfo` (None for a leaf);
    * ``local_derivatives()`` -- the local derivative d(self)/d(parent) per
      parent for elementwise ops (floats for Value, arrays for Tensor), None
      for a leaf or an op with a vector-Jacobian rule;
    * ``op_forward(*datas)`` -- the node's op (with its constant parameters)
      run on other input data (floats or arrays, one per parent): the value
      it would have had; for checking one op alone by finite differences;
    * ``vjp(g)`` -- the contribution ``g · d(self)/d(parent)`` per parent,
      reduced to the parent's shape (None for a parent that needs no
      gradient): the same rule ``backward()`` uses;
    * ``creation_site`` -- "file:line" of the user code that created the
      node, when recorded (under :func:`detect_anomaly`), else None;
    * ``scope`` -- the module-call records attached to the node (a list), or
      None;
    * ``creation_index`` -- for a leaf made by ``Value(...)``/``Tensor(...)``,
      a number that grows with creation order (the order the user declared
      inputs and parameters in: diagrams lay leaves out by it), else None.

    Internally a node holds ``_op`` (its kernel, None for a leaf) and
    ``_parents`` (a tuple); a Value also ``_pending``, the fast pass's count
    of uses not yet sent (0 between passes)."""

    __slots__ = ()
    data: Any
    grad: Any
    label: str
    _op: Any           # the node's Kernel, None for a leaf
    _parents: tuple

    @property
    def op(self) -> str:
        """The op's name ("+", "*", "@", "tanh", ...), "" for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple:
        """The operands, in operand order (a node used twice appears twice)."""
        return self._parents

    @property
    def is_leaf(self) -> bool:
        return not self._parents

    @property
    def op_info(self) -> OpInfo | None:
        k = self._op
        if k is None:
            return None
        op = k.op
        return OpInfo(op.name, op.key, op.symbol, _rule_texts(op, len(self._parents)),
                      dict(k.params), op.deriv is not None, op.doc)

    def local_derivatives(self) -> tuple | None:
        k = self._op
        return None if k is None else k.local_derivatives(self)

    def _stale_check(self) -> None:
        """Raise if data this node's rule reads changed in place after the node
        was made (Tensor tracks it; a Value's leaves change only by an
        optimiser's step, after its pass)."""

    def op_forward(self, *datas):
        k = self._op
        if k is None:
            raise ValueError("op_forward: a leaf has no op")
        return k.forward(*datas)

    def vjp(self, g) -> tuple:
        k = self._op
        if k is None:
            raise ValueError("vjp: a leaf has no op")
        return tuple(k.vjp(self, g))

    def _repr_svg_(self):  # Jupyter: the node's diagram, when viz has registered one
        render = DISPLAYS.get("svg")
        return None if render is None else render(self)

    @property
    def creation_site(self) -> str | None:
        return getattr(self, "_site", None)

    @property
    def creation_index(self) -> int | None:
        n = getattr(self, "_ctx", None) if not self._parents else None
        return abs(n) or None if n.__class__ is int else None  # 0: made by the engine

    @property
    def scope(self) -> list | None:
        return getattr(self, "_scope", None)  # None: a node no module call has returned

    @scope.setter
    def scope(self, records: list | None) -> None:
        # The slot is the subclasses' (Node's __slots__ is empty), which mypy's slots check
        # cannot see through a plain assignment.
        setattr(self, "_scope", records)  # noqa: B010


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One node pushing its gradient to its parents.

    ``contributions`` holds ``(parent, local_derivative, contribution)`` per
    parent, in operand order; ``contribution = grad * local_derivative``
    (for ops without an elementwise local derivative, ``local_derivative`` is
    None). ``totals`` holds, per contribution, the parent's running gradient
    in this pass right after that contribution was added (a parent used
    twice, as in ``x * x``, shows both partial sums).
    """

    index: int
    node: Any
    grad: Any
    contributions: tuple
    totals: tuple


def topological_order(roots: Sequence[Any]) -> list:
    """Every node reachable from ``roots``, parents before children.
    Deterministic: depends only on the graph and the operand order."""
    seen = set()
    order = []
    stack: list = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in reversed(node._parents):
            if id(p) not in seen:
                stack.append((p, False))
    return order


def count_uses(roots) -> dict:
    """{node: number of uses inside the graph} for everything reachable from
    ``roots``, in a dict of the caller's own. The stepping walk counts here,
    not in the nodes' ``_pending`` slots as the fast pass does: a walk may be
    paused halfway (a generator) while other passes run over the same graph."""
    uses: dict = {}
    stack = []
    for r in roots:
        if r not in uses:
            uses[r] = 0
            stack.append(r)
    pop, push, get = stack.pop, stack.append, uses.get
    while stack:
        for p in pop()._parents:
            n = get(p)
            if n is None:
                uses[p] = 1
                push(p)
            else:
                uses[p] = n + 1
    return uses


# --------------------------------------------------------------------------
# Processing one node
# --------------------------------------------------------------------------
PLAIN, STEPS, GRAPH = "plain", "steps", "graph"


def contributions(node, g, how: str = PLAIN) -> tuple[tuple, tuple | None]:
    """``(contributions, local derivatives)`` of ``node`` for its upstream
    gradient ``g``: plain numbers (local derivatives not asked for), with the
    local derivatives (the step-through), or as nodes of a new graph
    (``create_graph``)."""
    k = node._op
    if how is PLAIN:
        return k.vjp(node, g), None
    if how is STEPS:
        return k.vjp_steps(node, g)
    return k.vjp_graph(node, g)


# --------------------------------------------------------------------------
# The walk (a generator) and the fast pass (a procedure)
# --------------------------------------------------------------------------
class Pass:
    """One backward pass from ``roots`` seeded with ``seeds`` (same length),
    processed one ready node at a time by :meth:`step`.

    ``write_grads``: leaves accumulate into ``.grad``, other nodes get their
    gradient of this pass in ``.grad``. ``capture``: a dict whose keys are
    nodes; their complete gradients of this pass are stored in it.
    ``create_graph``: gradients are nodes (differentiable again).
    ``steps``: :meth:`step` returns a :class:`Step` for each non-leaf node.
    """

    def __init__(self, roots: Sequence[Any], seeds: Sequence[Any], *, steps: bool = False,
                 create_graph: bool = False, write_grads: bool = True,
                 capture: dict | None = None):
        self.anomaly = _mode.current().anomaly
        self.how = GRAPH if create_graph else (STEPS if steps else PLAIN)
        self.steps, self.write_grads, self.capture = steps, write_grads, capture
        self.uses = count_uses(roots)
        self.acc: dict = {}
        for r, s in zip(roots, seeds):
            self.acc[r] = self.acc[r] + s if r in self.acc else s
        self.ready = [r for r in dict.fromkeys(roots) if self.uses[r] == 0]
        self.index = 0

    def step(self) -> Step | None:
        """Process the next ready node: its complete gradient goes to its
        parents (a leaf's into ``.grad``). A :class:`Step` when asked for."""
        acc, uses, ready = self.acc, self.uses, self.ready
        node = ready.pop()
        g = acc.pop(node)
        parents = node._parents
        if self.capture is not None and node in self.capture:
            self.capture[node] = g
        if not parents:  # a leaf
            if self.write_grads:
                node._accumulate_grad(g)
            return None
        if self.write_grads:
            node._set_grad(g)
        node._stale_check()
        contribs, locs = contributions(node, g, self.how)
        if self.anomaly:
            _mode.check_backward(node, g, contribs)
        running: list = []
        for p, c in zip(parents, contribs):
            if c is not None:
                prev = acc.get(p)
                acc[p] = c if prev is None else prev + c
            elif p not in acc:
                acc[p] = None
            if self.steps:
                running.append(acc[p])
            n = uses[p] - 1
            uses[p] = n
            if n == 0:
                if acc[p] is None:  # no contribution at all (e.g. an integer index)
                    del acc[p]
                    continue
                ready.append(p)
        if not self.steps:
            return None
        self.index += 1
        return Step(self.index - 1, node, g,
                    tuple(zip(parents, locs or (None,) * len(parents), contribs)),
                    tuple(running))

    def run(self) -> None:
        """The whole pass as a procedure."""
        step = self.step
        while self.ready:
            step()


def walk(roots: Sequence[Any], seeds: Sequence[Any], **options: Any) -> Iterator[Step]:
    """The pass as a generator of :class:`Step` records (``backward_steps()``):
    the same :meth:`Pass.step` that :meth:`Pass.run` calls."""
    p = Pass(roots, seeds, steps=True, **options)
    while p.ready:
        s = p.step()
        if s is not None:
            yield s


def backward(roots: Sequence[Any], seeds: Sequence[Any]) -> None:
    """``backward()``: the walk as a procedure (no steps, no capture), the
    one fast pass. The same algorithm with the per-node branches hoisted
    out, and gradients summed straight in the nodes' ``grad`` slots
    (intermediates reset when the graph is discovered) instead of a dict.

    Node types say how their leaves take gradients: with
    ``_leaf_grads_in_place`` (Value: plain floats) every contribution is
    added in place, leaves included; otherwise (Tensor: arrays a leaf may
    own) a leaf's total is handed to ``_accumulate_grad`` once complete.
    """
    if _mode.ACTIVE and _mode.current().anomaly:  # the checked pass
        Pass(roots, seeds).run()
        return
    try:
        if roots[0]._leaf_grads_in_place if len(roots) == 1 else \
                all(r._leaf_grads_in_place for r in roots):
            if _built_for != len(_rulecode.RULES):
                _build_in_place_pass()
            _in_place_pass(roots, seeds)
        else:
            _owning_pass(roots, seeds)
    except BaseException:
        _clear_pending(roots)  # a failed rule (or ^C) leaves no half-counted node behind
        raise


def _discover(roots: Sequence[Any], reset: Any, leaf_uses: dict | None = None) -> Collection:
    """Count every reachable non-leaf's uses into its ``_pending`` slot and
    set its ``grad`` to ``reset``; with ``leaf_uses``, count the leaves'
    uses there (a dict of this pass's own: leaves, parameters above all, may
    be shared by passes running at once in other threads, which must not
    share their counts). Returns the roots, deduplicated. A root is
    expanded once even when another root uses it: while the graph is
    discovered, each root counts one use more (by the pass itself, as it
    were), so that reaching it from another root only counts the use."""
    tops = dict.fromkeys(roots) if len(roots) > 1 else roots
    stack = []
    for r in tops:
        if r._parents:
            r.grad = reset
            r._pending = 1
            stack.append(r)
    pop, push = stack.pop, stack.append
    count_leaves = leaf_uses is not None
    while stack:
        node = pop()
        while node is not None:  # along a chain, the next node without the stack
            nxt = None
            for p in node._parents:
                if p._parents:
                    n = p._pending
                    if n:
                        p._pending = n + 1
                    else:
                        p._pending = 1
                        p.grad = reset
                        if nxt is None:
                            nxt = p
                        else:
                            push(p)
                elif count_leaves:
                    leaf_uses[p] = leaf_uses.get(p, 0) + 1  # type: ignore[index,union-attr]
            node = nxt
    for r in tops:  # the pass's own use, taken back
        if r._parents:
            r._pending -= 1
    return tops


def _owning_pass(roots: Sequence[Any], seeds: Sequence[Any]) -> None:
    """The fast pass for node types whose leaves may take ownership of a
    gradient array (Tensor): a leaf's contributions are summed aside and
    handed to ``_accumulate_grad`` once its last use has sent one."""
    leaf_uses: dict = {}
    tops = _discover(roots, None, leaf_uses)
    handed = {id(s) for s in seeds}  # arrays a leaf must not take as its own .grad
    leaf_acc: dict = {}
    for r, s in zip(roots, seeds):
        if r._parents:
            r.grad = s if r.grad is None else r.grad + s
        else:
            leaf_acc[r] = leaf_acc[r] + s if r in leaf_acc else s
    for r in tops:  # a root that is a leaf and used by nobody else
        if not r._parents and r not in leaf_uses and r in leaf_acc:
            r._accumulate_grad(leaf_acc.pop(r), handed)
    ready = [r for r in tops if r._parents and not r._pending]
    pop, push = ready.pop, ready.append
    leaf_pop, leaf_get = leaf_acc.pop, leaf_acc.get
    while ready:
        node = pop()
        parents = node._parents
        g = node.grad
        cs: Sequence[Any]
        node._stale_check()
        if g is None:  # nothing flows here (e.g. only integer-index uses)
            cs = (None,) * len(parents)
        else:
            cs = node._op.vjp(node, g)
        i = 0
        for p in parents:
            c = cs[i]
            i += 1
            if p._parents:
                if c is not None:
                    prev = p.grad
                    p.grad = c if prev is None else prev + c
                n = p._pending - 1
                p._pending = n
                if not n:
                    push(p)
            else:
                if c is not None:
                    prev = leaf_get(p)
                    leaf_acc[p] = c if prev is None else prev + c
                n = leaf_uses[p] - 1
                leaf_uses[p] = n
                if not n:
                    total = leaf_pop(p, None)
                    if total is not None:
                        p._accumulate_grad(total, handed)
                    total = None
        # hold no gradient array: a leaf may take ownership of it
        c = prev = g = None
        cs = ()


# The in-place pass is generated: the loop below, with the text rules of
# :mod:`autograd.rulecode` inlined as the branches of its dispatch on the
# kernel's tag (see :func:`_in_place_source`). It is built from the rules
# registered when the table was loaded, and rebuilt if more are registered.
_PASS_TEMPLATE = """
def _in_place_pass(roots, seeds):
    tops = _discover(roots, 0.0)
    if len(roots) == 1:  # (what the loop below does, without its fixed costs)
        r = roots[0]
        r.grad += seeds[0]
        ready = [r] if r._parents and not r._pending else []
    else:
        for r, s in zip(roots, seeds):
            r.grad += s
        ready = [r for r in tops if r._parents and not r._pending]
    pop, push = ready.pop, ready.append
    while ready:
        n = pop()
        while n is not None:  # along a chain, the next node without the stack
            t = n._op.tag
@DISPATCH@
"""

# After a node's contributions are added: count the uses sent, and go on to
# the operand the walk would take next (a, then b onto the stack: b first).
_SENT_A = """\
n = None
if a._parents:
    u = a._pending - 1
    a._pending = u
    if not u:
        n = a
"""
_SENT_B = """\
if b._parents:
    u = b._pending - 1
    b._pending = u
    if not u:
        if n is not None:
            push(n)
        n = b
"""

# Tag 0: a rule to call (array rules, structural ops, wsum, Functions).
_CALL_LEAF = """\
parents = n._parents
cs = n._op.vjp(n, n.grad)
if len(parents) == 2:
    a, b = parents
    ca, cb = cs
    a.grad += ca
    b.grad += cb
@SENT_A@@SENT_B@elif len(parents) == 1:
    a = parents[0]
    a.grad += cs[0]
@SENT_A@else:
    n = None
    for p, c in zip(parents, cs):
        p.grad += c
        if p._parents:
            u = p._pending - 1
            p._pending = u
            if not u:
                push(p)
"""


def _indented(text: str, pad: str) -> str:
    return "".join(pad + ln + "\n" for ln in text.splitlines())


def _in_place_source(rules: Sequence[Any]) -> str:
    """The fast pass's source with ``rules`` (tags 1, 2, ...) inlined. The
    common rules are tested first, one equality each in the order they were
    registered; the others (tag 0, a rule to call, among them) through a
    tree of comparisons. Measured on the mixed chain of ``bench_scalar``,
    two equalities cost less than a four-deep tree: 137 against 162 ns per
    node. Each branch adds its contributions itself, ``a``'s then ``b``'s
    (the order of the stepping walk), and counts the uses it sent."""
    sent_a, sent_b = _indented(_SENT_A, "    "), _indented(_SENT_B, "    ")
    call = _CALL_LEAF.replace("@SENT_A@", sent_a).replace("@SENT_B@", sent_b)

    def leaf(tag: int, pad: str) -> str:
        if not tag:
            return _indented(call, pad)
        exprs = rules[tag - 1].exprs
        body = f"{pad}g = n.grad\n" + _rulecode.bindings(exprs, pad, in_pass=True)
        if len(exprs) == 2:
            return (body + f"{pad}a.grad += {exprs[0]}\n{pad}b.grad += {exprs[1]}\n"
                    + _indented(_SENT_A + _SENT_B, pad))
        return body + f"{pad}a.grad += {exprs[0]}\n" + _indented(_SENT_A, pad)

    def tree(tags: list[int], depth: int) -> str:
        pad = "    " * depth
        if len(tags) == 1:
            return leaf(tags[0], pad)
        mid = len(tags) // 2
        return (f"{pad}if t < {tags[mid]}:\n" + tree(tags[:mid], depth + 1)
                + f"{pad}else:\n" + tree(tags[mid:], depth + 1))

    pad = "    " * 3
    common = [r.tag for r in rules if r.common]
    src = "".join(f"{pad}{'el' if i else ''}if t == {t}:\n" + leaf(t, pad + "    ")
                  for i, t in enumerate(common))
    others = [0] + [r.tag for r in rules if not r.common]
    if common:
        src += f"{pad}else:\n" + tree(others, 4)
    else:
        src += tree(others, 3)
    return _PASS_TEMPLATE.replace("@DISPATCH@\n", src)


_built_for = -1


_IN_PLACE_DOC = """The fast pass for node types whose gradients are added in place
    (floats, ``_leaf_grads_in_place``): every contribution goes straight
    into ``.grad``, leaves included, and a node's count of uses not yet sent
    lives in its ``_pending`` slot, not in a dict (faster, and a node costs
    8 bytes instead of a dict entry). Every counted node is processed, so a
    finished pass leaves every count at 0, as discovery expects; a failed
    one is cleaned up by :func:`_clear_pending`. A node whose kernel has a
    text rule runs it inlined; the others are called. A node goes on
    directly to the operand the walk would take next (the last one that
    became ready), so a chain never touches the stack and nodes are taken in
    the walk's order: gradients are summed in the same order and equal the
    walk's to the last bit."""


def _build_in_place_pass() -> None:
    """(Re)build :func:`_in_place_pass` from the registered text rules."""
    global _built_for, _in_place_pass
    rules = list(_rulecode.RULES)
    if _built_for == len(rules):
        return
    ns: dict[str, Any] = {"_discover": _discover}
    for r in rules:  # one namespace M for all (FloatMath): the pass has one set of globals
        math = getattr(r, "math", None)
        if math is not None and ns.setdefault("M", math) is not math:
            raise RuntimeError(f"text rule {r.__name__}: another math namespace than the others")
    src = _in_place_source(rules)
    name = _rulecode._where("fast pass", f"{len(rules)} text rules")
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)  # tracebacks show it
    exec(compile(src, name, "exec"), ns)  # code built from the table's rules
    _in_place_pass = ns["_in_place_pass"]
    _in_place_pass.__doc__ = _IN_PLACE_DOC
    _built_for = len(rules)


_in_place_pass: Callable[[Sequence[Any], Sequence[Any]], None]


def _clear_pending(roots: Sequence[Any]) -> None:
    """Zero the use counts a failed pass left behind."""
    seen: set = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._parents:
            node._pending = 0
            stack.extend(node._parents)


# --------------------------------------------------------------------------
# autograd.grad
# --------------------------------------------------------------------------
def _nodes_arg(x, what: str) -> tuple[list, bool]:
    one = not isinstance(x, (list, tuple))
    xs = [x] if one else list(x)
    for i, v in enumerate(xs):
        if not isinstance(v, Node):
            where = what if one else f"{what}[{i}]"
            raise TypeError(f"grad: {where} must be a Value or a Tensor, got {type(v).__name__}")
    return xs, one


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching
    any ``.grad``.

    ``outputs`` and ``inputs`` are nodes or sequences of nodes; the result
    mirrors ``inputs`` (one node, or a tuple). ``grad_outputs`` seeds each
    output (may be omitted for one-element outputs). With ``create_graph``
    the gradients are nodes of a new graph, so they can be differentiated
    again (second derivatives, Hessian-vector products). An input the
    outputs do not depend on gets a zero gradient.
    """
    outs, _ = _nodes_arg(outputs, "outputs")
    ins, one_in = _nodes_arg(inputs, "inputs")
    if not outs or not ins:
        raise ValueError("grad: outputs and inputs must not be empty")
    if grad_outputs is None:
        seeds = [o._default_seed("grad", create_graph) for o in outs]
    else:
        gos = [grad_outputs] if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
        if len(gos) != len(outs):
            raise ValueError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
        seeds = [o._coerce_seed(g, "grad", create_graph) for o, g in zip(outs, gos)]
    capture = dict.fromkeys(ins)
    with (enable_grad() if create_graph else no_grad()):
        Pass(outs, seeds, create_graph=create_graph, write_grads=False, capture=capture).run()
    res = tuple(x._grad_node(capture[x], create_graph) for x in ins)
    return res[0] if one_in else res


def warm_up(tiny_graph: Callable[[], Any], times: int = 8) -> None:
    """Run ``backward()`` on ``tiny_graph()`` a few times, on CPython 3.11.

    3.11 specialises a function's bytecode (attribute access by slot, float
    arithmetic...) only once the function has been entered a few times; 3.12
    and later do it at once. A pass is one call however big its graph, so
    in a fresh process the first three or so ``backward()`` calls would run
    the whole walk unspecialised, about twice as slow (measured on a
    200,000-node chain: 0.7 against 0.35 us per node). Value and Tensor
    call this once when imported, with a graph of a few nodes (well under a
    millisecond)."""
    if sys.version_info >= (3, 12):
        return
    with enable_grad():  # (an import inside no_grad() records nothing)
        for _ in range(times):
            tiny_graph().backward()

