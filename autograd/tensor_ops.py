"""Structural tensor ops: rows of the op table (:mod:`autograd.ops`) with a
vector-Jacobian rule, and the functions ``Tensor``'s methods call.

Each op's ``vjp(M, g, out, *xs, **params)`` is written once with arithmetic
that arrays and Tensors share (``g @ b.swapaxes(-1, -2)``, ``g.reshape``,
``g[idx]``) plus the few helpers of the namespace ``M``: :class:`ArrayNS` for
numpy arrays (plain gradients) and :class:`NodeNS` for Tensors
(``create_graph=True``: the gradient is a graph, differentiable again). Hot
paths (2-D matmul, sum, reshape) declare a numpy rule of their own in their
row (``fast=``); tests compare them with the generic rule.

This module does not import :mod:`autograd.tensor` (which imports it): the
functions make their results with the operand's own constructor,
``x._record(data, kernel, parents)``.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from .graph import Node
from .kernel import ARRAY, kernel
from .ops import ArrayMath, NodeMath, Op, _namespace, register, sum_to_shape

__all__ = ["ArrayNS", "NodeNS", "TA", "TN", "matmul", "reduce", "reshape", "transpose",
           "swapaxes", "broadcast_to", "getitem", "concatenate", "stack"]


# --------------------------------------------------------------------------
# The two namespaces
# --------------------------------------------------------------------------
def _expand(x, shape):
    """``x`` broadcast to ``shape``: a fresh array for small results (cheaper
    than numpy's Python-level broadcast_to, and a leaf can own it), a
    read-only view for big ones (no memory traffic)."""
    n = 1
    for s in shape:
        n *= s
    if n > 4096:
        return np.broadcast_to(x, shape)
    out = np.empty(shape, x.dtype)
    out[...] = x
    return out


@_namespace
class ArrayNS(ArrayMath):
    """The table's array namespace plus the shape helpers vjp rules need."""

    broadcast_to = staticmethod(_expand)

    sum_to = staticmethod(sum_to_shape)

    @staticmethod
    def scatter(g, shape, index):
        return _scatter(g, shape, index)

    @staticmethod
    def const(like, arr):
        return arr

    @staticmethod
    def data(x):
        return x

    @staticmethod
    def softmax(x, axis):
        return _softmax_array(x, axis)

    @staticmethod
    def cumsum(x, axis):
        return np.cumsum(x, axis=axis)

    @staticmethod
    def cumprod(x, axis):
        return np.cumprod(x, axis=axis)

    @staticmethod
    def concat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def stack(xs, axis):
        return np.stack(xs, axis=axis)

    @staticmethod
    def einsum(spec, *xs):
        return np.einsum(spec, *xs, optimize=len(xs) > 2)


@_namespace
class NodeNS(NodeMath):
    """The table's node namespace plus the same shape helpers on Tensors:
    every call records a node."""

    @staticmethod
    def broadcast_to(x, shape):
        return x if x.shape == tuple(shape) else x.broadcast_to(shape)

    sum_to = staticmethod(sum_to_shape)

    @staticmethod
    def scatter(g, shape, index):
        k = kernel("index_add", ARRAY, shape=tuple(shape), index=index)
        return g._record(_scatter(g.data, shape, index), k, (g,))

    @staticmethod
    def const(like, arr):
        return like._constant(arr)

    @staticmethod
    def data(x):
        return x.data

    @staticmethod
    def softmax(x, axis):
        """softmax as a composition of recorded ops (differentiable again)."""
        m = x._constant(x.data.max(axis=axis, keepdims=True))
        e = (x - m).exp()
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def cumsum(x, axis):
        return x.cumsum(axis)

    @staticmethod
    def cumprod(x, axis):
        return x.cumprod(axis)

    @staticmethod
    def concat(xs, axis):
        return concatenate(list(xs), axis)

    @staticmethod
    def stack(xs, axis):
        return stack(list(xs), axis)

    @staticmethod
    def einsum(spec, *xs):
        return einsum(spec, *xs)


TA = ArrayNS
TN = NodeNS
ARRAY.struct_math = ArrayNS
ARRAY.struct_graph_math = NodeNS


def _softmax_array(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _is_basic(index) -> bool:
    return all(isinstance(i, (slice, numbers.Integral, type(None), type(Ellipsis)))
               and not isinstance(i, (bool, np.bool_)) for i in index)


def _scatter(g, shape, index):
    """zeros(shape) with ``g`` added at ``index`` (repeated indices accumulate)."""
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        z[index] = g
    else:
        np.add.at(z, index, g)
    return z


def _struct(key, name, arity, forward, vjp, rule, doc, symbol="", fast=None, kink=None):
    """Register a vector-Jacobian row (here, and the conv and loss rows of
    conv.py and functional.py): ``fast`` is its array rule, ``kink`` its
    kink predicate."""
    return register(Op(key, name, arity, forward, vjp=vjp, rule=rule, doc=doc,
                       symbol=symbol, fast={"array": fast} if fast else {}, kink=kink))


def _tie_kink(pick):
    """The kink predicate of a max or min reduction (``pick`` is np.max or
    np.min): an element tied with another for its group's extreme, where the
    gradient's split jumps. Near-ties are found by gradcheck's one-sided
    slopes, which a predicate switches on."""
    def kink(x, axis, keepdims):
        at = x == pick(x, axis=axis, keepdims=True)
        return (at & (at.sum(axis=axis, keepdims=True) > 1),)
    return kink


def _is_node(x) -> bool:
    return isinstance(x, Node)


# --------------------------------------------------------------------------
# matmul
# --------------------------------------------------------------------------
def _matmul_vjp(M, g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
    if b.ndim == 1:
        g2 = g2.reshape(g2.shape + (1,))
    da = M.sum_to(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
    db = M.sum_to(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
    return da, db


def _b_matmul(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.ndim == 2 and bd.ndim == 2 and ad.dtype == bd.dtype:
        return (g @ bd.T if a.requires_grad else None, ad.T @ g if b.requires_grad else None)
    da, db = _matmul_vjp(TA, g, n.data, ad, bd)
    return (da.astype(ad.dtype, copy=False) if a.requires_grad else None,
            db.astype(bd.dtype, copy=False) if b.requires_grad else None)


_struct("matmul", "@", 2, lambda M, a, b: a @ b, _matmul_vjp,
        ("d/dA = G·Bᵀ", "d/dB = Aᵀ·G"),
        "matrix product (1-D, 2-D and batched, numpy semantics)", fast=_b_matmul)
_MATMUL = kernel("matmul", ARRAY)


def matmul(a, b):
    """``a @ b`` (numpy semantics); an operand that is not a Tensor is NotImplemented."""
    if not (_is_node(a) and _is_node(b)):
        return NotImplemented
    ad, bd = a.data, b.data
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError(f"Tensor @ (matmul): 0-d operands are not allowed (shapes {ad.shape} "
                         f"and {bd.shape}); use * to multiply by a scalar")
    if ad.dtype.kind != "f" or bd.dtype.kind != "f":
        ad = ad if ad.dtype.kind == "f" else ad.astype(np.float32)
        bd = bd if bd.dtype.kind == "f" else bd.astype(np.float32)
    try:
        d = ad @ bd
    except ValueError:
        raise ValueError(f"Tensor @ (matmul): shapes {ad.shape} and {bd.shape} are not "
                         f"aligned (last axis of the first must equal "
                         f"{'the only' if bd.ndim == 1 else 'the second-to-last'} axis of "
                         f"the second)") from None
    return a._record(d, _MATMUL, (a, b))


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------
def _axes(axis, ndim: int, opname: str):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints.
    Out of range is numpy's AxisError (a ValueError and an IndexError). A
    0-d tensor takes axis 0 or -1 (PyTorch's rule for scalars)."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"Tensor.{opname}: axis must be an int or a tuple of ints, "
                            f"got {axis!r}") from None
        if ndim == 0 and a in (0, -1):
            continue
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(
                f"Tensor.{opname}: axis {a} is out of range for a tensor with {ndim} "
                f"dimension{'s' if ndim != 1 else ''}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"Tensor.{opname}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _keep_shape(shape, axes):
    if len(axes) == len(shape):  # a full reduction
        return (1,) * len(shape)
    return tuple([1 if i in axes else s for i, s in enumerate(shape)])


def _sum_vjp(M, g, out, x, axis, keepdims):
    return (M.broadcast_to(g.reshape(_keep_shape(x.shape, axis)), x.shape),)


def _mean_vjp(M, g, out, x, axis, keepdims):
    count = 1
    for a in axis:
        count *= x.shape[a]
    return (M.broadcast_to(g.reshape(_keep_shape(x.shape, axis)) * (1.0 / max(count, 1)),
                           x.shape),)


def _max_vjp(M, g, out, x, axis, keepdims):
    kshape = _keep_shape(x.shape, axis)
    xd = M.data(x)
    mask = (xd == M.data(out).reshape(kshape)).astype(xd.dtype)
    mask /= mask.sum(axis=axis, keepdims=True)  # ties share the gradient
    return (M.broadcast_to(g.reshape(kshape), x.shape) * M.const(x, mask),)


def _b_sum(n, g):
    x = n._parents[0].data
    return (_expand(g.reshape(_keep_shape(x.shape, n._op.params["axis"])), x.shape),)


_struct("sum", "sum", 1, lambda M, x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        _sum_vjp, ("d/dx = 1 (G broadcast back)",), "sum over axis (None, int or tuple)", "Σ",
        fast=_b_sum)
_struct("mean", "mean", 1, lambda M, x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        _mean_vjp, ("d/dx = 1/n (G broadcast back)",), "mean over axis (None, int or tuple)")
_struct("max", "max", 1, lambda M, x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        _max_vjp, ("d/dx = [x = max]/#ties",),
        "maximum over axis; tied maxima share the gradient equally", kink=_tie_kink(np.max))


def _count(shape, axes) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _others_product(M, x, axes):
    """Per element, the product of the other elements of its reduction
    group (``axes``): exact where some are 0, unlike prod / x. Prefix and
    suffix cumulative products over the group, flattened last."""
    nd = len(x.shape)
    keep = [i for i in range(nd) if i not in axes]
    perm = tuple(keep + list(axes))
    xt = x.transpose(perm)
    lead = tuple(xt.shape[:len(keep)])
    flat = xt.reshape(lead + (_count(x.shape, axes),))
    ones = M.const(flat, np.ones(lead + (1,), dtype=M.data(flat).dtype))
    left = M.concat([ones, M.cumprod(flat[..., :-1], -1)], -1)
    right = M.concat([M.cumprod(flat[..., ::-1][..., :-1], -1)[..., ::-1], ones], -1)
    return (left * right).reshape(tuple(xt.shape)).transpose(tuple(np.argsort(perm)))


def _prod_vjp(M, g, out, x, axis, keepdims):
    gb = M.broadcast_to(g.reshape(_keep_shape(x.shape, axis)), x.shape)
    return (gb * _others_product(M, x, axis),)


def _var_core(M, g, out, x, axis, ddof):
    """g broadcast back, and x minus its mean over ``axis``."""
    kshape = _keep_shape(x.shape, axis)
    xm = x - x.mean(axis=axis, keepdims=True)
    return M.broadcast_to(g.reshape(kshape), x.shape), xm, kshape


def _var_vjp(M, g, out, x, axis, keepdims, ddof):
    gb, xm, _ = _var_core(M, g, out, x, axis, ddof)
    return (gb * xm * (2.0 / (_count(x.shape, axis) - ddof)),)


def _std_vjp(M, g, out, x, axis, keepdims, ddof):
    gb, xm, kshape = _var_core(M, g, out, x, axis, ddof)
    ob = M.broadcast_to(out.reshape(kshape), x.shape)
    return (gb * xm / (ob * float(_count(x.shape, axis) - ddof)),)


def _logsumexp_forward(M, x, axis, keepdims):
    m = x.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)   # all -inf (or an inf): no inf - inf
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(tuple(s for i, s in enumerate(x.shape)
                                                  if i not in axis))


def _logsumexp_vjp(M, g, out, x, axis, keepdims):
    kshape = _keep_shape(x.shape, axis)
    return (M.broadcast_to(g.reshape(kshape), x.shape) * M.exp(x - out.reshape(kshape)),)


_struct("min", "min", 1, lambda M, x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
        _max_vjp, ("d/dx = [x = min]/#ties",),
        "minimum over axis; tied minima share the gradient equally", kink=_tie_kink(np.min))
_struct("prod", "prod", 1, lambda M, x, axis, keepdims: x.prod(axis=axis, keepdims=keepdims),
        _prod_vjp, ("d/dx_i = Π_{j≠i} x_j (exact at zeros)",), "product over axis", "Π")
_struct("var", "var", 1,
        lambda M, x, axis, keepdims, ddof: x.var(axis=axis, keepdims=keepdims, ddof=ddof),
        _var_vjp, ("d/dx = 2(x - mean)/(n - ddof)",),
        "variance over axis, divided by n - ddof (numpy's ddof; PyTorch's correction)")
_struct("std", "std", 1,
        lambda M, x, axis, keepdims, ddof: x.std(axis=axis, keepdims=keepdims, ddof=ddof),
        _std_vjp, ("d/dx = (x - mean)/((n - ddof)·std)",),
        "standard deviation over axis, √var (ddof as var)")
_struct("logsumexp", "logsumexp", 1, _logsumexp_forward, _logsumexp_vjp,
        ("d/dx = exp(x - logsumexp(x)) (softmax)",),
        "log Σ exp(x) over axis, stable for any magnitude")


def _rev(axis):
    return (slice(None),) * axis + (slice(None, None, -1),)


def _cumsum_vjp(M, g, out, x, axis):
    r = _rev(axis)
    return (M.cumsum(g[r], axis)[r],)


def _cumprod_vjp(M, g, out, x, axis):
    """Σ_{j >= i} g_j·Π_{k<=j, k≠i} x_k without dividing by x_i (which fails
    at zeros, and where the running product underflows): a recurrence along
    the axis, on arrays and on nodes alike, so second derivatives are exact too."""
    return (_cumprod_grad_exact(M, g, x, axis),)


def _cumprod_grad_exact(M, g, x, axis):
    """grad_i = P_i·S_i with P_i = Π_{k<i} x_k and S_i = Σ_{j>=i} g_j·Π_{i<k<=j} x_k
    (S_i = g_i + x_{i+1}·S_{i+1}): no division, so zeros are fine."""
    n = x.shape[axis]
    if n == 0:  # nothing along the axis: the (empty) gradient is g itself
        return g
    at = lambda i: (slice(None),) * axis + (i,)
    p = [M.const(x, np.ones(M.data(x)[at(0)].shape, dtype=M.data(x).dtype))]
    for i in range(1, n):
        p.append(p[-1] * x[at(i - 1)])
    s = [None] * n
    s[n - 1] = g[at(n - 1)]
    for i in range(n - 2, -1, -1):
        s[i] = g[at(i)] + x[at(i + 1)] * s[i + 1]
    return M.stack([p[i] * s[i] for i in range(n)], axis)


_struct("cumsum", "cumsum", 1, lambda M, x, axis: np.cumsum(x, axis=axis), _cumsum_vjp,
        ("d/dx = reversed cumulative sum of G",), "running sum along axis")
_struct("cumprod", "cumprod", 1, lambda M, x, axis: np.cumprod(x, axis=axis), _cumprod_vjp,
        ("d/dx_i = Σ_{j≥i} G_j·Π_{k≤j, k≠i} x_k",), "running product along axis")


_REDUCE_NAMES = {"sum": "sum", "mean": "mean", "max": "max", "min": "min", "prod": "prod",
                 "logsumexp": "logsumexp"}


def reduce(t, key: str, axis, keepdims: bool):
    """``t.sum/mean/max/min/prod/logsumexp(axis, keepdims)``."""
    d = t.data
    axes = _axes(axis, d.ndim, key)
    if key in ("max", "min") and any(d.shape[a] == 0 for a in axes):
        raise ValueError(f"Tensor.{key}: cannot take the {key} of an empty tensor of shape "
                         f"{d.shape} over axis {axis}")
    if key not in ("sum", "max", "min", "prod") and d.dtype.kind != "f":
        d = d.astype(np.float32)
    k = kernel(key, ARRAY, axis=axes, keepdims=bool(keepdims))
    out = np.asarray(k.op.forward(ArrayNS, d, axes, bool(keepdims)))
    if d.dtype.kind != "f":  # integer sums and products stay integers, no graph (PyTorch)
        return t._record(out, k, (t,))
    return t._record(out.astype(d.dtype, copy=False), k, (t,))


def moments(t, key: str, axis, keepdims: bool, ddof):
    """``t.var/std(axis, keepdims, ddof)``: ddof must leave a positive count."""
    d = t.data
    axes = _axes(axis, d.ndim, key)
    if not _is_int(ddof) or ddof < 0:
        raise ValueError(f"Tensor.{key}: ddof must be a non-negative int, got {ddof!r}")
    n = _count(d.shape, axes)
    if ddof >= n:
        raise ValueError(f"Tensor.{key}: ddof={ddof} must be smaller than the number of "
                         f"elements reduced ({n}, shape {d.shape}, axis {axis})")
    d = d if d.dtype.kind == "f" else d.astype(np.float32)
    k = kernel(key, ARRAY, axis=axes, keepdims=bool(keepdims), ddof=int(ddof))
    out = np.asarray(k.op.forward(ArrayNS, d, axes, bool(keepdims), int(ddof)))
    return t._record(out.astype(d.dtype, copy=False), k, (t,))


def arg_reduce(t, key: str, axis, keepdims: bool):
    """``t.argmax/argmin(axis=None, keepdims=False)``: int64 indices, no graph
    (flat indices when axis is None, as numpy and PyTorch)."""
    d = t.data
    if d.size == 0:
        raise ValueError(f"Tensor.{key}: empty tensor of shape {d.shape}")
    f = np.argmax if key == "argmax" else np.argmin
    if axis is None:
        out = np.asarray(f(d.reshape(-1)), dtype=np.int64)
        if keepdims:
            out = out.reshape((1,) * d.ndim)
    else:
        if isinstance(axis, (tuple, list)):
            raise TypeError(f"Tensor.{key}: axis must be an int or None, got {axis!r}")
        axes = _axes(axis, d.ndim, key)
        if d.ndim == 0:
            return _int_leaf(t, np.int64(0))
        out = np.asarray(f(d, axis=axes[0], keepdims=bool(keepdims)), dtype=np.int64)
    return _int_leaf(t, out)


def _int_leaf(t, arr):
    """An integer result with no graph, made with the operand's constructor."""
    leaf = t.detach()
    leaf.data = np.asarray(arr)
    leaf.label = ""
    return leaf


def cumulative(t, key: str, axis):
    """``t.cumsum/cumprod(axis)``; axis None works on the flattened tensor (numpy)."""
    if axis is None:
        t = reshape(t, (-1,))
        axis = 0
    d = t.data
    if d.ndim == 0:
        t = reshape(t, (1,))
        return reshape(cumulative(t, key, 0), ())
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"Tensor.{key}: axis must be an int or None, got {axis!r}")
    (ax,) = _axes(axis, d.ndim, key)
    if d.dtype == np.bool_:
        d = d.astype(np.int64)  # integers stay integers (numpy, PyTorch), with no graph
    k = kernel(key, ARRAY, axis=ax)
    return t._record(np.asarray(k.op.forward(ArrayNS, d, ax)), k, (t,))


# --------------------------------------------------------------------------
# shape ops
# --------------------------------------------------------------------------
def _b_reshape(n, g):
    return (g.reshape(n._parents[0].data.shape),)


_struct("reshape", "reshape", 1, lambda M, x, shape: x.reshape(shape),
        lambda M, g, out, x, shape: (g.reshape(x.shape),),
        ("d/dx = G reshaped back",), "same elements, new shape", fast=_b_reshape)
_struct("transpose", "transpose", 1, lambda M, x, axes: x.transpose(axes),
        lambda M, g, out, x, axes: (g.transpose(tuple(np.argsort(axes))),),
        ("d/dx = G with the axes permuted back",), "permute axes", "ᵀ")
_struct("broadcast_to", "broadcast_to", 1, lambda M, x, shape: np.broadcast_to(x, shape),
        lambda M, g, out, x, shape: (M.sum_to(g, x.shape),),
        ("d/dx = G summed over the broadcast axes",), "broadcast to a shape (read-only view)")


def reshape(t, shape: tuple):
    """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``; one -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(operator.index(s) for s in shape)
        d = t.data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(f"Tensor.reshape: cannot reshape a tensor of shape {t.data.shape} "
                         f"({t.data.size} elements) into shape {shape}") from None
    return t._record(d, kernel("reshape", ARRAY, shape=shape), (t,))


def transpose(t, axes: tuple):
    """Permute the axes (reversed when none are given), as numpy's transpose."""
    nd = t.data.ndim
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(range(nd - 1, -1, -1))
    try:
        axes = tuple(operator.index(a) for a in axes)
    except TypeError:
        raise TypeError(f"Tensor.transpose: axes must be ints, got {axes!r}") from None
    for a in axes:
        if not -nd <= a < max(nd, 1) or (nd == 0 and a not in (0, -1)):
            raise np.exceptions.AxisError(f"Tensor.transpose: axis {a} is out of range for "
                                          f"shape {t.data.shape}")
    axes = tuple(a % nd for a in axes) if nd else ()
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"Tensor.transpose: axes {axes} are not a permutation of the "
                         f"{nd} axes of shape {t.data.shape}"
                         + (" (transpose takes all the axes in their new order, as numpy's "
                            "does; to swap two, as torch's transpose(0, 1) does, use "
                            "swapaxes(0, 1))" if len(axes) == 2 and nd > 2 else ""))
    return t._record(t.data.transpose(axes), kernel("transpose", ARRAY, axes=axes), (t,))


def swapaxes(t, a1: int, a2: int):
    """Exchange axes ``a1`` and ``a2``."""
    nd = t.data.ndim
    for a in (a1, a2):
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"Tensor.swapaxes: axes must be ints, got {a!r}")
        if not -max(nd, 1) <= a < max(nd, 1):
            raise np.exceptions.AxisError(f"Tensor.swapaxes: axis {a} is out of range for "
                                          f"shape {t.data.shape}")
    if nd == 0:
        return transpose(t, ())
    axes = list(range(nd))
    a1, a2 = a1 % nd, a2 % nd
    axes[a1], axes[a2] = axes[a2], axes[a1]
    return transpose(t, (tuple(axes),))


def broadcast_to(t, shape):
    """A read-only broadcast of ``t`` to ``shape``."""
    shape = tuple(shape)
    try:
        d = np.broadcast_to(t.data, shape)
    except ValueError:
        raise ValueError(f"Tensor.broadcast_to: shape {t.data.shape} cannot be broadcast "
                         f"to {shape}") from None
    return t._record(d, kernel("broadcast_to", ARRAY, shape=shape), (t,))


# --------------------------------------------------------------------------
# indexing
# --------------------------------------------------------------------------
_struct("getitem", "[]", 1, lambda M, x, index: x[index],
        lambda M, g, out, x, index: (M.scatter(g, x.shape, index),),
        ("d/dx = G scattered back (repeats accumulate)",),
        "basic and integer-array indexing x[idx]")
_struct("index_add", "index_add", 1, lambda M, g, shape, index: _scatter(g, shape, index),
        lambda M, gg, out, g, shape, index: (gg[index],),
        ("d/dg = G[idx]",), "zeros(shape) with g added at idx (the adjoint of indexing)")


def _norm_index(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if _is_node(i):
            i = i.data
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind == "f":
            raise IndexError(f"Tensor indexing: index arrays must be integers or booleans, "
                             f"got dtype {i.dtype}")
        out.append(i)
    return tuple(out)


def _index_text(idx) -> str:
    parts = idx if isinstance(idx, tuple) else (idx,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            out.append(":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step))
                       .rstrip(":") or ":")
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, np.ndarray) or isinstance(p, list):
            out.append(f"array of shape {np.shape(p)}")
        else:
            out.append(repr(p)[:40])
    return ", ".join(out)


def getitem(t, idx):
    """``t[idx]``: basic and integer-array indexing, numpy's semantics."""
    index = _norm_index(idx)
    try:
        d = t.data[index]
    except IndexError as e:  # numpy's words, with the op and the shape
        raise IndexError(f"Tensor[{_index_text(idx)}]: {e} (the tensor has shape "
                         f"{t.data.shape})") from None
    if not isinstance(d, np.ndarray):
        d = np.asarray(d)
    return t._record(d, kernel("getitem", ARRAY, index=index), (t,))


# --------------------------------------------------------------------------
# joining: concatenate and stack (any number of inputs)
# --------------------------------------------------------------------------
def _concat_vjp(M, g, out, *xs, axis):
    res, lo = [], 0
    pre = (slice(None),) * axis
    for x in xs:
        hi = lo + x.shape[axis]
        res.append(g[pre + (slice(lo, hi),)])
        lo = hi
    return tuple(res)


def _stack_vjp(M, g, out, *xs, axis):
    pre = (slice(None),) * axis
    return tuple(g[pre + (i,)] for i in range(len(xs)))


_struct("concatenate", "concat", -1, lambda M, *xs, axis: np.concatenate(xs, axis=axis),
        _concat_vjp, ("d/dx_i = G's slice i along axis",), "join tensors along an existing axis")
_struct("stack", "stack", -1, lambda M, *xs, axis: np.stack(xs, axis=axis),
        _stack_vjp, ("d/dx_i = G[..., i, ...] along axis",), "join tensors along a new axis")


def concatenate(ts: list, axis: int = 0):
    """Join tensors along an existing ``axis`` (gradients are split back)."""
    nd = ts[0].data.ndim
    shapes = [t.data.shape for t in ts]
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"concatenate: axis {axis} out of range for shapes {shapes}")
    ax = axis % nd
    for s in shapes:
        if len(s) != nd or s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:]:
            raise ValueError(f"concatenate: shapes {shapes[0]} and {s} differ outside axis "
                             f"{axis}")
    d = np.concatenate([t.data for t in ts], axis=ax)
    return ts[0]._record(d, kernel("concatenate", ARRAY, axis=ax), tuple(ts))


def stack(ts: list, axis: int = 0):
    """Join same-shape tensors along a new ``axis``."""
    shapes = [t.data.shape for t in ts]
    nd = len(shapes[0]) + 1
    for s in shapes:
        if s != shapes[0]:
            raise ValueError(f"stack: all tensors need the same shape, got {shapes[0]} and {s}")
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"stack: axis {axis} out of range for shapes {shapes}")
    d = np.stack([t.data for t in ts], axis=axis % nd)
    return ts[0]._record(d, kernel("stack", ARRAY, axis=axis % nd), tuple(ts))


# --------------------------------------------------------------------------
# more shape ops (issue 12): squeeze, unsqueeze, flatten, flip, tile, repeat,
# pad, take_along_axis / gather, einsum
# --------------------------------------------------------------------------
def _reshape_back(M, g, out, x, **_):
    return (g.reshape(x.shape),)


_struct("squeeze", "squeeze", 1, lambda M, x, axis: np.squeeze(x, axis=axis), _reshape_back,
        ("d/dx = G reshaped back",), "drop axes of size 1")
_struct("unsqueeze", "unsqueeze", 1, lambda M, x, axis: np.expand_dims(x, axis), _reshape_back,
        ("d/dx = G reshaped back",), "insert axes of size 1 (numpy's expand_dims)")
_struct("flatten", "flatten", 1, lambda M, x, shape: x.reshape(shape), _reshape_back,
        ("d/dx = G reshaped back",), "axes start_dim..end_dim merged into one")


def _flip_index(axes):
    n = max(axes) + 1 if axes else 0
    return tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n))


_struct("flip", "flip", 1, lambda M, x, axis: x[_flip_index(axis)],
        lambda M, g, out, x, axis: (g[_flip_index(axis)],),
        ("d/dx = G flipped back",), "reverse the order along axes")


def _tile_shapes(xshape, reps):
    d = max(len(reps), len(xshape))
    xs = (1,) * (d - len(xshape)) + tuple(xshape)
    rs = (1,) * (d - len(reps)) + tuple(reps)
    return xs, rs


def _tile_vjp(M, g, out, x, reps):
    xs, rs = _tile_shapes(x.shape, reps)
    inter = tuple(v for pair in zip(rs, xs) for v in pair)
    summed = g.reshape(inter).sum(axis=tuple(range(0, 2 * len(xs), 2)))
    return (summed.reshape(x.shape),)


_struct("tile", "tile", 1, lambda M, x, reps: np.tile(x, reps), _tile_vjp,
        ("d/dx = G summed over the copies",), "the whole tensor repeated reps times per axis "
                                                 "(PyTorch's repeat)")
_struct("repeat", "repeat", 1, lambda M, x, index: x[index],
        lambda M, g, out, x, index: (M.scatter(g, x.shape, index),),
        ("d/dx = G summed over each element's copies",),
        "each element repeated along an axis (numpy's repeat, PyTorch's repeat_interleave)")


def _pad_vjp(M, g, out, x, pad, value):
    return (g[tuple(slice(b, b + n) for (b, _), n in zip(pad, x.shape))],)


_struct("pad", "pad", 1,
        lambda M, x, pad, value: np.pad(x, pad, mode="constant", constant_values=value),
        _pad_vjp, ("d/dx = G without the padding",), "constant padding (numpy's pad_width)")
_struct("take_along_axis", "take_along_axis", 1, lambda M, x, index: x[index],
        lambda M, g, out, x, index: (M.scatter(g, x.shape, index),),
        ("d/dx = G scattered back to the indices (repeats accumulate)",),
        "values at indices along an axis (numpy's take_along_axis, PyTorch's gather)")


def _is_int(x: object) -> bool:
    """An integer (Python or numpy) that is not a bool. A plain bool, not a TypeGuard:
    mypy does not know that int is a numbers.Integral (see nn.module._is_int)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _int_arg(v, what):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {v!r}") from None


def squeeze(t, axis=None):
    """Drop size-1 axes (all of them, or ``axis``: an int or tuple; a named
    axis whose size is not 1 is an error, as numpy)."""
    d = t.data
    if axis is None:
        axes = tuple(i for i, s in enumerate(d.shape) if s == 1)
    else:
        axes = _axes(axis, d.ndim, "squeeze")
        bad = [a for a in axes if d.shape[a] != 1]
        if bad:
            raise ValueError(f"Tensor.squeeze: axis {bad[0]} has size {d.shape[bad[0]]}, not 1 "
                             f"(shape {d.shape})")
    return t._record(np.squeeze(d, axis=axes), kernel("squeeze", ARRAY, axis=axes), (t,))


def unsqueeze(t, axis):
    """Insert a size-1 axis at ``axis`` (an int or tuple, numpy's expand_dims)."""
    d = t.data
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = d.ndim + len(items)
    axes: list[int] = []
    for a in items:
        a = _int_arg(a, "Tensor.unsqueeze: axis")
        if not -nd <= a < nd:
            raise np.exceptions.AxisError(f"Tensor.unsqueeze: axis {a} is out of range for a "
                                          f"result with {nd} dimensions (shape {d.shape})")
        axes.append(a % nd)
    if len(set(axes)) != len(axes):
        raise ValueError(f"Tensor.unsqueeze: repeated axis in {axis!r}")
    where = tuple(sorted(axes))
    return t._record(np.expand_dims(d, where), kernel("unsqueeze", ARRAY, axis=where), (t,))


def flatten(t, start_dim=0, end_dim=-1):
    """Merge axes start_dim..end_dim (PyTorch's flatten; a 0-d tensor gives shape (1,))."""
    d = t.data
    if d.ndim == 0:
        shape = (1,)
    else:
        s = _axes(_int_arg(start_dim, "Tensor.flatten: start_dim"), d.ndim, "flatten")[0]
        e = _axes(_int_arg(end_dim, "Tensor.flatten: end_dim"), d.ndim, "flatten")[0]
        if s > e:
            raise ValueError(f"Tensor.flatten: start_dim {start_dim} comes after end_dim "
                             f"{end_dim} (shape {d.shape})")
        n = 1
        for v in d.shape[s:e + 1]:
            n *= v
        shape = d.shape[:s] + (n,) + d.shape[e + 1:]
    return t._record(d.reshape(shape), kernel("flatten", ARRAY, shape=shape), (t,))


def flip(t, axis=None):
    """Reverse the order along ``axis`` (None: every axis, as numpy)."""
    d = t.data
    axes = _axes(axis, d.ndim, "flip")
    return t._record(d[_flip_index(axes)], kernel("flip", ARRAY, axis=axes), (t,))


def expand(t, sizes):
    """PyTorch's expand: broadcast to ``sizes``, -1 keeping an axis's size;
    new axes go in front (a view, like broadcast_to)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(_int_arg(s, "Tensor.expand: sizes") for s in sizes)
    d = t.data
    lead = len(sizes) - d.ndim
    if lead < 0:
        raise ValueError(f"Tensor.expand: {len(sizes)} sizes for a tensor with {d.ndim} "
                         f"dimensions (shape {d.shape})")
    shape = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise ValueError(f"Tensor.expand: -1 is not allowed for a new leading axis "
                                 f"(sizes {sizes}, shape {d.shape})")
            s = d.shape[i - lead]
        shape.append(s)
    return broadcast_to(t, tuple(shape))


def tile(t, reps):
    """The whole tensor repeated ``reps`` times per axis (numpy's tile, PyTorch's repeat)."""
    reps = (reps,) if not isinstance(reps, (tuple, list)) else tuple(reps)
    reps = tuple(_int_arg(r, "Tensor.tile: reps") for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"Tensor.tile: reps must be non-negative, got {reps}")
    return t._record(np.tile(t.data, reps), kernel("tile", ARRAY, reps=reps), (t,))


def repeat(t, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (numpy's repeat;
    None: over the flattened tensor; ``repeats`` an int or one count per element)."""
    if axis is None:
        t = reshape(t, (-1,))
        axis = 0
    d = t.data
    if d.ndim == 0:
        t, d = reshape(t, (1,)), d.reshape(1)
    (ax,) = _axes(_int_arg(axis, "Tensor.repeat: axis"), d.ndim, "repeat")
    r = np.asarray(repeats.data if _is_node(repeats) else repeats)
    if r.dtype.kind not in "iu" or r.ndim > 1 or (r.ndim == 1 and r.shape[0] != d.shape[ax]):
        raise ValueError(f"Tensor.repeat: repeats must be an int or {d.shape[ax]} ints (one per "
                         f"element along axis {ax}), got {repeats!r}")
    if (r < 0).any():
        raise ValueError(f"Tensor.repeat: repeats must be non-negative, got {repeats!r}")
    idx = np.repeat(np.arange(d.shape[ax]), r)
    index = (slice(None),) * ax + (idx,)
    return t._record(d[index], kernel("repeat", ARRAY, index=index), (t,))


def pad(t, pad_width, value=0.0):
    """Constant padding with numpy's ``pad_width``: an int, (before, after),
    or one (before, after) per axis."""
    d = t.data
    try:
        pw = np.broadcast_to(np.asarray(pad_width), (d.ndim, 2))
    except ValueError:
        raise ValueError(f"Tensor.pad: pad_width {pad_width!r} does not fit a tensor with "
                         f"{d.ndim} dimensions (shape {d.shape}): give an int, (before, after) "
                         f"or one pair per axis") from None
    if pw.dtype.kind not in "iu":
        raise TypeError(f"Tensor.pad: pad_width must be ints, got {pad_width!r}")
    if (pw < 0).any():
        raise ValueError(f"Tensor.pad: negative padding {pad_width!r} (use slicing to crop)")
    pads = tuple((int(b), int(a)) for b, a in pw)
    v = float(value)
    out = np.pad(d, pads, mode="constant", constant_values=v)
    return t._record(out, kernel("pad", ARRAY, pad=pads, value=v), (t,))


def _along_index(opname, x_shape, idx, axis, index_shape_for_others: bool):
    nd = len(x_shape)
    if idx.ndim != nd:
        raise ValueError(f"{opname}: indices have {idx.ndim} dimensions but the tensor has "
                         f"{nd} (shapes {idx.shape} and {x_shape})")
    ax = _axes(axis, nd, opname.split(".")[-1])[0]
    n = x_shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"{opname}: index {int(bad)} is out of range for axis {ax} of size "
                         f"{n} (shape {x_shape})")
    index = []
    for i in range(nd):
        if i == ax:
            index.append(idx % n if n else idx)
            continue
        size = idx.shape[i] if index_shape_for_others else x_shape[i]
        if not index_shape_for_others and idx.shape[i] not in (1, x_shape[i]):
            raise ValueError(f"{opname}: indices of shape {idx.shape} do not broadcast against "
                             f"the tensor's shape {x_shape} outside axis {ax}")
        if index_shape_for_others and idx.shape[i] > x_shape[i]:
            raise ValueError(f"{opname}: index has size {idx.shape[i]} along axis {i}, larger "
                             f"than the tensor's {x_shape[i]} (shapes {idx.shape} and {x_shape})")
        shape = [1] * nd
        shape[i] = size
        index.append(np.arange(size).reshape(shape))
    return tuple(index)


def _int_indices(indices, opname):
    idx = np.asarray(indices.data if _is_node(indices) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{opname}: indices must be integers, got dtype {idx.dtype}")
    return idx


def take_along_axis(t, indices, axis):
    """numpy's take_along_axis: ``out[..., i, ...] = t[..., indices[..., i, ...], ...]``;
    indices broadcast against t outside ``axis``."""
    idx = _int_indices(indices, "take_along_axis")
    index = _along_index("take_along_axis", t.data.shape, idx, axis, False)
    return t._record(t.data[index], kernel("take_along_axis", ARRAY, index=index), (t,))


def gather(t, axis, index):
    """PyTorch's gather: ``out[i][j] = t[index[i][j]][j]`` for axis 0 (any
    rank); index may be smaller than t outside ``axis``."""
    idx = _int_indices(index, "gather")
    full = _along_index("gather", t.data.shape, idx, axis, True)
    return t._record(t.data[full], kernel("take_along_axis", ARRAY, index=full), (t,))


# --- einsum ---------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_parse(subscripts: str, shapes) -> tuple[list[str], str]:
    """The subscripts in explicit form, ellipses spelled out as letters."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        lhs, out = s.split("->")
        explicit = True
    else:
        lhs, out, explicit = s, "", False
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: '{subscripts}' names {len(ins)} operand"
                         f"{'s' if len(ins) != 1 else ''} but {len(shapes)} were given")
    used = {c for c in s if c.isalpha()}
    for c in s:
        if not (c.isalpha() or c in ",.->"):
            raise ValueError(f"einsum: invalid character {c!r} in '{subscripts}'")
    free = [c for c in _LETTERS if c not in used]
    ell_len = 0
    for sub, shp in zip(ins, shapes):
        if "..." in sub:
            ell_len = max(ell_len, len(shp) - (len(sub) - 3))
    ell = "".join(free[:ell_len])
    new_ins = []
    for sub, shp in zip(ins, shapes):
        if "..." in sub:
            k = len(shp) - (len(sub) - 3)
            if k < 0:
                raise ValueError(f"einsum: operand '{sub}' has more letters than the "
                                 f"{len(shp)} dimensions of shape {shp}")
            sub = sub.replace("...", ell[ell_len - k:] if k else "")
        if "." in sub:
            raise ValueError(f"einsum: invalid ellipsis in '{subscripts}'")
        if len(sub) != len(shp):
            raise ValueError(f"einsum: operand '{sub}' has {len(sub)} letters but shape {shp} "
                             f"has {len(shp)} dimensions")
        new_ins.append(sub)
    if explicit:
        out = out.replace("...", ell)
        if "." in out:
            raise ValueError(f"einsum: invalid ellipsis in '{subscripts}'")
        missing = [c for c in out if c not in "".join(new_ins)]
        if missing or len(set(out)) != len(out):
            raise ValueError(f"einsum: output '{out}' names letters not in the inputs or twice "
                             f"('{subscripts}')")
    else:
        joined = "".join(new_ins)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    return new_ins, out


def _einsum_forward(M, *xs, subscripts):
    return np.einsum(subscripts, *xs, optimize=len(xs) > 2)


def _einsum_vjp(M, g, out, *xs, subscripts):
    lhs, res = subscripts.split("->")
    ins = lhs.split(",")
    grads = []
    for k, (sk, xk) in enumerate(zip(ins, xs)):
        others = [(ins[j], xs[j]) for j in range(len(xs)) if j != k]
        uniq = "".join(dict.fromkeys(sk))
        avail = set(res) | set("".join(s for s, _ in others))
        keep = "".join(c for c in uniq if c in avail)
        spec = ",".join([res] + [s for s, _ in others]) + "->" + keep
        h = M.einsum(spec, g, *[x for _, x in others])
        if keep != uniq:  # letters summed out of operand k alone: broadcast back
            sizes = {c: xk.shape[sk.index(c)] for c in uniq}
            for c in keep:
                sizes[c] = h.shape[keep.index(c)]
            h = h.reshape(tuple(sizes[c] if c in keep else 1 for c in uniq))
            h = M.broadcast_to(h, tuple(sizes[c] for c in uniq))
        if uniq != sk:  # a repeated letter (a diagonal): put h back on it
            used = set(subscripts)
            fresh = iter(c for c in _LETTERS if c not in used)
            renamed, eyes, seen = "", [], set()
            for pos, c in enumerate(sk):
                if c in seen:
                    f = next(fresh)
                    renamed += f
                    eyes.append((c + f, M.const(xk, np.eye(xk.shape[pos], dtype=M.data(xk).dtype))))
                else:
                    seen.add(c)
                    renamed += c
            spec = ",".join([uniq] + [s for s, _ in eyes]) + "->" + renamed
            h = M.einsum(spec, h, *[e for _, e in eyes])
        grads.append(h)
    return tuple(grads)


_struct("einsum", "einsum", -1, _einsum_forward, _einsum_vjp,
        ("d/dx_k = einsum of G with the other operands, into x_k's subscripts",),
        "Einstein summation (any subscripts: repeated letters, ellipsis, implicit output)")


def einsum(subscripts: str, *operands):
    """numpy's einsum on Tensors, differentiable in every operand."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: the first argument must be the subscripts string, got "
                        f"{type(subscripts).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    first = next((o for o in operands if _is_node(o)), None)
    if first is None:
        raise TypeError("einsum: needs at least one Tensor operand")
    ts = [o if _is_node(o) else first._constant(np.asarray(o)) for o in operands]
    datas = [t.data if t.data.dtype.kind == "f" else t.data.astype(np.float32) for t in ts]
    ins, out = _einsum_parse(subscripts, [d.shape for d in datas])
    spec = ",".join(ins) + "->" + out
    try:
        d = _einsum_forward(None, *datas, subscripts=spec)
    except ValueError as e:
        raise ValueError(f"einsum: '{subscripts}' does not fit the shapes "
                         f"{', '.join(str(x.shape) for x in datas)} ({e})") from None
    return first._record(np.asarray(d), kernel("einsum", ARRAY, subscripts=spec), tuple(ts))
