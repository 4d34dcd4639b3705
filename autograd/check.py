"""gradcheck that finds the bug: analytic gradients against central
differences, and, on a failure, which op is wrong.

How it works
------------
1. **The whole function.** ``fn(*inputs)`` is differentiated by the engine
   and by central differences in float64 (on float64 copies of the inputs,
   whatever their dtype). The step is chosen per element from its magnitude,
   ``h = step * max(1, |x|)``, and the difference quotient is Richardson
   extrapolated from ``h`` and ``h/2`` (error O(h⁴) instead of O(h²)); the
   difference of the two estimates is kept as an error estimate that widens
   the tolerance, so a correct gradient does not fail for step-size reasons.
   Small inputs are checked element by element, big ones (more than
   ``max_elements`` elements) along random directions.
2. **Localising.** When the whole check fails, the graph is recorded again
   (under :func:`record_sites`, so every node knows the file:line that
   created it) and every op node is checked *alone*, in topological order,
   through the public node protocol only: the analytic side is
   ``node.vjp(g)`` for a random upstream ``g``, the numeric side central
   differences of ``<g, node.op_forward(*perturbed inputs)>`` (the op alone,
   in float64). The first node that disagrees is named in
   :class:`GradcheckError` and described by ``err.report``
   (:class:`CheckReport`: ``node op input_index rows draw() render()``).
   A node whose input sits within a step of a point where its op is not
   differentiable (the op table's ``kink`` predicate, confirmed by one-sided
   differences) is "not differentiable here", not a mismatch. When every op
   agrees locally and the whole still does not, the report says so: the bug
   is in how the ops are combined.

:func:`gradgradcheck` checks second derivatives by running the same check
on the gradient itself (``autograd.grad(..., create_graph=True)``).

Drawing a report is :mod:`viz`'s job; ``autograd`` does not import ``viz``.
``viz`` registers its drawer with :func:`register_report_drawer` when it is
imported (``import gradviz`` always imports it).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import grad, topological_order
from .mode import record_sites
from .ops import OPS

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "CheckReport", "EdgeCheck",
           "check_nodes", "register_report_drawer", "tolerances"]

#: Relative step for central differences, before Richardson extrapolation.
STEP = 1e-3


def tolerances(dtype) -> tuple[float, float]:
    """Default ``(atol, rtol)`` for gradients computed in ``dtype``: float64
    ``(1e-5, 1e-3)``; float32 and narrower ``(1e-3, 1e-2)`` (the engine's
    float32 rounding, not the numerics: those are always float64)."""
    dt = np.dtype(dtype)
    if dt.kind == "f" and dt.itemsize >= 8:
        return 1e-5, 1e-3
    return 1e-3, 1e-2


# --------------------------------------------------------------------------
# The drawer hook (filled by viz)
# --------------------------------------------------------------------------
_DRAWER: dict[str, Callable] = {}


def register_report_drawer(draw: Callable, render: Callable | None = None) -> None:
    """Register how a :class:`CheckReport` is drawn: ``draw(report, **opts)``
    returns a ``graphviz.Digraph``; ``render(report, path, **opts)`` writes a
    file and returns its path. :mod:`viz` calls this when it is imported."""
    if not callable(draw) or (render is not None and not callable(render)):
        raise TypeError("register_report_drawer: pass functions draw(report, **opts) and "
                        "optionally render(report, path, **opts)")
    _DRAWER["draw"] = draw
    if render is not None:
        _DRAWER["render"] = render


def _drawer(what: str) -> Callable:
    fn = _DRAWER.get(what)
    if fn is None:
        raise RuntimeError(f"CheckReport.{what}: no report drawer is registered; "
                           "'import gradviz' (or gradviz.viz) registers it")
    return fn


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------
@dataclass
class EdgeCheck:
    """The local check of one op node with respect to one of its inputs (one
    edge of the diagram).

    ``verdict``: "ok", "mismatch", "not differentiable" (an input within a
    step of a kink) or "no gradient" (the op sends nothing to that input).
    ``rows``: the worst elements, ``(index, analytic, numeric, rel_error)``
    (index ``None`` for a random direction). For a Value node these are the
    local derivative itself; for a Tensor node, elements of the
    vector-Jacobian product ``g · d(node)/d(input)`` for a fixed random
    upstream ``g`` (so a rule that mishandles ``g`` is caught too). ``rel_error``: the largest
    ``|a - n| / max(|a|, |n|, atol/rtol)`` over the elements.
    """

    node: Any
    parent: Any
    input_index: int
    op: str
    label: str
    site: str | None
    verdict: str
    rel_error: float = 0.0
    rows: list = field(default_factory=list)
    analytic: float = math.nan
    numeric: float = math.nan
    note: str = ""
    #: the exception the op's rule raised, when it did (nothing to compare then)
    error: str = ""
    #: rows are g · d(node)/d(input) for a random upstream g (a Tensor node of more
    #: than one element), not the local derivative itself
    weighted: bool = False
    #: the rule's result is not proportional to the upstream gradient g (twice g
    #: did not give twice the gradient): what it gave, as text
    not_linear: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict == "mismatch"


class CheckReport:
    """The localised check of a graph: one :class:`EdgeCheck` per (op node,
    input) in topological order (``checks``).

    ``kind``: "ok" (every op agrees locally), "mismatch" (``failing`` is the
    first edge that does not), "not differentiable" (no mismatch, but some op
    sits within a step of a kink), "combination" (every op agrees locally but
    the whole function does not: the bug is in how ops are combined).
    ``node``, ``op``, ``input_index``, ``rows`` describe ``failing`` (None
    when there is none). ``whole``: the failed whole-function comparison
    ``(input_index, label, index, analytic, numeric)`` or None.
    """

    def __init__(self, output, checks: list, whole=None, dtype=np.float64, rest=None):
        self.output = output
        self._checks = checks
        self._rest = rest  # checks the remaining nodes, on first use of ``checks``
        self.whole = whole
        self.dtype = np.dtype(dtype)
        self.failing = next((c for c in checks if c.failed), None)
        if self.failing is not None:
            self.kind = "mismatch"
        elif self.kinks:
            self.kind = "not differentiable"
        elif whole is not None:
            self.kind = "combination"
        else:
            self.kind = "ok"
        self.note = ""

    @property
    def checks(self) -> list:
        """Every checked edge, in topological order."""
        if self._rest is not None:
            rest, self._rest = self._rest, None
            self._checks += rest()
        return self._checks

    @property
    def kinks(self) -> list:
        """The edges found "not differentiable"."""
        return [c for c in self.checks if c.verdict == "not differentiable"]

    node = property(lambda self: self.failing.node if self.failing else None)
    op = property(lambda self: self.failing.op if self.failing else None)
    input_index = property(lambda self: self.failing.input_index if self.failing else None)
    rows = property(lambda self: list(self.failing.rows) if self.failing else [])

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def draw(self, **opts):
        """The diagram (a ``graphviz.Digraph``): the failing node and edge
        highlighted, that edge labelled "analytic a · numeric b", every other
        checked edge coloured by its relative error, with a legend."""
        return _drawer("draw")(self, **opts)

    def render(self, path, **opts) -> str:
        """Write the diagram to ``path`` (.svg .png .pdf .dot .gv, or .html
        with the table); returns the path."""
        return _drawer("render")(self, path, **opts)

    def table(self) -> list[tuple]:
        """One row per checked edge: (node, op, analytic, numeric, rel_error,
        verdict), node as "label (input i)"."""
        out = []
        for c in self.checks:
            out.append((f"{_name(c.node)} <- input {c.input_index}", c.op, c.analytic, c.numeric,
                        c.rel_error, c.verdict))
        return out

    def message(self) -> str:
        return _message(self)

    __str__ = message

    def __repr__(self) -> str:
        return f"<CheckReport {self.kind}: {len(self.checks)} edges checked>"


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one.

    The whole-function comparison: ``input_index``, ``label`` (of that
    input), ``index`` (the element, or None for a random direction),
    ``analytic``, ``numeric``. ``kink``: a description of the
    non-differentiable point, or None. ``report``: the localised
    :class:`CheckReport` (None when localisation was turned off).
    """

    def __init__(self, message: str, input_index: int, label: str, index, analytic: float,
                 numeric: float, kink: str | None = None, report: CheckReport | None = None):
        super().__init__(message)
        self.input_index, self.label, self.index = input_index, label, index
        self.analytic, self.numeric, self.kink = analytic, numeric, kink
        self.report = report


# --------------------------------------------------------------------------
# Numerics
# --------------------------------------------------------------------------
def _finite_or_nan(f: Callable[[Any], float]) -> Callable[[Any], float]:
    """``f`` with a step off the op's domain (``1.0 / 0.0`` in plain floats
    raises) giving nan, as numpy would."""
    def g(t: Any) -> float:
        try:
            return f(t)
        except (ArithmeticError, ValueError):
            return math.nan
    return g


def _richardson(f: Callable[[float], float], h: float,
                tol: Callable[[float], float] | None = None,
                scale: float | None = None) -> tuple[float, float]:
    """d/dt f(t) at 0 from central differences with steps h and h/2,
    Richardson extrapolated; returns (estimate, error estimate). ``f`` gives
    nan off its domain (see :func:`_finite_or_nan`); a step that leaves the
    domain is retried ten times smaller. With ``tol(estimate)``, the tolerance the
    estimate will be held to, so is a step whose error estimate is more than a
    quarter of it (a singularity close by: ``1/x`` at ``x = 0.0011`` with a
    step of 0.001), for at most six steps that stay on the domain, unless
    the error is mostly rounding: then the step is made ten times longer
    (an element of 1 beside one of 1e6 in ``(t * t).sum()``: a step of 1e-3
    moves a sum of 1e12 by less than its rounding). The rounding is that of
    ``scale`` (the size of what f's values are computed from; by default
    ``|f(0)|``). The estimate with the smallest error estimate is returned."""
    f0 = None
    best: tuple[float, float] | None = None
    finite = 0
    for _ in range(16):  # (down to h / 10**15 while no step stays on the domain: log at 1e-8)
        if finite == 6:
            break
        d1 = (f(h) - f(-h)) / (2 * h)
        d2 = (f(h / 2) - f(-h / 2)) / h
        if math.isfinite(d1) and math.isfinite(d2):
            finite += 1
            est = d2 + (d2 - d1) / 3.0
            if f0 is None:
                f0 = abs(f(0.0)) if scale is None else scale
            round_off = 4 * np.finfo(np.float64).eps * (f0 + 1.0) / h
            truncation = abs(d2 - d1) / 3.0
            err = truncation + round_off
            if best is None or err < best[1]:
                best = (est, err)
            if tol is None or err <= 0.25 * tol(est):
                return best
            if round_off > truncation:  # the steps are lost in f's rounding: longer ones
                h *= 10.0
                continue
        # (a step that is not finite landed on a pole or off the domain; a smaller one
        # stays closer to the point: 1/x at 1e-4, whose step 1e-4 lands on 0, is found
        # right with 1e-5, after 1e-3 had straddled the pole)
        h /= 10.0
    if best is not None:
        return best
    return (f(h) - f(-h)) / (2 * h), math.inf


def _kink_between(f: Callable[[float], float], h: float, atol: float, rtol: float) -> bool:
    """Whether ``f`` has a kink within ``h`` of 0. The gap between its right
    and left slopes at step ``s`` is ``s·f''`` for a smooth function (it
    halves with the step); a kink at distance ``d < s`` adds a jump that does
    not shrink that way. Checked at steps h, h/2, h/4, h/8."""
    f0 = f(0.0)
    gaps = []
    scale = 0.0
    for k in range(4):
        s = h / 2 ** k
        left, right = (f0 - f(-s)) / s, (f(s) - f0) / s
        if not (math.isfinite(left) and math.isfinite(right)):
            return True
        gaps.append(right - left)
        scale = max(scale, abs(left) + abs(right))
    floor = 0.1 * (atol + rtol * scale)
    return any(abs(g1 - 2.0 * g2) > 0.25 * abs(g1) + floor for g1, g2 in itertools.pairwise(gaps))


def _close(a: float, n: float, err: float, atol: float, rtol: float) -> bool:
    """Whether analytic ``a`` agrees with numeric ``n``. The numeric error
    estimate ``err`` widens the tolerance, by at most the tolerance itself:
    an estimate too rough to tell does not let any answer pass."""
    if not (math.isfinite(a) and math.isfinite(n)):
        return a == n
    tol = atol + rtol * abs(n)
    return abs(a - n) <= tol + 2.0 * min(err, tol)


def _rel(a: float, n: float, atol: float, rtol: float) -> float:
    if not (math.isfinite(a) and math.isfinite(n)):
        return 0.0 if a == n else math.inf
    return abs(a - n) / max(abs(a), abs(n), atol / rtol)


def _dtype_of(x) -> np.dtype:
    d = x.data
    return np.dtype(np.float64) if isinstance(d, float) else np.asarray(d).dtype


def _name(node) -> str:
    return node.label or f"{node.op or 'leaf'}@{id(node) % 10000:04d}"


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------
def _unpack(inputs: tuple) -> tuple:
    """``gradcheck(fn, x, y)``, or PyTorch's spelling ``gradcheck(fn, (x, y))``."""
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
        return tuple(inputs[0])
    return inputs


def _check_inputs(who: str, inputs) -> np.dtype:
    if not inputs:
        raise ValueError(f"{who}: give at least one input node (a Value or a Tensor)")
    dts = []
    for i, x in enumerate(inputs):
        if not hasattr(x, "_gc_array"):
            raise TypeError(f"{who}: input {i} is a {type(x).__name__}, not a Value or Tensor")
        if getattr(x, "requires_grad", True) is False:
            raise ValueError(f"{who}: input {i} ({x.label or 'unlabelled'}, shape "
                             f"{getattr(x, 'shape', ())}) does not require grad; create it with "
                             "requires_grad=True")
        dt = _dtype_of(x)
        if dt.kind != "f":
            raise TypeError(f"{who}: input {i} has dtype {dt}; gradients need floating inputs")
        dts.append(dt)
    if len(set(dts)) > 1:
        desc = ", ".join(f"input {i} ({x.label or 'unlabelled'}) {dt}"
                         for i, (x, dt) in enumerate(zip(inputs, dts)))
        raise TypeError(f"{who}: the inputs mix dtypes ({desc}); cast them to one dtype")
    return dts[0]


def _output(who: str, fn, out):
    if not hasattr(out, "_gc_array"):
        name = getattr(fn, "__name__", type(fn).__name__)
        raise TypeError(f"{who}: fn ({name}) returned a {type(out).__name__}, not a Value or "
                        "Tensor built from its inputs")
    return out


# --------------------------------------------------------------------------
# The whole function
# --------------------------------------------------------------------------
#: The upstream gradient used for one-element outputs: not 1, so that a rule
#: which ignores its upstream gradient is caught too.
SCALAR_SEED = 1.375


def _projection(out, seed: int):
    arr = np.asarray(out.data, dtype=np.float64)
    if arr.size == 1:
        return np.full_like(arr, SCALAR_SEED)
    return np.random.default_rng(seed).standard_normal(arr.shape)


def _whole(fn, inputs, out, step, atol, rtol, max_elements, directions, seed):
    """The first whole-function disagreement, as (input, label, index, a, n,
    err: the numeric estimate's error estimate), or None. The outputs are
    differenced before they are projected, so elements the move does not
    reach cancel exactly instead of drowning it in their rounding."""
    v = _projection(out, seed)
    seed_node = out._coerce_seed(v.astype(np.asarray(out.data).dtype) if v.ndim else float(v),
                                 "gradcheck", False)
    analytic = grad(out, list(inputs), grad_outputs=seed_node)
    if not isinstance(analytic, tuple):
        analytic = (analytic,)
    base = [x._gc_array() for x in inputs]
    # one-element outputs are seeded with SCALAR_SEED; numbers are reported per unit seed
    unit = float(v.reshape(-1)[0]) if v.size == 1 else 1.0

    def output(arrays) -> np.ndarray:
        leaves = [x._gc_leaf(a) for x, a in zip(inputs, arrays)]
        return np.asarray(fn(*leaves).data, dtype=np.float64)
    y0 = output(base)
    scale = float(np.sum(np.abs(y0 * v))) / abs(unit)

    def value(arrays) -> float:
        return float(np.sum((output(arrays) - y0) * v)) / unit

    rng = np.random.default_rng(seed + 1)
    for i, x0 in enumerate(base):
        g = np.asarray(analytic[i]._gc_array(), dtype=np.float64) / unit
        if x0.size <= max_elements:
            for index in np.ndindex(x0.shape):
                h = step * max(1.0, abs(float(x0[index])))

                @_finite_or_nan
                def f(t, i=i, index=index, x0=x0):
                    arrays = list(base)
                    arrays[i] = x0.copy()
                    arrays[i][index] += t
                    return value(arrays)
                num, err = _richardson(f, h, lambda n: atol + rtol * abs(n), scale)
                a = float(g[index])
                if not _close(a, num, err, atol, rtol):
                    return i, inputs[i].label, index, a, num, err
        else:
            size = max(1.0, float(np.max(np.abs(x0))))
            for _ in range(directions):
                u = rng.standard_normal(x0.shape)
                u /= np.linalg.norm(u)

                @_finite_or_nan
                def f(t, i=i, u=u, x0=x0):
                    arrays = list(base)
                    arrays[i] = x0 + t * u
                    return value(arrays)
                num, err = _richardson(f, step * size, lambda n: atol + rtol * abs(n), scale)
                a = float(np.sum(g * u))
                if not _close(a, num, err, atol, rtol):
                    return i, inputs[i].label, None, a, num, err
    return None


# --------------------------------------------------------------------------
# One op alone
# --------------------------------------------------------------------------
def _kink_predicate(node, info):
    """The op's kink predicate adapted to ``pred(*datas) -> bools per input``
    (today's table rows give one predicate about the first input)."""
    row = OPS.get(info.key)
    pred = getattr(row, "kink", None)
    if pred is None:
        return None
    n = len(node.parents)
    params = info.params

    def per_input(*datas):
        try:  # the table's convention: kink(*inputs, *params) -> one bool per input
            res = pred(*datas, *params.values())
        except TypeError:
            res = pred(*datas)
        if isinstance(res, (tuple, list)) and len(res) == n:
            return tuple(res)
        return (res,) + (False,) * (n - 1)
    return per_input


def _elements(x0: np.ndarray, max_elements: int, rng, directions: int):
    """(index, direction) pairs: every element, or random unit directions."""
    if x0.size <= max_elements:
        for index in np.ndindex(x0.shape):
            yield index, None
    else:
        for _ in range(directions):
            u = rng.standard_normal(x0.shape)
            yield None, u / np.linalg.norm(u)


def _numeric(f, a: float, h: float, atol: float, rtol: float,
             scale: float | None = None) -> tuple[float, bool, float, float]:
    """The numeric slope of ``f`` at 0 against the analytic ``a``: (slope,
    agrees, relative error, the slope's error estimate). A plain central
    difference first, enough when it agrees; else Richardson extrapolation
    with its error estimate."""
    n = (f(h) - f(-h)) / (2 * h)
    err = 0.0
    ok = _close(a, n, 0.0, atol, rtol)
    if not ok:
        n, err = _richardson(f, h, lambda n: atol + rtol * abs(n), scale)
        ok = _close(a, n, err, atol, rtol)
    return n, ok, _rel(a, n, atol, rtol), err


#: An edge's note when the op is not finite at or next to the point.
#: An edge's note when no finite-difference step can tell its slope apart.
_ROUNDING = ("the op's values here are too far apart in size for a finite difference to see "
             "this element move through their rounding (e.g. exp(10) summed with exp(80)): "
             "no derivative to compare")
_UNDEFINED = ("the op is not finite at or next to this point (outside its domain, at a pole, "
              "or overflowing): no derivative to compare")


def _check_scalar_edge(node, i, datas, a, kink_flags, step, atol, rtol, site,
                       name) -> EdgeCheck:
    """:func:`_check_edge` for a Value node (plain floats, no numpy)."""
    parent = node.parents[i]
    x0 = datas[i]
    op_forward = node.op_forward
    if len(datas) == 1:
        def f(t):
            return float(op_forward(x0 + t))
    else:
        def f(t):
            args = list(datas)
            args[i] = x0 + t
            return float(op_forward(*args))
    f = _finite_or_nan(f)
    a = float(a)
    h = step * max(1.0, abs(x0))
    n, ok, rel, _ = _numeric(f, a, h, atol, rtol)
    verdict, note = "ok", ""
    if not ok and not (math.isfinite(n) and math.isfinite(f(0.0))):
        verdict, note = "not differentiable", _UNDEFINED
    elif kink_flags is not None and (bool(kink_flags[i]) or _kink_between(f, h, atol, rtol)):
        verdict = "ok" if ok else "not differentiable"
    elif not ok:
        verdict = "mismatch"
    return EdgeCheck(node, parent, i, name, node.label, site, verdict, rel, [((), a, n, rel)],
                     a, n, note)


def _check_edge(node, i, datas64, g64, contrib, kink_flags, scalar, step, atol, rtol,
                max_elements, directions, rng, site, name) -> EdgeCheck:
    parent = node.parents[i]
    x0 = np.asarray(datas64[i], dtype=np.float64)
    # a one-number output is seeded with SCALAR_SEED: its rows are the local
    # derivatives themselves (per unit seed); otherwise g · d(out)/d(input), g random
    weighted = bool(np.ndim(g64))
    unit = 1.0 if weighted else float(g64)
    a_full = np.asarray(contrib, dtype=np.float64) / unit
    if a_full.shape != x0.shape:
        return EdgeCheck(node, parent, i, name, node.label, site, "mismatch", math.inf,
                         [(None, math.nan, math.nan, math.inf)],
                         note=f"vjp returned shape {a_full.shape} for an input of shape {x0.shape}")

    def output(xi):
        args = list(datas64)
        args[i] = float(xi) if scalar else xi
        return np.asarray(node.op_forward(*args), dtype=np.float64)
    y0 = output(x0[()] if scalar else x0)
    scale = float(np.sum(np.abs(y0 * g64))) / abs(unit)

    # (differenced before weighting: elements the move does not reach cancel
    # exactly, instead of drowning it in their rounding, as exp(30) did exp(0)'s)
    @_finite_or_nan  # a step off the domain: nan, said by the verdict
    def value(xi):
        return float(np.sum((output(xi) - y0) * g64)) / unit

    kinks = None if kink_flags is None else np.broadcast_to(
        np.asarray(kink_flags[i], dtype=bool), x0.shape)
    rows, bad_rows, at_kink, undefined, rounding = [], [], False, False, False
    worst_a = worst_n = math.nan
    worst = -1.0
    for index, u in _elements(x0, max_elements, rng, directions):
        if u is None:
            h = step * max(1.0, abs(float(x0[index])))

            def f(t, index=index):
                x = x0.copy()
                x[index] += t
                return value(x[()] if scalar else x)
            a = float(a_full[index])
        else:
            h = step * max(1.0, float(np.max(np.abs(x0))))

            def f(t, u=u):
                return value(x0 + t * u)
            a = float(np.sum(a_full * u))
        n, ok, rel, err = _numeric(f, a, h, atol, rtol, scale)
        if not ok and not (math.isfinite(n) and math.isfinite(f(0.0))):
            undefined = True  # not finite here: no derivative to compare
            rows.append((index, a, n, rel))
            continue
        if not ok and err > atol + rtol * abs(n):  # no step resolves it: no verdict either
            rounding = True
            rows.append((index, a, n, rel))
            continue
        kink = False
        if kinks is not None:  # i.e. kink_flags is not None
            # on a kink, or within a step of one: the one-sided slopes disagree
            on = bool(kinks[index]) if u is None else bool(kinks.any())
            kink = on or _kink_between(f, h, atol, rtol)
        if kink:
            at_kink = at_kink or not ok
            rows.append((index, a, n, rel))
            continue
        rows.append((index, a, n, rel))
        if not ok:
            bad_rows.append(rows[-1])
        if rel > worst:
            worst, worst_a, worst_n = rel, a, n
    bad = bool(bad_rows)
    if bad:  # the table shows the elements that disagree, not correct ones beside them
        rows = bad_rows
    rows.sort(key=lambda r: -r[3] if math.isfinite(r[3]) else -math.inf)
    rows = rows[:5]
    if not rows:
        return EdgeCheck(node, parent, i, name, node.label, site, "ok", 0.0, [])
    verdict = "mismatch" if bad else ("not differentiable" if at_kink or undefined or rounding
                                      else "ok")
    if math.isnan(worst_a):
        worst_a, worst_n = rows[0][1], rows[0][2]
    return EdgeCheck(node, parent, i, name, node.label, site, verdict, max(r[3] for r in rows),
                     rows, worst_a, worst_n,
                     "" if bad else _UNDEFINED if undefined else _ROUNDING if rounding else "",
                     weighted=weighted)


def _check_node(node, step, atol, rtol, max_elements, directions, rng) -> list[EdgeCheck]:
    with np.errstate(all="ignore"):  # steps off an op's domain: nan, said by the verdicts
        return _check_node_edges(node, step, atol, rtol, max_elements, directions, rng)


def _check_node_edges(node, step, atol, rtol, max_elements, directions, rng) -> list[EdgeCheck]:
    parents = node.parents
    site = node.creation_site
    info = node.op_info
    scalar = isinstance(node.data, float)
    g: float | np.ndarray
    g64: float | np.ndarray
    datas64: list[float] | list[np.ndarray]
    if scalar:
        g = SCALAR_SEED
        g64 = SCALAR_SEED
        datas64 = [float(p.data) for p in parents]
    else:
        data = np.asarray(node.data)
        noise = rng.standard_normal(data.shape)
        if not data.shape:  # one number: the local derivative itself, as for a Value
            noise = np.asarray(SCALAR_SEED)
        g = noise.astype(data.dtype) if data.dtype.kind == "f" else noise
        if not data.shape:
            g = np.asarray(g)
        datas64 = [np.asarray(p.data, dtype=np.float64) if np.asarray(p.data).dtype.kind == "f"
                   else np.asarray(p.data) for p in parents]
        g64 = np.asarray(g, dtype=np.float64)
    try:
        contribs = node.vjp(g)
    except Exception as e:  # a broken rule: the node is the bug
        return [EdgeCheck(node, p, i, info.name, node.label, site, "mismatch", math.inf, [],
                          note=f"vjp raised {type(e).__name__}: {e}",
                          error=f"{type(e).__name__}: {e}")
                for i, p in enumerate(parents)]
    nonlinear = _not_linear_in_g(node, g, contribs)
    if nonlinear is not None:
        i, text = nonlinear
        return [EdgeCheck(node, parents[i], i, info.name, node.label, site, "mismatch", math.inf,
                          [], note="a vector-Jacobian rule multiplies its upstream gradient g: "
                          "was g left out?", not_linear=text)]
    kink_pred = _kink_predicate(node, info)
    kink_flags = None
    if kink_pred is not None:
        try:
            kink_flags = kink_pred(*datas64)
        except Exception:  # a predicate that cannot take these inputs: no kink info
            kink_flags = None
        if kink_flags is None:
            kink_flags = (False,) * len(parents)
    out: list[EdgeCheck] = []
    for i, p in enumerate(parents):
        c = contribs[i] if i < len(contribs) else None
        if c is None or (not scalar and np.asarray(p.data).dtype.kind != "f"):
            out.append(EdgeCheck(node, p, i, info.name, node.label, site, "no gradient"))
            continue
        if scalar:  # the local derivative itself: the vjp divided by the upstream gradient
            out.append(_check_scalar_edge(node, i, datas64, c / SCALAR_SEED, kink_flags, step,
                                          atol, rtol, site, info.name))
            continue
        out.append(_check_edge(node, i, datas64, g64, c, kink_flags, scalar, step, atol, rtol,
                               max_elements, directions, rng, site, info.name))
    return out


def _not_linear_in_g(node, g, contribs) -> tuple[int, str] | None:
    """The rule run again with 2g must give twice each contribution (a
    vector-Jacobian product is linear in g; doubling is exact in floating
    point). The commonest bug of a hand-written vjp, leaving g out, breaks
    this, and then the numbers divided by the seed would mislead: the input
    and what the rule gave are said instead."""
    try:
        doubled = node.vjp(g * 2)
    except Exception:  # the rule could not run twice: nothing to say here
        return None
    for i, (p, c1, c2) in enumerate(zip(node.parents, contribs, doubled)):
        if c1 is None or c2 is None:
            continue
        a1 = np.asarray(c1, dtype=np.float64)
        a2 = np.asarray(c2, dtype=np.float64)
        if a1.shape != a2.shape or a1.shape != np.shape(p.data):  # (a wrong shape is said apart)
            continue
        ok = np.isfinite(a1) & np.isfinite(a2)
        if not np.allclose(a2[ok], 2.0 * a1[ok], rtol=1e-6, atol=1e-300):
            def show(a):
                return _num(float(a)) if a.ndim == 0 else \
                    f"an array with sum {_num(float(a.sum()))}"
            g0 = _num(float(g)) if np.ndim(g) == 0 else "a random g"
            return i, (f"for input {i} it gave {show(a1)} with g = {g0} and {show(a2)} with "
                       f"twice that g")
    return None


def check_nodes(output, *, eps: float | None = None, atol: float | None = None,
                rtol: float | None = None, max_elements: int = 200, directions: int = 3,
                seed: int = 0, whole=None, lazy: bool = False) -> CheckReport:
    """Check every op node of ``output``'s graph alone (its vjp against
    central differences of its op), in topological order; returns a
    :class:`CheckReport`. The graph is used as recorded: record it under
    :func:`autograd.record_sites` for file:line in the report. ``lazy``: stop at
    the first failing node; the rest is checked when the report's
    ``checks`` are first read (its diagram, its table)."""
    order = [n for n in topological_order([output]) if not n.is_leaf]
    dt = np.dtype(np.float64)
    for n in order:
        dt = (_dtype_of(n) if _dtype_of(n).kind == "f" and _dtype_of(n).itemsize < dt.itemsize
              else dt)
    da, dr = tolerances(dt)
    atol = da if atol is None else atol
    rtol = dr if rtol is None else rtol
    step = STEP if eps is None else eps
    rng = np.random.default_rng(seed)
    checks: list[EdgeCheck] = []
    for k, node in enumerate(order):
        found = _check_node(node, step, atol, rtol, max_elements, directions, rng)
        checks += found
        if lazy and any(c.failed for c in found) and k + 1 < len(order):
            rest_nodes = order[k + 1:]

            def rest(rest_nodes=rest_nodes):
                out: list[EdgeCheck] = []
                for n in rest_nodes:
                    out += _check_node(n, step, atol, rtol, max_elements, directions, rng)
                return out
            return CheckReport(output, checks, whole, dt, rest)
    return CheckReport(output, checks, whole, dt)


def _record(fn, inputs):
    """fn(*inputs) recorded again, every node remembering the line that made it."""
    with record_sites():
        return fn(*inputs)


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------
def _num(x: float) -> str:
    return f"{x:.8g}"


def _rows_text(rows) -> str:
    lines = [f"    {'element':<14}{'analytic':>16}{'numeric':>16}{'rel. error':>12}"]
    for index, a, n, rel in rows:
        where = "direction" if index is None else ("value" if index == () else str(index))
        lines.append(f"    {where:<14}{_num(a):>16}{_num(n):>16}{rel:>12.3g}")
    return "\n".join(lines)


def _whole_text(report: CheckReport) -> str:
    if report.whole is None:
        return ""
    i, label, index, a, n = report.whole[:5]
    where = ("a random direction" if index is None else
             "its value" if index == () else f"element {index}")
    return (f"the whole function: input {label or '#' + str(i)}, {where}: analytic {_num(a)} vs "
            f"numeric {_num(n)}")


def _message(report: CheckReport) -> str:
    whole = _whole_text(report)
    if report.kind == "mismatch":
        c = report.failing
        assert c is not None  # a "mismatch" report has a failing edge
        p = c.parent
        pname = p.label or ("a leaf" if p.is_leaf else f"the output of {p.op!r}")
        where = f"node {c.label!r}" if c.label else "an unlabelled node"
        if c.error:
            return (f"gradcheck: the backward rule of op {c.op!r} at {where}, created at "
                    f"{c.site or '<site not recorded>'}, raised {c.error}"
                    + (f"\n  {whole}" if whole else ""))
        if c.not_linear:
            return (f"gradcheck: the backward rule of op {c.op!r} at {where}, created at "
                    f"{c.site or '<site not recorded>'}, is not linear in its upstream gradient "
                    f"g: {c.not_linear} ({c.note})" + (f"\n  {whole}" if whole else ""))
        text = (f"gradcheck: wrong local derivative in op {c.op!r} at {where}, "
                f"created at {c.site or '<site not recorded>'}: "
                f"input {c.input_index} ({pname}), relative error {c.rel_error:.3g}\n"
                + (f"  g · d(out)/d(input {c.input_index}) of {c.op!r} alone, for a fixed "
                   f"random upstream gradient g, analytic vs numeric:\n" if c.weighted else
                   f"  d(out)/d(input {c.input_index}) of {c.op!r} alone, analytic vs numeric:\n")
                + _rows_text(c.rows))
        if c.note:
            text += f"\n  ({c.note})"
        return text + (f"\n  {whole}" if whole else "")
    if report.kind == "not differentiable":
        ks = report.kinks
        kinks = "; ".join(_kink_text(c) for c in ks[:3]) or report.note
        site = next((c.site for c in ks if c.site), None)
        notes = list(dict.fromkeys(c.note for c in ks if c.note))
        what = ("cannot be checked at this point" if notes and all(n == _ROUNDING for n in notes)
                else "not differentiable at this point")
        return (f"gradcheck: {what} ({kinks})"
                + "".join(f"\n  {n}" for n in notes)
                + (f"\n  created at {site}" if site else "")
                + (f"\n  {whole}" if whole else ""))
    if report.kind == "combination":
        return ("gradcheck: gradient mismatch, yet every op agrees with central differences "
                f"locally ({len(report.checks)} edges checked): the bug is in how the ops are "
                "combined (a broadcast reduced the wrong way, a value taken out of the graph with "
                ".data or detach(), an op applied outside the engine)"
                + (f"\n  {whole}" if whole else "")
                + (f"\n  ({report.note})" if report.note else ""))
    return f"gradcheck: all {len(report.checks)} edges agree locally"


def _value_text(x) -> str:
    """A node's data in a kink's text: the number, or the array's shape."""
    return f"{x:g}" if isinstance(x, float) else f"array{np.shape(x)}"


def _kink_text(c: EdgeCheck) -> str:
    """``relu at 0 (input 0, 'z')``: the op, its input's value, which input."""
    p = c.parent
    return (f"{c.op} at {_value_text(p.data)} (input {c.input_index}"
            + (f", {p.label!r}" if p.label else "") + ")"
            + (f" in node {c.label!r}" if c.label else ""))


# --------------------------------------------------------------------------
# gradcheck, gradgradcheck
# --------------------------------------------------------------------------
def gradcheck(fn: Callable[..., Any], *inputs, eps: float | None = None, atol: float | None = None,
              rtol: float | None = None, max_elements: int = 200, directions: int = 3,
              seed: int = 0, localise: bool = True) -> bool:
    """Check ``fn``'s gradients at ``inputs`` against central differences.

    ``fn(*inputs)`` returns a node (any shape; non-scalar outputs are
    projected on a fixed random direction, one-element outputs seeded with
    :data:`SCALAR_SEED` rather than 1 so a rule that ignores its upstream
    gradient is caught; the numbers reported are per unit seed). The inputs are Values or Tensors
    of one dtype that require grad, given one by one or, as PyTorch's
    ``gradcheck`` takes them, as one tuple or list. Numerical derivatives are taken in
    float64 on copies of the inputs, with a step ``eps * max(1, |x|)``
    (default ``eps`` 1e-3, Richardson extrapolated). ``atol``/``rtol``
    default to :func:`tolerances` of the inputs' dtype (float64: 1e-5,
    1e-3). Returns True or raises :class:`GradcheckError`; with ``localise``
    (default) the error names the first op whose local derivative is wrong
    and carries the :class:`CheckReport` as ``err.report``.
    """
    inputs = _unpack(inputs)
    dt = _check_inputs("gradcheck", inputs)
    da, dr = tolerances(dt)
    atol = da if atol is None else atol
    rtol = dr if rtol is None else rtol
    step = STEP if eps is None else eps
    out = _output("gradcheck", fn, fn(*inputs))
    try:
        whole = _whole(fn, inputs, out, step, atol, rtol, max_elements, directions, seed)
    except (ArithmeticError, IndexError, TypeError, ValueError) as ex:
        # the backward pass itself broke (a rule returning a wrong shape...): find the op
        if not localise:
            raise
        rec = _output("gradcheck", fn, _record(fn, inputs))
        report = check_nodes(rec, eps=eps, atol=atol, rtol=rtol, max_elements=max_elements,
                             directions=directions, seed=seed)
        if report.kind != "mismatch":
            raise
        said = report.failing is not None and report.failing.error
        raise GradcheckError(report.message() + ("" if said else f"\n  (the backward pass raised "
                             f"{type(ex).__name__}: {ex})"), 0, inputs[0].label, None,
                             math.nan, math.nan, None, report) from ex
    if whole is None:
        return True
    i, label, index, a, n, err = whole
    if not localise:
        where = ("a random direction" if index is None else
                 "its value" if index == () else f"element {index}")
        raise GradcheckError(f"gradcheck: gradient mismatch for input {label or '#' + str(i)}, "
                             f"{where}: analytic {a:.10g} vs numeric {n:.10g}", i, label, index,
                             a, n)
    rec = _output("gradcheck", fn, _record(fn, inputs))
    report = check_nodes(rec, eps=eps, atol=atol, rtol=rtol, max_elements=max_elements,
                         directions=directions, seed=seed, whole=whole, lazy=True)
    if report.kind == "combination":
        # Every op agrees alone: is the whole merely not smooth at the scale of the step
        # (a kink that the whole function's step reaches, the ops' own steps do not)?
        for smaller in (step / 10, step / 100):
            if _whole(fn, inputs, out, smaller, atol, rtol, max_elements, directions,
                      seed) is None:
                report.kind = "not differentiable"
                report.note = (f"the function is not smooth within the finite-difference step "
                               f"{step:g} of this point (it passes with {smaller:g}): a kink "
                               "close by")
                break
    if report.kind == "combination":
        if n == 0.0 and a != 0.0:
            report.note = (f"fn's value did not move when input {label or '#' + str(i)} moved: "
                           "gradcheck calls fn with copies of its inputs, so fn must compute "
                           "from its arguments (a closure over a model's parameters sees none "
                           "of it: pass the parameters to fn and use them)")
        elif err > atol + rtol * abs(n):
            report.note = (f"the whole function's numeric derivative is uncertain by about "
                           f"{_num(err)} here (the rounding of fn's output at this scale, "
                           "against a step the ops' own checks did not need): this may be "
                           "rounding, not a bug; every op agrees alone")
    kink = None
    if report.kind == "not differentiable":
        kink = "; ".join(_kink_text(c) for c in report.kinks) or report.note or None
    raise GradcheckError(report.message(), i, label, index, a, n, kink, report)


def _check_derivs_differentiate(out, eps, atol, rtol, seed, report) -> None:
    """The second-order check of each user elementwise op of ``out``'s graph
    alone: its ``deriv``, run on nodes (as ``create_graph=True`` runs it),
    must have the derivative that finite differences give it. A deriv with
    part of it taken out of the graph (``M.val``, ``.data``) gives first
    derivatives right and second ones wrong; the whole check then only sees
    'how the ops are combined'. Raises GradcheckError naming the op."""
    from .ops import NodeMath
    for node in topological_order([out]):
        row = None if node.is_leaf else OPS.get(node.op_info.key)
        if row is None or not row.user or row.deriv is None:
            continue
        consts = tuple(node.op_info.params.values())

        def local(*xs, row=row, consts=consts):
            y = row(*xs, **dict(zip(row.params, consts))) if consts else row(*xs)
            ds = row.deriv(NodeMath, y, *xs, *consts)
            total = None
            for d in ds:  # every local derivative at once
                term = d if isinstance(d.data, float) else d.sum()
                total = term if total is None else total + term
            return total
        try:
            gradcheck(local, *[p._gc_leaf(p._gc_array()) for p in node.parents], eps=eps,
                      atol=atol, rtol=rtol, seed=seed, localise=False)
        except GradcheckError as e:
            where = f"node {node.label!r}" if node.label else "an unlabelled node"
            raise GradcheckError(
                f"gradgradcheck: the deriv of op {row.key!r} (at {where}, created at "
                f"{node.creation_site or '<site not recorded>'}) does not differentiate to "
                f"its own slope: d/d(input {e.input_index}) of its local derivatives, analytic "
                f"{_num(e.analytic)} vs numeric {_num(e.numeric)}. Second derivatives run the "
                f"deriv on nodes: is part of it taken out of the graph (M.val, .data) or "
                f"computed outside M?", e.input_index, e.label, e.index, e.analytic,
                e.numeric, None, report) from None


def _declared_kinks(out) -> list[str]:
    """``op at value (input i)`` for each node of ``out``'s graph that sits
    on a kink its row declares (``kink=``), whatever the slopes say."""
    found = []
    for node in topological_order([out]):
        if node.is_leaf:
            continue
        pred = _kink_predicate(node, node.op_info)
        if pred is None:
            continue
        for i, flag in enumerate(pred(*[p.data for p in node.parents])):
            if np.any(flag):
                found.append(f"{node.op} at {_value_text(node.parents[i].data)} (input {i})")
    return found


def gradgradcheck(fn: Callable[..., Any], *inputs, eps: float | None = None,
                  atol: float | None = None, rtol: float | None = None, seed: int = 0,
                  **options) -> bool:
    """Check second derivatives: the gradient of ``fn`` (through
    ``autograd.grad(..., create_graph=True)``, projected on fixed random
    directions so it is one number) is checked with :func:`gradcheck`, so a
    failure names the op of the double-backward graph that is wrong.
    Tolerances default to ten times :func:`tolerances`."""
    inputs = _unpack(inputs)
    dt = _check_inputs("gradgradcheck", inputs)
    da, dr = tolerances(dt)
    atol = 10 * da if atol is None else atol
    rtol = 10 * dr if rtol is None else rtol
    out0 = _output("gradgradcheck", fn, fn(*inputs))
    rng = np.random.default_rng(seed + 7)
    v = _projection(out0, seed)
    us = [rng.standard_normal(np.shape(x.data)) for x in inputs]

    def first(*xs):
        out = fn(*xs)
        seed_node = out._coerce_seed(v.astype(np.asarray(out.data).dtype) if v.ndim else float(v),
                                     "gradgradcheck", True)
        gs = grad(out, list(xs), grad_outputs=seed_node, create_graph=True)
        if not isinstance(gs, tuple):
            gs = (gs,)
        total = None
        for gi, u in zip(gs, us):
            if isinstance(gi.data, float):
                term = gi * float(u)
            else:
                term = (gi * u.astype(np.asarray(gi.data).dtype)).sum()
            total = term if total is None else total + term
        return total

    first.__name__ = f"gradient of {getattr(fn, '__name__', 'fn')}"
    try:
        return gradcheck(first, *inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, **options)
    except GradcheckError as e:
        if e.report is None or e.report.kind != "combination":
            raise
        # Every op of the derivative's graph agrees locally, yet the whole does not: the
        # first derivative may jump within a step of here (a kink of fn's own graph, such
        # as a user op's kink=, which the derivative's graph does not carry). Then there
        # is no second derivative to check: said as such, not as a bug.
        with record_sites():
            out = fn(*inputs)
        first_order = check_nodes(out, eps=eps, seed=seed)
        # a kink where the one-sided slopes happen to agree (abs at 0) passes the first
        # order check, yet its derivative jumps there: declared kinks count as they are
        declared = _declared_kinks(out)
        if not first_order.kinks and not declared:
            # no kink: is a user's deriv at fault (right on floats, wrong on nodes)?
            _check_derivs_differentiate(out, eps, atol, rtol, seed, e.report)
            raise
        first_order.kind = "not differentiable"
        kinks = "; ".join([_kink_text(c) for c in first_order.kinks[:3]] or declared[:3])
        raise GradcheckError(
            f"gradgradcheck: not twice differentiable at this point: the first derivative "
            f"jumps within a step of it ({kinks})", e.input_index, e.label, e.index, e.analytic,
            e.numeric, kinks, first_order) from None
