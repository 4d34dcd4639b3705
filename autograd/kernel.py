"""Kernels: a row of the op table bound to an engine and to constant
parameters. A node holds its kernel; the walker, ``grad(create_graph=True)``,
the step-through, gradient checking and (through the node protocol) ``viz``
all use this one interface:

* ``forward(*datas)`` -- the op's value on plain data;
* ``local_derivatives(node)`` -- d(node)/d(parent) per parent (elementwise
  ops), else None;
* ``vjp(node, g)`` -- the contribution ``g · d(node)/d(parent)`` per parent,
  reduced to the parent's shape (None for a parent that needs no gradient):
  the row's hand-specialised rule for this engine when it declares one,
  else the generic rule;
* ``vjp_steps(node, g)`` -- ``(contributions, local derivatives)``, for the
  step-through;
* ``vjp_graph(node, g)`` -- the contributions as nodes of a new graph
  (``create_graph=True``), computed by the same row run on :class:`NodeMath`.

An :class:`Engine` says how an engine's data behaves: its math namespace,
how a contribution is reduced to a parent (arrays: broadcasting and dtype;
floats: nothing) and which parents want a gradient.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .ops import ONE, OPS, ArrayMath, FloatMath, NodeMath, Op, unbroadcast
from .rulecode import float_rule, tag_of

__all__ = ["Engine", "FLOAT", "ARRAY", "Kernel", "kernel", "ConstKernels", "check_grad_shape"]


class Engine:
    """How one kind of node data behaves (``FLOAT`` for Value, ``ARRAY`` for Tensor)."""

    def __init__(self, name: str, math: Any, graph_math: Any,
                 reduce: Callable[[Any, Any], Any], reduce_node: Callable[[Any, Any], Any],
                 wants: Callable[[Any], bool]):
        self.name = name
        self.math = math                # elementwise rules on plain data
        self.graph_math = graph_math    # the same rules on nodes (create_graph)
        self.struct_math = math         # vjp rules on plain data (arrays: set by tensor_ops)
        self.struct_graph_math = graph_math
        self.reduce = reduce            # contribution -> parent's shape and dtype
        self.reduce_node = reduce_node  # the same for node contributions
        self.wants = wants              # does this parent want a gradient?

    def __repr__(self) -> str:
        return f"Engine({self.name!r})"


def _same(c, parent):
    return c


def _always(parent) -> bool:
    return True


def _requires_grad(parent) -> bool:
    return parent.requires_grad


def _float_node(c, parent):
    return c if hasattr(c, "_parents") else parent._constant(float(c))


def _array_node(c, parent):
    """A create-graph contribution (a Tensor or a number) as a Tensor of the
    parent's shape."""
    import numpy as np
    shape = parent.data.shape
    if not hasattr(c, "_parents"):
        return parent._constant(np.broadcast_to(np.asarray(c, parent.data.dtype), shape))
    if c.shape != shape:
        from .ops import sum_to_shape
        c = sum_to_shape(c, shape)
    return c


FLOAT = Engine("float", FloatMath, NodeMath, _same, _float_node, _always)
ARRAY = Engine("array", ArrayMath, NodeMath, unbroadcast, _array_node, _requires_grad)


class Kernel:
    """A row of the table bound to an engine and constant parameters. The
    row's rules are read from it on every call, so a row changed in place
    (a test planting a bug) is seen by every kernel built from it."""

    __slots__ = ("op", "name", "params", "args", "engine", "vjp", "tag")

    def __init__(self, op: Op, engine: Engine, params: dict | None = None):
        self.op = op
        self.name = op.name
        self.engine = engine
        self.params = dict(params) if params else {}
        self.args = tuple(self.params.values())
        fast = op.fast.get(engine.name) if op.fast else None
        if fast is not None:
            self.vjp = fast
        elif op.deriv is not None:
            self.vjp = (_float_rule(op, len(self.args)) or self._float_vjp) if engine is FLOAT \
                else (_array_rule(op, len(self.args)) or self._elementwise_vjp)
        else:
            self.vjp = self._structural_vjp
        self.tag = tag_of(self.vjp)  # the fast pass inlines a text rule (autograd.rulecode)

    # --- values ---------------------------------------------------------------
    def forward(self, *datas):
        """The op on plain data (floats or arrays), with this kernel's constants."""
        if self.op.deriv is not None:
            return self.op.forward(self.engine.math, *datas, *self.args)
        return self.op.forward(self.engine.struct_math, *datas, **self.params)

    def local_derivatives(self, node) -> tuple | None:
        if self.op.deriv is None:
            return None
        return tuple(self.op.deriv(self.engine.math, node.data,
                                   *[p.data for p in node._parents], *self.args))

    # --- the generic rules ----------------------------------------------------
    def _elementwise_vjp(self, node, g) -> tuple:
        eng = self.engine
        ps = node._parents
        locs = self.op.deriv(eng.math, node.data,  # type: ignore[misc]  # elementwise rows only
                             *[p.data for p in ps], *self.args)
        reduce, wants = eng.reduce, eng.wants
        return tuple([(reduce(_scaled(self.op, i, g, d), p) if wants(p) else None)
                      for i, (p, d) in enumerate(zip(ps, locs))])

    def _float_vjp(self, node, g) -> tuple:
        """The elementwise rule on floats (nothing to reduce, every parent wants it)."""
        return tuple([g if d is ONE else g * d
                      for d in self.op.deriv(FloatMath, node.data,  # type: ignore[misc]
                                             *[p.data for p in node._parents], *self.args)])

    def _structural_vjp(self, node, g) -> tuple:
        eng = self.engine
        ps = node._parents
        cs = self.op.vjp(eng.struct_math, g, node.data,  # type: ignore[misc]  # vjp rows only
                         *[p.data for p in ps], **self.params)
        _check_count(self.op, cs, len(ps))
        if self.op.user:  # (the built-in rows' shapes are tested, table-driven)
            if eng is ARRAY:  # the input's shape, or the output's (then summed back)
                for i, (c, p) in enumerate(zip(cs, ps)):
                    if c is not None:
                        check_grad_shape(f"op {self.op.key!r}: its vjp rule", i, c, p.data,
                                         node.data)
            else:  # floats: numbers
                _check_shapes(self.op, cs, ps, "vjp")
        reduce, wants = eng.reduce, eng.wants
        return tuple([(reduce(c, p) if wants(p) and c is not None else None)
                      for p, c in zip(ps, cs)])

    def vjp_steps(self, node, g) -> tuple[tuple, tuple]:
        """(contributions, local derivatives or Nones), for the step-through."""
        locs = self.local_derivatives(node)
        if locs is None:
            return self.vjp(node, g), (None,) * len(node._parents)
        eng = self.engine
        reduce, wants = eng.reduce, eng.wants
        cs = tuple([(reduce(g if d is ONE else g * d, p) if wants(p) else None)
                    for p, d in zip(node._parents, locs)])
        return cs, locs

    def vjp_graph(self, node, g) -> tuple[tuple, tuple]:
        """The contributions as nodes (differentiable again) and the local
        derivatives as nodes (elementwise ops) or Nones."""
        op, eng = self.op, self.engine
        ps = node._parents
        if op.deriv is not None:
            try:
                locs = op.deriv(eng.graph_math, node, *ps, *self.args)
            except (TypeError, AttributeError) as e:
                if not op.user:
                    raise
                raise TypeError(
                    f"op {op.key!r}: its deriv could not run on nodes, which create_graph=True "
                    f"(second derivatives, gradgradcheck) needs: {type(e).__name__}: {e}. Write "
                    f"it with M's functions (M.cos(a), not np.cos or math.cos)") from e
            cs = tuple([(eng.reduce_node(g if d is ONE else g * d, p) if eng.wants(p) else None)
                        for p, d in zip(ps, locs)])
            return cs, tuple(locs)
        cs = op.vjp(eng.struct_graph_math, g, node, *ps, **self.params)  # type: ignore[misc]
        _check_count(op, cs, len(ps))
        return (tuple([(eng.reduce_node(c, p) if eng.wants(p) and c is not None else None)
                       for p, c in zip(ps, cs)]), (None,) * len(ps))

    def __repr__(self) -> str:
        return f"Kernel({self.op.key}, {self.engine.name}, {self.params})"


#: The generic float rule for one-input rows without constants, without the
#: general rule's list building (users' own ops and the built-in ones without
#: a fast rule take it); a text rule, so the fast pass inlines it. The row's
#: deriv is read on every call. Common: every user's one-input op takes it.
_unary_float_rule = float_rule("g * k.op.deriv(M, n.data, a.data)[0]", math=FloatMath,
                               name="unary_float_rule", common=True)


def _float_rule(op: Op, n_args: int) -> Callable | None:
    return _unary_float_rule if op.arity == 1 and not n_args else None


def _array_rule(op: Op, n_args: int) -> Callable | None:
    """The generic array rule for one-input rows without constants, without
    the general rule's list building (users' own ops take it)."""
    if op.arity != 1 or n_args:
        return None

    def rule(n, g):
        p = n._parents[0]
        if not p.requires_grad:
            return (None,)
        d = op.deriv(ArrayMath, n.data, p.data)[0]  # type: ignore[misc]
        return (unbroadcast(_scaled(op, 0, g, d), p),)
    return rule


def check_grad_shape(who: str, i: int, c, x, out) -> None:
    """A user's gradient for input ``i`` (data ``x``) of an op whose output is
    ``out`` has the input's shape, or the output's (the input was broadcast:
    the gradient is summed back, as PyTorch does). Any other shape is a
    mistake in the rule, which summing would hide or crash on."""
    shape = np.shape(c)
    if shape == np.shape(x) or not hasattr(x, "shape"):
        return
    if shape == np.shape(out):
        try:
            if np.broadcast_shapes(x.shape, shape) == shape:
                return
        except ValueError:
            pass
    raise ValueError(f"{who} returned a gradient of shape {shape} for input {i} of shape "
                     f"{np.shape(x)} (the output has shape {np.shape(out)}): a gradient has "
                     f"its input's shape, or the output's where the input was broadcast")


def _check_shapes(op: Op, cs: tuple, ps, rule: str) -> None:
    """Each contribution, reduced, has its parent's shape (floats: is a number):
    a wrong one would be broadcast into the parent's gradient, silently wrong."""
    for i, (c, p) in enumerate(zip(cs, ps)):
        if c is None:
            continue
        d = p.data
        if d.__class__ is float:
            if np.ndim(c) == 0 and np.isrealobj(c):
                continue
            got = f"shape {np.shape(c)}" if hasattr(c, "shape") else type(c).__name__
            raise ValueError(f"op {op.key!r}: its {rule} rule returned a gradient of {got} for "
                             f"input {i}, a Value (a number expected)")
        if getattr(c, "shape", None) != d.shape:
            raise ValueError(f"op {op.key!r}: its {rule} rule returned a gradient of shape "
                             f"{np.shape(c)} for input {i} of shape {d.shape} (after summing "
                             f"over broadcast axes)")


def _scaled(op: Op, i: int, g, d):
    """``g · d`` for input ``i`` on arrays: a local derivative that does not
    broadcast to the output's shape (``g``'s) would make the contribution
    bigger than the output, to be summed back silently wrong."""
    c = g if d is ONE else g * d
    if c.shape != g.shape:
        raise ValueError(f"op {op.key!r}: its local derivative for input {i} has shape "
                         f"{np.shape(d)}, which does not broadcast to the output's shape "
                         f"{g.shape}")
    return c


def _check_count(op: Op, cs, n: int) -> None:
    if not isinstance(cs, (tuple, list)) or len(cs) != n:
        got = len(cs) if isinstance(cs, (tuple, list)) else type(cs).__name__
        raise ValueError(f"op {op.key!r}: its vjp rule returned {got} gradients for "
                         f"{n} inputs (one per input expected)")


#: Kernels of rows without constants, per engine: built once.
_PLAIN: dict[tuple[str, str], Kernel] = {}
#: Kernels with constants: bounded (cleared when full), so a stream of
#: distinct constants (or nan, which never compares equal) cannot grow it.
_WITH_PARAMS: dict[tuple, Kernel] = {}
CACHE_LIMIT = 4096


def _row(key: str) -> Op:
    op = OPS.get(key)
    if op is None:
        raise ValueError(f"op {key!r} is not in the op table (removed by unregister_op, or "
                         "defined in another process)")
    return op


def kernel(key: str, engine: Engine, **params) -> Kernel:
    """The kernel of table row ``key`` on ``engine`` with constant ``params``."""
    if not params:
        k = _PLAIN.get((key, engine.name))
        if k is None:
            k = _PLAIN[(key, engine.name)] = Kernel(_row(key), engine)
        return k
    try:
        ck = (key, engine.name, *params.items())
        k = _WITH_PARAMS.get(ck)
    except TypeError:  # unhashable constants (an index array): not cached
        return Kernel(_row(key), engine, params)
    if k is None:
        if len(_WITH_PARAMS) >= CACHE_LIMIT:
            _WITH_PARAMS.clear()
        k = _WITH_PARAMS[ck] = Kernel(_row(key), engine, params)
    return k


class ConstKernels:
    """Kernels of one row with one constant ``c`` (``x * 3``, ``x ** 2``),
    per engine: ``cache.get(c) or make(c)`` on the hot path. Bounded like
    every kernel cache (cleared when full); a zero constant is not cached,
    so 0.0 and -0.0 keep their own kernels."""

    def __init__(self, key: str, engine: Engine):
        self.op = OPS[key]
        self.engine = engine
        self.cache: dict[float, Kernel] = {}

    def make(self, c: float) -> Kernel:
        k = Kernel(self.op, self.engine, {"c": c})
        if c:
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[c] = k
        return k


def spell_method(op: Op, plain: Callable[[Any], Any],
                 with_params: Callable[[Any, dict], Any],
                 coerce: Callable[[Any, str], Any]) -> Callable[..., Any]:
    """Value's and Tensor's method for row ``op``: its name, parameters with
    their defaults, and doc come from the row. ``plain(self)`` serves rows
    without parameters; ``with_params(self, {name: value})`` the others,
    each value passed through ``coerce(value, what)``."""
    method: Callable[..., Any]
    if not op.defaults:
        method = plain
    else:
        names = tuple(op.defaults)
        sig = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
               for n, d in op.defaults.items()])

        def method(self, *args, **kwargs):
            bound = sig.bind(self, *args, **kwargs)
            bound.apply_defaults()
            return with_params(self, {n: coerce(bound.arguments[n], f"{op.key} {n}")
                                      for n in names})
        method.__signature__ = sig  # type: ignore[attr-defined]
    method.__name__ = method.__qualname__ = op.method or op.key
    method.__doc__ = f"{op.doc}; local derivative {'; '.join(op.rule)}"
    return method


def forget(key: str) -> None:
    """Drop cached kernels of row ``key`` (when a user op is redefined)."""
    for cache in (_PLAIN, _WITH_PARAMS):
        for k in [k for k in cache if k[0] == key]:
            del cache[k]
