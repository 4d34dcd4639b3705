"""Float rules written as code text: one text, two uses.

A row's hand-specialised rule for floats (``fast={"float": ...}``) is
declared as one Python expression per input, in the row itself::

    fast={"float": float_rule("g * b.data", "g * a.data")}   # mul

in these names: ``g`` (the node's gradient), ``n`` (the node), ``a`` and
``b`` (its first and second parents), ``k`` (its kernel; ``k.args`` holds
the constants) and ``M`` (:class:`~autograd.ops.FloatMath`). The text is
compiled twice, and nowhere else written down:

* into a plain function ``rule(n, g) -> contributions``, the kernel's
  ``vjp`` (what the stepping walk, ``grad()`` and gradient checking call);
* into the fast pass of :mod:`autograd.graph`, whose loop is generated with
  each rule's expressions inlined, so that ``backward()`` on a scalar graph
  calls no function per node (a Python call with its result tuple costs
  about as much as the arithmetic and bookkeeping of a node together).

PyTorch keeps its derivatives the same way (``derivatives.yaml``, one
formula per op, from which its autograd code is generated). Each rule has a
tag (its position here, from 1); a kernel carries its rule's tag, 0 for a
rule that is a function (array rules, structural ops, ``wsum``): the fast
pass calls those. The pass tests the rules declared ``common`` first (see
:func:`autograd.graph._in_place_source`).
"""
from __future__ import annotations

import linecache
import os
import re
from collections.abc import Callable
from typing import Any

__all__ = ["float_rule", "float_forward", "inline_forward", "RULES", "tag_of"]

#: The text rules, in tag order (a rule's ``tag`` is its index + 1).
RULES: list[Callable] = []
_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def uses(exprs: tuple[str, ...], name: str) -> bool:
    """Does any of ``exprs`` read the variable ``name``?"""
    return any(name in _NAME.findall(re.sub(r"\.[A-Za-z_][A-Za-z_0-9]*", "", e))
               for e in exprs)


def bindings(exprs: tuple[str, ...], indent: str, *, in_pass: bool = False) -> str:
    """The lines binding the parents and the kernel that ``exprs`` read
    (``n`` and ``g`` are bound already). ``in_pass``: for the fast pass,
    which needs ``a`` (and ``b``) whatever the text reads."""
    lines = []
    if len(exprs) == 2:
        lines.append("a, b = n._parents")
    elif in_pass or uses(exprs, "a"):
        lines.append("a = n._parents[0]")
    if uses(exprs, "k"):
        lines.append("k = n._op")
    return "".join(f"{indent}{ln}\n" for ln in lines)


def float_rule(*exprs: str, math: Any = None, name: str = "rule",
               common: bool = False) -> Callable:
    """The rule ``rule(n, g) -> (contribution per input)`` written as
    ``exprs``, one per input (one or two inputs), registered for the fast
    pass. ``math`` is the namespace ``M`` the text may read. ``common``: an
    op that scalar code uses all the time (``*``, ``+``, an activation); the
    fast pass tests the common rules first, in the order they are
    registered, and finds the others through a tree."""
    if len(exprs) not in (1, 2):
        raise ValueError(f"float_rule {name!r}: one or two expressions (one per input), "
                         f"got {len(exprs)}")
    for e in exprs:
        compile(e, _where("rule", name), "eval")  # a syntax error names the rule now
        if ".grad" in e:  # the pass adds a's contribution before it computes b's
            raise ValueError(f"float_rule {name!r}: {e!r} reads a gradient; a rule is "
                             f"written in g and the nodes' data")
    if uses(exprs, "b") and len(exprs) != 2:
        raise ValueError(f"float_rule {name!r}: 'b' (the second parent) in a one-input rule")
    src = (f"def {name}(n, g):\n" + bindings(exprs, "    ")
           + f"    return ({', '.join(exprs)},)\n")
    fn = _compiled(src, name, _where("rule", name), {"M": math})
    fn.exprs = exprs
    fn.math = math
    fn.common = common
    RULES.append(fn)
    fn.tag = len(RULES)
    return fn


def tag_of(rule: Callable) -> int:
    """The rule's tag in the fast pass, 0 for a rule it calls."""
    return getattr(rule, "tag", 0)


def float_forward(expr: str, *, math: Any = None, name: str = "forward") -> Callable:
    """A row's forward on floats written as ``expr``, an expression in ``x``
    (the input's data) and ``M``: compiled into the function ``f(x)``, and
    inlined into Value's method by :func:`inline_forward` (for a one-line
    forward such as relu's, the call costs more than the arithmetic)."""
    compile(expr, _where("forward", name), "eval")  # a syntax error names the op now
    fn = _compiled(f"def {name}(x):\n    return {expr}\n", name, _where("forward", name),
                   {"M": math})
    fn.expr = expr
    return fn


def inline_forward(forward: Any, record: Callable, kern: Any, name: str) -> Callable:
    """The method ``m(self) -> record(forward(self.data), kern, (self,))``,
    with ``forward``'s text (:func:`float_forward`) in place of its call."""
    src = (f"def {name}(self):\n    x = self.data\n"
           f"    return _record({forward.expr}, k, (self,))\n")
    return _compiled(src, name, _where("method", name),
                     {"M": forward.__globals__["M"], "_record": record, "k": kern})


def _where(kind: str, name: str) -> str:
    """The file name of generated code: inside this package's folder, so that
    creation sites and anomaly reports skip its frames as the engine's own
    (``.../autograd/<method relu>``); tracebacks show it with its lines."""
    return os.path.join(_HERE, f"<{kind} {name}>")


def _compiled(src: str, name: str, where: str, ns: dict[str, Any]) -> Any:
    """The function ``name`` defined by ``src`` (code made from a row's text),
    its lines registered for tracebacks."""
    linecache.cache[where] = (len(src), None, src.splitlines(True), where)
    exec(compile(src, where, "exec"), ns)
    return ns[name]
