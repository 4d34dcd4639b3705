"""The graph walker: one backward pass for Value and Tensor graphs.

Nodes (Value, Tensor) share a protocol: ``data``, ``grad``, ``label``, ``op``,
``parents`` and, internally, ``_op`` (the node's kernel: the table entry plus
its front end's fast backward) and ``_parents`` (an ordered tuple; a node used
twice appears twice).

The pass is Kahn's algorithm run from the output: count, for every node, how
many times it is used inside the graph; a node is ready once every use has sent
its contribution, so its gradient is complete when it is processed. No
recursion anywhere, so a chain of a million nodes is fine. The walk is a
generator of :class:`Step` records; ``backward()`` runs it to the end without
asking for steps, so the step-through and the real pass are the same code.

Grad semantics: leaves accumulate into ``.grad`` across calls (until zeroed);
an intermediate node's ``.grad`` is set to its gradient from the latest pass.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from threading import get_ident
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "AnomalyError",
           "Step", "walk", "topological_order"]


# --------------------------------------------------------------------------
# Modes (thread-local): recording on/off, anomaly checks on/off
# --------------------------------------------------------------------------
#: Threads whose mode differs from the default (recording on, anomaly checks
#: off), by thread ident -> (record, anomaly). Empty in the common case, so
#: the hot path tests one global: ``if not SPECIAL_THREADS``.
SPECIAL_THREADS: dict[int, tuple[bool, bool]] = {}
_DEFAULT = (True, False)


class _Mode:
    """Read-only view of the calling thread's mode."""

    @property
    def record(self) -> bool:
        return SPECIAL_THREADS.get(get_ident(), _DEFAULT)[0] if SPECIAL_THREADS else True

    @property
    def anomaly(self) -> bool:
        return SPECIAL_THREADS.get(get_ident(), _DEFAULT)[1] if SPECIAL_THREADS else False

    @property
    def fast(self) -> bool:
        """Recording with no anomaly checks."""
        return not SPECIAL_THREADS or SPECIAL_THREADS.get(get_ident(), _DEFAULT) == _DEFAULT

    @staticmethod
    def set(record: bool, anomaly: bool) -> None:
        ident = get_ident()
        if (record, anomaly) == _DEFAULT:
            SPECIAL_THREADS.pop(ident, None)
        else:
            SPECIAL_THREADS[ident] = (record, anomaly)


MODE = _Mode()


def is_grad_enabled() -> bool:
    return MODE.record


@contextlib.contextmanager
def no_grad():
    """Nothing computed inside records a graph (results are leaves). Thread-local."""
    prev = MODE.record
    MODE.set(False, MODE.anomaly)
    try:
        yield
    finally:
        MODE.set(prev, MODE.anomaly)


@contextlib.contextmanager
def enable_grad():
    """Record graphs again inside a :func:`no_grad` block."""
    prev = MODE.record
    MODE.set(True, MODE.anomaly)
    try:
        yield
    finally:
        MODE.set(prev, MODE.anomaly)


class AnomalyError(FloatingPointError):
    """A nan or inf appeared under :func:`detect_anomaly`."""


@contextlib.contextmanager
def detect_anomaly():
    """Raise :class:`AnomalyError` at the first nan/inf produced in a forward
    or backward pass, naming the op and the file:line of the user code that
    created the node. Slower: every node remembers where it was made."""
    prev = MODE.anomaly
    MODE.set(MODE.record, True)
    try:
        yield
    finally:
        MODE.set(MODE.record, prev)


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_ENGINE_DIRS = (_ROOT + "autograd" + os.sep, _ROOT + "nn" + os.sep)


def creation_site() -> str:
    """file:line of the innermost frame outside the engine packages."""
    inner = _ENGINE_DIRS
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(inner) and "contextlib" not in fn:
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def _nonfinite(x: Any) -> bool:
    if isinstance(x, float):
        return not math.isfinite(x)
    try:
        import numpy as np
        arr = getattr(x, "data", x)
        return not bool(np.isfinite(arr).all())
    except TypeError:
        return False


def check_forward(node) -> None:
    """Called for new nodes in anomaly mode."""
    if node._parents and _nonfinite(node.data):
        bad = [p for p in node._parents if _nonfinite(p.data)]
        if not bad:  # the op itself produced it, not its inputs
            raise AnomalyError(
                f"{node._op.name!r} produced a non-finite value in the forward pass "
                f"(node created at {getattr(node, '_site', '<unknown>')}); inputs: "
                + ", ".join(_describe(p) for p in node._parents))


def _describe(node) -> str:
    d = node.data
    s = f"{d:.6g}" if isinstance(d, float) else f"array{getattr(d, 'shape', '')}"
    return f"{node.label or 'node'}={s}"


# --------------------------------------------------------------------------
# The node protocol
# --------------------------------------------------------------------------
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
      None.

    Internally a node holds ``_op`` (its kernel, None for a leaf) and
    ``_parents`` (a tuple)."""

    __slots__ = ()

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
    def op_info(self) -> "OpInfo | None":
        k = self._op
        if k is None:
            return None
        op = k.op
        return OpInfo(op.name, op.key, op.symbol, _rule_texts(op, len(self._parents)),
                      dict(k.params), op.deriv is not None, op.doc)

    def local_derivatives(self) -> "tuple | None":
        k = self._op
        if k is None or k.op.deriv is None:
            return None
        return tuple(k.local_derivs(self))

    def op_forward(self, *datas):
        k = self._op
        if k is None:
            raise ValueError("op_forward: a leaf has no op")
        from .ops import AM, FM
        op = k.op
        if op.deriv is not None:
            M = FM if isinstance(self.data, float) else AM
            return op.forward(M, *datas, *k.params.values())
        return op.forward(AM, *datas, **k.params)

    def vjp(self, g) -> tuple:
        k = self._op
        if k is None:
            raise ValueError("vjp: a leaf has no op")
        return tuple(k.backward(self, g))

    @property
    def creation_site(self) -> "str | None":
        return getattr(self, "_site", None)

    @property
    def scope(self) -> "list | None":
        return getattr(self, "_scope", None)

    @scope.setter
    def scope(self, records: "list | None") -> None:
        self._scope = records


# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One node pushing its gradient to its parents.

    ``contributions`` holds ``(parent, local_derivative, contribution)`` per
    parent, in operand order; ``contribution = grad * local_derivative``
    (for tensor ops without an elementwise local derivative,
    ``local_derivative`` is None). ``totals`` holds, per contribution, the
    parent's running gradient in this pass right after that contribution was
    added (a parent used twice, as in ``x * x``, shows both partial sums).
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


_KEEP = object()


def count_uses(roots, reset: Any = _KEEP) -> dict:
    """{node: number of uses inside the graph} for everything reachable from
    ``roots``. With ``reset``, every non-leaf node's ``grad`` is set to it on
    discovery (the backward passes that sum into the ``grad`` slots)."""
    resetting = reset is not _KEEP
    uses: dict = {}
    stack = []
    for r in roots:
        if r not in uses:
            uses[r] = 0
            if resetting and r._parents:
                r.grad = reset
            stack.append(r)
    pop, push, get = stack.pop, stack.append, uses.get
    while stack:
        for p in pop()._parents:
            n = get(p)
            if n is None:
                uses[p] = 1
                if resetting and p._parents:
                    p.grad = reset
                push(p)
            else:
                uses[p] = n + 1
    return uses


def walk(roots: Sequence[Any], seeds: Sequence[Any], *, steps: bool = False,
         create_graph: bool = False, write_grads: bool = True,
         capture: dict | None = None) -> Iterator[Step]:
    """The backward pass from ``roots`` seeded with ``seeds`` (same length).

    ``write_grads``: leaves accumulate into ``.grad``, other nodes get their
    gradient of this pass in ``.grad``. ``capture``: a dict whose keys are
    nodes; their complete gradients of this pass are stored in it.
    ``create_graph``: gradients are nodes (differentiable again).
    ``steps``: yield a :class:`Step` per non-leaf node; otherwise the
    generator finishes on its first ``next`` with nothing to yield.
    """
    anomaly = MODE.anomaly
    if write_grads and not (steps or create_graph or anomaly or capture is not None):
        _plain_pass(roots, seeds)
        return
    uses = count_uses(roots)
    acc: dict = {}
    ready = []
    for r, s in zip(roots, seeds):
        acc[r] = acc[r] + s if r in acc else s
    for r in roots:
        if uses[r] == 0 and r not in ready:
            ready.append(r)
    index = 0
    pop = ready.pop
    push = ready.append
    while ready:
        node = pop()
        g = acc.pop(node)
        parents = node._parents
        if capture is not None and node in capture:
            capture[node] = g
        if not parents:  # a leaf
            if write_grads:
                node._accumulate_grad(g)
            continue
        if write_grads:
            node._set_grad(g)
        kernel = node._op
        if create_graph:
            contribs, locs = kernel.backward_nodes(node, g)
        elif steps:
            contribs, locs = kernel.backward_steps(node, g)
        else:
            contribs = kernel.backward(node, g)
        if anomaly:
            for c in contribs:
                if c is not None and _nonfinite(c):
                    raise AnomalyError(
                        f"{kernel.name!r} produced a non-finite gradient in the backward pass "
                        f"(node created at {getattr(node, '_site', '<unknown>')}); "
                        f"upstream gradient {g!r}")
        running = [] if steps else None
        i = 0
        for p in parents:
            c = contribs[i]
            i += 1
            if c is not None:
                prev = acc.get(p)
                acc[p] = c if prev is None else prev + c
            elif p not in acc:
                acc[p] = None
            if steps:
                running.append(acc[p])
            n = uses[p] - 1
            uses[p] = n
            if n == 0:
                if acc[p] is None:  # no contribution at all (e.g. an integer index)
                    del acc[p]
                    continue
                push(p)
        if steps:
            yield Step(index, node, g, tuple(zip(parents, locs, contribs)), tuple(running))
            index += 1


def _plain_pass(roots, seeds) -> None:
    """The walk specialised for ``backward()`` (no steps, no capture, no
    anomaly checks, plain numbers): the same algorithm (Kahn's, from the
    output) with the per-node branches hoisted out, and the gradients of
    intermediate nodes summed straight in their ``grad`` slot (reset to None
    when the graph is discovered) instead of a dict. Leaves' totals are
    handed to ``_accumulate_grad`` once complete. Tests check it against the
    stepping loop and grad()."""
    uses = count_uses(roots, reset=None)
    leaf_acc: dict = {}
    for r, s in zip(roots, seeds):
        if r._parents:
            r.grad = s if r.grad is None else r.grad + s
        else:
            leaf_acc[r] = leaf_acc[r] + s if r in leaf_acc else s
    ready = [r for r in dict.fromkeys(roots) if uses[r] == 0]
    pop, push = ready.pop, ready.append
    leaf_pop, leaf_get = leaf_acc.pop, leaf_acc.get
    while ready:
        node = pop()
        parents = node._parents
        if not parents:
            g = leaf_pop(node, None)
            if g is not None:
                node._accumulate_grad(g)
            continue
        g = node.grad
        if g is None:  # nothing flows here (e.g. only integer-index uses)
            for p in parents:
                n = uses[p] - 1
                uses[p] = n
                if n == 0:
                    push(p)
            continue
        cs = node._op.backward(node, g)
        i = 0
        for p in parents:
            c = cs[i]
            i += 1
            if c is not None:
                if p._parents:
                    prev = p.grad
                    p.grad = c if prev is None else prev + c
                else:
                    prev = leaf_get(p)
                    leaf_acc[p] = c if prev is None else prev + c
            n = uses[p] - 1
            uses[p] = n
            if n == 0:
                push(p)
        c = cs = prev = g = None  # hold no gradient array: a leaf may take ownership of it


# --------------------------------------------------------------------------
# autograd.grad
# --------------------------------------------------------------------------
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
    one_in = not isinstance(inputs, (list, tuple))
    outs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
    ins = [inputs] if one_in else list(inputs)
    if not outs or not ins:
        raise ValueError("grad: outputs and inputs must not be empty")
    if grad_outputs is None:
        seeds = [o._default_seed("grad", create_graph) for o in outs]
    else:
        gos = [grad_outputs] if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
        if len(gos) != len(outs):
            raise ValueError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
        seeds = [o._coerce_seed(g, "grad", create_graph) for o, g in zip(outs, gos)]
    capture = {x: None for x in ins}
    if create_graph:
        with enable_grad():
            for _ in walk(outs, seeds, create_graph=True, write_grads=False, capture=capture):
                pass  # pragma: no cover
    else:
        with no_grad():
            for _ in walk(outs, seeds, write_grads=False, capture=capture):
                pass  # pragma: no cover
    res = tuple(x._grad_node(capture[x], create_graph) for x in ins)
    return res[0] if one_in else res
