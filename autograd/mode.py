"""Modes: whether results record a graph, whether anomalies are checked,
whether nodes remember the line of user code that created them.

The state lives in a :class:`contextvars.ContextVar`, so it is right in
threads (a new thread starts with the defaults, whatever a paused generator
elsewhere left open) and in asyncio tasks (each task runs in a copy of its
creator's context). Hot paths first test :data:`ACTIVE`, the set of mode
blocks currently entered anywhere; while it is empty (the common case)
every context has the defaults and the context variable is not read.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from types import FrameType
from typing import Any, NamedTuple

__all__ = ["Mode", "current", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "record_sites", "AnomalyError", "creation_site"]


class Mode(NamedTuple):
    record: bool = True     # results record a graph
    anomaly: bool = False   # nan/inf in a forward or backward pass raises AnomalyError
    sites: bool = False     # nodes remember the file:line of the user code that made them


DEFAULT = Mode()
_MODE: ContextVar[Mode] = ContextVar("gradviz_autograd_mode", default=DEFAULT)

#: Tokens of the mode blocks entered and not yet left, in any thread or task.
ACTIVE: set = set()


def current() -> Mode:
    """The calling context's mode."""
    return _MODE.get() if ACTIVE else DEFAULT


@contextlib.contextmanager
def _entered(**changes: bool) -> Iterator[None]:
    token = _MODE.set(_MODE.get()._replace(**changes))
    key = object()
    ACTIVE.add(key)
    try:
        yield
    finally:
        ACTIVE.discard(key)
        try:
            _MODE.reset(token)
        except ValueError:  # left in another context (a generator resumed elsewhere)
            pass


def no_grad():
    """Nothing computed inside records a graph (results are leaves). Per
    thread and per asyncio task; usable as a decorator."""
    return _entered(record=False)


def enable_grad():
    """Record graphs again inside a :func:`no_grad` block."""
    return _entered(record=True)


def is_grad_enabled() -> bool:
    return current().record


def detect_anomaly():
    """Raise :class:`AnomalyError` at the first nan/inf produced in a forward
    or backward pass, naming the op and the file:line of the user code that
    created the node. Slower: every node remembers where it was made."""
    return _entered(anomaly=True, sites=True)


def record_sites():
    """Every node created inside remembers the file:line of the user code
    that made it (``node.creation_site``), without anomaly checks (used by
    gradient checking to point at the line of a wrong op)."""
    return _entered(sites=True)


class AnomalyError(FloatingPointError):
    """A nan or inf appeared under :func:`detect_anomaly`."""


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_ENGINE_DIRS = (_PKG + "autograd" + os.sep, _PKG + "nn" + os.sep)


def creation_site() -> str:
    """file:line of the innermost frame outside the engine packages."""
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_ENGINE_DIRS) and "contextlib" not in fn:
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def nonfinite(x: Any) -> bool:
    """True when ``x`` (a number, an array or a node) holds a nan or inf."""
    if isinstance(x, float):
        return not math.isfinite(x)
    import numpy as np
    arr = getattr(x, "data", x)
    try:
        return not bool(np.isfinite(arr).all())
    except TypeError:
        return False


def _describe(node: Any) -> str:
    d = node.data
    if isinstance(d, float):
        s = f"{d:.6g}"
    elif getattr(d, "size", 0) == 1:  # one number: the number itself
        s = f"{float(d.reshape(-1)[0]):.6g} (shape {d.shape})"
    else:
        shape = getattr(d, "shape", None)
        s = f"an array of shape {shape}" if shape is not None else repr(d)
    who = repr(node.label) if node.label else (
        f"the output of {node._op.name!r}" if node._parents else "an unlabelled leaf")
    return f"{who} = {s}"


def finish_node(node: Any, mode: Mode) -> None:
    """What a non-default mode adds to a freshly recorded node: its creation
    site, and under anomaly mode the check of its value."""
    if mode.sites:
        node._site = creation_site()
    if mode.anomaly and nonfinite(node.data):
        parents = node._parents
        if not any(nonfinite(p.data) for p in parents):  # the op made it, not its inputs
            raise AnomalyError(
                f"{node._op.name!r} produced a non-finite value in the forward pass "
                f"(node created at {getattr(node, '_site', '<unknown>')}); inputs: "
                + ", ".join(_describe(p) for p in parents))


def check_backward(node: Any, g: Any, contributions: tuple) -> None:
    """Anomaly mode: a non-finite gradient made by ``node``'s rule."""
    for c in contributions:
        if c is not None and nonfinite(c):
            raise AnomalyError(
                f"{node._op.name!r} produced a non-finite gradient in the backward pass "
                f"(node created at {getattr(node, '_site', '<unknown>')}); "
                f"upstream gradient {g!r}")
