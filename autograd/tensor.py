"""Tensor: a numpy array that records the computation graph.

The elementwise ops come from :mod:`autograd.ops` (the same table as Value);
the structural ops (matmul, reductions, reshapes, indexing, joins) are
registered in that table by :mod:`autograd.tensor_ops`, the fused losses by
:mod:`autograd.functional`. The backward pass is :func:`autograd.graph.walk`.

Semantics (PyTorch's): a result records a graph only when recording is on
and one of its inputs ``requires_grad``; otherwise it is a plain leaf.
Floating arrays keep their dtype (float32 stays float32 through every op,
with Python and numpy scalars); other data becomes float32. Data is not
copied: ``Tensor(arr)`` shares ``arr``.

Gradient buffers: a leaf owns its ``.grad``. On the first pass it takes the
incoming array when nothing else refers to it (the common case: a fresh
``x.T @ g``), else a copy; later passes add into it in place. Kernels may
pass arrays through (``+`` hands ``g`` to both operands, ``reshape`` a view),
so nothing else is ever written in place.
"""
from __future__ import annotations

import numbers
import sys
from typing import Any, Callable

import numpy as np

from .graph import MODE, SPECIAL_THREADS, Node, check_forward, creation_site, walk
from .ops import AM, OPS
from .tensor_kernels import KERNELS, ArrayKernel, _reduce_shape, _unb, kernel  # noqa: F401

__all__ = ["Tensor", "ArrayKernel", "kernel"]

_alloc = object.__new__
_ndarray = np.ndarray
_getrefcount = sys.getrefcount


# --------------------------------------------------------------------------
# Making nodes
# --------------------------------------------------------------------------
def _node(data, kern, parents) -> "Tensor":
    """A recorded result (the caller checked that recording is on, anomaly
    mode off, and some parent requires grad). numpy gives scalars for 0-d
    results: data is always an ndarray."""
    t = _alloc(Tensor)
    t.data = data if data.__class__ is _ndarray else np.asarray(data)
    t.grad = None
    t.label = ""
    t.requires_grad = True
    t._op = kern
    t._parents = parents
    return t


def _plain(data) -> "Tensor":
    t = _alloc(Tensor)
    t.data = data if data.__class__ is _ndarray else np.asarray(data)
    t.grad = None
    t.label = ""
    t.requires_grad = False
    t._op = None
    t._parents = ()
    return t


def make(data, kern, parents, ctx=None) -> "Tensor":
    """The result of an op: a recorded node if recording is on and a parent
    requires grad, else a plain leaf. Anomaly mode checks the forward."""
    for p in parents:
        if p.requires_grad:
            break
    else:
        return _plain(data)
    if SPECIAL_THREADS and not MODE.record:
        return _plain(data)
    t = _node(data, kern, parents)
    if ctx is not None:
        t._ctx = ctx
    if SPECIAL_THREADS and MODE.anomaly:
        t._site = creation_site()
        check_forward(t)
    return t


def _make2(data, kern, a, b) -> "Tensor":
    if (a.requires_grad or b.requires_grad) and not SPECIAL_THREADS:
        return _node(data, kern, (a, b))
    return make(data, kern, (a, b))


def _make1(data, kern, a) -> "Tensor":
    if a.requires_grad and not SPECIAL_THREADS:
        return _node(data, kern, (a,))
    return make(data, kern, (a,))


def _as_array(data, dtype=None, what: str = "Tensor") -> np.ndarray:
    """numpy array for Tensor data: floating numpy arrays keep their dtype,
    anything else (Python numbers, lists, integer arrays) becomes float32 (or
    ``dtype``); strings, objects and ragged lists are a
    TypeError naming Tensor."""
    if isinstance(data, Tensor):
        data = data.data
    keep = isinstance(data, (np.ndarray, np.floating))  # floating numpy data keeps its dtype
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{what}: data must be numbers or a rectangular (non-ragged) nested "
                        f"list of numbers, got {type(data).__name__} ({e})") from None
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(f"{what}: data must be numeric, got {type(data).__name__} with "
                        f"numpy dtype {arr.dtype} (strings, objects and ragged lists are "
                        f"not supported)")
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt.kind not in "fiub":
            raise TypeError(f"{what}: dtype must be a real numeric dtype, got {dt}")
        return arr.astype(dt, copy=False)
    if kind != "f" or not keep:
        return arr.astype(np.float32)
    return arr


def _operand(x, like: "Tensor"):
    """The other operand of a binary op as a Tensor; numbers (Python, numpy
    scalars, 0-d arrays) take ``like``'s dtype, so float32 stays float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Real, np.generic)) and not isinstance(x, (bool, np.bool_)):
        return _plain(np.asarray(x, dtype=like.data.dtype))
    if isinstance(x, np.ndarray):
        if x.ndim == 0 and x.dtype.kind in "fiu":
            return _plain(x.astype(like.data.dtype))
        return _plain(_as_array(x))
    if isinstance(x, (list, tuple)):
        return _plain(_as_array(x))
    return NotImplemented


def _bcast_error(opname: str, a, b) -> ValueError:
    return ValueError(f"Tensor {opname}: operand shapes {a.data.shape} and {b.data.shape} "
                      f"do not broadcast")


_K = KERNELS
_ADD, _SUB, _MUL, _DIV, _NEG, _POW = (_K[k] for k in ("add", "sub", "mul", "div", "neg", "pow"))
_TANH, _RELU, _EXP = _K["tanh"], _K["relu"], _K["exp"]


def _binary(kern, sym, a, b):
    try:
        d = kern.op.forward(AM, a.data, b.data, *kern._p)
    except ValueError:
        raise _bcast_error(sym, a, b) from None
    return _make2(d, kern, a, b)


# --------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------
class Tensor(Node):
    """A numpy array node of a computation graph.

    >>> import numpy as np
    >>> x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    array([ 2., -4.,  6.])
    """

    # _ctx (saved forward arrays, fused ops only) and _site (anomaly mode)
    # are set only on the nodes that need them.
    __slots__ = ("data", "grad", "label", "requires_grad", "_op", "_parents", "_ctx", "_site",
                 "_scope", "__weakref__")
    __array_priority__ = 1000.0  # ndarray + Tensor -> Tensor.__radd__
    __array_ufunc__ = None       # and numpy ufuncs do not swallow Tensors

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (no graph)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __init__(self, data: Any, requires_grad: bool = False, label: str = "",
                 dtype: Any = None) -> None:
        arr = _as_array(data, dtype)
        if not isinstance(label, str):
            raise TypeError(f"Tensor label must be a str, got {type(label).__name__}")
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating tensors can require grad, got dtype {arr.dtype}")
        self.data = arr
        self.grad = None
        self.label = label
        self.requires_grad = bool(requires_grad)
        self._op = None
        self._parents = ()

    # --- the node protocol -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if not self.data.ndim:
            raise TypeError("len() of a 0-d Tensor")
        return len(self.data)

    def _accumulate_grad(self, g) -> None:
        """Leaves: add ``g`` into ``.grad`` (owned; see the module docstring)."""
        if not self.requires_grad:
            return
        cur = self.grad
        d = self.data
        if cur is None:
            if (g.__class__ is _ndarray and g.base is None and _getrefcount(g) <= _UNIQUE
                    and g.flags.writeable and g.dtype == d.dtype and g.shape == d.shape):
                self.grad = g  # nobody else holds it: take it
            else:
                if getattr(g, "shape", ()) != d.shape:
                    g = np.broadcast_to(g, d.shape)
                self.grad = np.array(g, dtype=d.dtype)  # a copy we own
        elif isinstance(cur, np.ndarray) and cur.flags.writeable and cur.shape == d.shape:
            cur += g
        else:
            self.grad = np.array(cur + g, dtype=d.dtype)

    def _set_grad(self, g) -> None:
        self.grad = g

    def _constant(self, data) -> "Tensor":
        arr = np.asarray(data)
        if arr.dtype.kind == "f" or arr.dtype.kind in "iub":
            arr = arr.astype(self.data.dtype, copy=False)
        return _plain(arr)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, threshold=20, separator=", ",
                               prefix="Tensor(")
        extra = "" if self.data.dtype == np.float32 else f", dtype={self.data.dtype}"
        if self._op is not None:
            extra += f", op={self.op!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.label:
            extra += f", label={self.label!r}"
        return f"Tensor({body}{extra})"

    def _repr_svg_(self) -> str:  # Jupyter shows the graph
        from ..viz import draw
        return draw(self).pipe(format="svg", encoding="utf-8")

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"Tensor.item: needs one element, shape is {self.data.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a Tensor of shape {self.data.shape} is "
                             f"ambiguous (use .data.any() or .data.all())")
        return bool(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self):
        return self.data.tolist()

    # --- arithmetic ----------------------------------------------------------
    def __add__(self, other):
        if other.__class__ is not Tensor:
            other = _operand(other, self)
            if other is NotImplemented:
                return NotImplemented
        try:
            d = self.data + other.data
        except ValueError:
            raise _bcast_error("+", self, other) from None
        if (self.requires_grad or other.requires_grad) and not SPECIAL_THREADS:
            t = _alloc(Tensor)
            t.data = d if d.__class__ is _ndarray else np.asarray(d)
            t.grad = None
            t.label = ""
            t.requires_grad = True
            t._op = _ADD
            t._parents = (self, other)
            return t
        return make(d, _ADD, (self, other))

    def __radd__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__add__(self)

    def __sub__(self, other):
        if other.__class__ is not Tensor:
            other = _operand(other, self)
            if other is NotImplemented:
                return NotImplemented
        try:
            d = self.data - other.data
        except ValueError:
            raise _bcast_error("-", self, other) from None
        return _make2(d, _SUB, self, other)

    def __rsub__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__sub__(self)

    def __mul__(self, other):
        if other.__class__ is not Tensor:
            other = _operand(other, self)
            if other is NotImplemented:
                return NotImplemented
        try:
            d = self.data * other.data
        except ValueError:
            raise _bcast_error("*", self, other) from None
        if (self.requires_grad or other.requires_grad) and not SPECIAL_THREADS:
            t = _alloc(Tensor)
            t.data = d if d.__class__ is _ndarray else np.asarray(d)
            t.grad = None
            t.label = ""
            t.requires_grad = True
            t._op = _MUL
            t._parents = (self, other)
            return t
        return make(d, _MUL, (self, other))

    def __rmul__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__mul__(self)

    def __truediv__(self, other):
        if other.__class__ is not Tensor:
            other = _operand(other, self)
            if other is NotImplemented:
                return NotImplemented
        return _binary(_DIV, "/", self, other)

    def __rtruediv__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__truediv__(self)

    def __pow__(self, other):
        if isinstance(other, Tensor):
            return _binary(_POW, "**", self, other)
        if isinstance(other, (numbers.Real, np.generic)) and not isinstance(other, (bool, np.bool_)):
            k = kernel("pow_const", c=float(other))
            return _make1(k.op.forward(AM, self.data, *k._p).astype(self.data.dtype, copy=False),
                          k, self)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_POW, "**", self, other)

    def __rpow__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_POW, "**", other, self)

    def __neg__(self):
        return _make1(-self.data, _NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _make1(np.abs(self.data), _K["abs"], self)

    # Comparisons give boolean arrays (no graph); == stays identity (no
    # __eq__, and the inherited C-level __hash__), since nodes are dict keys
    # in the walker.
    def __lt__(self, other): return self.data < getattr(other, "data", other)
    def __le__(self, other): return self.data <= getattr(other, "data", other)
    def __gt__(self, other): return self.data > getattr(other, "data", other)
    def __ge__(self, other): return self.data >= getattr(other, "data", other)

    # --- elementwise functions (bound from the table) ------------------------
    def tanh(self) -> "Tensor":
        """hyperbolic tangent; local derivative d/da = 1 - tanh²(a)"""
        d = np.tanh(self.data)
        if self.requires_grad and not SPECIAL_THREADS:
            t = _alloc(Tensor)
            t.data = d if d.__class__ is _ndarray else np.asarray(d)
            t.grad = None
            t.label = ""
            t.requires_grad = True
            t._op = _TANH
            t._parents = (self,)
            return t
        return make(d, _TANH, (self,))

    def relu(self) -> "Tensor":
        """max(a, 0) (relu'(0) = 0); local derivative d/da = [a > 0]"""
        return _make1(np.maximum(self.data, 0), _RELU, self)

    def exp(self) -> "Tensor":
        """e ** a; local derivative d/da = exp(a)"""
        return _make1(np.exp(self.data), _EXP, self)

    def leaky_relu(self, alpha: float = 0.01) -> "Tensor":
        return _unary_param(self, "leaky_relu", alpha=_number(alpha, "leaky_relu alpha"))

    def elu(self, alpha: float = 1.0) -> "Tensor":
        return _unary_param(self, "elu", alpha=_number(alpha, "elu alpha"))

    def swish(self, beta: "float | Tensor" = 1.0) -> "Tensor":
        """x * sigmoid(beta * x); beta a number or a (learnable) Tensor."""
        if isinstance(beta, Tensor):
            return _binary(_K["swish"], "swish", self, beta)
        return _unary_param(self, "swish_const", beta=_number(beta, "swish beta"))

    # --- backprop -------------------------------------------------------------
    def _seed(self, grad, what: str):
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"{what}: grad can be omitted only for a one-element output; this "
                    f"Tensor has shape {self.data.shape}: pass grad= an array of that shape")
            s = np.empty(self.data.shape, self.data.dtype)  # np.ones is Python-level: slower
            s.fill(1)
            return s
        g = grad.data if isinstance(grad, Tensor) else grad
        try:
            g = np.asarray(g, dtype=self.data.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"{what}: grad must be numeric, got {type(grad).__name__}") from None
        if g.shape != self.data.shape:
            raise ValueError(f"{what}: grad has shape {g.shape} but the output has shape "
                             f"{self.data.shape}")
        return g

    def backward(self, grad: Any = None) -> None:
        """Backpropagate from this tensor. ``grad`` (d loss / d self) may be
        omitted only for a one-element tensor (it is then 1)."""
        seed = self._seed(grad, "Tensor.backward")
        if not self.requires_grad:
            raise RuntimeError("Tensor.backward: this tensor does not require grad and has "
                               "no graph (create its inputs with requires_grad=True)")
        for _ in walk((self,), (seed,)):
            pass  # pragma: no cover - nothing is yielded without steps

    def backward_steps(self, grad: Any = None):
        """The same pass as :meth:`backward`, one :class:`~autograd.graph.Step`
        per node; exhausting it leaves the same grads."""
        seed = self._seed(grad, "Tensor.backward_steps")
        return walk((self,), (seed,), steps=True)

    def detach(self) -> "Tensor":
        """Same data, no history."""
        t = _plain(self.data)
        t.label = self.label
        return t

    def zero_grad(self) -> None:
        self.grad = None

    # --- hooks for autograd.grad and gradcheck --------------------------------
    def _default_seed(self, what: str, create_graph: bool):
        s = self._seed(None, what)
        return _plain(s) if create_graph else s

    def _coerce_seed(self, g, what: str, create_graph: bool):
        if create_graph and isinstance(g, Tensor):
            if g.data.shape != self.data.shape:
                raise ValueError(f"{what}: grad_outputs has shape {g.data.shape} but the output "
                                 f"has shape {self.data.shape}")
            return g
        s = self._seed(g, what)
        return _plain(s) if create_graph else s

    def _grad_node(self, g, create_graph: bool) -> "Tensor":
        if g is None:
            return _plain(np.zeros_like(self.data))
        if isinstance(g, Tensor):
            return g
        return _plain(np.array(np.broadcast_to(g, self.data.shape), dtype=self.data.dtype))

    def _gc_array(self) -> np.ndarray:
        return np.array(self.data, dtype=np.float64)

    def _gc_leaf(self, arr) -> "Tensor":
        return Tensor(np.array(arr, dtype=np.float64), requires_grad=True, label=self.label)


def _number(x, what: str) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.generic)):
        raise TypeError(f"Tensor {what}: expected a real number, got {type(x).__name__}")
    return float(x)


def _unary_param(t: Tensor, key: str, **params) -> Tensor:
    k = kernel(key, **params)
    return _make1(np.asarray(k.op.forward(AM, t.data, *k._p)).astype(t.data.dtype, copy=False), k, t)


def _bind_unary(key: str) -> Callable:
    k = KERNELS[key]
    f = k.op.forward

    def method(self: Tensor) -> Tensor:
        d = self.data
        return _make1(np.asarray(f(AM, d)).astype(d.dtype, copy=False), k, self)

    method.__name__ = key
    method.__doc__ = f"{OPS[key].doc}; local derivative {OPS[key].rule[0]}"
    return method


for _key in ("log", "sqrt", "sigmoid", "sin", "cos", "erf", "gelu", "silu", "softplus"):
    setattr(Tensor, _key, _bind_unary(_key))


def _calibrate_unique() -> int:
    """The reference count a gradient array has in ``_accumulate_grad`` when
    only the walker's local variable holds it (the interpreter's own count)."""
    seen = []

    class _Probe:
        def _accumulate_grad(self, g):
            seen.append(_getrefcount(g))

    def walker_like(node, acc):
        g = acc.pop(node, None)
        node._accumulate_grad(g)

    p = _Probe()
    walker_like(p, {p: np.ones(1)})
    return seen[0]


_UNIQUE = _calibrate_unique()

from . import tensor_ops as _tensor_ops  # noqa: E402,F401  (structural ops and their methods)
from . import functional as _functional  # noqa: E402,F401  (fused softmax / losses)
