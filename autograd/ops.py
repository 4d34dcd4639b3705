"""The op table: every differentiable op, defined once.

Each :class:`Op` holds

* ``forward(M, *xs, **params)`` -- the value, written against a math namespace
  ``M`` so the same text runs on Python floats (:data:`FM`), numpy arrays
  (:data:`AM`) and graph nodes (:data:`NM`, which records a graph);
* ``deriv(M, out, *xs, **params)`` -- the local derivative of the output with
  respect to each input, for elementwise ops (one entry per input). Written
  with node arithmetic (``1 - out * out``, not ``1 - out.data ** 2``), so the
  same rule gives plain gradients (``M=FM``/``AM``) and differentiable ones for
  ``create_graph=True`` (``M=NM``);
* ``rule`` -- the rule as text for diagrams, one string per input
  (``"d/da = b"``);
* ``domain`` -- per input, the intervals where the op is smooth (used by the
  tests and by :mod:`autograd.testing`), ``kink`` -- a predicate telling
  whether an input sits on a point where the op is not differentiable (used by
  :func:`autograd.gradcheck` to explain a mismatch);
* ``arity`` -- the number of inputs, or -1 for a variadic op (``wsum``),
  which is tested with ``len(domain)`` inputs;
* ``params`` -- names and sample values of constant parameters (the slope of
  Leaky ReLU, a constant exponent).

Structural tensor ops (matmul, reductions, reshapes, indexing) are registered
in the same table by :mod:`autograd.tensor` with a ``vjp`` rule instead of
``deriv``.

Math-error policy (the same for Value and Tensor): IEEE semantics, like numpy.
Overflow gives ``inf`` (``exp(1000)``), ``log(0)`` is ``-inf``, ``log(-1)`` and
``sqrt(-1)`` are ``nan``, ``1/0`` is ``inf``; nothing raises. Run the code
under :func:`autograd.detect_anomaly` to get an error naming the op and the
line that produced the first non-finite number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

INF = math.inf
NAN = math.nan
SQRT1_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

#: Returned by ``deriv`` for a local derivative that is exactly one, so the
#: walker can pass the upstream gradient through without multiplying.
ONE = 1.0


# --------------------------------------------------------------------------
# Math namespaces: the same rule text runs on floats, arrays and nodes.
# --------------------------------------------------------------------------
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

    @staticmethod
    def relu(x: float) -> float:
        return x if x > 0.0 else 0.0

    @staticmethod
    def step(x: float) -> float:
        """1 where x > 0, else 0 (the derivative of relu; relu'(0) = 0)."""
        return 1.0 if x > 0.0 else 0.0

    @staticmethod
    def sign(x: float) -> float:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)

    @staticmethod
    def where_pos(x: float, a: Any, b: Any) -> Any:
        """``a`` where x > 0, else ``b``."""
        return a if x > 0.0 else b

    @staticmethod
    def absolute(x: float) -> float:
        return abs(x)


class ArrayMath:
    """numpy versions of the same functions (stable forms for arrays)."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    absolute = staticmethod(np.abs)

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
        return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype, copy=False) if isinstance(x, np.ndarray) \
            else np.exp(-np.logaddexp(0.0, -x))

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


_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf_array(x):
    """erf for arrays: scipy's when installed, else math.erf per element."""
    try:  # scipy ships with scikit-learn, an optional extra; it is much faster
        from scipy.special import erf as sp_erf  # type: ignore
    except ImportError:  # pragma: no cover - depends on the environment
        x = np.asarray(x)
        return _erf_ufunc(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    return sp_erf(x)


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

    @staticmethod
    def div(a, b): return a / b

    @staticmethod
    def pow(a, b): return a ** b

    @staticmethod
    def xlogy(x, y): return x * NodeMath.log(y)

    # Piecewise-constant pieces are constants: their derivative is zero.
    @staticmethod
    def step(x): return x._constant(_math_of(x.data).step(x.data))

    @staticmethod
    def sign(x): return x._constant(_math_of(x.data).sign(x.data))

    @staticmethod
    def where_pos(x, a, b):
        m = NodeMath.step(x)
        return m * a + (1.0 - m) * b


FM = FloatMath
AM = ArrayMath
NM = NodeMath


def _math_of(data):
    return AM if isinstance(data, np.ndarray) else FM


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------
Interval = tuple[float, float]


@dataclass(eq=False)
class Op:
    """One differentiable op. See the module docstring for the fields."""

    key: str                       # table key, unique: "mul", "pow_const"
    name: str                      # public op name shown on nodes: "*", "**", "tanh"
    arity: int
    forward: Callable[..., Any]
    deriv: Callable[..., tuple] | None = None
    vjp: Callable[..., tuple] | None = None
    rule: tuple[str, ...] = ()
    domain: tuple[tuple[Interval, ...], ...] = ()
    kink: Callable[..., bool] | None = None
    params: dict[str, tuple] = field(default_factory=dict)
    symbol: str = ""               # short symbol for diagrams (defaults to name)
    doc: str = ""
    elementwise: bool = True
    smooth2: bool = True           # has a second derivative on its domain

    def __post_init__(self) -> None:
        self.symbol = self.symbol or self.name

    def __repr__(self) -> str:
        return f"Op({self.key!r})"

    def local_derivs(self, M, out, xs, params):
        """Local derivatives of an elementwise op as a tuple."""
        return self.deriv(M, out, *xs, **params)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.key in OPS:
        raise ValueError(f"op {op.key!r} is registered twice")
    OPS[op.key] = op
    return op


def _zero_kink(x, *_, **__):
    return x == 0


R: tuple[Interval, ...] = ((-3.0, 3.0),)
SMALL: tuple[Interval, ...] = ((-2.0, 2.0),)
POS: tuple[Interval, ...] = ((0.2, 4.0),)
NONZERO: tuple[Interval, ...] = ((-4.0, -0.2), (0.2, 4.0))
OFF_KINK: tuple[Interval, ...] = ((-3.0, -0.05), (0.05, 3.0))

# --- binary arithmetic -----------------------------------------------------
register(Op("add", "+", 2, lambda M, a, b: a + b,
            lambda M, o, a, b: (ONE, ONE),
            rule=("d/da = 1", "d/db = 1"), domain=(R, R), doc="a + b"))
register(Op("sub", "-", 2, lambda M, a, b: a - b,
            lambda M, o, a, b: (ONE, -1.0),
            rule=("d/da = 1", "d/db = -1"), domain=(R, R), doc="a - b"))
register(Op("mul", "*", 2, lambda M, a, b: a * b,
            lambda M, o, a, b: (b, a),
            rule=("d/da = b", "d/db = a"), domain=(R, R), symbol="×", doc="a * b"))
register(Op("div", "/", 2, lambda M, a, b: M.div(a, b),
            lambda M, o, a, b: (M.div(1.0, b), -M.div(o, b)),
            rule=("d/da = 1/b", "d/db = -a/b²"), domain=(R, NONZERO), symbol="÷", doc="a / b"))
register(Op("pow", "**", 2, lambda M, a, b: M.pow(a, b),
            lambda M, o, a, b: (b * M.pow(a, b - 1.0), M.xlogy(o, a)),
            rule=("d/da = b·a^(b-1)", "d/db = a^b·ln a"), domain=(POS, SMALL),
            doc="a ** b with a node exponent"))
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


# --- unary -----------------------------------------------------------------
def _powc_deriv(M, o, a, c):
    if c == 0:
        return (0.0 * a,)
    if c == 1:
        return (ONE,)
    if c == 2:
        return (2.0 * a,)
    return (c * M.pow(a, c - 1.0),)


register(Op("pow_const", "**", 1, lambda M, a, c: M.pow(a, c), _powc_deriv,
            rule=("d/da = c·a^(c-1)",), domain=(POS,), params={"c": (2.0, 3.0, -1.0, 0.5, -0.5, 0.0)},
            doc="a ** c with a constant exponent c"))
register(Op("neg", "neg", 1, lambda M, a: -a, lambda M, o, a: (-1.0,),
            rule=("d/da = -1",), domain=(R,), symbol="-", doc="-a"))
register(Op("abs", "abs", 1, lambda M, a: M.absolute(a), lambda M, o, a: (M.sign(a),),
            rule=("d/da = sign(a)",), domain=(OFF_KINK,), kink=_zero_kink, symbol="|a|",
            doc="|a| (abs'(0) = 0)"))
register(Op("exp", "exp", 1, lambda M, a: M.exp(a), lambda M, o, a: (o,),
            rule=("d/da = exp(a)",), domain=(R,), doc="e ** a"))
register(Op("log", "log", 1, lambda M, a: M.log(a), lambda M, o, a: (M.div(1.0, a),),
            rule=("d/da = 1/a",), domain=(POS,), doc="natural logarithm"))
register(Op("sqrt", "sqrt", 1, lambda M, a: M.sqrt(a), lambda M, o, a: (M.div(0.5, o),),
            rule=("d/da = 1/(2·√a)",), domain=(POS,), symbol="√", doc="square root"))
register(Op("tanh", "tanh", 1, lambda M, a: M.tanh(a), lambda M, o, a: (1.0 - o * o,),
            rule=("d/da = 1 - tanh²(a)",), domain=(R,), doc="hyperbolic tangent"))
register(Op("sigmoid", "sigmoid", 1, lambda M, a: M.sigmoid(a),
            lambda M, o, a: (o * M.sigmoid(-a),),
            rule=("d/da = σ(a)·σ(-a)",), domain=(R,), symbol="σ", doc="1 / (1 + e^-a), stable"))
register(Op("relu", "relu", 1, lambda M, a: M.relu(a), lambda M, o, a: (M.step(a),),
            rule=("d/da = [a > 0]",), domain=(OFF_KINK,), kink=_zero_kink, smooth2=True,
            doc="max(a, 0) (relu'(0) = 0)"))
register(Op("sin", "sin", 1, lambda M, a: M.sin(a), lambda M, o, a: (M.cos(a),),
            rule=("d/da = cos(a)",), domain=(R,), doc="sine"))
register(Op("cos", "cos", 1, lambda M, a: M.cos(a), lambda M, o, a: (-M.sin(a),),
            rule=("d/da = -sin(a)",), domain=(R,), doc="cosine"))
register(Op("erf", "erf", 1, lambda M, a: M.erf(a),
            lambda M, o, a: (TWO_OVER_SQRT_PI * M.exp(-(a * a)),),
            rule=("d/da = 2/√π·e^(-a²)",), domain=(R,), doc="error function"))
register(Op("leaky_relu", "leaky_relu", 1,
            lambda M, a, alpha: M.where_pos(a, a, alpha * a),
            lambda M, o, a, alpha: (M.where_pos(a, 1.0, alpha),),
            rule=("d/da = 1 if a > 0 else α",), domain=(OFF_KINK,), kink=_zero_kink,
            params={"alpha": (0.01, 0.2)}, doc="a if a > 0 else alpha * a"))
register(Op("elu", "elu", 1,
            lambda M, a, alpha: M.where_pos(a, a, alpha * M.expm1(M.where_pos(a, 0.0 * a, a))),
            lambda M, o, a, alpha: (M.where_pos(a, 1.0, o + alpha),),
            rule=("d/da = 1 if a > 0 else elu(a) + α",), domain=(OFF_KINK,), kink=_zero_kink,
            params={"alpha": (1.0, 0.5)}, doc="a if a > 0 else alpha * (e^a - 1)"))
register(Op("gelu", "gelu", 1,
            lambda M, a: 0.5 * a * (1.0 + M.erf(a * SQRT1_2)),
            lambda M, o, a: (0.5 * (1.0 + M.erf(a * SQRT1_2)) + a * M.exp(-0.5 * (a * a)) * INV_SQRT_2PI,),
            rule=("d/da = Φ(a) + a·φ(a)",), domain=(R,), doc="exact GELU, a·Φ(a) with the normal CDF Φ"))
register(Op("silu", "silu", 1, lambda M, a: a * M.sigmoid(a),
            lambda M, o, a: (M.sigmoid(a) * (1.0 + a * M.sigmoid(-a)),),
            rule=("d/da = σ(a)·(1 + a·σ(-a))",), domain=(R,), doc="a * sigmoid(a) (swish with beta = 1)"))
register(Op("swish_const", "swish", 1,
            lambda M, a, beta: a * M.sigmoid(beta * a),
            lambda M, o, a, beta: _swish_derivs(M, a, beta, False),
            rule=("d/da = σ(βa) + βa·σ(βa)σ(-βa)",), domain=(R,), params={"beta": (1.0, 2.0, 0.5)},
            doc="a * sigmoid(beta * a) with a constant beta"))
register(Op("softplus", "softplus", 1, lambda M, a: M.softplus(a), lambda M, o, a: (M.sigmoid(a),),
            rule=("d/da = σ(a)",), domain=(R,), doc="log(1 + e^a), stable"))


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
                            "(b, w_1, x_1, w_2, x_2, ...)"))


def arity_of(op: Op) -> int:
    """Number of inputs to use when testing ``op`` (variadic ops: len(domain))."""
    return op.arity if op.arity >= 0 else len(op.domain)


def elementwise_ops() -> list[Op]:
    """Ops with a local-derivative rule (those Value supports), in table order."""
    return [op for op in OPS.values() if op.deriv is not None]


def op_reference() -> str:
    """The op reference as Markdown, generated from the table
    (``python -m gradviz.autograd > docs/ops.md``; a test keeps the file current)."""
    lines = ["# Op reference", "",
             "Generated from the op table (`autograd/ops.py`) by `python -m gradviz.autograd`; "
             "do not edit by hand.", "","| op | shown as | arity | parameters | local derivative | tested on |",
             "|---|---|---|---|---|---|"]
    for op in OPS.values():
        dom = "; ".join(" ∪ ".join(f"({lo:g}, {hi:g})" for lo, hi in d) for d in op.domain) or "all"
        params = ", ".join(f"{k} (e.g. {v[0]:g})" for k, v in op.params.items()) or ""
        lines.append(f"| `{op.key}` ({op.doc}) | `{op.symbol}` | {op.arity} | {params} | "
                     f"{'; '.join(op.rule)} | {dom} |")
    return "\n".join(lines)

