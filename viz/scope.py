"""Which module made which node: the record behind ``draw(collapse="module")``.

nn's ``Module.__call__`` hands the call to :func:`module_call`::

    def __call__(self, *args, **kwargs):
        return viz.scope.module_call(self, args, kwargs)

which runs ``forward`` inside a scope named after the module and, when it
returns, remembers ``(scope path, module, input nodes)`` on the output nodes
(a :class:`weakref.WeakKeyDictionary`, so nothing outlives the graph). Nothing
is tagged per node at build time; :func:`assign` works out membership when a
diagram is drawn: from each call's outputs back through parents, stopping at
the call's inputs, innermost calls first. Code that is not an ``nn.Module``
can name a region with ``with viz.scope("encoder"): ...`` (then the nodes it
creates that the block's outputs depend on are grouped only if it calls
:func:`mark` on its outputs).

The cost per module call is a thread-local push/pop and one dict entry per
output; set ``viz.scope.ENABLED = False`` to skip even that.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from typing import Any, Iterable

__all__ = ["module_call", "scope", "mark", "assign", "ENABLED", "Record"]

ENABLED = True
_local = threading.local()
_seq = itertools.count()
#: output node -> list of Record (one per call that returned it)
_RECORDS: "weakref.WeakKeyDictionary[Any, list]" = weakref.WeakKeyDictionary()


class Record:
    __slots__ = ("seq", "path", "module", "inputs")

    def __init__(self, path: tuple, module: Any, inputs: tuple):
        self.seq = next(_seq)
        self.path = path
        self.module = module
        self.inputs = inputs


def _stack() -> list:
    st = getattr(_local, "stack", None)
    if st is None:
        st = _local.stack = []
    return st


def _is_node(x: Any) -> bool:
    return hasattr(x, "_parents") and hasattr(x, "data")


def _nodes(obj: Any) -> list:
    """Nodes in an argument or a result: a node, or a (nested) list/tuple/dict of them."""
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
    name = getattr(module, "name", "")
    if isinstance(name, str) and name:
        return name.rsplit(".", 1)[-1] if "." in name else name
    if parent is not None:
        name = _child_name(parent, module)
        if name:
            return name
    return type(module).__name__


def module_call(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module.forward(*args, **kwargs)`` recorded as one scope (for nn.Module.__call__)."""
    if not ENABLED:
        return module.forward(*args, **kwargs)
    st = _stack()
    parent = st[-1] if st else None
    path = (parent[0] if parent else ()) + (_name_of(module, parent[1] if parent else None),)
    st.append((path, module))
    try:
        out = module.forward(*args, **kwargs)
    finally:
        st.pop()
    _remember(out, path, module, args, kwargs)
    return out


def _remember(out, path, module, args, kwargs) -> None:
    outs = _nodes(out)
    if not outs:
        return
    rec = Record(path, module, tuple(_nodes(args) + _nodes(kwargs)))
    for o in outs:
        try:
            _RECORDS.setdefault(o, []).append(rec)
        except TypeError:  # not weak-referenceable
            pass


@contextlib.contextmanager
def scope(name: str):
    """Name a region of code; call :func:`mark` on its results (inside the
    block) to group the nodes they were computed from under ``name``."""
    st = _stack()
    path = (st[-1][0] if st else ()) + (str(name),)
    st.append((path, None))
    try:
        yield path
    finally:
        st.pop()


def mark(outputs: Any, inputs: Any = ()) -> None:
    """Record ``outputs`` as produced by the current :func:`scope` from ``inputs``."""
    st = _stack()
    if not st:
        raise RuntimeError("viz.scope.mark: called outside a `with viz.scope(name):` block")
    path = st[-1][0]
    _remember(outputs, path, None, inputs, {})


def assign(order: list) -> tuple[dict, dict]:
    """Scope membership for the nodes of a graph (``order``: topological).

    Returns ``(paths, modules)``: ``paths`` maps id(node) -> scope path
    (tuple of names; nodes made outside every module are absent);
    ``modules`` maps each path to its module (or None).
    """
    records = []
    for node in order:
        recs = _RECORDS.get(node)
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
            todo.extend(n._parents)
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
