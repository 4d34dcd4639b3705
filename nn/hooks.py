"""Hooks around module calls: how an upper layer (``viz``'s module scopes)
learns which module made which nodes without ``nn`` importing it.

A hook is ``hook(module, args, kwargs) -> output``; it must run
``module.forward(*args, **kwargs)`` itself and return its output. One hook is
active at a time (the latest registered); ``remove()`` on the returned handle
restores the previous one.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_module_call_hook", "current_module_call_hook"]

Hook = Callable[[Any, tuple, dict], Any]
_HOOKS: list[Hook] = []


class HookHandle:
    def __init__(self, hook: Hook) -> None:
        self.hook = hook

    def remove(self) -> None:
        if self.hook in _HOOKS:
            _HOOKS.remove(self.hook)


def register_module_call_hook(hook: Hook) -> HookHandle:
    """Route every ``Module.__call__`` through ``hook`` (see the module docstring)."""
    if not callable(hook):
        raise TypeError("register_module_call_hook: expected a callable, "
                        f"got {type(hook).__name__}")
    _HOOKS.append(hook)
    return HookHandle(hook)


def current_module_call_hook() -> Hook | None:
    return _HOOKS[-1] if _HOOKS else None
