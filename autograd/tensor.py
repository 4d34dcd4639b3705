"""Tensor: a numpy array that records the computation graph.

Every op comes from the table (:mod:`autograd.ops`) through a kernel bound to
arrays (:data:`autograd.kernel.ARRAY`); the structural ops (matmul,
reductions, reshapes, indexing, joins) are rows registered by
:mod:`autograd.tensor_ops`, whose functions the methods below call; every
result goes through one constructor, :func:`_record`, which alone reads the
mode. The backward pass is :mod:`autograd.graph`'s.

Semantics (PyTorch's): a result records a graph only when recording is on
and one of its inputs ``requires_grad``; otherwise it is a plain leaf.
Floating arrays keep their dtype (float32 stays float32 through every op,
with Python and numpy scalars); other data becomes float32. Integer and bool
tensors (``Tensor(..., dtype=np.int64)``) stay integer under ``+ - *``,
``neg``, ``abs`` and ``relu``; real-valued ops (``/``, ``sigmoid``,
``log``...) promote them to float32, as PyTorch does, never truncate. Data
is not copied: ``Tensor(arr)`` shares ``arr``.

Gradient buffers: a leaf owns its ``.grad``. On the first pass it takes the
incoming array when the walker says no other leaf or caller holds it (a
fresh ``x.T @ g``), else a copy; later passes add into it in place. Kernels
may pass arrays through (``+`` hands ``g`` to both operands, ``reshape`` a
view), so nothing else is ever written in place.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tensor_ops as _ops
from .graph import Node, next_leaf_number, walk
from .graph import backward as _backward_pass
from .kernel import ARRAY, ConstKernels, Kernel, kernel, spell_method
from .mode import ACTIVE, DEFAULT, current, finish_node
from .ops import OPS, ArrayMath

__all__ = ["Tensor", "concatenate", "stack", "where", "einsum"]

_alloc = object.__new__
_ndarray = np.ndarray
DEFAULT_FLOAT = np.float32


# --------------------------------------------------------------------------
# The constructor
# --------------------------------------------------------------------------
def _record(data, kern, parents: tuple) -> Tensor:
    """The one way a Tensor result is made: a recorded node when recording
    is on and a parent requires grad, else a plain leaf. numpy gives scalars
    for 0-d results: data is always an ndarray."""
    if not parents[0].requires_grad:  # (the first operand usually decides: one test)
        for p in parents:
            if p.requires_grad:
                break
        else:
            return _plain(data)
    t = _alloc(Tensor)
    t.data = data if data.__class__ is _ndarray else np.asarray(data)
    t.grad = None
    t.label = ""
    t._pending = 0
    t._scope = None
    t._made = _CHANGES[0]
    if ACTIVE:
        m = current()
        if not m.record:
            t.requires_grad = False
            t._op = None
            t._parents = ()
            return t
        t.requires_grad = True
        t._op = kern
        t._parents = parents
        if m is not DEFAULT:
            finish_node(t, m)
        return t
    t.requires_grad = True
    t._op = kern
    t._parents = parents
    return t


class GraphChangedError(RuntimeError):
    """backward() over a graph whose saved data was changed in place after it
    was recorded: the gradients would be computed from the new values."""


#: How many in-place changes of Tensor data there have been (``p -= ...`` under
#: no_grad(), an optimiser's step): a result records the count when it is made,
#: a changed tensor the count of its change (``_made``, ``_changed``), so that
#: backward() can refuse a graph whose saved values changed after it was built
#: (its gradients would be computed from the new values: wrong, silently). One
#: comparison per node when nothing changed; no per-tensor counter to keep.
_CHANGES = [0]


def mark_changed(t: Tensor) -> None:
    """Record that ``t``'s data was changed in place (after the graphs built on it)."""
    _CHANGES[0] += 1
    t._changed = _CHANGES[0]


def _plain(data) -> Tensor:
    t = _alloc(Tensor)
    t.data = data if data.__class__ is _ndarray else np.asarray(data)
    t.grad = None
    t.label = ""
    t.requires_grad = False
    t._op = None
    t._parents = ()
    return t


def _as_array(data, dtype=None, what: str = "Tensor") -> np.ndarray:
    """numpy array for Tensor data: floating numpy arrays keep their dtype,
    anything else (Python numbers, lists, integer arrays) becomes float32 (or
    ``dtype``); strings, objects and ragged lists are a TypeError naming
    Tensor."""
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
        return arr.astype(DEFAULT_FLOAT)
    return arr


def _const(x: Any) -> float | None:
    """A Python or numpy real scalar as a float (kept in the op), else None."""
    cls = x.__class__
    if cls is float or cls is int:
        return float(x)
    if (isinstance(x, (numbers.Real, np.integer, np.floating))
            and not isinstance(x, (bool, np.bool_))):
        return float(x)
    return None


def _operand(x, like: Tensor):
    """The other operand of a binary op as a Tensor (arrays, lists, 0-d
    arrays in ``like``'s dtype), or NotImplemented."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.ndim == 0 and x.dtype.kind in "fiu":
            return _plain(x.astype(like.data.dtype))
        return _plain(_as_array(x))
    if isinstance(x, (list, tuple)):
        return _plain(_as_array(x))
    if _const(x) is not None:
        return _plain(np.asarray(x, dtype=like.data.dtype))
    if isinstance(x, Node):  # a Value: the two engines' graphs do not mix
        raise TypeError(f"a Tensor of shape {like.data.shape} and a {type(x).__name__} in one op: "
                        f"a graph is built of Tensors or of Values, not both; use "
                        f"Tensor(v.data) for a constant, or Tensors throughout")
    return NotImplemented


def _floating(d: np.ndarray) -> np.ndarray:
    """Integer and bool data promoted to the default float dtype."""
    return d if d.dtype.kind == "f" else d.astype(DEFAULT_FLOAT)


def _bcast_error(opname: str, a, b) -> ValueError:
    return ValueError(f"Tensor {opname}: operand shapes {a.data.shape} and {b.data.shape} "
                      f"do not broadcast")


def _number(x, what: str) -> float:
    c = _const(x)
    if c is None:
        raise TypeError(f"Tensor {what}: expected a real number, got {type(x).__name__}")
    return c


_ADD, _SUB, _MUL, _DIV, _POW, _NEG, _SWISH = (
    kernel(k, ARRAY) for k in ("add", "sub", "mul", "div", "pow", "neg", "swish"))
_ADDC, _SUBC, _RSUBC, _MULC, _DIVC, _RDIVC, _POWC, _RPOWC = (
    ConstKernels(k, ARRAY) for k in ("add_const", "sub_const", "rsub_const", "mul_const",
                                     "div_const", "rdiv_const", "pow_const", "rpow_const"))
#: Ops closed on integers (numpy and PyTorch keep an integer dtype); every
#: other elementwise op promotes integer data to float32.
_INTEGER_CLOSED = frozenset({"add", "sub", "mul", "neg", "abs", "relu", "add_const",
                             "sub_const", "rsub_const", "mul_const", "sign", "floor", "ceil",
                             "round", "relu6"})


def _binary(kern, sym: str, a: Tensor, b: Tensor) -> Tensor:
    ad, bd = a.data, b.data
    if kern.op.key not in _INTEGER_CLOSED:
        ad, bd = _floating(ad), _floating(bd)
    try:
        d = kern.op.forward(ArrayMath, ad, bd)
    except ValueError:
        raise _bcast_error(sym, a, b) from None
    return _record(d, kern, (a, b))


def _with_const(consts: ConstKernels, a: Tensor, c: float) -> Tensor:
    k = consts.cache.get(c) or consts.make(c)
    d = a.data
    if (consts.op.key not in _INTEGER_CLOSED
            or (consts.op.key == "mul_const" and not c.is_integer())):
        d = _floating(d)
    elif d.dtype.kind != "f" and c.is_integer():
        c = int(c)  # 3 * int array stays an int array
    return _record(np.asarray(consts.op.forward(ArrayMath, d, c)), k, (a,))


def _minmax(key: str, a: Tensor, b) -> Tensor:
    other = _operand(b, a)
    if other is NotImplemented:
        raise TypeError(f"Tensor.{key}: other must be a Tensor, an array or a number, "
                        f"got {type(b).__name__}")
    k = kernel(key, ARRAY)
    ad, bd = a.data, other.data
    if ad.dtype.kind != "f" and bd.dtype.kind != "f":  # integers stay integers
        return _plain(getattr(np, key)(ad, bd))
    ad, bd = _floating(ad), _floating(bd)
    try:
        d = k.op.forward(ArrayMath, ad, bd)
    except ValueError:
        raise _bcast_error(key, a, other) from None
    return _record(d, k, (a, other))


def _compare(ufunc, a: Tensor, b) -> Tensor:
    bd = b.data if isinstance(b, Tensor) else np.asarray(b)
    try:
        return _plain(ufunc(a.data, bd))
    except ValueError:
        raise ValueError(f"Tensor.{ufunc.__name__}: operand shapes {a.data.shape} and "
                         f"{np.shape(bd)} do not broadcast") from None


def where(cond, a, b) -> Tensor:
    """``a`` where ``cond`` holds, else ``b`` (numpy broadcasting; ``cond`` a
    boolean array or Tensor, no gradient). The gradient goes to ``a`` where
    cond holds and to ``b`` elsewhere."""
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype.kind not in "bfiu":
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is None:
        like = _plain(_floating(np.asarray(a)))
    at = a if isinstance(a, Tensor) else _operand(a, like)
    bt = b if isinstance(b, Tensor) else _operand(b, like)
    if at is NotImplemented or bt is NotImplemented:
        raise TypeError(f"where: a and b must be Tensors, arrays or numbers, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    ad, bd = _floating(at.data), _floating(bt.data)
    try:
        shape = np.broadcast_shapes(c.shape, ad.shape, bd.shape)
    except ValueError:
        raise ValueError(f"where: shapes {c.shape} (cond), {ad.shape} (a) and {bd.shape} (b) "
                         f"do not broadcast") from None
    dt = np.result_type(ad, bd)
    mask = np.broadcast_to(c != 0, shape).astype(dt)
    k = kernel("select", ARRAY, mask=mask)
    return _record(np.where(mask > 0, ad, bd).astype(dt, copy=False), k, (at, bt))


def _method(key: str) -> Callable:
    """The Tensor method of table row ``key`` (spelled by the row)."""
    op = OPS[key]
    f = op.forward
    promote = key not in _INTEGER_CLOSED
    k = kernel(key, ARRAY)
    direct = op.fast.get("array_forward")  # the row's own fast forward, if it has one
    forward = direct if direct is not None else (lambda d: f(ArrayMath, d))

    def plain(self):
        d = self.data
        if promote and d.dtype.kind != "f":
            d = d.astype(DEFAULT_FLOAT)
        r = forward(d)
        if r.__class__ is not _ndarray or r.dtype is not d.dtype:  # 0-d scalars, promotion
            r = np.asarray(r).astype(d.dtype, copy=False)
        return _record(r, k, (self,))

    def with_params(self, params):
        kp = kernel(key, ARRAY, **params)
        d = _floating(self.data)
        return _record(np.asarray(f(ArrayMath, d, *kp.args)).astype(d.dtype, copy=False),
                       kp, (self,))
    return spell_method(op, plain, with_params, _number)


# --------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------
_EQ_HELP = ("Tensor {op} compares nodes by identity (nodes are dict keys), not elementwise: "
            "use t.{fn}(other) for a bool Tensor, or t.data {op} other for a numpy array")


class Tensor(Node):
    """A numpy array node of a computation graph.

    >>> import numpy as np
    >>> x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    array([ 2., -4.,  6.])
    """

    # _ctx (saved forward arrays, fused ops only; a leaf's creation number) and
    # _site (creation sites) are set only on the nodes that need them; _scope
    # (module-call records) is None on every result, as for Value.
    __slots__ = ("data", "grad", "label", "requires_grad", "_op", "_parents", "_pending", "_ctx",
                 "_site", "_scope", "_made", "_changed", "__weakref__")
    data: np.ndarray
    grad: Any
    label: str
    requires_grad: bool
    _op: Kernel | None
    _parents: tuple[Tensor, ...]
    _pending: int        # the fast pass's count of uses not yet sent
    _made: int           # (results) the count of in-place changes when it was made
    _changed: int        # (changed tensors) the count of its last in-place change
    _ctx: Any
    _site: str
    _scope: list | None
    __array_priority__ = 1000.0  # ndarray + Tensor -> Tensor.__radd__
    __array_ufunc__ = None       # and numpy ufuncs do not swallow Tensors

    def __init__(self, data: Any, requires_grad: bool = False, label: str = "",
                 dtype: Any = None) -> None:
        arr = _as_array(data, dtype)
        if not isinstance(label, str):
            raise TypeError(f"Tensor label must be a str, got {type(label).__name__}")
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require grad, got dtype {arr.dtype}")
        self.data = arr
        self.grad = None
        self.label = label
        self.requires_grad = bool(requires_grad)
        self._op = None
        self._parents = ()
        self._ctx = next_leaf_number()  # its creation number (Node.creation_index)

    # --- array facts -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (no graph)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

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

    # --- in place: p -= lr * p.grad ---------------------------------------------
    # Under no_grad() (an optimiser's step), in place on the data, as PyTorch
    # does: `for p in model.parameters(): p -= lr * p.grad` rebound the loop
    # variable and left the model as it was. With gradients on, a leaf that
    # requires grad is refused (the update would be recorded, not applied);
    # anything else builds a new node, as `a = a + b` does.
    def _in_place(self, other, name: str, update: Callable, out_of_place: Callable):
        if current().record:
            if not self._parents and self.requires_grad:
                raise RuntimeError(
                    f"Tensor {name}=: a leaf that requires grad (a parameter) cannot be updated "
                    f"in place while gradients are recorded; do it under autograd.no_grad() "
                    f"(as an optimiser's step does) or on its .data")
            return out_of_place(self, other)
        arr = other.data if isinstance(other, Node) else other
        try:
            update(self.data, arr, out=self.data, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise ValueError(f"Tensor {name}= in place: {type(e).__name__}: {e} (the tensor has "
                             f"shape {self.data.shape}, dtype {self.data.dtype})") from None
        mark_changed(self)
        return self

    def _stale_check(self) -> None:
        """Before this node's rule runs in a backward pass: refuse if its own
        data or an operand's was changed in place after it was made."""
        made = self._made
        if _CHANGES[0] == made:  # nothing changed anywhere since: the usual case
            return
        for i, t in enumerate((self, *self._parents)):
            if getattr(t, "_changed", 0) > made:
                who = repr(t.label) if t.label else f"a tensor of shape {t.data.shape}"
                what = (f"its output {who}" if i == 0 else f"its input {i - 1}, {who},")
                site = getattr(self, "_site", None)
                raise GraphChangedError(
                    f"backward: op {self.op!r}"
                    + (f" (created at {site})" if site else "")
                    + f": {what} was changed in place after the op was recorded (p -= ... "
                    f"under no_grad(), an optimiser's step); its gradient would be computed "
                    f"from the new values. Build the graph again after the change (PyTorch "
                    f"refuses this too)")

    def __iadd__(self, other):
        return self._in_place(other, "+", np.add, Tensor.__add__)

    def __isub__(self, other):
        return self._in_place(other, "-", np.subtract, Tensor.__sub__)

    def __imul__(self, other):
        return self._in_place(other, "*", np.multiply, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._in_place(other, "/", np.true_divide, Tensor.__truediv__)

    # --- arithmetic: a Tensor, an array or a number on either side -------------
    def __add__(self, other):
        if other.__class__ is Tensor:
            try:
                d = self.data + other.data
            except ValueError:
                raise _bcast_error("+", self, other) from None
            return _record(d, _ADD, (self, other))
        c = _const(other)
        if c is not None:
            return _with_const(_ADDC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else self.__add__(other)

    def __radd__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_ADDC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__add__(self)

    def __sub__(self, other):
        if other.__class__ is Tensor:
            return _binary(_SUB, "-", self, other)
        c = _const(other)
        if c is not None:
            return _with_const(_SUBC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_SUB, "-", self, other)

    def __rsub__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_RSUBC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_SUB, "-", other, self)

    def __mul__(self, other):
        if other.__class__ is Tensor:
            try:
                d = self.data * other.data
            except ValueError:
                raise _bcast_error("*", self, other) from None
            return _record(d, _MUL, (self, other))
        c = _const(other)
        if c is not None:
            return _with_const(_MULC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else self.__mul__(other)

    def __rmul__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_MULC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else other.__mul__(self)

    def __truediv__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_DIVC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_DIV, "/", self, other)

    def __rtruediv__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_RDIVC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_DIV, "/", other, self)

    def __pow__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_POWC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_POW, "**", self, other)

    def __rpow__(self, other):
        c = _const(other)
        if c is not None:
            return _with_const(_RPOWC, self, c)
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _binary(_POW, "**", other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, _operand(other, self))

    def __rmatmul__(self, other):
        other = _operand(other, self)
        return NotImplemented if other is NotImplemented else _ops.matmul(other, self)

    def __neg__(self):
        return _record(-self.data, _NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    # Comparisons give boolean arrays (no graph). == between nodes stays
    # identity, since nodes are dict keys in the walker (hash by id); == with
    # an array or a number is an error rather than a silent False (the
    # accuracy line `np.mean(pred == y)` gave 0.0): t.eq(y) is elementwise.
    def __eq__(self, other):
        if other is None or isinstance(other, Node):
            return self is other
        raise TypeError(_EQ_HELP.format(op="==", fn="eq"))

    def __ne__(self, other):
        if other is None or isinstance(other, Node):
            return self is not other
        raise TypeError(_EQ_HELP.format(op="!=", fn="ne"))

    __hash__ = object.__hash__

    def __lt__(self, other): return self.data < getattr(other, "data", other)
    def __le__(self, other): return self.data <= getattr(other, "data", other)
    def __gt__(self, other): return self.data > getattr(other, "data", other)
    def __ge__(self, other): return self.data >= getattr(other, "data", other)

    # --- elementwise functions: one line each, spelled by the table's rows -------
    neg = _method("neg")
    abs = _method("abs")
    exp = _method("exp")
    log = _method("log")
    sqrt = _method("sqrt")
    tanh = _method("tanh")
    sigmoid = _method("sigmoid")
    relu = _method("relu")
    sin = _method("sin")
    cos = _method("cos")
    erf = _method("erf")
    gelu = _method("gelu")
    silu = _method("silu")
    softplus = _method("softplus")
    leaky_relu = _method("leaky_relu")
    elu = _method("elu")
    _swish_const = _method("swish_const")
    tan = _method("tan")
    arcsin = _method("arcsin")
    arccos = _method("arccos")
    arctan = _method("arctan")
    sinh = _method("sinh")
    cosh = _method("cosh")
    log2 = _method("log2")
    log10 = _method("log10")
    exp2 = _method("exp2")
    log1p = _method("log1p")
    expm1 = _method("expm1")
    rsqrt = _method("rsqrt")
    sign = _method("sign")
    floor = _method("floor")
    ceil = _method("ceil")
    round = _method("round")
    selu = _method("selu")
    celu = _method("celu")
    mish = _method("mish")
    hardswish = _method("hardswish")
    hardsigmoid = _method("hardsigmoid")
    relu6 = _method("relu6")
    softsign = _method("softsign")
    logsigmoid = _method("logsigmoid")
    asin, acos, atan = arcsin, arccos, arctan   # PyTorch's spellings

    def clip(self, min=None, max=None) -> Tensor:
        lo = -np.inf if min is None else _number(min, "clip min")
        hi = np.inf if max is None else _number(max, "clip max")
        d = self.data
        if d.dtype.kind != "f":  # integers stay integers (no gradient anyway)
            return _plain(np.clip(d, None if min is None else lo,
                                  None if max is None else hi).astype(d.dtype))
        k = kernel("clip", ARRAY, bounds=(lo, hi))
        return _record(ArrayMath.clip(d, lo, hi), k, (self,))
    clip.__doc__ = (f"{OPS['clip'].doc}; None: no bound; local derivative "
                    f"{OPS['clip'].rule[0]}")
    clamp = clip

    def maximum(self, other) -> Tensor:
        """The elementwise larger of self and other (ties share the gradient)."""
        return _minmax("maximum", self, other)

    def minimum(self, other) -> Tensor:
        """The elementwise smaller of self and other (ties share the gradient)."""
        return _minmax("minimum", self, other)

    # PyTorch's comparison methods: boolean Tensors, no graph
    def eq(self, other) -> Tensor: return _compare(np.equal, self, other)
    def ne(self, other) -> Tensor: return _compare(np.not_equal, self, other)
    def lt(self, other) -> Tensor: return _compare(np.less, self, other)
    def le(self, other) -> Tensor: return _compare(np.less_equal, self, other)
    def gt(self, other) -> Tensor: return _compare(np.greater, self, other)
    def ge(self, other) -> Tensor: return _compare(np.greater_equal, self, other)

    def swish(self, beta: float | Tensor = 1.0) -> Tensor:
        """x * sigmoid(beta * x); beta a number or a (learnable) Tensor."""
        if isinstance(beta, Tensor):
            return _binary(_SWISH, "swish", self, beta)
        return self._swish_const(beta)

    # --- structural ops (rows and rules in autograd.tensor_ops) ------------------
    def sum(self, axis=None, keepdims=False) -> Tensor:
        """Sum over ``axis`` (None: all, an int, or a tuple), keeping reduced
        axes as size 1 when ``keepdims``."""
        return _ops.reduce(self, "sum", axis, keepdims)

    def mean(self, axis=None, keepdims=False) -> Tensor:
        """Mean over ``axis`` (None, int or tuple)."""
        return _ops.reduce(self, "mean", axis, keepdims)

    def max(self, axis=None, keepdims=False) -> Tensor:
        """Maximum over ``axis`` (None, int or tuple); ties share the gradient."""
        return _ops.reduce(self, "max", axis, keepdims)

    def min(self, axis=None, keepdims=False) -> Tensor:
        """Minimum over ``axis`` (None, int or tuple); ties share the gradient."""
        return _ops.reduce(self, "min", axis, keepdims)

    def prod(self, axis=None, keepdims=False) -> Tensor:
        """Product over ``axis`` (None, int or tuple); the gradient is exact at zeros."""
        return _ops.reduce(self, "prod", axis, keepdims)

    def logsumexp(self, axis=None, keepdims=False) -> Tensor:
        """log(sum(exp(x))) over ``axis``, stable for any magnitude."""
        return _ops.reduce(self, "logsumexp", axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0) -> Tensor:
        """Variance over ``axis``, dividing by n - ``ddof`` (numpy's default 0;
        PyTorch's default is ddof=1, its ``correction``)."""
        return _ops.moments(self, "var", axis, keepdims, ddof)

    def std(self, axis=None, keepdims=False, ddof=0) -> Tensor:
        """Standard deviation over ``axis`` (``ddof`` as in :meth:`var`)."""
        return _ops.moments(self, "std", axis, keepdims, ddof)

    def argmax(self, axis=None, keepdims=False) -> Tensor:
        """Index of the maximum (flat when axis is None): int64, no gradient."""
        return _ops.arg_reduce(self, "argmax", axis, keepdims)

    def argmin(self, axis=None, keepdims=False) -> Tensor:
        """Index of the minimum (flat when axis is None): int64, no gradient."""
        return _ops.arg_reduce(self, "argmin", axis, keepdims)

    def cumsum(self, axis=None) -> Tensor:
        """Running sum along ``axis`` (None: over the flattened tensor, as numpy)."""
        return _ops.cumulative(self, "cumsum", axis)

    def cumprod(self, axis=None) -> Tensor:
        """Running product along ``axis`` (None: flattened); exact gradient at zeros."""
        return _ops.cumulative(self, "cumprod", axis)

    def reshape(self, *shape) -> Tensor:
        """Same elements in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one -1."""
        return _ops.reshape(self, shape)

    def transpose(self, *axes) -> Tensor:
        """Permute the axes (reversed when none are given), as numpy's transpose."""
        return _ops.transpose(self, axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes."""
        return _ops.swapaxes(self, axis1, axis2)

    def broadcast_to(self, shape) -> Tensor:
        """A read-only broadcast view of ``shape``; the gradient is summed back."""
        return _ops.broadcast_to(self, shape)

    def squeeze(self, axis=None) -> Tensor:
        """Drop size-1 axes (all, or ``axis``: an int or tuple whose axes have size 1)."""
        return _ops.squeeze(self, axis)

    def unsqueeze(self, axis) -> Tensor:
        """Insert a size-1 axis at ``axis`` (an int or tuple; numpy's expand_dims)."""
        return _ops.unsqueeze(self, axis)

    expand_dims = unsqueeze

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes ``start_dim``..``end_dim`` into one (PyTorch's flatten)."""
        return _ops.flatten(self, start_dim, end_dim)

    def flip(self, axis=None) -> Tensor:
        """Reverse the order along ``axis`` (an int or tuple; None: every axis)."""
        return _ops.flip(self, axis)

    def expand(self, *sizes) -> Tensor:
        """PyTorch's expand: broadcast to ``sizes``, -1 keeping an axis's size."""
        return _ops.expand(self, sizes)

    def tile(self, reps) -> Tensor:
        """The whole tensor repeated ``reps`` times per axis (numpy's tile;
        this is what PyTorch calls ``repeat``)."""
        return _ops.tile(self, reps)

    def repeat(self, repeats, axis=None) -> Tensor:
        """Each element repeated ``repeats`` times along ``axis`` (numpy's
        repeat, PyTorch's ``repeat_interleave``; PyTorch's ``repeat`` is :meth:`tile`)."""
        return _ops.repeat(self, repeats, axis)

    repeat_interleave = repeat

    def pad(self, pad_width, value: float = 0.0) -> Tensor:
        """Constant padding, numpy's ``pad_width`` (an int, (before, after), or
        one pair per axis); the gradient drops the padding."""
        return _ops.pad(self, pad_width, value)

    def take_along_axis(self, indices, axis: int) -> Tensor:
        """numpy's take_along_axis (indices broadcast outside ``axis``)."""
        return _ops.take_along_axis(self, indices, axis)

    def gather(self, axis: int, index) -> Tensor:
        """PyTorch's gather (``index`` may be smaller outside ``axis``)."""
        return _ops.gather(self, axis, index)

    @property
    def T(self) -> Tensor:
        """The axes reversed (``transpose()``)."""
        return _ops.transpose(self, ())

    def __getitem__(self, idx) -> Tensor:
        return _ops.getitem(self, idx)

    # --- backprop ---------------------------------------------------------------
    def _seed(self, grad, what: str):
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"{what}: grad can be omitted only for a one-element output; this "
                    f"Tensor has shape {self.data.shape}: pass "
                    f"{'grad_outputs' if what == 'grad' else 'grad'}= an array of that shape")
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
                               "no graph: it was computed under no_grad() or detached, or "
                               "none of its inputs requires grad (create them with "
                               "requires_grad=True)")
        _backward_pass((self,), (seed,))

    def backward_steps(self, grad: Any = None):
        """The same pass as :meth:`backward`, one :class:`~autograd.graph.Step`
        per node; exhausting it leaves the same grads."""
        seed = self._seed(grad, "Tensor.backward_steps")
        return walk((self,), (seed,))

    def detach(self) -> Tensor:
        """Same data, no history."""
        t = _plain(self.data)
        t.label = self.label
        return t

    def zero_grad(self) -> None:
        self.grad = None

    # --- what the walker, grad() and gradcheck ask of a node -----------------
    #: The fast pass adds every contribution straight into ``.grad``
    #: (see :func:`autograd.graph.backward`).
    _leaf_grads_in_place = False

    def _accumulate_grad(self, g, handed: set | None = None) -> None:
        """Leaves: add ``g`` into ``.grad``. ``handed`` holds the ids of the
        arrays the walker already gave out in this pass (and its seeds): an
        array not among them and not a view is taken as it is, else copied."""
        if not self.requires_grad:
            return
        cur = self.grad
        d = self.data
        if cur is None:
            if (handed is not None and g.__class__ is _ndarray and g.base is None
                    and id(g) not in handed and g.flags.writeable and g.dtype == d.dtype
                    and g.shape == d.shape):
                handed.add(id(g))
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

    def _constant(self, data) -> Tensor:
        arr = np.asarray(data)
        if arr.dtype.kind in "fiub":
            arr = arr.astype(self.data.dtype, copy=False)
        return _plain(arr)

    def _record(self, data, kern, parents: tuple) -> Tensor:
        """The constructor, for the structural ops in :mod:`autograd.tensor_ops`."""
        return _record(data, kern, parents)

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

    def _grad_node(self, g, create_graph: bool) -> Tensor:
        if g is None:
            return _plain(np.zeros_like(self.data))
        if isinstance(g, Tensor):
            return g
        return _plain(np.array(np.broadcast_to(g, self.data.shape), dtype=self.data.dtype))

    def _gc_array(self) -> np.ndarray:
        return np.array(self.data, dtype=np.float64)

    def _gc_leaf(self, arr) -> Tensor:
        return Tensor(np.array(arr, dtype=np.float64), requires_grad=True, label=self.label)


def _join_inputs(seq, opname: str) -> list:
    if isinstance(seq, (Tensor, np.ndarray)) or not hasattr(seq, "__iter__"):
        raise TypeError(f"{opname}: expected a sequence of Tensors, got {type(seq).__name__}")
    ts = list(seq)
    if not ts:
        raise ValueError(f"{opname}: needs at least one tensor")
    first = next((t for t in ts if isinstance(t, Tensor)), None)
    return [t if isinstance(t, Tensor) else
            (_plain(np.asarray(t, dtype=first.data.dtype)) if first is not None else Tensor(t))
            for t in ts]


def concatenate(seq, axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (gradients are split back)."""
    return _ops.concatenate(_join_inputs(seq, "concatenate"), axis)


def einsum(subscripts: str, *operands) -> Tensor:
    """numpy's einsum (any subscripts: repeated letters, ``...``, implicit
    output), differentiable in every Tensor operand."""
    return _ops.einsum(subscripts, *operands)


def stack(seq, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    return _ops.stack(_join_inputs(seq, "stack"), axis)
