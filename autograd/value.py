"""Value: a scalar that records the computation graph (pure Python floats).

Every op comes from the table (:mod:`autograd.ops`) through a kernel bound to
floats (:data:`autograd.kernel.FLOAT`); every result goes through one
constructor, :func:`_record`, which alone reads the mode (``no_grad``,
anomaly checks, creation sites). A Python number on either side of an
operator is kept inside the op as a constant (``x * 3`` is one node, op
``*``, with ``c = 3``), not made into a new leaf: fewer objects per node,
so long chains build fast and stay small.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from .graph import Node, next_leaf_number, walk
from .graph import backward as _backward_pass
from .kernel import FLOAT, ConstKernels, Kernel, kernel, spell_method
from .mode import ACTIVE, DEFAULT, current, finish_node
from .ops import OPS, FloatMath
from .rulecode import inline_forward

__all__ = ["Value", "wsum"]

_alloc = object.__new__
_INF = float("inf")
_div = FloatMath.div
_pow = FloatMath.pow


# --------------------------------------------------------------------------
# The constructor
# --------------------------------------------------------------------------
def _record(data: float, kern, parents: tuple) -> Value:
    """The one way a Value result is made."""
    v = _alloc(Value)
    v.data = data
    v.grad = 0.0
    v._pending = 0
    v._scope = None
    if ACTIVE:  # some context somewhere is in a non-default mode: ask ours
        return _finish(v, kern, parents)
    v._op = kern
    v._parents = parents
    return v


def _finish(v: Value, kern, parents: tuple) -> Value:
    m = current()
    if not m.record:  # computed under no_grad(): a constant, as PyTorch has it
        v._op = None
        v._parents = ()
        v._ctx = 0
        return v
    v._op = kern
    v._parents = parents
    if m is not DEFAULT:
        finish_node(v, m)
    return v


def _leaf(x: float) -> Value:
    """A constant leaf the engine makes (a number wrapped for an op, a seed, a
    create_graph constant, ``detach()``): it wants no gradient."""
    v = _alloc(Value)
    v.data = x
    v.grad = 0.0
    v._op = None
    v._parents = ()
    v._ctx = 0  # a constant without a creation number (see Value.__init__)
    return v


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"Value {what}: expected a real number, got {type(x).__name__}")
    return float(x)


def _not_a_number(x: Any, op: str):
    """Python's fallback for an operand that is not a number or a Value,
    except for arrays, which get a message (a Value holds one number)."""
    if not isinstance(x, Node) and (hasattr(x, "shape") or isinstance(x, (list, tuple))):
        what = f"an array of shape {x.shape}" if hasattr(x, "shape") else \
            f"a {type(x).__name__} of {len(x)} items"
        raise TypeError(f"Value {op}: the other operand is {what}; a Value holds one number "
                        f"(use Tensor for arrays, or Values one by one)")
    return NotImplemented


def _const(x: Any) -> float | None:
    """A plain number as a float, else None."""
    cls = x.__class__
    if cls is float:
        return x
    if cls is int or (isinstance(x, numbers.Real) and cls is not bool
                      and not isinstance(x, bool)):
        return float(x)
    if getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", "?") in "fiu":
        return float(x)  # a 0-d numpy array: one number, as numpy scalars are
    return None


_ADD, _SUB, _MUL, _DIV, _POW = (kernel(k, FLOAT) for k in ("add", "sub", "mul", "div", "pow"))
_NEG, _ABS, _WSUM, _SWISH = (kernel(k, FLOAT) for k in ("neg", "abs", "wsum", "swish"))
_ADDC, _SUBC, _RSUBC, _MULC, _DIVC, _RDIVC, _POWC, _RPOWC = (
    ConstKernels(k, FLOAT) for k in ("add_const", "sub_const", "rsub_const", "mul_const",
                                     "div_const", "rdiv_const", "pow_const", "rpow_const"))
# their caches' lookups, bound once (a cache is cleared in place, never replaced)
_addc_get, _subc_get, _rsubc_get, _mulc_get, _divc_get, _rdivc_get, _powc_get, _rpowc_get = (
    k.cache.get for k in (_ADDC, _SUBC, _RSUBC, _MULC, _DIVC, _RDIVC, _POWC, _RPOWC))


def _method(key: str) -> Callable:
    """The Value method of table row ``key`` (spelled by the row)."""
    op = OPS[key]
    f = op.forward
    k = kernel(key, FLOAT)
    direct: Any = op.fast.get("float_forward")  # the row's own fast forward, if it has one
    plain: Callable
    if getattr(direct, "expr", None) is not None:  # written as text: inlined
        plain = inline_forward(direct, _record, k, op.method or key)
    elif direct is not None:
        def plain(self):
            return _record(direct(self.data), k, (self,))
    else:
        def plain(self):
            return _record(f(FloatMath, self.data), k, (self,))

    def with_params(self, params):
        kp = kernel(key, FLOAT, **params)
        return _record(f(FloatMath, self.data, *kp.args), kp, (self,))
    return spell_method(op, plain, with_params, _number)


# --------------------------------------------------------------------------
# Value
# --------------------------------------------------------------------------
class Value(Node):
    """A scalar node of a computation graph.

    >>> price, count, tax = Value(15.0, label="price"), Value(2), Value(1.1)
    >>> total = price * count * tax
    >>> total.backward(); round(price.grad, 12)
    2.2
    """

    # _ctx: a custom Function's saved values; on a leaf, its creation number
    # (negative for a constant, 0 for a constant the engine made). _label and
    # _site (creation sites) are set only on the nodes that have one: every
    # slot the constructor stores costs every op. _scope (the records of the
    # module calls that returned the node, see viz.scope) is None on every
    # result: a module call reads it for each output, and reading an unset
    # slot (an exception inside getattr) cost 170 ns more, 4% of the demo step.
    __slots__ = ("data", "grad", "_label", "_op", "_parents", "_pending", "_ctx", "_site",
                 "_scope", "__weakref__")
    data: float
    grad: float
    _label: str
    _op: Kernel | None
    _parents: tuple[Value, ...]
    _pending: int        # the fast pass's count of uses not yet sent
    _ctx: Any
    _site: str
    _scope: list | None

    def __init__(self, data: float, label: str = "", requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            data = data.data
        elif isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(
                f"Value(data) needs a real number, got {type(data).__name__}"
                + (" (use Tensor for arrays)" if hasattr(data, "__len__") else ""))
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        if requires_grad is not True and requires_grad is not False:
            raise TypeError("Value requires_grad must be True or False, got "
                            f"{type(requires_grad).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._label = label
        self._op = None
        self._parents = ()
        n = next_leaf_number()
        self._ctx = n if requires_grad else -n  # its creation number; negative: a constant

    @property
    def label(self) -> str:
        """The node's name in diagrams, the step page and messages ("" for
        none). Results start without one (the constructor stores nothing for
        it: a store per op is the price of a slot's default)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, text: str) -> None:
        self._label = text

    @property
    def requires_grad(self) -> bool:
        """False for a constant: a leaf made with ``Value(x, requires_grad=False)``
        (a loss's target, a fixed coefficient). Diagrams draw it as a constant
        and show no gradient for it; ``backward()`` still adds into its
        ``grad`` (cheaply) but nothing reads it. Results of ops report True."""
        n = getattr(self, "_ctx", None) if not self._parents else None
        return n.__class__ is not int or n > 0

    def __repr__(self) -> str:
        lab = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op is not None else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{lab}{op})"

    def __float__(self) -> float:
        return self.data

    def item(self) -> float:
        """The number, as ``Tensor.item()`` gives it (``float(v)`` too)."""
        return self.data

    # numpy: `array * Value` is refused (a TypeError) rather than made into an
    # object array of Values; numpy scalars still work as constants.
    __array_ufunc__ = None

    # --- in place: p -= lr * p.grad --------------------------------------------
    # Under no_grad() (an optimiser's step) a leaf is updated in place, as a
    # Tensor is: `for p in model.parameters(): p -= lr * p.grad` used to rebind
    # the loop variable and leave the model as it was. Otherwise a new node is
    # built, as `a = a - b` does: with gradients on, `acc += x` is how graphs
    # are summed (micrograd's style), and the result of an op keeps its data,
    # which its graph's rules read.
    def _in_place(self, other, update: Callable, out_of_place: Callable):
        if ACTIVE and not self._parents and not current().record:
            x = other.data if isinstance(other, Value) else _const(other)
            if x is not None:
                self.data = float(update(self.data, x))
                return self
        return out_of_place(self, other)

    def __iadd__(self, other):
        return self._in_place(other, float.__add__, Value.__add__)

    def __isub__(self, other):
        return self._in_place(other, float.__sub__, Value.__sub__)

    def __imul__(self, other):
        return self._in_place(other, float.__mul__, Value.__mul__)

    def __itruediv__(self, other):
        return self._in_place(other, _div, Value.__truediv__)

    # --- arithmetic: a Value or a number on either side ----------------------
    # Another Value makes a two-operand node (the common case, one test); a
    # float constant goes straight to its op; other real numbers are converted.
    def __add__(self, other):
        cls = other.__class__
        if cls is Value or (cls is not float and isinstance(other, Value)):
            return _record(self.data + other.data, _ADD, (self, other))
        if cls is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "+")
            other = o
        return _record(self.data + other, _addc_get(other) or _ADDC.make(other), (self,))

    def __radd__(self, other):
        if other.__class__ is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "+")
            other = o
        return _record(other + self.data, _addc_get(other) or _ADDC.make(other), (self,))

    def __sub__(self, other):
        cls = other.__class__
        if cls is Value or (cls is not float and isinstance(other, Value)):
            return _record(self.data - other.data, _SUB, (self, other))
        if cls is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "-")
            other = o
        return _record(self.data - other, _subc_get(other) or _SUBC.make(other), (self,))

    def __rsub__(self, other):
        if other.__class__ is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "-")
            other = o
        return _record(other - self.data, _rsubc_get(other) or _RSUBC.make(other), (self,))

    def __mul__(self, other):
        cls = other.__class__
        if cls is Value or (cls is not float and isinstance(other, Value)):
            return _record(self.data * other.data, _MUL, (self, other))
        if cls is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "*")
            other = o
        return _record(self.data * other, _mulc_get(other) or _MULC.make(other), (self,))

    def __rmul__(self, other):
        if other.__class__ is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "*")
            other = o
        return _record(other * self.data, _mulc_get(other) or _MULC.make(other), (self,))

    def __truediv__(self, other):
        cls = other.__class__
        if cls is Value or (cls is not float and isinstance(other, Value)):
            return _record(_div(self.data, other.data), _DIV, (self, other))
        if cls is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "/")
            other = o
        return _record(_div(self.data, other), _divc_get(other) or _DIVC.make(other), (self,))

    def __rtruediv__(self, other):
        if other.__class__ is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "/")
            other = o
        return _record(_div(other, self.data), _rdivc_get(other) or _RDIVC.make(other), (self,))

    def __pow__(self, other):
        cls = other.__class__
        if cls is Value or (cls is not float and isinstance(other, Value)):
            return _record(_pow(self.data, other.data), _POW, (self, other))
        if cls is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "**")
            other = o
        return _record(_pow(self.data, other), _powc_get(other) or _POWC.make(other), (self,))

    def __rpow__(self, other):
        if other.__class__ is not float:
            o = _const(other)
            if o is None:
                return _not_a_number(other, "**")
            other = o
        return _record(_pow(other, self.data), _rpowc_get(other) or _RPOWC.make(other), (self,))

    def __neg__(self):
        return _record(-self.data, _NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return _record(abs(self.data), _ABS, (self,))

    # Comparisons look at the data (no graph); equality stays identity so
    # Values can be dict keys and set members.
    def _cmp(self, other):
        if isinstance(other, Value):
            return other.data
        return _const(other)

    def __lt__(self, other):
        o = self._cmp(other)
        return NotImplemented if o is None else self.data < o

    def __le__(self, other):
        o = self._cmp(other)
        return NotImplemented if o is None else self.data <= o

    def __gt__(self, other):
        o = self._cmp(other)
        return NotImplemented if o is None else self.data > o

    def __ge__(self, other):
        o = self._cmp(other)
        return NotImplemented if o is None else self.data >= o

    __hash__ = object.__hash__

    # --- elementwise functions: one line each, spelled by the table's rows ----
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

    def clip(self, min: float | None = None, max: float | None = None) -> Value:
        lo = -_INF if min is None else _number(min, "clip min")
        hi = _INF if max is None else _number(max, "clip max")
        k = kernel("clip", FLOAT, bounds=(lo, hi))
        return _record(FloatMath.clip(self.data, lo, hi), k, (self,))
    clip.__doc__ = (f"{OPS['clip'].doc}; None: no bound; local derivative "
                    f"{OPS['clip'].rule[0]}")
    clamp = clip

    def maximum(self, other) -> Value:
        """The larger of self and other (ties share the gradient)."""
        return OPS["maximum"](self, other)

    def minimum(self, other) -> Value:
        """The smaller of self and other (ties share the gradient)."""
        return OPS["minimum"](self, other)

    # PyTorch's comparison methods (plain bools: no graph)
    def eq(self, other) -> bool: return self.data == float(other)
    def ne(self, other) -> bool: return self.data != float(other)
    def lt(self, other) -> bool: return self.data < float(other)
    def le(self, other) -> bool: return self.data <= float(other)
    def gt(self, other) -> bool: return self.data > float(other)
    def ge(self, other) -> bool: return self.data >= float(other)

    def swish(self, beta: float | Value = 1.0) -> Value:
        """x * sigmoid(beta * x); beta a number or a (learnable) Value."""
        if isinstance(beta, Value):
            return _record(_SWISH.forward(self.data, beta.data), _SWISH, (self, beta))
        return self._swish_const(beta)

    # --- backprop ---------------------------------------------------------------
    def backward(self, grad: float | Value = 1.0) -> None:
        """Backpropagate from this node (seed d(self)/d(self) = ``grad``)."""
        seed = grad if grad.__class__ is float else \
            grad.data if isinstance(grad, Value) else _number(grad, "backward grad")
        if not self._parents and not self.requires_grad:
            raise RuntimeError("Value.backward: this value does not require grad and has no "
                               "graph (it was computed under no_grad(), or made with "
                               "requires_grad=False)")
        _backward_pass((self,), (seed,))

    def backward_steps(self):
        """The same pass as :meth:`backward`, one :class:`~autograd.graph.Step`
        per node; exhausting it leaves the same grads."""
        return walk((self,), (1.0,))

    def detach(self) -> Value:
        """Same data, no history: a constant (``requires_grad`` False), as
        ``Tensor.detach()`` gives."""
        v = _leaf(self.data)
        v.label = self.label
        return v

    def zero_grad(self) -> None:
        self.grad = 0.0

    # --- what the walker, grad() and gradcheck ask of a node -----------------
    #: The fast pass adds every contribution straight into ``.grad``
    #: (see :func:`autograd.graph.backward`).
    _leaf_grads_in_place = True

    def _accumulate_grad(self, g: float, handed: set | None = None) -> None:
        self.grad += g

    def _set_grad(self, g: float) -> None:
        self.grad = g

    def _constant(self, data) -> Value:
        return _leaf(float(data))

    def _default_seed(self, what: str, create_graph: bool):
        return _leaf(1.0) if create_graph else 1.0

    def _coerce_seed(self, g, what: str, create_graph: bool):
        if isinstance(g, Value):
            return g if create_graph else g.data
        g = _number(g, f"{what} grad_outputs")
        return _leaf(g) if create_graph else g

    def _grad_node(self, g, create_graph: bool) -> Value:
        if g is None:
            return _leaf(0.0)
        return g if isinstance(g, Value) else _leaf(float(g))

    def _gc_array(self):
        import numpy as np
        return np.array(self.data, dtype=np.float64)

    def _gc_leaf(self, arr) -> Value:
        return Value(float(arr), self.label)  # an input, like the one it stands for


def wsum(weights, inputs, bias=0.0) -> Value:
    """``bias + Σ weights[i] * inputs[i]`` as one node (a neuron's linear map).

    The same value and gradients as spelling it out with ``*`` and ``+``, but
    one node instead of ``2n``: the graph of an MLP gets ~10x smaller, and so
    does the time to build and backpropagate it. Numbers are wrapped as
    constants. Operand order in ``parents``: ``(bias, w1, x1, w2, x2, ...)``.
    """
    weights = list(weights)
    inputs = list(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"wsum: {len(weights)} weights but {len(inputs)} inputs")
    parents = [bias if isinstance(bias, Value) else _leaf(_number(bias, "wsum bias"))]
    acc = parents[0].data
    for w, x in zip(weights, inputs):
        if w.__class__ is not Value:
            w = w if isinstance(w, Value) else _leaf(_number(w, "wsum weight"))
        if x.__class__ is not Value:
            x = x if isinstance(x, Value) else _leaf(_number(x, "wsum input"))
        acc += w.data * x.data
        parents.append(w)
        parents.append(x)
    return _record(acc, _WSUM, tuple(parents))
