"""Which module made which node: the record behind ``draw(collapse="module")``.

Importing this module registers :func:`module_call` as ``nn``'s module-call
hook (``nn.hooks.register_module_call_hook``: ``nn`` does not import ``viz``),
so every ``Module.__call__`` comes here. It runs ``forward`` inside a scope named after
the module and, when it returns, remembers ``(scope path, module, arguments)`` on the output nodes
(in their public ``scope`` attribute; other node types in a
:class:`weakref.WeakKeyDictionary`), so nothing outlives the graph. Nothing
is tagged per node at build time; :func:`assign` works out membership when a
diagram is drawn: from each call's outputs back through parents, stopping at
the call's inputs, innermost calls first. Code that is not an ``nn.Module``
can name a region with ``with viz.scope("encoder"): ...`` (then the nodes it
creates that the block's outputs depend on are grouped only if it calls
:func:`mark` on its outputs).

The cost per module call is a thread-local push/pop and one list entry per
output; set ``viz.scope.ENABLED = False`` to skip even that. An output that is
one of the call's inputs (``nn.Identity``, any pass-through) gets no record.
An outermost call's record holds its module (the model) so that names and
parameters survive a model the user did not keep; inner records hold theirs
weakly (see :class:`Record` for the reference-cycle trade-off: graphs are freed
by reference counting unless a module stores its own output). A node keeps at most
:data:`MAX_RECORDS_PER_NODE` records, one per module that returned it.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from ..autograd.graph import Node

__all__ = ["module_call", "scope", "mark", "assign", "ENABLED", "Record", "MAX_RECORDS_PER_NODE"]

ENABLED = True
_local = threading.local()
_seq = itertools.count()
#: output node -> list of Record (one per call that returned it)
_RECORDS: weakref.WeakKeyDictionary[Any, list] = weakref.WeakKeyDictionary()


class Record:
    """One module call (or named scope): the enclosing call's record, the
    module, and its arguments. The scope path and the nodes among the
    arguments are worked out when a diagram is drawn, not at call time, so a
    call costs a few attribute stores.

    The module is held weakly, except by the record of an outermost call
    (one made outside every other module call): that record also holds it
    in ``_keep``. The outermost module reaches every submodule, so the
    diagram's names (``MLP.L1.n1``), module classes and parameter colours are
    the same whether or not the user kept the model (a helper that builds a
    network and returns only the loss frees it). The trade-off: the graph now
    keeps the model alive, and a module that stores its own output makes a
    reference cycle node -> record -> module -> node, which only the cycle
    collector frees (a call that returns a leaf, such as its own parameter,
    would make one too: it holds its module weakly only). In the common case
    (a model that keeps parameters, not outputs) there is no cycle and the
    graph, then the model, are freed by reference counting when the last
    output goes. Inner calls hold their module weakly
    only (a submodule kept after its model is gone and then freed: its class
    name stands in for its name)."""

    __slots__ = ("seq", "parent", "_module", "_keep", "cls", "args", "kwargs", "name",
                 "_path")
    seq: int
    parent: Record | None
    _module: Any            # a weak reference to the module, or the module itself
    _keep: Any              # the module, held strongly by an outermost call's record; else None
    cls: type
    args: tuple
    kwargs: dict
    name: str | None
    _path: tuple | None

    @property
    def module(self) -> Any:
        """The module (None for a named scope, or once the module is gone)."""
        m = self._module
        return m() if type(m) is weakref.ref else m

    @property
    def path(self) -> tuple:
        """The names from the outermost call down to this one (cached)."""
        if self._path is not None:
            return self._path
        chain: list[Record] = []
        r: Record | None = self
        while r is not None and r._path is None:
            chain.append(r)
            r = r.parent
        path: tuple = r._path if r is not None and r._path is not None else ()
        for rec in reversed(chain):  # ends with self
            if rec.name is not None:
                name = rec.name
            else:
                m = rec.module
                if m is None:  # gone: its class
                    name = rec.cls.__name__
                else:
                    parent_module = rec.parent.module if rec.parent is not None else None
                    name = _name_of(m, parent_module)
            path = path + (name,)
            rec._path = path
        return path

    @property
    def inputs(self) -> list:
        return _nodes(self.args) + _nodes(self.kwargs)


def _stack() -> list:
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


def _is_node(x: Any) -> bool:
    return isinstance(x, Node) or (hasattr(x, "parents") and hasattr(x, "data"))


def _nodes(obj: Any) -> list:
    """Nodes in an argument or a result: a node, or a (nested) list/tuple/dict of them."""
    t = type(obj)
    if t is list or t is tuple:  # a flat list of nodes (a layer's outputs): one pass
        flat = [x for x in obj if isinstance(x, Node)]
        if len(flat) == len(obj):
            return flat
    out, todo = [], [obj]
    while todo:
        x = todo.pop()
        if _is_node(x):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
    return out


def _child_name(parent: Any, child: Any) -> str:
    names = getattr(parent, "named_children", None)
    if names is not None:
        for name, m in names():
            if m is child:
                return name
    return ""


def _name_of(module: Any, parent: Any) -> str:
    """The module's name in its parent (its ``name``, its attribute name, or its class)."""
    name = getattr(module, "name", "")
    if isinstance(name, str) and name:
        return name.rsplit(".", 1)[-1] if "." in name else name
    if parent is not None:
        name = _child_name(parent, module)
        if name:
            return name
    return type(module).__name__


def module_call(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module.forward(*args, **kwargs)`` recorded as one scope (for nn.Module.__call__).

    Every module call of every model pays for this while ``viz`` is imported,
    so the common case is kept to a few stores: the record is filled by
    :func:`_record` (no ``__init__`` call), and a result that no call has returned yet
    (one this call computed) gets its first record without the searches a
    node handed back from the arguments needs."""
    if not ENABLED:
        return module.forward(*args, **kwargs)
    try:
        st = _local.stack
    except AttributeError:
        st = _local.stack = []
    rec = _record(0, st[-1] if st else None, module, args, kwargs)
    st.append(rec)
    try:
        out = module.forward(*args, **kwargs)
    finally:
        st.pop()
    rec.seq = next(_seq)  # after the inner calls: innermost calls are assigned first
    if isinstance(out, Node):  # one node: the common case
        recs = out.scope
        if recs is None and not out.is_leaf:
            # a result no call has returned: this call computed it, unless it came
            # straight in as an argument (items of list arguments are then results
            # of code outside any module, recorded here as the original did)
            for a in args:
                if a is out:
                    return out
            if not kwargs or all(a is not out for a in kwargs.values()):
                out.scope = [rec]
        elif not _passed_through(out, args, kwargs):
            if out.is_leaf:  # a parameter it returns: holding the module would close a cycle
                rec._keep = None
            _attach(out, rec, recs)
    else:
        given = None
        for o in _nodes(out):
            if rec._keep is not None and getattr(o, "is_leaf", False):
                rec._keep = None  # (as above)
            recs = getattr(o, "scope", None) if not isinstance(o, Node) else o.scope
            if recs is None or recs[-1].parent is not rec:
                # not returned by a call inside this one (as a layer's outputs, each
                # from its neuron, are): it may be one of the arguments, passed through
                if given is None:
                    given = _input_ids(args, kwargs)
                if id(o) in given:
                    continue
            _attach(o, rec, recs)
    return out


def _record(seq: int, parent: Record | None, module: Any, args: tuple, kwargs: dict,
            name: str | None = None, path: tuple | None = None) -> Record:
    """The one way a :class:`Record` is made (its slots filled in place: a
    Python ``__init__`` would cost every module call a second frame)."""
    rec = _new(Record)
    rec.seq = seq
    rec.parent = parent
    rec.cls = type(module)
    keep = module
    if module is not None:
        try:
            module = _weak(module)
        except TypeError:  # not weak-referenceable: held as it is
            pass
    rec._module = module
    # an outermost module call holds its module (see Record): parent None, or a named scope
    rec._keep = keep if parent is None or parent._module is None else None
    rec.args = args
    rec.kwargs = kwargs
    rec.name = name
    rec._path = path
    return rec


_new = object.__new__
_weak = weakref.ref


#: At most this many records are kept on one node (the newest): a node returned by
#: many calls (a parameter a module hands out every step) does not grow without limit.
MAX_RECORDS_PER_NODE = 16


def _attach(o: Any, rec: Record, recs: list | None) -> None:
    """Add ``rec`` to the records ``recs`` of output ``o`` (its ``scope``,
    read by the caller; None: none yet). The caller has checked that ``o``
    did not come straight from the arguments: an output passed through, as
    nn.Identity does, is not recorded, since the call made nothing of it and
    the record would hold the node that holds it, one more per call."""
    if recs is None:
        try:
            o.scope = [rec]
            return
        except AttributeError:
            pass
        # another node type: a weak side table
        try:
            recs = _RECORDS.setdefault(o, [])
        except TypeError:  # not weak-referenceable
            return
    module = rec._module  # the module's weak reference: one per module, so `is` compares
    if module is not None:  # the same module returning the same node again: the newer call
        for i, r in enumerate(recs):
            if r._module is module:
                del recs[i]
                break
    recs.append(rec)
    if len(recs) > MAX_RECORDS_PER_NODE:
        del recs[0]


def _remember(out, path, module, args, kwargs) -> None:
    rec = _record(next(_seq), None, module, args, kwargs, path=path)
    given = _input_ids(args, kwargs)
    for o in ((out,) if getattr(out, "parents", None) is not None else _nodes(out)):
        if id(o) not in given:
            _attach(o, rec, getattr(o, "scope", None))


def _input_ids(args: Any, kwargs: Any) -> set:
    ids: set[int] = set()
    for a in args:
        t = type(a)
        if t is list or t is tuple:
            for b in a:
                tb = type(b)
                if tb is list or tb is tuple or tb is dict:
                    ids.update(map(id, _nodes(b)))
                else:
                    ids.add(id(b))
        elif t is dict:
            ids.update(map(id, _nodes(a)))
        else:
            ids.add(id(a))
    if kwargs:
        ids.update(map(id, _nodes(kwargs)))
    return ids


def _passed_through(o: Any, args: tuple, kwargs: dict) -> bool:
    """Is ``o`` one of the arguments (or inside a list/tuple/dict argument)?"""
    for a in args:
        if a is o:
            return True
        t = type(a)
        if t is list or t is tuple:
            for b in a:
                if b is o:
                    return True
                tb = type(b)
                if (tb is list or tb is tuple or tb is dict) and any(n is o for n in _nodes(b)):
                    return True
        elif t is dict and any(n is o for n in _nodes(a)):
            return True
    return bool(kwargs) and any(n is o for n in _nodes(kwargs))


@contextlib.contextmanager
def scope(name: str):
    """Name a region of code; call :func:`mark` on its results (inside the
    block) to group the nodes they were computed from under ``name``."""
    st = _stack()
    rec = _record(0, st[-1] if st else None, None, (), {}, name=str(name))
    st.append(rec)
    try:
        yield rec.path
    finally:
        st.pop()


def mark(outputs: Any, inputs: Any = ()) -> None:
    """Record ``outputs`` as produced by the current :func:`scope` from ``inputs``."""
    st = _stack()
    if not st:
        raise RuntimeError("viz.scope.mark: called outside a `with viz.scope(name):` block")
    _remember(outputs, st[-1].path, None, inputs, {})


def assign(order: list) -> tuple[dict, dict]:
    """Scope membership for the nodes of a graph (``order``: topological).

    Returns ``(paths, modules)``: ``paths`` maps id(node) -> scope path
    (tuple of names; nodes made outside every module are absent);
    ``modules`` maps each path to its module (or None).
    """
    records: list[tuple[Record, Any]] = []
    for node in order:
        recs = getattr(node, "scope", None) or _RECORDS.get(node)
        if recs:
            records.extend((r, node) for r in recs)
    paths: dict[int, tuple] = {}
    modules: dict[tuple, Any] = {}
    if not records:
        return paths, modules
    in_graph = {id(n) for n in order}
    records.sort(key=lambda rn: rn[0].seq)
    by_seq: dict[int, tuple] = {}
    for rec, out in records:  # a call with several outputs: one walk
        entry = by_seq.setdefault(rec.seq, (rec, []))
        entry[1].append(out)
    for seq in sorted(by_seq):
        rec, outs = by_seq[seq]
        modules.setdefault(rec.path, rec.module)
        stop = {id(x) for x in rec.inputs}
        todo = [o for o in outs if id(o) not in paths]
        while todo:
            n = todo.pop()
            i = id(n)
            if i in paths or i in stop or i not in in_graph:
                continue
            paths[i] = rec.path
            todo.extend(n.parents)
    return paths, modules


def parameters_of(modules: Iterable[Any]) -> set:
    """ids of the parameters of the given modules (those with ``parameters()``)."""
    ids: set[int] = set()
    for m in modules:
        ps = getattr(m, "parameters", None)
        if ps is not None:
            try:
                ids.update(id(p) for p in ps())
            except Exception:  # a module whose traversal fails is drawn without colours
                pass
    return ids


def _register() -> None:
    from ..nn.hooks import register_module_call_hook
    register_module_call_hook(module_call)


_register()
