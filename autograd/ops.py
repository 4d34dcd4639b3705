"""The op table: every differentiable op, defined once, in one row.

A row (:class:`Op`) holds the whole story of an op:

* ``forward(M, *xs, *params)`` -- the value, written against a math
  namespace ``M`` so the same text runs on Python floats
  (:class:`FloatMath`), numpy arrays (:class:`ArrayMath`) and graph nodes
  (:class:`NodeMath`, which records a graph);
* ``deriv(M, out, *xs, *params)`` -- for elementwise ops, the local
  derivative of the output with respect to each input (one entry per input),
  written with node-compatible arithmetic (``1 - out * out``, not
  ``1 - out.data ** 2``) so that the same rule gives plain gradients and,
  run on nodes, differentiable ones (``create_graph=True``); or
  ``vjp(M, g, out, *xs, **params)`` -- for any other op (matmul, reductions,
  reshapes, fused losses), the gradient per input from the upstream ``g``;
* ``rule`` -- the rule as text for diagrams, one string per input;
* ``domain`` -- per input, the intervals where the op is smooth (tests and
  :mod:`autograd.testing` draw points there), ``kink(*xs, *params)`` -- per
  input, whether it sits on a point where the op is not differentiable;
* ``arity`` -- the number of inputs, or -1 for "any number" (``wsum``),
  tested with ``len(domain)`` inputs;
* ``params`` -- names and sample values of constant parameters (a slope, a
  constant exponent), ``method`` and ``defaults`` -- the public spelling:
  the Value/Tensor method name and its parameters' defaults;
* ``activation``, ``gain`` -- whether the op is a neural-network activation
  (``nn``'s activation names, ``viz.plot_activations``) and the weight-init
  gain that suits it (a number, or a function of the op's parameters);
* ``fast`` -- optional hand-specialised rules for speed, per engine
  (``{"float": rule, "array": rule}``, each ``rule(node, g) -> contributions``
  computing exactly what the generic rule computes; tests compare them; the
  float rules are written as text, :mod:`autograd.rulecode`, and inlined
  into ``backward()``'s loop), and
  direct forwards (``"float_forward"``, ``"array_forward"``: data -> data,
  the same function the generic forward reaches through the namespace; a
  float forward written as text, :func:`autograd.rulecode.float_forward`, is
  inlined into Value's method).

Everything else reads the table: the Value and Tensor methods, the
expression language, :mod:`autograd.testing`, gradient checking, ``nn``'s
activation names, ``viz``'s edge text and ``python -m gradviz.autograd`` (the op
reference). Users' own ops (:func:`autograd.define_op`,
:class:`autograd.Function`) are rows of the same table.

Structural tensor ops are rows registered by :mod:`autograd.tensor_ops`,
the fused losses by :mod:`autograd.functional` (each with its rule next to it).

Math-error policy (the same for Value and Tensor): IEEE semantics, like numpy.
Overflow gives ``inf`` (``exp(1000)``), ``log(0)`` is ``-inf``, ``log(-1)`` and
``sqrt(-1)`` are ``nan``, ``1/0`` is ``inf``; nothing raises. Run the code
under :func:`autograd.detect_anomaly` to get an error naming the op and the
line that produced the first non-finite number.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .rulecode import float_forward, float_rule

INF = math.inf
NAN = math.nan
SQRT1_2 = 1.0 / math.sqrt(2.0)
SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

#: Returned by ``deriv`` for a local derivative that is exactly one, so the
#: walker can pass the upstream gradient through without multiplying.
ONE = 1.0


# --------------------------------------------------------------------------
# Math namespaces: the same rule text runs on floats, arrays and nodes.
# --------------------------------------------------------------------------
def _namespace(cls: type) -> type:
    """A class used as a namespace, never instantiated: its staticmethods
    become the plain functions they wrap. Called through the class
    (``M.tanh(a)``) a plain function is the same call, but CPython 3.11
    caches that lookup only for plain functions and non-descriptors, not for
    staticmethod objects: a rule's ``M.`` lookups (users' own rules above
    all, which cannot bind them ahead) cost about 25 ns less each."""
    for name, attr in list(vars(cls).items()):
        if isinstance(attr, staticmethod):
            setattr(cls, name, attr.__func__)
    return cls


@_namespace
class FloatMath:
    """Scalar math with IEEE results instead of Python exceptions."""

    @staticmethod
    def exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return INF

    @staticmethod
    def expm1(x: float) -> float:
        try:
            return math.expm1(x)
        except OverflowError:
            return INF

    @staticmethod
    def log(x: float) -> float:
        if x > 0.0:
            return math.log(x)
        if x == 0.0:
            return -INF
        return NAN

    @staticmethod
    def sqrt(x: float) -> float:
        return math.sqrt(x) if x >= 0.0 else NAN

    @staticmethod
    def div(a: float, b: float) -> float:
        try:
            return a / b
        except ZeroDivisionError:
            if a != a or a == 0.0:
                return NAN
            return math.copysign(INF, a) * math.copysign(1.0, b)

    @staticmethod
    def pow(a: float, b: float) -> float:
        try:
            return math.pow(a, b)
        except ZeroDivisionError:  # pragma: no cover - math.pow raises ValueError
            return INF
        except ValueError:
            if a == 0.0 and b < 0.0:  # 0 ** -1
                odd = float(b).is_integer() and int(b) % 2 == 1
                return math.copysign(INF, a) if odd else INF
            return NAN  # negative base, fractional exponent
        except OverflowError:
            odd = float(b).is_integer() and int(b) % 2 == 1
            return -INF if (a < 0.0 and odd) else INF

    @staticmethod
    def xlogy(x: float, y: float) -> float:
        return 0.0 if x == 0.0 else x * FloatMath.log(y)

    tanh = staticmethod(math.tanh)
    erf = staticmethod(math.erf)

    @staticmethod
    def sin(x: float) -> float:
        return math.sin(x) if math.isfinite(x) else NAN

    @staticmethod
    def cos(x: float) -> float:
        return math.cos(x) if math.isfinite(x) else NAN

    @staticmethod
    def sigmoid(x: float) -> float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        if x != x:
            return NAN
        e = math.exp(x)
        return e / (1.0 + e)

    @staticmethod
    def softplus(x: float) -> float:
        # max(x, 0) + log1p(exp(-|x|)): no overflow at either end.
        if x != x:
            return NAN
        return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))

    # as text (nan stays nan, as np.maximum): Value.relu inlines it (rulecode.float_forward)
    relu = staticmethod(float_forward("0.0 if x <= 0.0 else x", name="relu"))

    @staticmethod
    def step(x: float) -> float:
        """1 where x > 0, else 0 (the derivative of relu; relu'(0) = 0)."""
        return 1.0 if x > 0.0 else 0.0

    @staticmethod
    def sign(x: float) -> float:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else (x if x != x else 0.0))

    @staticmethod
    def where_pos(x: float, a: Any, b: Any) -> Any:
        """``a`` where x > 0, else ``b``."""
        return a if x > 0.0 else b

    @staticmethod
    def absolute(x: float) -> float:
        return abs(x)

    abs = absolute  # both spellings (numpy's, Python's) work in a user's rule

    @staticmethod
    def nonzero(x: float) -> float:
        return 0.0 if x == 0.0 else 1.0

    @staticmethod
    def select(mask: float, a: float, b: float) -> float:
        return a if mask > 0.0 else b

    # --- data-driven choices (PyTorch's masked rules), the same on every engine
    @staticmethod
    def val(x: Any) -> Any:
        """The plain data of ``x`` (a float here; nodes give their .data)."""
        return x

    @staticmethod
    def lift(x: Any, w: Any) -> float:
        """``w`` (computed from data) as a constant like ``x``."""
        return float(w)

    @staticmethod
    def zeros(x: Any) -> float:
        return 0.0

    @staticmethod
    def choose(cond: Any, a: Any, b: Any) -> Any:
        """``a`` where the data condition ``cond`` holds, else ``b`` (the branch
        not taken never leaks a nan into the result)."""
        return a if cond else b

    @staticmethod
    def tan(x: float) -> float:
        return math.tan(x) if math.isfinite(x) else NAN

    @staticmethod
    def arcsin(x: float) -> float:
        return math.asin(x) if -1.0 <= x <= 1.0 else NAN

    @staticmethod
    def arccos(x: float) -> float:
        return math.acos(x) if -1.0 <= x <= 1.0 else NAN

    arctan = staticmethod(math.atan)

    @staticmethod
    def sinh(x: float) -> float:
        try:
            return math.sinh(x)
        except OverflowError:
            return math.copysign(INF, x)

    @staticmethod
    def cosh(x: float) -> float:
        try:
            return math.cosh(x)
        except OverflowError:
            return INF

    @staticmethod
    def log2(x: float) -> float:
        if x > 0.0:
            return math.log2(x)
        return -INF if x == 0.0 else NAN

    @staticmethod
    def log10(x: float) -> float:
        if x > 0.0:
            return math.log10(x)
        return -INF if x == 0.0 else NAN

    @staticmethod
    def exp2(x: float) -> float:
        return FloatMath.pow(2.0, x)

    @staticmethod
    def log1p(x: float) -> float:
        if x > -1.0:
            return math.log1p(x)
        return -INF if x == -1.0 else NAN

    @staticmethod
    def rsqrt(x: float) -> float:
        if x > 0.0:
            return 1.0 / math.sqrt(x)
        if x == 0.0:
            return math.copysign(INF, x)
        return NAN

    @staticmethod
    def floor(x: float) -> float:
        return float(math.floor(x)) if math.isfinite(x) else x

    @staticmethod
    def ceil(x: float) -> float:
        return float(math.ceil(x)) if math.isfinite(x) else x

    @staticmethod
    def round(x: float) -> float:
        """Half to even, as numpy and PyTorch."""
        return float(round(x)) if math.isfinite(x) else x

    @staticmethod
    def maximum(a: float, b: float) -> float:
        if a != a or b != b:
            return NAN
        return a if a >= b else b

    @staticmethod
    def minimum(a: float, b: float) -> float:
        if a != a or b != b:
            return NAN
        return a if a <= b else b

    @staticmethod
    def clip(x: float, lo: float, hi: float) -> float:
        """min(max(x, lo), hi), as numpy's clip (nan stays nan)."""
        if x != x:
            return x
        return min(max(x, lo), hi)

    @staticmethod
    def log_sigmoid(x: float) -> float:
        """log σ(x) = -softplus(-x), stable at both ends."""
        return -FloatMath.softplus(-x)


@_namespace
class ArrayMath:
    """numpy versions of the same functions (stable forms for arrays)."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    absolute = abs = staticmethod(np.abs)

    @staticmethod
    def div(a, b):
        return np.divide(a, b)

    @staticmethod
    def pow(a, b):
        return np.power(a, b)

    @staticmethod
    def xlogy(x, y):
        x = np.asarray(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x == 0, 0.0, x * np.log(y)).astype(np.result_type(x, y), copy=False)

    @staticmethod
    def erf(x):
        return _erf_array(x)

    @staticmethod
    def sigmoid(x):
        # exp(-softplus(-x)): accurate in both tails, never overflows.
        return (np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype, copy=False)
                if isinstance(x, np.ndarray) else np.exp(-np.logaddexp(0.0, -x)))

    @staticmethod
    def softplus(x):
        return np.logaddexp(0.0, x).astype(x.dtype, copy=False) if isinstance(x, np.ndarray) \
            else np.logaddexp(0.0, x)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)

    @staticmethod
    def step(x):
        return (x > 0).astype(x.dtype)

    @staticmethod
    def sign(x):
        return np.sign(x)

    @staticmethod
    def where_pos(x, a, b):
        return np.where(x > 0, a, b).astype(x.dtype, copy=False)

    @staticmethod
    def nonzero(x):
        return (x != 0).astype(x.dtype)

    @staticmethod
    def select(mask, a, b):
        out = np.where(np.asarray(mask) > 0, a, b)
        return out.astype(np.result_type(a, b), copy=False)

    @staticmethod
    def val(x):
        return x

    @staticmethod
    def lift(x, w):
        return np.asarray(w, dtype=_float_dtype(x))

    @staticmethod
    def zeros(x):
        return np.zeros(np.shape(x), dtype=_float_dtype(x))

    @staticmethod
    def choose(cond, a, b):
        out = np.where(cond, a, b)
        return out.astype(np.result_type(a, b), copy=False)

    tan = staticmethod(np.tan)
    arcsin = staticmethod(np.arcsin)
    arccos = staticmethod(np.arccos)
    arctan = staticmethod(np.arctan)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    log2 = staticmethod(np.log2)
    log10 = staticmethod(np.log10)
    exp2 = staticmethod(np.exp2)
    log1p = staticmethod(np.log1p)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    round = staticmethod(np.round)     # half to even
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)

    @staticmethod
    def rsqrt(x):
        with np.errstate(divide="ignore"):
            return np.divide(1.0, np.sqrt(x))

    @staticmethod
    def clip(x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi).astype(_float_dtype(x), copy=False)

    @staticmethod
    def log_sigmoid(x):
        out = -np.logaddexp(0.0, -x)
        return out.astype(x.dtype, copy=False) if isinstance(x, np.ndarray) else out


def _float_dtype(x):
    dt = getattr(x, "dtype", None)
    return dt if dt is not None and dt.kind == "f" else np.float64


_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf_array(x):
    """erf for arrays: scipy's when installed, else math.erf per element."""
    try:  # scipy ships with scikit-learn, an optional extra; it is much faster
        from scipy.special import erf as sp_erf  # type: ignore
    except ImportError:  # pragma: no cover - depends on the environment
        x = np.asarray(x)
        return _erf_ufunc(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    return sp_erf(x)


@_namespace
class NodeMath:
    """Node versions: each call records a node, so derivatives can be
    differentiated again (``create_graph=True``). Works for Value and Tensor,
    which both provide the methods used here and ``_constant(data)``."""

    @staticmethod
    def exp(x): return x.exp()

    @staticmethod
    def expm1(x): return x.exp() - 1.0

    @staticmethod
    def log(x): return x.log()

    @staticmethod
    def sqrt(x): return x.sqrt()

    @staticmethod
    def tanh(x): return x.tanh()

    @staticmethod
    def sin(x): return x.sin()

    @staticmethod
    def cos(x): return x.cos()

    @staticmethod
    def erf(x): return x.erf()

    @staticmethod
    def sigmoid(x): return x.sigmoid()

    @staticmethod
    def softplus(x): return x.softplus()

    @staticmethod
    def relu(x): return x.relu()

    @staticmethod
    def absolute(x): return abs(x)

    abs = absolute

    @staticmethod
    def div(a, b): return a / b

    @staticmethod
    def pow(a, b): return a ** b

    @staticmethod
    def xlogy(x, y):
        """x·log(y), 0 where x == 0: the table's xlogy row, so the
        create-graph path computes the same first-order numbers."""
        return OPS["xlogy"](x, y)

    @staticmethod
    def nonzero(x): return x._constant(_math_of(x.data).nonzero(x.data))

    @staticmethod
    def val(x): return x.data

    @staticmethod
    def lift(x, w): return x._constant(w)

    @staticmethod
    def zeros(x): return x._constant(_math_of(x.data).zeros(x.data))

    @staticmethod
    def choose(cond, a, b):
        """``a`` where the data condition holds, else ``b``: the table's select
        row with the condition as a constant mask."""
        like = a if hasattr(a, "_parents") else b
        if not hasattr(like, "_parents"):  # two constants: a plain choice
            return _math_of(cond).choose(cond, a, b)
        m = _math_of(like.data).lift(like.data, cond)
        a = a if hasattr(a, "_parents") else like._constant(a)
        b = b if hasattr(b, "_parents") else like._constant(b)
        return OPS["select"](a, b, mask=m)

    @staticmethod
    def tan(x): return x.tan()

    @staticmethod
    def arcsin(x): return x.arcsin()

    @staticmethod
    def arccos(x): return x.arccos()

    @staticmethod
    def arctan(x): return x.arctan()

    @staticmethod
    def sinh(x): return x.sinh()

    @staticmethod
    def cosh(x): return x.cosh()

    @staticmethod
    def log2(x): return x.log2()

    @staticmethod
    def log10(x): return x.log10()

    @staticmethod
    def exp2(x): return x.exp2()

    @staticmethod
    def log1p(x): return x.log1p()

    @staticmethod
    def rsqrt(x): return x.rsqrt()

    @staticmethod
    def maximum(a, b): return OPS["maximum"](a, b)

    @staticmethod
    def minimum(a, b): return OPS["minimum"](a, b)

    @staticmethod
    def clip(x, lo, hi): return OPS["clip"](x, bounds=(lo, hi))

    @staticmethod
    def log_sigmoid(x): return x.logsigmoid()

    # Piecewise-constant functions are constants on nodes: derivative zero.
    @staticmethod
    def floor(x): return x._constant(_math_of(x.data).floor(x.data))

    @staticmethod
    def ceil(x): return x._constant(_math_of(x.data).ceil(x.data))

    @staticmethod
    def round(x): return x._constant(_math_of(x.data).round(x.data))

    # Piecewise-constant pieces are constants: their derivative is zero.
    @staticmethod
    def step(x): return x._constant(_math_of(x.data).step(x.data))

    @staticmethod
    def sign(x): return x._constant(_math_of(x.data).sign(x.data))

    @staticmethod
    def where_pos(x, a, b):
        """``a`` where x > 0, else ``b``: the table's select row with the mask
        as a constant (a blend m·a + (1-m)·b would give nan for an inf in
        the branch not taken)."""
        m = _math_of(x.data).step(x.data)
        a = a if hasattr(a, "_parents") else x._constant(a)
        b = b if hasattr(b, "_parents") else x._constant(b)
        return OPS["select"](a, b, mask=m)


FM = FloatMath
AM = ArrayMath
NM = NodeMath

#: What a rule may call on ``M``: the functions every namespace has, so the same
#: rule runs on floats, arrays and nodes (the op reference lists them; a test keeps
#: this list and the namespaces in step). "A constant" means that on nodes the
#: result carries no gradient.
NAMESPACE_DOC: dict[str, str] = {
    "abs": "|x| (also `absolute`)", "absolute": "|x| (also `abs`)",
    "sqrt": "√x (nan below 0)", "rsqrt": "1/√x",
    "exp": "eˣ (inf on overflow)", "exp2": "2ˣ", "expm1": "eˣ - 1, exact near 0",
    "log": "ln x (-inf at 0, nan below)", "log2": "log₂ x", "log10": "log₁₀ x",
    "log1p": "ln(1 + x), exact near 0", "xlogy": "x·ln y, 0 where x = 0",
    "div": "a / b with IEEE results (x/0 = ±inf, 0/0 = nan)",
    "pow": "a ** b with IEEE results", "erf": "the error function",
    "sin": "sin x", "cos": "cos x", "tan": "tan x", "arcsin": "arcsin x",
    "arccos": "arccos x", "arctan": "arctan x", "sinh": "sinh x", "cosh": "cosh x",
    "tanh": "tanh x", "sigmoid": "σ(x) = 1/(1 + e⁻ˣ), stable at both ends",
    "softplus": "ln(1 + eˣ), stable at both ends",
    "log_sigmoid": "ln σ(x) = -softplus(-x), stable at both ends",
    "relu": "max(x, 0) (nan stays nan)",
    "maximum": "the larger of a and b, elementwise (nan if either is)",
    "minimum": "the smaller of a and b, elementwise (nan if either is)",
    "clip": "clip(x, lo, hi) = min(max(x, lo), hi)",
    "floor": "⌊x⌋ (a constant)", "ceil": "⌈x⌉ (a constant)",
    "round": "x rounded half to even (a constant)",
    "sign": "-1, 0 or 1 (a constant)", "step": "1 where x > 0, else 0: relu's derivative "
    "(a constant)", "nonzero": "1 where x ≠ 0, else 0 (a constant)",
    "zeros": "zeros shaped like x (a constant)",
    "val": "x's plain data (a float, an array, a node's `.data`): for conditions",
    "lift": "lift(x, w): w, computed from data, as a constant shaped like x",
    "where_pos": "where_pos(x, a, b): a where x > 0, else b",
    "choose": "choose(cond, a, b): a where the data condition cond holds, else b "
    "(the branch not taken never leaks a nan)",
}


def _math_of(data):
    return AM if isinstance(data, np.ndarray) else FM


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------
Interval = tuple[float, float]


@dataclass(eq=False)
class Op:
    """One op: a row of the table. See the module docstring for the fields."""

    key: str                       # table key, unique: "mul", "pow_const"
    name: str                      # public op name shown on nodes: "*", "**", "tanh"
    arity: int                     # number of inputs, -1 for any number
    forward: Callable[..., Any]
    deriv: Callable[..., tuple] | None = None
    vjp: Callable[..., tuple] | None = None
    rule: tuple[str, ...] = ()
    domain: tuple[tuple[Interval, ...], ...] = ()
    kink: Callable[..., tuple] | None = None
    params: dict[str, tuple] = field(default_factory=dict)
    symbol: str = ""               # short symbol for diagrams (defaults to name)
    doc: str = ""
    method: str | None = None      # Value/Tensor method name ("exp", "leaky_relu")
    defaults: dict[str, Any] = field(default_factory=dict)  # the method's parameter defaults
    fast: dict[str, Callable] = field(default_factory=dict)  # engine name -> rule(node, g)
    user: bool = False             # defined by define_op / Function
    activation: bool = False       # a neural-network activation (nn's names, viz's plots)
    gain: Callable[..., float] | float | None = None  # init gain (torch.nn.init's); params -> gain

    def __post_init__(self) -> None:
        self.symbol = self.symbol or self.name

    @property
    def elementwise(self) -> bool:
        """True for ops with a local derivative per input (``deriv``)."""
        return self.deriv is not None

    @property
    def callable_by_name(self) -> bool:
        """A user's op that the expression language (``viz.expr``) calls by
        its key, ``name(x1, ..., params)``, in the process that defined it:
        a ``define_op`` row (not an ``autograd.Function``'s)."""
        return self.user and self.arity >= 1 and self.key.isidentifier() \
            and (self.deriv is not None or self.vjp is not None)

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """Run the op on nodes (Values, or Tensors that broadcast):
        ``cube(x)``, ``OPS["leaky_relu"](t, alpha=0.2)``."""
        if not APPLY:  # pragma: no cover - autograd.custom registers it on import
            raise RuntimeError("import gradviz.autograd before calling an op")
        return APPLY[-1](self, *inputs, **params)

    def __repr__(self) -> str:
        return f"Op({self.key!r})"


OPS: dict[str, Op] = {}
#: How a row is run on nodes: set by :mod:`autograd.custom` (which knows
#: Value and Tensor; this module is below them).
APPLY: list[Callable[..., Any]] = []


def register(op: Op) -> Op:
    """Add a row to the table (a duplicate key is an error)."""
    if op.key in OPS:
        raise ValueError(f"op {op.key!r} is registered twice")
    OPS[op.key] = op
    return op


def _zero_kink(x, *_):
    """The kink of relu, abs, leaky_relu and elu: the one input at 0."""
    return (x == 0,)


# --------------------------------------------------------------------------
# Broadcasting, handled once: a contribution summed back to an operand's shape
# --------------------------------------------------------------------------
def sum_to_shape(c, shape):
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


def unbroadcast(c, parent):
    """The array contribution ``c`` reduced to ``parent``'s shape and dtype."""
    d = parent.data
    if c.shape != d.shape:
        c = sum_to_shape(c, d.shape)
    if c.dtype != d.dtype:
        c = c.astype(d.dtype)
    return c


# --------------------------------------------------------------------------
# Hand-specialised rules, named by op and engine and declared in their rows
# below (``fast=``). Each computes exactly the generic rule's g * d, reduced
# (tests compare them bit for bit). ``n._op.args`` holds the constants.
# The float rules are text (:mod:`autograd.rulecode`): compiled into a
# function, and inlined into ``backward()``'s loop.
# --------------------------------------------------------------------------
def _text_rule(key: str, *exprs: str, common: bool = False) -> Callable:
    return float_rule(*exprs, math=FloatMath, name=f"_{key}_float", common=common)


# The common ones first, most common first: backward() tests them in this order.
_mul_float = _text_rule("mul", "g * b.data", "g * a.data", common=True)
_add_float = _text_rule("add", "g", "g", common=True)
_relu_float = _text_rule("relu", "g * (1.0 if a.data > 0.0 else 0.0)", common=True)
_tanh_float = _text_rule("tanh", "g * (1.0 - n.data * n.data)", common=True)
_sub_float = _text_rule("sub", "g", "g * -1.0")
_neg_float = _text_rule("neg", "g * -1.0")
_exp_float = _text_rule("exp", "g * n.data")
_log_float = _text_rule("log", "g * M.div(1.0, a.data)")
_add_const_float = _text_rule("add_const", "g")
_mul_const_float = _text_rule("mul_const", "g * k.args[0]")
_div_float = _text_rule("div", "g * M.div(1.0, b.data)", "g * -M.div(n.data, b.data)")
_sigmoid_float = _text_rule("sigmoid", "g * (n.data * M.sigmoid(-a.data))")


def _wsum_float(n, g):
    ps = n._parents
    out = [g]
    for i in range(1, len(ps), 2):
        out.append(g * ps[i + 1].data)
        out.append(g * ps[i].data)
    return tuple(out)


def _add_array(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.dtype is bd.dtype and ad.shape == bd.shape:  # no broadcasting, no promotion
        return (g if a.requires_grad else None, g if b.requires_grad else None)
    return (unbroadcast(g, a) if a.requires_grad else None,
            unbroadcast(g, b) if b.requires_grad else None)


def _sub_array(n, g):
    a, b = n._parents
    return (unbroadcast(g, a) if a.requires_grad else None,
            unbroadcast(g * -1.0, b) if b.requires_grad else None)


def _mul_array(n, g):
    a, b = n._parents
    ad, bd = a.data, b.data
    if ad.dtype is bd.dtype and ad.shape == bd.shape:
        return (g * bd if a.requires_grad else None, g * ad if b.requires_grad else None)
    return (unbroadcast(g * bd, a) if a.requires_grad else None,
            unbroadcast(g * ad, b) if b.requires_grad else None)


def _div_array(n, g):
    a, b = n._parents
    bd = b.data
    return (unbroadcast(g * np.divide(1.0, bd), a) if a.requires_grad else None,
            unbroadcast(g * -np.divide(n.data, bd), b) if b.requires_grad else None)


def _neg_array(n, g): return (g * -1.0,)
def _exp_array(n, g): return (g * n.data,)
def _log_array(n, g): return (g * np.divide(1.0, n._parents[0].data),)
def _add_const_array(n, g): return (g,)
def _mul_const_array(n, g): return (g * n._op.args[0],)


def _tanh_array(n, g):
    o = n.data
    if not o.ndim:
        return (g * (1.0 - o * o),)
    d = o * o                   # g * (1 - o²) with one allocation
    np.subtract(1.0, d, d)
    np.multiply(g, d, d)
    return (d,)


def _relu_array(n, g):
    x = n._parents[0].data
    m = (x > 0).astype(x.dtype)  # a float mask multiplies faster than a bool one
    if m.ndim:
        np.multiply(m, g, m)     # g * mask, into the mask: one allocation
        return (m,)
    return (g * m,)


def _sigmoid_array(n, g):
    return (g * (n.data * ArrayMath.sigmoid(-n._parents[0].data)),)


R: tuple[Interval, ...] = ((-3.0, 3.0),)
SMALL: tuple[Interval, ...] = ((-2.0, 2.0),)
POS: tuple[Interval, ...] = ((0.2, 4.0),)
NONZERO: tuple[Interval, ...] = ((-4.0, -0.2), (0.2, 4.0))
OFF_KINK: tuple[Interval, ...] = ((-3.0, -0.05), (0.05, 3.0))

# --- binary arithmetic -----------------------------------------------------
register(Op("add", "+", 2, lambda M, a, b: a + b,
            lambda M, o, a, b: (ONE, ONE),
            rule=("d/da = 1", "d/db = 1"), domain=(R, R), doc="a + b",
            fast={"float": _add_float, "array": _add_array}))
register(Op("sub", "-", 2, lambda M, a, b: a - b,
            lambda M, o, a, b: (ONE, -1.0),
            rule=("d/da = 1", "d/db = -1"), domain=(R, R), doc="a - b",
            fast={"float": _sub_float, "array": _sub_array}))
register(Op("mul", "*", 2, lambda M, a, b: a * b,
            lambda M, o, a, b: (b, a),
            rule=("d/da = b", "d/db = a"), domain=(R, R), symbol="×", doc="a * b",
            fast={"float": _mul_float, "array": _mul_array}))
register(Op("div", "/", 2, lambda M, a, b: M.div(a, b),
            lambda M, o, a, b: (M.div(1.0, b), -M.div(o, b)),
            rule=("d/da = 1/b", "d/db = -a/b²"), domain=(R, NONZERO), symbol="÷", doc="a / b",
            fast={"float": _div_float, "array": _div_array}))
def _pow_deriv(M, o, a, b):
    """PyTorch's rule: d/da is 0 where b = 0 (not 0·a^-1), d/db is 0 where
    a = 0 and b >= 0 (not 1·ln 0); elsewhere the textbook formulas."""
    va, vb = M.val(a), M.val(b)
    # b = 0 matters only where a^(b-1) is not finite (a = 0, ±inf, nan): elsewhere
    # b·a^(b-1) is 0 already, and keeping it keeps d²/da db right at b = 0.
    bad_a = (va == 0) | (va * 0.0 != 0.0)
    da = M.choose((vb == 0) & bad_a, M.zeros(a), b * M.pow(a, b - 1.0))
    db = M.choose((va == 0) & (vb >= 0), M.zeros(b), M.xlogy(o, a))
    return da, db


register(Op("pow", "**", 2, lambda M, a, b: M.pow(a, b), _pow_deriv,
            rule=("d/da = b·a^(b-1) (0 where b = 0)", "d/db = a^b·ln a (0 where a = 0, b >= 0)"),
            domain=(POS, SMALL),
            doc="a ** b with a node exponent"))
register(Op("select", "select", 2,
            lambda M, a, b, mask: M.select(mask, a, b),
            lambda M, o, a, b, mask: (mask, 1.0 - mask),
            rule=("d/da = mask", "d/db = 1 - mask"), domain=(R, R), params={"mask": (1.0, 0.0)},
            doc="a where mask else b (mask a constant 0/1: how piecewise rules select on nodes)"))
register(Op("xlogy", "xlogy", 2, lambda M, a, b: M.xlogy(a, b),
            # PyTorch's rule: d/da = log b where a != 0 (0 where a == 0), d/db = a / b
            lambda M, o, a, b: (M.xlogy(M.nonzero(a), b), M.div(a, b)),
            rule=("d/da = ln b (0 where a = 0)", "d/db = a/b"), domain=(OFF_KINK, POS),
            kink=lambda a, b: (a == 0, b == 0),
            doc="a·ln b, 0 where a = 0 (the exponent's derivative of a ** b)"))
register(Op("swish", "swish", 2,
            lambda M, a, beta: a * M.sigmoid(beta * a),
            lambda M, o, a, beta: _swish_derivs(M, a, beta, True),
            rule=("d/da = σ(βa) + βa·σ(βa)σ(-βa)", "d/dβ = a²·σ(βa)σ(-βa)"),
            domain=(R, ((0.2, 3.0),)), doc="a * sigmoid(beta * a), beta a node"))


def _swish_derivs(M, a, beta, both):
    s = M.sigmoid(beta * a)
    ssn = s * M.sigmoid(-(beta * a))
    da = s + beta * a * ssn
    return (da, a * a * ssn) if both else (da,)


# --- a node and a constant (a Python number kept in the op, not a leaf) -----
def _powc_deriv(M, o, a, c):
    if c == 0:  # a ** 0 is 1 everywhere: gradient 0, at ±inf and nan too (PyTorch)
        return (M.zeros(a),)
    if c == 1:
        return (ONE,)
    if c == 2:
        return (2.0 * a,)
    return (c * M.pow(a, c - 1.0),)


def _rpowc_deriv(M, o, a, c):
    if c == 0:  # 0 ** a: PyTorch's gradient is 0 for a >= 0 (not 1·ln 0 at a = 0)
        return (M.choose(M.val(a) >= 0, M.zeros(a), o * -INF),)
    return (o * FloatMath.log(c),)


CONST = {"c": (2.0, -1.5, 0.5)}
register(Op("add_const", "+", 1, lambda M, a, c: a + c, lambda M, o, a, c: (ONE,),
            rule=("d/da = 1",), domain=(R,), params=CONST, doc="a + c (also c + a, a - c)",
            fast={"float": _add_const_float, "array": _add_const_array}))
register(Op("sub_const", "-", 1, lambda M, a, c: a - c, lambda M, o, a, c: (ONE,),
            rule=("d/da = 1",), domain=(R,), params=CONST, doc="a - c",
            fast={"float": _add_const_float, "array": _add_const_array}))
register(Op("rsub_const", "-", 1, lambda M, a, c: c - a, lambda M, o, a, c: (-1.0,),
            rule=("d/da = -1",), domain=(R,), params=CONST, doc="c - a"))
register(Op("mul_const", "*", 1, lambda M, a, c: a * c, lambda M, o, a, c: (c,),
            rule=("d/da = c",), domain=(R,), params=CONST, symbol="×", doc="a * c (also c * a)",
            fast={"float": _mul_const_float, "array": _mul_const_array}))
register(Op("div_const", "/", 1, lambda M, a, c: M.div(a, c), lambda M, o, a, c: (M.div(1.0, c),),
            rule=("d/da = 1/c",), domain=(R,), params=CONST, symbol="÷", doc="a / c"))
register(Op("rdiv_const", "/", 1, lambda M, a, c: M.div(c, a), lambda M, o, a, c: (-M.div(o, a),),
            rule=("d/da = -c/a²",), domain=(NONZERO,), params=CONST, symbol="÷",
            doc="c / a"))
register(Op("pow_const", "**", 1, lambda M, a, c: M.pow(a, c), _powc_deriv,
            rule=("d/da = c·a^(c-1)",), domain=(POS,),
            params={"c": (2.0, 3.0, -1.0, 0.5, -0.5, 0.0)},
            doc="a ** c with a constant exponent c"))
register(Op("rpow_const", "**", 1, lambda M, a, c: M.pow(c, a), _rpowc_deriv,
            rule=("d/da = c^a·ln c",), domain=(SMALL,), params={"c": (2.0, 0.5, 3.0)},
            doc="c ** a with a constant base c > 0"))

# --- unary -----------------------------------------------------------------
register(Op("neg", "neg", 1, lambda M, a: -a, lambda M, o, a: (-1.0,),
            rule=("d/da = -1",), domain=(R,), symbol="-", doc="-a", method="neg",
            fast={"float": _neg_float, "array": _neg_array}))
register(Op("abs", "abs", 1, lambda M, a: M.absolute(a), lambda M, o, a: (M.sign(a),),
            rule=("d/da = sign(a)",), domain=(OFF_KINK,), kink=_zero_kink, symbol="|a|",
            doc="|a| (abs'(0) = 0)", method="abs"))
register(Op("exp", "exp", 1, lambda M, a: M.exp(a), lambda M, o, a: (o,),
            rule=("d/da = exp(a)",), domain=(R,), doc="e ** a", method="exp",
            fast={"float": _exp_float, "array": _exp_array,
                  "float_forward": FloatMath.exp, "array_forward": np.exp}))
register(Op("log", "log", 1, lambda M, a: M.log(a), lambda M, o, a: (M.div(1.0, a),),
            rule=("d/da = 1/a",), domain=(POS,), doc="natural logarithm", method="log",
            fast={"float": _log_float, "array": _log_array,
                  "float_forward": FloatMath.log, "array_forward": np.log}))
register(Op("sqrt", "sqrt", 1, lambda M, a: M.sqrt(a), lambda M, o, a: (M.div(0.5, o),),
            rule=("d/da = 1/(2·√a)",), domain=(POS,), symbol="√", doc="square root",
            method="sqrt"))
register(Op("tanh", "tanh", 1, lambda M, a: M.tanh(a), lambda M, o, a: (1.0 - o * o,),
            rule=("d/da = 1 - tanh²(a)",), domain=(R,), doc="hyperbolic tangent", method="tanh",
            fast={"float": _tanh_float, "array": _tanh_array,
                  "float_forward": math.tanh, "array_forward": np.tanh},
            activation=True, gain=5.0 / 3.0))
register(Op("sigmoid", "sigmoid", 1, lambda M, a: M.sigmoid(a),
            lambda M, o, a: (o * M.sigmoid(-a),),
            rule=("d/da = σ(a)·σ(-a)",), domain=(R,), symbol="σ", doc="1 / (1 + e^-a), stable",
            method="sigmoid", fast={"float": _sigmoid_float, "array": _sigmoid_array,
                  "float_forward": FloatMath.sigmoid, "array_forward": ArrayMath.sigmoid},
            activation=True, gain=1.0))
register(Op("relu", "relu", 1, lambda M, a: M.relu(a), lambda M, o, a: (M.step(a),),
            rule=("d/da = [a > 0]",), domain=(OFF_KINK,), kink=_zero_kink,
            doc="max(a, 0) (relu'(0) = 0)", method="relu",
            fast={"float": _relu_float, "array": _relu_array,
                  "float_forward": FloatMath.relu, "array_forward": ArrayMath.relu},
            activation=True, gain=SQRT2))
register(Op("sin", "sin", 1, lambda M, a: M.sin(a), lambda M, o, a: (M.cos(a),),
            rule=("d/da = cos(a)",), domain=(R,), doc="sine", method="sin"))
register(Op("cos", "cos", 1, lambda M, a: M.cos(a), lambda M, o, a: (-M.sin(a),),
            rule=("d/da = -sin(a)",), domain=(R,), doc="cosine", method="cos"))
register(Op("erf", "erf", 1, lambda M, a: M.erf(a),
            lambda M, o, a: (TWO_OVER_SQRT_PI * M.exp(-(a * a)),),
            rule=("d/da = 2/√π·e^(-a²)",), domain=(R,), doc="error function", method="erf"))
register(Op("leaky_relu", "leaky_relu", 1,
            lambda M, a, alpha: M.where_pos(a, a, alpha * a),
            lambda M, o, a, alpha: (M.where_pos(a, 1.0, alpha),),
            rule=("d/da = 1 if a > 0 else α",), domain=(OFF_KINK,), kink=_zero_kink,
            params={"alpha": (0.01, 0.2)}, doc="a if a > 0 else alpha * a",
            method="leaky_relu", defaults={"alpha": 0.01},
            activation=True, gain=lambda alpha: math.sqrt(2.0 / (1.0 + alpha * alpha))))
register(Op("elu", "elu", 1,
            lambda M, a, alpha: M.where_pos(a, a, alpha * M.expm1(M.where_pos(a, 0.0 * a, a))),
            # alpha·e^a for a <= 0 (not elu(a) + alpha, which cancels for large negative a)
            lambda M, o, a, alpha: (
                M.where_pos(a, 1.0, alpha * M.exp(M.where_pos(a, 0.0 * a, a))),),
            rule=("d/da = 1 if a > 0 else α·e^a",), domain=(OFF_KINK,), kink=_zero_kink,
            params={"alpha": (1.0, 0.5)}, doc="a if a > 0 else alpha * (e^a - 1)",
            method="elu", defaults={"alpha": 1.0},
            activation=True, gain=SQRT2))
register(Op("gelu", "gelu", 1,
            lambda M, a: 0.5 * a * (1.0 + M.erf(a * SQRT1_2)),
            lambda M, o, a: (
                0.5 * (1.0 + M.erf(a * SQRT1_2)) + a * M.exp(-0.5 * (a * a)) * INV_SQRT_2PI,),
            rule=("d/da = Φ(a) + a·φ(a)",), domain=(R,),
            doc="exact GELU, a·Φ(a) with the normal CDF Φ",
            method="gelu",
            activation=True, gain=SQRT2))
register(Op("silu", "silu", 1, lambda M, a: a * M.sigmoid(a),
            lambda M, o, a: (M.sigmoid(a) * (1.0 + a * M.sigmoid(-a)),),
            rule=("d/da = σ(a)·(1 + a·σ(-a))",), domain=(R,),
            doc="a * sigmoid(a) (swish with beta = 1)",
            method="silu",
            activation=True, gain=SQRT2))
register(Op("swish_const", "swish", 1,
            lambda M, a, beta: a * M.sigmoid(beta * a),
            lambda M, o, a, beta: _swish_derivs(M, a, beta, False),
            rule=("d/da = σ(βa) + βa·σ(βa)σ(-βa)",), domain=(R,), params={"beta": (1.0, 2.0, 0.5)},
            doc="a * sigmoid(beta * a) with a constant beta", method="swish",
            defaults={"beta": 1.0},
            activation=True, gain=SQRT2))
register(Op("softplus", "softplus", 1, lambda M, a: M.softplus(a), lambda M, o, a: (M.sigmoid(a),),
            rule=("d/da = σ(a)",), domain=(R,), doc="log(1 + e^a), stable", method="softplus",
            activation=True, gain=1.0))


# --- more elementwise functions (issue 12) -------------------------------------
LN2 = math.log(2.0)
LN10 = math.log(10.0)
UNIT: tuple[Interval, ...] = ((-0.9, 0.9),)
# Piecewise-constant ops are tested between their jumps.
BETWEEN_INTEGERS: tuple[Interval, ...] = ((-2.9, -2.1), (-1.9, -1.1), (-0.9, -0.1), (0.1, 0.9),
                                          (1.1, 1.9), (2.1, 2.9))
BETWEEN_HALVES: tuple[Interval, ...] = ((-2.4, -1.6), (-1.4, -0.6), (-0.4, 0.4), (0.6, 1.4),
                                        (1.6, 2.4))


def _zero_deriv(M, o, a, *_):
    return (M.zeros(a),)


def _integer_kink(x, *_):
    return (x == np.floor(x),)


register(Op("tan", "tan", 1, lambda M, a: M.tan(a), lambda M, o, a: (1.0 + o * o,),
            rule=("d/da = 1 + tan²(a)",), domain=(((-1.2, 1.2),),), doc="tangent", method="tan"))
register(Op("arcsin", "arcsin", 1, lambda M, a: M.arcsin(a),
            lambda M, o, a: (M.div(1.0, M.sqrt(1.0 - a * a)),),
            rule=("d/da = 1/√(1 - a²)",), domain=(UNIT,), doc="inverse sine, on [-1, 1]",
            method="arcsin"))
register(Op("arccos", "arccos", 1, lambda M, a: M.arccos(a),
            lambda M, o, a: (-M.div(1.0, M.sqrt(1.0 - a * a)),),
            rule=("d/da = -1/√(1 - a²)",), domain=(UNIT,), doc="inverse cosine, on [-1, 1]",
            method="arccos"))
register(Op("arctan", "arctan", 1, lambda M, a: M.arctan(a),
            lambda M, o, a: (M.div(1.0, 1.0 + a * a),),
            rule=("d/da = 1/(1 + a²)",), domain=(R,), doc="inverse tangent", method="arctan"))
register(Op("sinh", "sinh", 1, lambda M, a: M.sinh(a), lambda M, o, a: (M.cosh(a),),
            rule=("d/da = cosh(a)",), domain=(R,), doc="hyperbolic sine", method="sinh"))
register(Op("cosh", "cosh", 1, lambda M, a: M.cosh(a), lambda M, o, a: (M.sinh(a),),
            rule=("d/da = sinh(a)",), domain=(R,), doc="hyperbolic cosine", method="cosh"))
register(Op("log2", "log2", 1, lambda M, a: M.log2(a), lambda M, o, a: (M.div(1.0, a * LN2),),
            rule=("d/da = 1/(a·ln 2)",), domain=(POS,), doc="base-2 logarithm", method="log2"))
register(Op("log10", "log10", 1, lambda M, a: M.log10(a),
            lambda M, o, a: (M.div(1.0, a * LN10),),
            rule=("d/da = 1/(a·ln 10)",), domain=(POS,), doc="base-10 logarithm",
            method="log10"))
register(Op("exp2", "exp2", 1, lambda M, a: M.exp2(a), lambda M, o, a: (o * LN2,),
            rule=("d/da = 2^a·ln 2",), domain=(R,), doc="2 ** a", method="exp2"))
register(Op("log1p", "log1p", 1, lambda M, a: M.log1p(a), lambda M, o, a: (M.div(1.0, 1.0 + a),),
            rule=("d/da = 1/(1 + a)",), domain=(((-0.8, 3.0),),),
            doc="log(1 + a), accurate for tiny a", method="log1p"))
register(Op("expm1", "expm1", 1, lambda M, a: M.expm1(a), lambda M, o, a: (o + 1.0,),
            rule=("d/da = e^a",), domain=(R,), doc="e^a - 1, accurate for tiny a",
            method="expm1"))
register(Op("rsqrt", "rsqrt", 1, lambda M, a: M.rsqrt(a), lambda M, o, a: (-0.5 * (o * o * o),),
            rule=("d/da = -1/(2·a^(3/2))",), domain=(POS,), doc="1 / √a", method="rsqrt"))
register(Op("sign", "sign", 1, lambda M, a: M.sign(a), _zero_deriv,
            rule=("d/da = 0",), domain=(OFF_KINK,), kink=_zero_kink,
            doc="-1, 0 or 1 (gradient 0 everywhere, as PyTorch)", method="sign"))
register(Op("floor", "floor", 1, lambda M, a: M.floor(a), _zero_deriv,
            rule=("d/da = 0",), domain=(BETWEEN_INTEGERS,), kink=_integer_kink,
            doc="largest integer <= a (gradient 0 everywhere, as PyTorch)", method="floor"))
register(Op("ceil", "ceil", 1, lambda M, a: M.ceil(a), _zero_deriv,
            rule=("d/da = 0",), domain=(BETWEEN_INTEGERS,), kink=_integer_kink,
            doc="smallest integer >= a (gradient 0 everywhere, as PyTorch)", method="ceil"))
register(Op("round", "round", 1, lambda M, a: M.round(a), _zero_deriv,
            rule=("d/da = 0",), domain=(BETWEEN_HALVES,),
            kink=lambda x: (x - np.floor(x) == 0.5,),
            doc="nearest integer, halves to even (gradient 0 everywhere, as PyTorch)",
            method="round"))


def _clip_deriv(M, o, a, bounds):
    v = M.val(a)
    return (M.lift(a, (v >= bounds[0]) & (v <= bounds[1])),)


# One parameter, the pair (min, max); the samples' bounds are kept out of the domain.
register(Op("clip", "clip", 1, lambda M, a, bounds: M.clip(a, bounds[0], bounds[1]), _clip_deriv,
            rule=("d/da = 1 if min <= a <= max else 0",),
            domain=(((-3.0, -1.05), (-0.95, 0.95), (1.05, 3.0)),),
            kink=lambda a, bounds: ((a == bounds[0]) | (a == bounds[1]),),
            params={"bounds": ((-1.0, 1.0),)},
            doc="a limited to [min, max], bounds = (min, max) (PyTorch's clamp: gradient 1 "
                "on the closed interval)",
            # the method's spelling, x.clip(min, max), taken apart into the one parameter
            method="clip", defaults={"min": -INF, "max": INF}))


def _minmax_deriv(M, o, a, b, larger):
    va, vb = M.val(a), M.val(b)
    wins = (va > vb) if larger else (va < vb)
    loses = (va < vb) if larger else (va > vb)
    tie = (va == vb) * 0.5          # ties share the gradient (PyTorch)
    return M.lift(a, wins + tie), M.lift(b, loses + tie)


# Interleaved domains: a and b are never tied, and either may be the larger.
A_SIDE: tuple[Interval, ...] = ((-3.0, -2.0), (-1.0, 0.0), (1.0, 2.0))
B_SIDE: tuple[Interval, ...] = ((-2.0, -1.0), (0.0, 1.0), (2.0, 3.0))
register(Op("maximum", "maximum", 2, lambda M, a, b: M.maximum(a, b),
            lambda M, o, a, b: _minmax_deriv(M, o, a, b, True),
            rule=("d/da = [a > b] (½ at a tie)", "d/db = [b > a] (½ at a tie)"),
            domain=(A_SIDE, B_SIDE), kink=lambda a, b: (a == b, a == b),
            doc="elementwise larger of a and b (nan if either is nan)"))
register(Op("minimum", "minimum", 2, lambda M, a, b: M.minimum(a, b),
            lambda M, o, a, b: _minmax_deriv(M, o, a, b, False),
            rule=("d/da = [a < b] (½ at a tie)", "d/db = [b < a] (½ at a tie)"),
            domain=(A_SIDE, B_SIDE), kink=lambda a, b: (a == b, a == b),
            doc="elementwise smaller of a and b (nan if either is nan)"))

# --- more activations (issue 12) -------------------------------------------------
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
HARD: tuple[Interval, ...] = ((-5.0, -3.05), (-2.95, 2.95), (3.05, 5.0))


def _neg_part(M, a):
    """a where a <= 0, else 0 (so exp of it never overflows)."""
    return M.where_pos(a, 0.0 * a, a)


register(Op("selu", "selu", 1,
            lambda M, a: SELU_SCALE * M.where_pos(a, a, SELU_ALPHA * M.expm1(_neg_part(M, a))),
            lambda M, o, a: (
                SELU_SCALE * M.where_pos(a, 1.0, SELU_ALPHA * M.exp(_neg_part(M, a))),),
            rule=("d/da = λ if a > 0 else λα·e^a",), domain=(OFF_KINK,), kink=_zero_kink,
            doc="λ·(a if a > 0 else α(e^a - 1)), λ ≈ 1.0507, α ≈ 1.6733 (self-normalising)",
            method="selu", activation=True, gain=0.75))
register(Op("celu", "celu", 1,
            lambda M, a, alpha: M.where_pos(a, a, alpha * M.expm1(_neg_part(M, a) / alpha)),
            lambda M, o, a, alpha: (M.where_pos(a, 1.0, M.exp(_neg_part(M, a) / alpha)),),
            rule=("d/da = 1 if a > 0 else e^(a/α)",), domain=(OFF_KINK,),
            params={"alpha": (1.0, 0.5)}, doc="a if a > 0 else α(e^(a/α) - 1)",
            method="celu", defaults={"alpha": 1.0}, activation=True, gain=SQRT2))


def _mish_deriv(M, o, a):
    t = M.tanh(M.softplus(a))
    return (t + a * M.sigmoid(a) * (1.0 - t * t),)


register(Op("mish", "mish", 1, lambda M, a: a * M.tanh(M.softplus(a)), _mish_deriv,
            rule=("d/da = tanh(sp(a)) + a·σ(a)·(1 - tanh²(sp(a)))",), domain=(R,),
            doc="a·tanh(softplus(a)), stable", method="mish", activation=True, gain=SQRT2))
register(Op("hardswish", "hardswish", 1,
            lambda M, a: a * M.clip(a + 3.0, 0.0, 6.0) / 6.0,
            lambda M, o, a: (M.choose(M.val(a) <= -3.0, M.zeros(a),
                                      M.choose(M.val(a) < 3.0, a / 3.0 + 0.5, 1.0)),),
            rule=("d/da = 0 if a <= -3, a/3 + ½ if a < 3, else 1",), domain=(HARD,),
            kink=lambda a: (abs(a) == 3.0,),
            doc="a·relu6(a + 3)/6 (MobileNetV3)", method="hardswish", activation=True, gain=SQRT2))
register(Op("hardsigmoid", "hardsigmoid", 1,
            lambda M, a: M.clip(a + 3.0, 0.0, 6.0) / 6.0,
            lambda M, o, a: (M.lift(a, ((M.val(a) > -3.0) & (M.val(a) < 3.0)) / 6.0),),
            rule=("d/da = 1/6 if -3 < a < 3 else 0",), domain=(HARD,),
            kink=lambda a: (abs(a) == 3.0,),
            doc="relu6(a + 3)/6, a piecewise-linear sigmoid", method="hardsigmoid",
            activation=True, gain=1.0))
register(Op("relu6", "relu6", 1, lambda M, a: M.clip(a, 0.0, 6.0),
            lambda M, o, a: (M.lift(a, (M.val(a) > 0.0) & (M.val(a) < 6.0)),),
            rule=("d/da = 1 if 0 < a < 6 else 0",),
            domain=(((-3.0, -0.05), (0.05, 5.95), (6.05, 8.0)),),
            kink=lambda a: ((a == 0) | (a == 6),),
            doc="min(max(a, 0), 6) (relu6'(0) = relu6'(6) = 0, as PyTorch)", method="relu6",
            activation=True, gain=SQRT2))
register(Op("softsign", "softsign", 1, lambda M, a: M.div(a, 1.0 + M.absolute(a)),
            lambda M, o, a: (M.div(1.0, (1.0 + M.absolute(a)) * (1.0 + M.absolute(a))),),
            rule=("d/da = 1/(1 + |a|)²",), domain=(OFF_KINK,),
            doc="a / (1 + |a|)", method="softsign", activation=True, gain=1.0))
register(Op("logsigmoid", "logsigmoid", 1, lambda M, a: M.log_sigmoid(a),
            lambda M, o, a: (M.sigmoid(-a),),
            rule=("d/da = σ(-a)",), domain=(R,), symbol="log σ",
            doc="log σ(a) = -softplus(-a), stable", method="logsigmoid", activation=True, gain=1.0))

# --- losses' elementwise pieces ----------------------------------------------------
def _huber_forward(M, a, delta):
    return M.choose(abs(M.val(a)) < delta, 0.5 * (a * a), delta * (M.absolute(a) - 0.5 * delta))


register(Op("huber", "huber", 1, _huber_forward,
            lambda M, o, a, delta: (M.clip(a, -delta, delta),),
            rule=("d/da = clip(a, -δ, δ)",),
            domain=(((-3.0, -1.05), (-0.95, -0.55), (-0.45, 0.45), (0.55, 0.95), (1.05, 3.0)),),
            params={"delta": (1.0, 0.5)},
            doc="½a² if |a| < δ else δ(|a| - ½δ): the Huber loss of a residual a"))

# --- n-ary ---------------------------------------------------------------------
def _wsum_forward(M, b, *wx):
    out = b
    for i in range(0, len(wx), 2):
        out = out + wx[i] * wx[i + 1]
    return out


def _wsum_deriv(M, o, b, *wx):
    d = [ONE]
    for i in range(0, len(wx), 2):
        d.append(wx[i + 1])
        d.append(wx[i])
    return tuple(d)


register(Op("wsum", "wsum", -1, _wsum_forward, _wsum_deriv,
            rule=("d/db = 1", "d/dw_i = x_i", "d/dx_i = w_i"), domain=(R, R, R, R, R),
            symbol="Σ", doc="b + Σ w_i·x_i, a neuron's linear map as one node; operands "
                            "(b, w_1, x_1, w_2, x_2, ...)", fast={"float": _wsum_float}))


def arity_of(op: Op) -> int:
    """Number of inputs to use when testing ``op`` (variadic ops: len(domain))."""
    return op.arity if op.arity >= 0 else len(op.domain)


def activations() -> list[Op]:
    """The built-in activation rows (one input, a method), in table order."""
    return [op for op in OPS.values() if op.activation and not op.user]


def elementwise_ops(user: bool = False) -> list[Op]:
    """Built-in ops with a local-derivative rule, in table order (with
    ``user``, users' own rows too)."""
    return [op for op in OPS.values() if op.deriv is not None and (user or not op.user)]


def _md_cell(text: str) -> str:
    """Text for one cell of a Markdown table (a ``|`` would end the cell)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def op_reference(user: bool = True) -> str:
    """The op reference as Markdown, generated from the table
    (``python -m gradviz.autograd > docs/ops.md``; a test keeps the file
    current). Users' own rows, when any are defined, follow under their own
    heading (without ``user``, only the built-in rows)."""
    head = ["| op | shown as | inputs | parameters | local derivative | smooth on | method |",
            "|---|---|---|---|---|---|---|"]
    lines = ["# Op reference", "",
             "Generated from the op table (`autograd/ops.py`) by `python -m gradviz.autograd`; "
             "do not edit by hand.", "", *head]
    lines += [_reference_row(op) for op in OPS.values() if not op.user]
    mine = [op for op in OPS.values() if op.user] if user else []
    if mine:
        lines += ["", "## Your own ops", "", *head, *[_reference_row(op) for op in mine]]
    lines += ["", "## The math namespace `M`, for your own rules", "",
              "`define_op(forward=lambda M, a: ..., deriv=lambda M, out, a: ...)` writes a rule "
              "once; it runs with `M` the float, the array or the node namespace "
              "(`FloatMath`, `ArrayMath`, `NodeMath`). Besides `+ - * / **` on its arguments, "
              "a rule may call:", "", "| `M.` | what it gives |", "|---|---|"]
    lines += [f"| `{name}` | {_md_cell(text)} |" for name, text in sorted(NAMESPACE_DOC.items())]
    return "\n".join(lines)


def _reference_row(op: Op) -> str:
    dom = "; ".join(" ∪ ".join(f"({lo:g}, {hi:g})" for lo, hi in d) for d in op.domain) or "all"
    params = ", ".join(f"{k} (e.g. {v[0]:g})" if isinstance(v[0], (int, float)) else k
                       for k, v in op.params.items())
    arity = "any number" if op.arity == -1 else str(op.arity)
    method = ""
    if op.method:
        args = ", ".join(f"{k}={v!r}" for k, v in op.defaults.items())
        method = f"`.{op.method}({args})`"
    cells = [f"`{op.key}` ({op.doc})", f"`{op.symbol}`", arity, params,
             "; ".join(op.rule), dom, method]
    return "| " + " | ".join(_md_cell(c) for c in cells) + " |"
