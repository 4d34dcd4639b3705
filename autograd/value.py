"""Value: a scalar that records the computation graph (pure Python floats).

The ops come from :mod:`autograd.ops`; this file only binds them to floats.
A few hot ops get a hand-written float backward (tests check each one against
the table's generic rule).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

from .graph import MODE, SPECIAL_THREADS, Node, check_forward, count_uses, creation_site, walk
from .ops import FM, NM, ONE, OPS, Op

__all__ = ["Value"]

_div = FM.div
_sigmoid = FM.sigmoid
_pow = FM.pow


class ScalarKernel:
    """An op bound to floats (and to constant parameters, if it has any)."""

    __slots__ = ("op", "name", "params", "forward", "backward", "derivs", "fast")

    def __init__(self, op: Op, params: dict, fast_backward: Callable | None = None):
        self.op = op
        self.name = op.name
        self.params = params
        p = tuple(params.values())
        f, d = op.forward, op.deriv
        if op.arity == -1:
            self.forward = lambda *xs: f(FM, *xs, *p)
            self.derivs = lambda n: d(FM, n.data, *[q.data for q in n._parents], *p)
        elif op.arity == 1:
            self.forward = (lambda a: f(FM, a, *p)) if p else (lambda a: f(FM, a))
            self.derivs = lambda n: d(FM, n.data, n._parents[0].data, *p)
        else:
            self.forward = lambda a, b: f(FM, a, b, *p)
            self.derivs = lambda n: d(FM, n.data, n._parents[0].data, n._parents[1].data, *p)
        self.fast = fast_backward is not None
        if fast_backward is None:
            derivs = self.derivs

            def fast_backward(n, g):
                return tuple([g * x for x in derivs(n)])
        self.backward = fast_backward

    def local_derivs(self, node):
        return self.derivs(node)

    def backward_steps(self, node, g):
        locs = self.derivs(node)
        return tuple([g * x for x in locs]), locs

    def backward_nodes(self, node, g):
        locs = self.op.deriv(NM, node, *node._parents, *self.params.values())
        return tuple([g if x is ONE else g * x for x in locs]), locs

    def __repr__(self) -> str:
        return f"ScalarKernel({self.op.key}, {self.params})"


# Hand-specialised float backward rules: each computes exactly g * d for the
# table's d (tests compare them bit for bit).
def _b_add(n, g): return (g, g)
def _b_sub(n, g): return (g, g * -1.0)
def _b_neg(n, g): return (g * -1.0,)
def _b_exp(n, g): return (g * n.data,)
def _b_tanh(n, g):
    o = n.data
    return (g * (1.0 - o * o),)
def _b_relu(n, g): return (g * (1.0 if n._parents[0].data > 0.0 else 0.0),)
def _b_sigmoid(n, g): return (g * (n.data * _sigmoid(-n._parents[0].data)),)
def _b_log(n, g): return (g * _div(1.0, n._parents[0].data),)


def _b_mul(n, g):
    a, b = n._parents
    return (g * b.data, g * a.data)


def _b_div(n, g):
    bd = n._parents[1].data
    return (g * _div(1.0, bd), g * -_div(n.data, bd))


def _b_wsum(n, g):
    ps = n._parents
    out = [g]
    for i in range(1, len(ps), 2):
        out.append(g * ps[i + 1].data)
        out.append(g * ps[i].data)
    return tuple(out)


_FAST = {"wsum": _b_wsum, "add": _b_add, "sub": _b_sub, "mul": _b_mul, "div": _b_div, "neg": _b_neg,
         "exp": _b_exp, "tanh": _b_tanh, "relu": _b_relu, "sigmoid": _b_sigmoid, "log": _b_log}

KERNELS: dict[str, ScalarKernel] = {
    key: ScalarKernel(op, {}, _FAST.get(key))
    for key, op in OPS.items() if op.deriv is not None and not op.params}
_PARAM_KERNELS: dict[tuple, ScalarKernel] = {}


def kernel(key: str, **params) -> ScalarKernel:
    """The scalar kernel of table op ``key`` with constant ``params`` (cached)."""
    if not params:
        return KERNELS[key]
    k = (key, *params.values())
    kern = _PARAM_KERNELS.get(k)
    if kern is None:
        op = OPS[key]
        fast = None
        if key == "pow_const":
            c = params["c"]
            if c == 2:
                def fast(n, g): return (g * (2.0 * n._parents[0].data),)
            elif c not in (0, 1):
                cm1 = c - 1.0

                def fast(n, g): return (g * (c * _pow(n._parents[0].data, cm1)),)
        kern = _PARAM_KERNELS[k] = ScalarKernel(op, dict(params), fast)
    return kern


def _number(x: Any, opname: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"Value {opname}: expected a real number or a Value, got {type(x).__name__}")
    return float(x)


_alloc = object.__new__


def _new(data: float, kern: ScalarKernel, parents: tuple) -> "Value":
    v = _alloc(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    if not SPECIAL_THREADS:
        v._op = kern
        v._parents = parents
        return v
    return _finish(v, kern, parents)


def _finish(v: "Value", kern: ScalarKernel, parents: tuple) -> "Value":
    """The rest of :func:`_new` when some thread is in no_grad or anomaly mode."""
    if MODE.fast:
        v._op = kern
        v._parents = parents
    elif MODE.record:
        v._op = kern
        v._parents = parents
        v._site = creation_site()
        check_forward(v)
    else:
        v._op = None
        v._parents = ()
    return v


def _leaf(x: float) -> "Value":
    v = _alloc(Value)
    v.data = x
    v.grad = 0.0
    v.label = ""
    v._op = None
    v._parents = ()
    return v


_K = KERNELS
_ADD, _SUB, _MUL, _DIV, _NEG = _K["add"], _K["sub"], _K["mul"], _K["div"], _K["neg"]
_POW = _K["pow"]
_WSUM = _K["wsum"]


def _scalar_pass(root: "Value", seed: float) -> None:
    """:func:`autograd.graph.walk` specialised for scalar graphs.

    The same algorithm (Kahn's, from the output) with gradients accumulated
    straight into the ``grad`` slots (intermediates zeroed on discovery,
    leaves accumulating) and the rules of ``+`` and ``*`` inlined: the scalar
    engine's hot path. Tests check it against the stepping walk and grad().
    """
    uses = count_uses((root,), reset=0.0)
    if root._parents:
        root.grad = seed
    else:
        root.grad += seed
        return
    ready = [root]
    pop, push = ready.pop, ready.append
    ADD, MUL, WSUM = _ADD, _MUL, _WSUM
    while ready:
        node = pop()
        parents = node._parents
        if not parents:
            continue
        k = node._op
        g = node.grad
        if k is MUL or k is ADD:  # binary: both operands handled without a loop
            a, b = parents
            if k is MUL:
                a.grad += g * b.data
                b.grad += g * a.data
            else:
                a.grad += g
                b.grad += g
            n = uses[a] - 1
            uses[a] = n
            if not n:
                push(a)
            n = uses[b] - 1
            uses[b] = n
            if not n:
                push(b)
            continue
        if k is WSUM:
            parents[0].grad += g
            it = iter(parents)
            next(it)
            for w in it:
                x = next(it)
                w.grad += g * x.data
                x.grad += g * w.data
        else:
            for p, c in zip(parents, k.backward(node, g)):
                p.grad += c
        for p in parents:
            n = uses[p] - 1
            uses[p] = n
            if not n:
                push(p)


class Value(Node):
    """A scalar node of a computation graph.

    >>> price, count, tax = Value(15.0, label="price"), Value(2), Value(1.1)
    >>> total = price * count * tax
    >>> total.backward(); round(price.grad, 12)
    2.2
    """

    __slots__ = ("data", "grad", "label", "_op", "_parents", "_site", "_scope", "__weakref__")

    def __init__(self, data: float, label: str = "") -> None:
        if isinstance(data, Value):
            data = data.data
        elif isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(
                f"Value(data) needs a real number, got {type(data).__name__}"
                + (" (use Tensor for arrays)" if hasattr(data, "__len__") else ""))
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._op = None
        self._parents = ()

    # --- the node protocol (op, parents, is_leaf: graph.Node) ----------------
    def _accumulate_grad(self, g: float) -> None:
        self.grad += g

    def _set_grad(self, g: float) -> None:
        self.grad = g

    def _constant(self, data: float) -> "Value":
        return _leaf(float(data))

    def __repr__(self) -> str:
        lab = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._op is not None else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{lab}{op})"

    def __float__(self) -> float:
        return self.data

    def _repr_svg_(self) -> str:  # Jupyter shows the graph
        from ..viz import draw
        return draw(self).pipe(format="svg", encoding="utf-8")

    # --- arithmetic ----------------------------------------------------------
    def __add__(self, other):
        if other.__class__ is not Value:
            if isinstance(other, Value):
                pass
            elif isinstance(other, numbers.Real) and not isinstance(other, bool):
                other = _leaf(float(other))
            else:
                return NotImplemented
        v = _alloc(Value)
        v.data = self.data + other.data
        v.grad = 0.0
        v.label = ""
        if not SPECIAL_THREADS:
            v._op = _ADD
            v._parents = (self, other)
            return v
        return _finish(v, _ADD, (self, other))

    def __radd__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return _new(other + self.data, _ADD, (_leaf(float(other)), self))
        return NotImplemented

    def __sub__(self, other):
        if other.__class__ is not Value:
            if isinstance(other, numbers.Real) and not isinstance(other, bool):
                other = _leaf(float(other))
            elif not isinstance(other, Value):
                return NotImplemented
        return _new(self.data - other.data, _SUB, (self, other))

    def __rsub__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return _new(other - self.data, _SUB, (_leaf(float(other)), self))
        return NotImplemented

    def __mul__(self, other):
        if other.__class__ is not Value:
            if isinstance(other, numbers.Real) and not isinstance(other, bool):
                other = _leaf(float(other))
            elif not isinstance(other, Value):
                return NotImplemented
        v = _alloc(Value)
        v.data = self.data * other.data
        v.grad = 0.0
        v.label = ""
        if not SPECIAL_THREADS:
            v._op = _MUL
            v._parents = (self, other)
            return v
        return _finish(v, _MUL, (self, other))

    def __rmul__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return _new(other * self.data, _MUL, (_leaf(float(other)), self))
        return NotImplemented

    def __truediv__(self, other):
        if other.__class__ is not Value:
            if isinstance(other, numbers.Real) and not isinstance(other, bool):
                other = _leaf(float(other))
            elif not isinstance(other, Value):
                return NotImplemented
        return _new(_div(self.data, other.data), _DIV, (self, other))

    def __rtruediv__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return _new(_div(float(other), self.data), _DIV, (_leaf(float(other)), self))
        return NotImplemented

    def __pow__(self, other):
        if isinstance(other, Value):
            return _new(_pow(self.data, other.data), _POW, (self, other))
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            k = kernel("pow_const", c=float(other))
            return _new(k.forward(self.data), k, (self,))
        return NotImplemented

    def __rpow__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return _new(_pow(float(other), self.data), _POW, (_leaf(float(other)), self))
        return NotImplemented

    def __neg__(self):
        return _new(-self.data, _NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return _new(abs(self.data), _K["abs"], (self,))

    # Comparisons look at the data (no graph); equality stays identity so
    # Values can be dict keys and set members.
    def __lt__(self, other): return self.data < float(other)
    def __le__(self, other): return self.data <= float(other)
    def __gt__(self, other): return self.data > float(other)
    def __ge__(self, other): return self.data >= float(other)

    __hash__ = object.__hash__

    # --- elementwise functions (bound from the table) ------------------------
    def leaky_relu(self, alpha: float = 0.01) -> "Value":
        k = kernel("leaky_relu", alpha=_number(alpha, "leaky_relu alpha"))
        return _new(k.forward(self.data), k, (self,))

    def elu(self, alpha: float = 1.0) -> "Value":
        k = kernel("elu", alpha=_number(alpha, "elu alpha"))
        return _new(k.forward(self.data), k, (self,))

    def swish(self, beta: "float | Value" = 1.0) -> "Value":
        """x * sigmoid(beta * x); beta a number or a (learnable) Value."""
        if isinstance(beta, Value):
            k = _K["swish"]
            return _new(k.forward(self.data, beta.data), k, (self, beta))
        k = kernel("swish_const", beta=_number(beta, "swish beta"))
        return _new(k.forward(self.data), k, (self,))

    # --- backprop -------------------------------------------------------------
    def backward(self, grad: float = 1.0) -> None:
        """Backpropagate from this node (seed d(self)/d(self) = ``grad``)."""
        seed = _number(grad, "backward grad")
        if SPECIAL_THREADS and MODE.anomaly:
            for _ in walk((self,), (seed,)):
                pass  # pragma: no cover - nothing is yielded without steps
        else:
            _scalar_pass(self, seed)

    def backward_steps(self):
        """The same pass as :meth:`backward`, one :class:`~autograd.graph.Step`
        per node; exhausting it leaves the same grads."""
        return walk((self,), (1.0,), steps=True)

    def detach(self) -> "Value":
        """Same data, no history."""
        v = _leaf(self.data)
        v.label = self.label
        return v

    def zero_grad(self) -> None:
        self.grad = 0.0


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
    return _new(acc, _WSUM, tuple(parents))


def _bind_unary(key: str) -> Callable:
    k = KERNELS[key]
    f = k.forward

    def method(self: Value) -> Value:
        return _new(f(self.data), k, (self,))

    method.__name__ = key
    method.__doc__ = f"{OPS[key].doc}; local derivative {OPS[key].rule[0]}"
    return method


for _key in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "erf",
             "gelu", "silu", "softplus"):
    setattr(Value, _key, _bind_unary(_key))

# Fast forward for the hottest ones (same functions the table's forward calls).
import math as _math  # noqa: E402


def _tanh(self: Value) -> Value:
    return _new(_math.tanh(self.data), _K["tanh"], (self,))


def _relu(self: Value) -> Value:
    d = self.data
    return _new(d if d > 0.0 else 0.0, _K["relu"], (self,))


_tanh.__doc__ = Value.tanh.__doc__
_relu.__doc__ = Value.relu.__doc__
Value.tanh = _tanh  # type: ignore[method-assign]
Value.relu = _relu  # type: ignore[method-assign]


def _default_seed(self: Value, what: str, create_graph: bool):
    return _leaf(1.0) if create_graph else 1.0


def _coerce_seed(self: Value, g, what: str, create_graph: bool):
    if isinstance(g, Value):
        return g if create_graph else g.data
    g = _number(g, f"{what} grad_outputs")
    return _leaf(g) if create_graph else g


def _grad_node(self: Value, g, create_graph: bool) -> Value:
    if g is None:
        return _leaf(0.0)
    if isinstance(g, Value):
        return g
    return _leaf(float(g))


Value._default_seed = _default_seed
Value._coerce_seed = _coerce_seed
Value._grad_node = _grad_node


def _gc_array(self: Value):
    import numpy as np
    return np.array(self.data, dtype=np.float64)


def _gc_leaf(self: Value, arr) -> Value:
    v = _leaf(float(arr))
    v.label = self.label
    return v


Value._gc_array = _gc_array
Value._gc_leaf = _gc_leaf
