"""Tensor functions for classifiers and losses (``from gradviz.autograd import functional as F``).

``softmax``, ``log_softmax``, ``cross_entropy`` and ``binary_cross_entropy``
are fused table ops: one node each, computed in a numerically stable form
(the max is subtracted before ``exp``; cross-entropy works from
log-probabilities; BCE clamps the logs at -100 as PyTorch does), with a
hand-written numpy backward for speed and a table rule written with Tensor
arithmetic for ``create_graph=True``. ``mse_loss`` is built from table ops.
"""
from __future__ import annotations

import numpy as np

from .kernel import ARRAY, Kernel, kernel
from .tensor import Tensor, _operand
from .tensor_ops import TA, _struct

__all__ = ["softmax", "log_softmax", "cross_entropy", "mse_loss", "binary_cross_entropy", "conv2d",
           "max_pool2d", "avg_pool2d", "nll_loss", "binary_cross_entropy_with_logits", "l1_loss",
           "huber_loss", "REDUCTIONS"]

#: The ``reduction`` options of every loss (PyTorch's).
REDUCTIONS = ("mean", "sum", "none")
PROB_TOL = 1e-4  # probability targets: each row must sum to 1 within this

LOG_CLAMP = -100.0   # binary_cross_entropy: logs are clamped here (PyTorch's choice)
BCE_EPS = 1e-12      # and p(1 - p) is kept above this in its gradient


def _check_axis(x: Tensor, axis: int, what: str) -> int:
    nd = x.data.ndim
    if nd == 0 or not -nd <= axis < nd:
        raise np.exceptions.AxisError(
            f"{what}: axis {axis} is out of range for shape {x.data.shape}")
    return axis % nd


def _as_tensor(x, what: str) -> Tensor:
    """A Tensor; integer and bool data promoted to float32 (these functions
    are real-valued: nothing is truncated)."""
    if not isinstance(x, Tensor):
        return Tensor(x)
    if x.data.dtype.kind != "f":
        return Tensor(x.data.astype(np.float32))
    return x


# --------------------------------------------------------------------------
# softmax / log_softmax
# --------------------------------------------------------------------------
def _softmax_forward(M, x, axis):
    return TA.softmax(x, axis)


def _log_softmax_forward(M, x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z


_struct("softmax", "softmax", 1, _softmax_forward,
        lambda M, g, out, x, axis: (out * (g - (g * out).sum(axis=axis, keepdims=True)),),
        ("d/dx = s·(G - Σ G·s)",), "exp(x) / Σ exp(x) along axis, stable (max subtracted)")
_struct("log_softmax", "log_softmax", 1, _log_softmax_forward,
        lambda M, g, out, x, axis: (g - M.exp(out) * g.sum(axis=axis, keepdims=True),),
        ("d/dx = G - softmax(x)·Σ G",), "x - log Σ exp(x) along axis, stable")


def _scalar_case(x: Tensor, axis: int, f, what: str) -> Tensor:
    """A 0-d tensor: PyTorch takes axis 0 or -1 and applies ``f`` to it as
    to one element."""
    if axis not in (0, -1):
        raise np.exceptions.AxisError(f"{what}: axis {axis} is out of range for a 0-d tensor")
    return f(x.reshape(1), 0).reshape(())


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; stable for any magnitude."""
    x = _as_tensor(x, "softmax")
    if x.data.ndim == 0:
        return _scalar_case(x, axis, softmax, "softmax")
    ax = _check_axis(x, axis, "softmax")
    k = kernel("softmax", ARRAY, axis=ax)
    return x._record(_softmax_forward(None, x.data, ax), k, (x,))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - log(sum(exp(x))) along ``axis``; stable for any magnitude."""
    x = _as_tensor(x, "log_softmax")
    if x.data.ndim == 0:
        return _scalar_case(x, axis, log_softmax, "log_softmax")
    ax = _check_axis(x, axis, "log_softmax")
    k = kernel("log_softmax", ARRAY, axis=ax)
    return x._record(_log_softmax_forward(None, x.data, ax), k, (x,))


# --------------------------------------------------------------------------
# cross_entropy: log_softmax + negative log-likelihood, fused
# --------------------------------------------------------------------------
def _onehot(targets, shape, dtype):
    oh = np.zeros(shape, dtype=dtype)
    oh[np.arange(shape[0]), targets] = 1
    return oh


def _ce_forward(M, logits, targets):
    lp = _log_softmax_forward(None, logits, 1)
    n = logits.shape[0]
    return -(lp[np.arange(n), targets].sum(dtype=logits.dtype) / logits.dtype.type(n))


def _ce_vjp(M, g, out, logits, targets):
    n = logits.shape[0]
    p = M.softmax(logits, 1)
    oh = M.const(logits, _onehot(targets, logits.shape, M.data(logits).dtype))
    return ((p - oh) * (g * (1.0 / n)),)


def _b_cross_entropy(n, g):
    probs, targets, rows = n._ctx
    d = probs.copy()
    d[rows, targets] -= 1
    d *= g * (1.0 / len(rows))
    return (d,)


_CE_OP = _struct("cross_entropy", "cross_entropy", 1, _ce_forward, _ce_vjp,
                 ("d/dlogits = (softmax(logits) - onehot(t)) / N",),
                 "mean over the batch of -log softmax(logits)[t], fused and stable",
                 fast=_b_cross_entropy)


def _targets(targets, n: int, c: int, what: str) -> np.ndarray:
    t = targets.data if isinstance(targets, Tensor) else targets
    if t.__class__ is not np.ndarray:
        try:
            t = np.asarray(t)
        except (TypeError, ValueError):
            raise TypeError(f"{what}: targets must be integer class indices") from None
    if t.dtype.kind == "f" and t.size and np.all(t == np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{what}: targets must be integer class indices, got "
                        + (f"non-integer values such as {float(t[t != np.round(t)].flat[0])!r}"
                           if t.dtype.kind == "f" else f"dtype {t.dtype}"))
    if t.shape != (n,):
        raise ValueError(f"{what}: targets have shape {t.shape} but logits have {n} rows "
                         f"(expected shape ({n},))")
    if t.size and (t.min() < 0 or t.max() >= c):
        bad = t[(t < 0) | (t >= c)][0]
        raise ValueError(f"{what}: target {int(bad)} is out of range for {c} classes "
                         f"(valid: 0..{c - 1})")
    return t


def _check_reduction(reduction, what: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{what}: unknown reduction {reduction!r}; valid: "
                         f"{', '.join(repr(r) for r in REDUCTIONS)}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _target_tensor(target, like: Tensor, what: str) -> Tensor:
    t = target if isinstance(target, Tensor) else _operand(target, like)
    if t is NotImplemented:
        raise TypeError(f"{what}: target must be a Tensor or array, got {type(target).__name__}")
    if t.data.dtype.kind != "f":
        t = Tensor(t.data.astype(like.data.dtype))
    if t.data.shape != like.data.shape:
        raise ValueError(f"{what}: input has shape {like.data.shape} but target has shape "
                         f"{t.data.shape}")
    return t


def cross_entropy(logits: Tensor, targets, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of ``logits`` (N, C) -- or (C,), one sample -- against
    integer class ``targets`` (N,) or class probabilities of the logits'
    shape (each row summing to 1). ``reduction``: "mean" (over the batch),
    "sum" or "none" (one loss per sample); ``label_smoothing`` ε in [0, 1]
    mixes the targets with the uniform distribution (PyTorch's rule). Stable
    for logits of any magnitude (1e4 included); the default case is one
    fused node."""
    _check_reduction(reduction, "cross_entropy")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    logits = _as_tensor(logits, "cross_entropy")
    tt = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    probs = tt.dtype.kind == "f" and tt.shape == logits.data.shape and logits.data.ndim >= 1 \
        and not (logits.data.ndim == 1 and tt.ndim == 1 and tt.size == 1)
    if not probs and reduction == "mean" and eps == 0.0:
        return _cross_entropy_fused(logits, targets)
    x = logits if logits.data.ndim != 1 else logits.reshape(1, -1)
    n, c = _rows_of_classes(x, logits)
    if probs:
        q = np.asarray(tt, dtype=x.data.dtype).reshape(x.data.shape)
        if not ((q >= 0) & (q <= 1)).all():
            raise ValueError("cross_entropy: probability targets must lie in [0, 1] (got values "
                             f"in [{np.nanmin(q):g}, {np.nanmax(q):g}])")
        sums = q.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=PROB_TOL):
            bad = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(f"cross_entropy: probability targets must sum to 1 over the classes; "
                             f"row {bad} sums to {sums[bad]:.6g}")
    else:
        if logits.data.ndim == 1:
            if tt.size != 1:
                raise ValueError(f"cross_entropy: logits of shape {logits.data.shape} (one "
                                 f"sample) take one target, got targets of shape {tt.shape}")
            tt = tt.reshape((1,))
        t = _targets(tt, n, c, "cross_entropy")
        q = _onehot(t, (n, c), x.data.dtype)
    if eps:
        q = q * (1.0 - eps) + eps / c
    per = -(log_softmax(x, axis=1) * Tensor(q.astype(x.data.dtype, copy=False))).sum(axis=1)
    if logits.data.ndim == 1 and reduction == "none":
        per = per.reshape(())
    return _reduce(per, reduction)


def nll_loss(log_probs: Tensor, targets, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer class ``targets`` (N,) under
    ``log_probs`` (N, C) (e.g. from :func:`log_softmax`), or (C,) and one target."""
    _check_reduction(reduction, "nll_loss")
    lp = _as_tensor(log_probs, "nll_loss")
    x = lp
    tt = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if lp.data.ndim == 1:
        if tt.size != 1:
            raise ValueError(f"nll_loss: log_probs of shape {lp.data.shape} (one sample) take "
                             f"one target, got targets of shape {tt.shape}")
        x, tt = lp.reshape(1, -1), tt.reshape((1,))
    if x.data.ndim != 2:
        raise ValueError(f"nll_loss: log_probs must have shape (N, C) or (C,), got "
                         f"{lp.data.shape}")
    n, c = x.data.shape
    t = _targets(tt, n, c, "nll_loss")
    per = -x[np.arange(n), t]
    if lp.data.ndim == 1 and reduction == "none":
        per = per.reshape(())
    return _reduce(per, reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy of raw scores: -(t·log σ(x) + (1-t)·log(1-σ(x))),
    computed as (1-t)·x + (1 + (w-1)·t)·softplus(-x): stable and exact for
    logits of any size (±100, ±1e4); ``pos_weight`` w weighs the positives."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = _as_tensor(logits, "binary_cross_entropy_with_logits")
    t = _target_tensor(target, x, "binary_cross_entropy_with_logits")
    td = t.data
    if td.size and not ((td >= 0) & (td <= 1)).all():
        raise ValueError("binary_cross_entropy_with_logits: target must hold values in [0, 1] "
                         f"(got values in [{np.nanmin(td):g}, {np.nanmax(td):g}])")
    sp = (-x).softplus()
    if pos_weight is None:
        loss = (1.0 - t) * x + sp
    else:
        w = pos_weight if isinstance(pos_weight, Tensor) else _operand(pos_weight, x)
        if w is NotImplemented:
            raise TypeError(f"binary_cross_entropy_with_logits: pos_weight must be a Tensor, "
                            f"array or number, got {type(pos_weight).__name__}")
        try:
            np.broadcast_shapes(w.data.shape, x.data.shape)
        except ValueError:
            raise ValueError(f"binary_cross_entropy_with_logits: pos_weight of shape "
                             f"{w.data.shape} does not broadcast to the logits' "
                             f"{x.data.shape}") from None
        loss = (1.0 - t) * x + (1.0 + (w - 1.0) * t) * sp
    return _reduce(loss, reduction)


def l1_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    """|pred - target|, reduced (gradient 0 where they are equal, as PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    pred = _as_tensor(pred, "l1_loss")
    return _reduce((pred - _target_tensor(target, pred, "l1_loss")).abs(), reduction)


def huber_loss(pred: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½d² where |d| < delta, else delta·(|d| - ½delta), for d = pred - target."""
    _check_reduction(reduction, "huber_loss")
    delta = float(delta)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    pred = _as_tensor(pred, "huber_loss")
    d = pred - _target_tensor(target, pred, "huber_loss")
    from .ops import OPS
    return _reduce(OPS["huber"](d, delta=delta), reduction)


def _rows_of_classes(x: Tensor, logits: Tensor) -> tuple[int, int]:
    """(N, C) of ``x``, the logits as rows (``logits`` as the user gave
    them, for the message); a clear error when they are not a non-empty
    (N, C)."""
    if x.data.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C) or (C,), got "
                         f"{logits.data.shape}")
    n, c = x.data.shape
    if n == 0 or c == 0:
        raise ValueError(f"cross_entropy: logits of shape {x.data.shape} are empty")
    return n, c


def _cross_entropy_fused(logits: Tensor, targets) -> Tensor:
    """Mean cross-entropy of ``logits`` (N, C) against integer class
    ``targets`` (N,) -- or (C,) logits with one integer target. Fused: one
    node, stable for logits of any magnitude (1e4 included)."""
    logits = _as_tensor(logits, "cross_entropy")
    x = logits
    if x.data.ndim == 1:
        x = x.reshape(1, -1)
        tt = np.asarray(getattr(targets, "data", targets))
        if tt.size != 1:
            raise ValueError(f"cross_entropy: logits of shape {logits.data.shape} (one sample) "
                             f"take one target, got targets of shape {tt.shape}")
        targets = tt.reshape((1,))
    n, c = _rows_of_classes(x, logits)
    t = _targets(targets, n, c, "cross_entropy")
    d = x.data
    rows = np.arange(n)
    z = d - d.max(axis=1, keepdims=True)   # <= 0: exp cannot overflow
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)       # >= 1: log is finite
    loss = (np.log(s[:, 0]) - z[rows, t]).sum(dtype=d.dtype) / d.dtype.type(n)
    out = x._record(np.asarray(loss, dtype=d.dtype), Kernel(_CE_OP, ARRAY, {"targets": t}), (x,))
    if out._parents:
        e /= s                             # softmax, kept for the backward pass
        out._ctx = (e, t, rows)
    return out


# --------------------------------------------------------------------------
# binary_cross_entropy (probabilities in, clamped logs), mse_loss
# --------------------------------------------------------------------------
def _clog(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_CLAMP)


def _bce_forward(M, p, t):
    return -(t * _clog(p) + (1.0 - t) * _clog(1.0 - p)).mean()


def _bce_vjp(M, g, out, p, t):
    n = max(p.size, 1)
    gn = g * (1.0 / n)
    if M is TA:
        dp = gn * (p - t) / np.maximum(p * (1.0 - p), BCE_EPS)
        dt = gn * (_clog(1.0 - p) - _clog(p))
        return dp, dt
    return gn * (p - t) / (p * (1.0 - p)), gn * ((1.0 - p).log() - p.log())


def _bce_each(M, p, t):
    return -(t * _clog(p) + (1.0 - t) * _clog(1.0 - p))


def _bce_each_vjp(M, g, out, p, t):
    if M is TA:
        return g * (p - t) / np.maximum(p * (1.0 - p), BCE_EPS), g * (_clog(1.0 - p) - _clog(p))
    return g * (p - t) / (p * (1.0 - p)), g * ((1.0 - p).log() - p.log())


_struct("binary_cross_entropy_each", "bce", 2, _bce_each, _bce_each_vjp,
        ("d/dp = (p - t) / (p(1 - p))", "d/dt = log(1-p) - log p"),
        "-(t·log p + (1-t)·log(1-p)) per element, logs clamped at -100 (reduction='none')")
_struct("binary_cross_entropy", "bce", 2, _bce_forward, _bce_vjp,
        ("d/dp = (p - t) / (p(1 - p)) / N", "d/dt = (log(1-p) - log p) / N"),
        "mean of -(t·log p + (1-t)·log(1-p)), logs clamped at -100")


def binary_cross_entropy(p: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean binary cross-entropy of probabilities ``p`` against ``target``
    (same shape, values in [0, 1]). Finite near 0 and 1: the logs are
    clamped at -100 and the gradient's p(1-p) at 1e-12."""
    _check_reduction(reduction, "binary_cross_entropy")
    p = _as_tensor(p, "binary_cross_entropy")
    t = target if isinstance(target, Tensor) else _operand(target, p)
    if t is NotImplemented:
        raise TypeError(f"binary_cross_entropy: target must be a Tensor or array, "
                        f"got {type(target).__name__}")
    if t.data.shape != p.data.shape:
        raise ValueError(f"binary_cross_entropy: p has shape {p.data.shape} but target has "
                         f"shape {t.data.shape}")
    pd = p.data
    if pd.size and (np.nanmin(pd) < 0 or np.nanmax(pd) > 1):
        raise ValueError("binary_cross_entropy: p must hold probabilities in [0, 1] "
                         f"(got values in [{np.nanmin(pd):g}, {np.nanmax(pd):g}])")
    td = t.data
    if td.size and not ((td >= 0) & (td <= 1)).all():
        raise ValueError("binary_cross_entropy: target must hold values in [0, 1] "
                         f"(got values in [{np.min(td):g}, {np.max(td):g}])")
    if reduction == "none":  # per element: the same clamped logs and gradient
        d = np.asarray(_bce_each(None, pd, td), dtype=np.result_type(pd, td))
        return p._record(d, kernel("binary_cross_entropy_each", ARRAY), (p, t))
    d = np.asarray(_bce_forward(None, pd, td), dtype=np.result_type(pd, td))
    out = p._record(d, kernel("binary_cross_entropy", ARRAY), (p, t))
    return out * float(max(pd.size, 1)) if reduction == "sum" else out


def mse_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    """(pred - target)², reduced ("mean", "sum" or "none"); the shapes must match."""
    _check_reduction(reduction, "mse_loss")
    pred = _as_tensor(pred, "mse_loss")
    t = target if isinstance(target, Tensor) else _operand(target, pred)
    if t is NotImplemented:
        raise TypeError(f"mse_loss: target must be a Tensor or array, got {type(target).__name__}")
    if t.data.shape != pred.data.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.data.shape} but target has shape "
                         f"{t.data.shape}")
    diff = pred - t
    return _reduce(diff * diff, reduction)
from .conv import avg_pool2d, conv2d, max_pool2d  # noqa: E402
