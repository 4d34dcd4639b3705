"""Array kernels: the op table bound to numpy arrays, for Tensor nodes.

An :class:`ArrayKernel` is what a Tensor node holds in ``_op`` (the analogue
of :class:`autograd.value.ScalarKernel`): the table entry, its constant
parameters, and three backward rules -- ``backward`` (numpy, the fast path),
``backward_steps`` (with the local derivatives, for the step-through) and
``backward_nodes`` (with Tensor arithmetic, for ``create_graph=True``).
Elementwise ops get ``reduce-to-shape(g * d)`` from the table's ``deriv``;
structural ops run the table's ``vjp``. The hot elementwise ops have a
hand-written numpy rule (tests compare each with the generic one).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .ops import AM, NM, ONE, OPS, Op

__all__ = ["ArrayKernel", "KERNELS", "kernel"]


# --------------------------------------------------------------------------
# Reducing a broadcast gradient back to an operand's shape
# --------------------------------------------------------------------------
def _reduce_shape(c, shape):
    """Sum ``c`` (array or Tensor) over the axes broadcasting added or
    stretched, giving ``shape``."""
    lead = c.ndim - len(shape)
    if lead:  # a fresh array, not a view: a leaf may take it as its .grad
        c = c.sum(axis=tuple(range(lead)))
    if 1 in shape:
        ones = tuple(i for i, s in enumerate(shape) if s == 1 and c.shape[i] != 1)
        if ones:
            c = c.sum(axis=ones, keepdims=True)
    return c


def _unb(c, p):
    """The contribution ``c`` reduced to parent ``p``'s shape and dtype."""
    d = p.data
    if c.shape != d.shape:
        c = _reduce_shape(c, d.shape)
    if c.dtype != d.dtype:
        c = c.astype(d.dtype)
    return c


def _unb_node(c, p):
    """:func:`_unb` for create_graph: ``c`` is a Tensor (or a number)."""
    if not hasattr(c, "_parents"):  # a number or an array: a constant node
        c = p._constant(np.broadcast_to(np.asarray(c, p.data.dtype), p.data.shape))
    if c.shape != p.data.shape:
        c = _reduce_shape(c, p.data.shape)
    return c


# --------------------------------------------------------------------------
# Kernels: a table op bound to arrays (and to constant parameters)
# --------------------------------------------------------------------------
class ArrayKernel:
    """An op of the table bound to numpy arrays.

    ``backward(node, g)`` -> one contribution per parent (None for a parent
    that needs no gradient); ``backward_steps`` -> (contributions, local
    derivatives) for the step-through; ``backward_nodes`` -> the same with
    Tensor arithmetic, so the result is differentiable again.
    """

    __slots__ = ("op", "name", "params", "backward", "fast", "_p")

    def __init__(self, op: Op, params: dict | None = None, fast: Callable | None = None):
        self.op = op
        self.name = op.name
        self.params = params if params is not None else {}
        self._p = tuple(self.params.values())
        self.fast = fast is not None
        if fast is None:
            fast = self._ew_backward if op.elementwise else self._vjp_backward
        self.backward = fast

    # --- elementwise: contribution = reduce-to-shape(g * d) ------------------
    def local_derivs(self, node) -> tuple:
        return self.op.deriv(AM, node.data, *[p.data for p in node._parents], *self._p)

    @staticmethod
    def _ew_contribs(node, g, locs) -> tuple:
        return tuple([(_unb(g if d is ONE else g * d, p) if p.requires_grad else None)
                      for p, d in zip(node._parents, locs)])

    def _ew_backward(self, node, g):
        return self._ew_contribs(node, g, self.local_derivs(node))

    # --- structural: the table's vjp rule on arrays ---------------------------
    def _vjp_backward(self, node, g):
        from .tensor_ops import TA
        ps = node._parents
        cs = self.op.vjp(TA, g, node.data, *[p.data for p in ps], **self.params)
        return tuple([(_unb(c, p) if p.requires_grad else None) for p, c in zip(ps, cs)])

    def backward_steps(self, node, g):
        if self.op.elementwise:
            locs = self.local_derivs(node)
            return self._ew_contribs(node, g, locs), locs
        return self.backward(node, g), (None,) * len(node._parents)

    def backward_nodes(self, node, g):
        ps = node._parents
        if self.op.elementwise:
            locs = self.op.deriv(NM, node, *ps, *self._p)
            return tuple([(_unb_node(g if d is ONE else g * d, p) if p.requires_grad else None)
                          for p, d in zip(ps, locs)]), locs
        from .tensor_ops import TN
        cs = self.op.vjp(TN, g, node, *ps, **self.params)
        return tuple([(c if p.requires_grad else None) for p, c in zip(ps, cs)]), (None,) * len(ps)

    def __repr__(self) -> str:
        return f"ArrayKernel({self.op.key}, {self.params})"


# Hand-specialised array backward rules for the hot elementwise ops: each
# computes the table's reduce(g * d) (tests compare them with the generic rule).
def _b_add(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.dtype is bd.dtype and ad.shape == bd.shape:  # no broadcasting, no promotion
        return (g if a.requires_grad else None, g if b.requires_grad else None)
    return (_unb(g, a) if a.requires_grad else None, _unb(g, b) if b.requires_grad else None)


def _b_sub(n, g):
    a, b = n._parents
    return (_unb(g, a) if a.requires_grad else None,
            _unb(g * -1.0, b) if b.requires_grad else None)


def _b_mul(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.dtype is bd.dtype and ad.shape == bd.shape:
        return (g * bd if a.requires_grad else None, g * ad if b.requires_grad else None)
    return (_unb(g * bd, a) if a.requires_grad else None,
            _unb(g * ad, b) if b.requires_grad else None)


def _b_div(n, g):
    a, b = n._parents
    bd = b.data
    return (_unb(g * np.divide(1.0, bd), a) if a.requires_grad else None,
            _unb(g * -np.divide(n.data, bd), b) if b.requires_grad else None)


def _b_neg(n, g): return (g * -1.0,)
def _b_exp(n, g): return (g * n.data,)
def _b_log(n, g): return (g * np.divide(1.0, n._parents[0].data),)


_np_subtract, _np_multiply = np.subtract, np.multiply


def _b_tanh(n, g):
    o = n.data
    if not o.ndim:
        return (g * (1.0 - o * o),)
    d = o * o                   # g * (1 - o²) with one allocation
    _np_subtract(1.0, d, d)
    _np_multiply(g, d, d)
    return (d,)


def _b_relu(n, g):
    x = n._parents[0].data
    m = (x > 0).astype(x.dtype)  # a float mask multiplies faster than a bool one
    if m.ndim:
        _np_multiply(m, g, m)    # g * mask, into the mask: one allocation
        return (m,)
    return (g * m,)


def _b_sigmoid(n, g):
    return (g * (n.data * AM.sigmoid(-n._parents[0].data)),)


_FAST = {"add": _b_add, "sub": _b_sub, "mul": _b_mul, "div": _b_div, "neg": _b_neg,
         "exp": _b_exp, "log": _b_log, "tanh": _b_tanh, "relu": _b_relu, "sigmoid": _b_sigmoid}

KERNELS: dict[str, ArrayKernel] = {
    key: ArrayKernel(op, {}, _FAST.get(key))
    for key, op in OPS.items() if op.deriv is not None and not op.params}
_PARAM_KERNELS: dict[tuple, ArrayKernel] = {}


def kernel(key: str, **params) -> ArrayKernel:
    """The array kernel of table op ``key`` with constant ``params`` (cached
    when the parameters are hashable)."""
    if not params and key in KERNELS:
        return KERNELS[key]
    try:
        k = (key, *params.values())
        hash(k)
    except TypeError:
        return ArrayKernel(OPS[key], dict(params))
    kern = _PARAM_KERNELS.get(k)
    if kern is None:
        fast = None
        if key == "pow_const" and params["c"] == 2.0:
            def fast(n, g): return (g * (2.0 * n._parents[0].data),)
        kern = _PARAM_KERNELS[k] = ArrayKernel(OPS[key], dict(params), fast)
    return kern
