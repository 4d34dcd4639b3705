"""Structural tensor ops, registered in the op table (:mod:`autograd.ops`).

Each op's ``vjp(M, g, out, *xs, **params)`` is written once with arithmetic
that arrays and Tensors share (``g @ b.swapaxes(-1, -2)``, ``g.reshape``,
``g[idx]``) plus the few helpers of the namespace ``M``: :data:`TA` for numpy
arrays (plain gradients) and :data:`TN` for Tensors (``create_graph=True``:
the gradient is a graph, differentiable again). Hot paths (2-D matmul, sum,
mean, reshape) have a numpy backward of their own; tests compare them with
the table's rule.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from .ops import OPS, ArrayMath, NodeMath, Op, register
from .tensor import (ArrayKernel, Tensor, _make1, _make2, _operand, _plain, make,
                     _reduce_shape)

__all__ = ["concatenate", "stack", "TA", "TN", "structural_kernel"]


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


class ArrayNS(ArrayMath):
    """The table's array namespace plus the shape helpers vjp rules need."""

    broadcast_to = staticmethod(_expand)

    sum_to = staticmethod(_reduce_shape)

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


class NodeNS(NodeMath):
    """The table's node namespace plus the same shape helpers on Tensors:
    every call records a node."""

    @staticmethod
    def broadcast_to(x, shape):
        return x if x.shape == tuple(shape) else x.broadcast_to(shape)

    sum_to = staticmethod(_reduce_shape)

    @staticmethod
    def scatter(g, shape, index):
        k = structural_kernel("index_add", shape=tuple(shape), index=index)
        return _make1(_scatter(g.data, shape, index), k, g)

    @staticmethod
    def const(like, arr):
        return like._constant(arr)

    @staticmethod
    def data(x):
        return x.data

    @staticmethod
    def softmax(x, axis):
        from .functional import softmax
        return softmax(x, axis)


TA = ArrayNS
TN = NodeNS


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


_kernels: dict[tuple, ArrayKernel] = {}


def structural_kernel(key: str, fast=None, **params) -> ArrayKernel:
    """The kernel of structural op ``key`` with ``params`` (cached when hashable)."""
    try:
        k = (key, *params.items())
        kern = _kernels.get(k)
    except TypeError:
        return ArrayKernel(OPS[key], params, fast)
    if kern is None:
        kern = _kernels[k] = ArrayKernel(OPS[key], params, fast)
    return kern


def _struct(key, name, arity, forward, vjp, rule, doc, symbol=""):
    return register(Op(key, name, arity, forward, vjp=vjp, rule=rule, doc=doc,
                       elementwise=False, symbol=symbol))


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


_MATMUL_OP = _struct("matmul", "@", 2, lambda M, a, b: a @ b, _matmul_vjp,
                     ("d/dA = G·Bᵀ", "d/dB = Aᵀ·G"),
                     "matrix product (1-D, 2-D and batched, numpy semantics)")


def _b_matmul(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.ndim == 2 and bd.ndim == 2 and ad.dtype == bd.dtype:
        return (g @ bd.T if a.requires_grad else None, ad.T @ g if b.requires_grad else None)
    da, db = _matmul_vjp(TA, g, n.data, ad, bd)
    return (da.astype(ad.dtype, copy=False) if a.requires_grad else None,
            db.astype(bd.dtype, copy=False) if b.requires_grad else None)


_MATMUL = ArrayKernel(_MATMUL_OP, {}, _b_matmul)


def matmul(a, b) -> Tensor:
    if not isinstance(a, Tensor):
        a = _operand(a, b)
    if not isinstance(b, Tensor):
        b = _operand(b, a)
    if a is NotImplemented or b is NotImplemented:
        return NotImplemented
    try:
        d = a.data @ b.data
    except ValueError:
        raise ValueError(f"Tensor @ (matmul): shapes {a.data.shape} and {b.data.shape} are not "
                         f"aligned (last axis of the first must equal "
                         f"{'the only' if b.data.ndim == 1 else 'the second-to-last'} axis of "
                         f"the second; 0-d operands are not allowed)") from None
    return _make2(d, _MATMUL, a, b)


Tensor.__matmul__ = lambda self, other: matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------
def _axes(axis, ndim: int, opname: str):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints."""
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
        if not -ndim <= a < ndim:
            raise ValueError(f"Tensor.{opname}: axis {a} is out of range for a tensor of "
                             f"shape with {ndim} dimensions")
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


_struct("sum", "sum", 1, lambda M, x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
        _sum_vjp, ("d/dx = 1 (G broadcast back)",), "sum over axis (None, int or tuple)", "Σ")
_struct("mean", "mean", 1, lambda M, x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        _mean_vjp, ("d/dx = 1/n (G broadcast back)",), "mean over axis (None, int or tuple)")
_struct("max", "max", 1, lambda M, x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        _max_vjp, ("d/dx = [x = max]/#ties",),
        "maximum over axis; tied maxima share the gradient equally")


def _b_sum(n, g):
    x = n._parents[0].data
    return (_expand(g.reshape(_keep_shape(x.shape, n._op.params["axis"])), x.shape),)


def _reduce(t: Tensor, key: str, axis, keepdims: bool, fast=None) -> Tensor:
    axes = _axes(axis, t.data.ndim, key)
    k = structural_kernel(key, fast, axis=axes, keepdims=bool(keepdims))
    d = t.data
    if key == "max" and d.size == 0:
        raise ValueError(f"Tensor.max: cannot take the max of an empty tensor of shape {d.shape}")
    out = k.op.forward(None, d, axes, bool(keepdims))
    return _make1(np.asarray(out), k, t)


def _sum(self, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all, an int, or a tuple), keeping reduced
    axes as size 1 when ``keepdims``."""
    return _reduce(self, "sum", axis, keepdims, _b_sum)


def _mean(self, axis=None, keepdims=False):
    """Mean over ``axis`` (None, int or tuple)."""
    return _reduce(self, "mean", axis, keepdims)


def _max(self, axis=None, keepdims=False):
    """Maximum over ``axis`` (None, int or tuple); ties share the gradient."""
    return _reduce(self, "max", axis, keepdims)


Tensor.sum = _sum
Tensor.mean = _mean
Tensor.max = _max


# --------------------------------------------------------------------------
# shape ops
# --------------------------------------------------------------------------
_struct("reshape", "reshape", 1, lambda M, x, shape: x.reshape(shape),
        lambda M, g, out, x, shape: (g.reshape(x.shape),),
        ("d/dx = G reshaped back",), "same elements, new shape")
_struct("transpose", "transpose", 1, lambda M, x, axes: x.transpose(axes),
        lambda M, g, out, x, axes: (g.transpose(tuple(np.argsort(axes))),),
        ("d/dx = G with the axes permuted back",), "permute axes", "ᵀ")
_struct("broadcast_to", "broadcast_to", 1, lambda M, x, shape: np.broadcast_to(x, shape),
        lambda M, g, out, x, shape: (M.sum_to(g, x.shape),),
        ("d/dx = G summed over the broadcast axes",), "broadcast to a shape (read-only view)")


def _b_reshape(n, g):
    return (g.reshape(n._parents[0].data.shape),)


def _reshape(self, *shape):
    """Same elements in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(operator.index(s) for s in shape)
        d = self.data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(f"Tensor.reshape: cannot reshape a tensor of shape {self.data.shape} "
                         f"({self.data.size} elements) into shape {shape}") from None
    k = structural_kernel("reshape", _b_reshape, shape=shape)
    return _make1(d, k, self)


def _transpose(self, *axes):
    """Permute the axes (reversed when none are given), as numpy's transpose."""
    nd = self.data.ndim
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(range(nd - 1, -1, -1))
    try:
        axes = tuple(operator.index(a) % nd if nd else operator.index(a) for a in axes)
    except TypeError:
        raise TypeError(f"Tensor.transpose: axes must be ints, got {axes!r}") from None
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"Tensor.transpose: axes {axes} are not a permutation of the "
                         f"{nd} axes of shape {self.data.shape}")
    k = structural_kernel("transpose", axes=axes)
    return _make1(self.data.transpose(axes), k, self)


def _swapaxes(self, a1: int, a2: int):
    nd = self.data.ndim
    axes = list(range(nd))
    a1, a2 = a1 % nd, a2 % nd
    axes[a1], axes[a2] = axes[a2], axes[a1]
    return _transpose(self, tuple(axes))


def _broadcast_to(self, shape):
    shape = tuple(shape)
    try:
        d = np.broadcast_to(self.data, shape)
    except ValueError:
        raise ValueError(f"Tensor.broadcast_to: shape {self.data.shape} cannot be broadcast "
                         f"to {shape}") from None
    return _make1(d, structural_kernel("broadcast_to", shape=shape), self)


Tensor.reshape = _reshape
Tensor.transpose = _transpose
Tensor.swapaxes = _swapaxes
Tensor.broadcast_to = _broadcast_to
Tensor.T = property(lambda self: _transpose(self), doc="The axes reversed (transpose()).")


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
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind == "f":
            raise IndexError(f"Tensor indexing: index arrays must be integers or booleans, "
                             f"got dtype {i.dtype}")
        out.append(i)
    return tuple(out)


def _getitem(self, idx):
    index = _norm_index(idx)
    d = self.data[index]
    if not isinstance(d, np.ndarray):
        d = np.asarray(d)
    return _make1(d, structural_kernel("getitem", index=index), self)


Tensor.__getitem__ = _getitem


# --------------------------------------------------------------------------
# joining: concatenate and stack (variadic)
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


def _join_inputs(seq, opname):
    if isinstance(seq, (Tensor, np.ndarray)) or not hasattr(seq, "__iter__"):
        raise TypeError(f"{opname}: expected a sequence of Tensors, got {type(seq).__name__}")
    ts = list(seq)
    if not ts:
        raise ValueError(f"{opname}: needs at least one tensor")
    first = next((t for t in ts if isinstance(t, Tensor)), None)
    out = []
    for t in ts:
        if not isinstance(t, Tensor):
            t = _plain(np.asarray(t, dtype=first.data.dtype)) if first is not None else Tensor(t)
        out.append(t)
    return out


def concatenate(seq, axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (gradients are split back)."""
    ts = _join_inputs(seq, "concatenate")
    nd = ts[0].data.ndim
    shapes = [t.data.shape for t in ts]
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    if not -nd <= axis < nd:
        raise ValueError(f"concatenate: axis {axis} out of range for shapes {shapes}")
    ax = axis % nd
    for s in shapes:
        if len(s) != nd or s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:]:
            raise ValueError(f"concatenate: shapes {shapes[0]} and {s} differ outside axis "
                             f"{axis}")
    d = np.concatenate([t.data for t in ts], axis=ax)
    return make(d, structural_kernel("concatenate", axis=ax), tuple(ts))


def stack(seq, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    ts = _join_inputs(seq, "stack")
    shapes = [t.data.shape for t in ts]
    nd = len(shapes[0]) + 1
    for s in shapes:
        if s != shapes[0]:
            raise ValueError(f"stack: all tensors need the same shape, got {shapes[0]} and {s}")
    if not -nd <= axis < nd:
        raise ValueError(f"stack: axis {axis} out of range for shapes {shapes}")
    d = np.stack([t.data for t in ts], axis=axis % nd)
    return make(d, structural_kernel("stack", axis=axis % nd), tuple(ts))
