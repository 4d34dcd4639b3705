"""Loss modules: MSELoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss,
NLLLoss, L1Loss, HuberLoss.

Each takes ``(prediction, target)`` and works on Tensors (through
:mod:`autograd.functional`) and on Values (a Value or a list of Values, with
numbers as targets), so the scalar networks and the tensor ones train with
the same code. ``reduction`` is "mean" (default), "sum" or "none" (one loss
per element or sample: a Tensor, or a list of Values).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..autograd import Value
from .module import Module, _is_int, _is_real, _tensor_type

__all__ = ["MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "L1Loss",
           "HuberLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _is_tensor(x: Any) -> bool:
    T = _tensor_type()
    return T is not None and isinstance(x, T)


def _functional():
    from ..autograd import functional
    return functional


def _flat(x: Any, what: str) -> list:
    """A Value/number or a (nested) list of them -> a flat list."""
    if isinstance(x, (Value, numbers.Real)):
        return [x]
    if isinstance(x, np.ndarray):
        return x.reshape(-1).tolist()
    out, stack = [], [iter(x)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple, np.ndarray)):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _reduce(terms: list, reduction: str, name: str):
    if not terms:
        raise ValueError(f"{name}: empty prediction")
    if reduction == "none":
        return list(terms)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    if reduction == "mean" and len(terms) > 1:
        total = total * (1.0 / len(terms))
    return total


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; "
                             f"valid: {', '.join(_REDUCTIONS)}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


    def _pairs(self, pred, target):
        name = type(self).__name__
        ps, ts = _flat(pred, name), _flat(target, name)
        if len(ts) == 1 and len(ps) > 1:
            ts = ts * len(ps)
        if len(ps) != len(ts):
            raise ValueError(f"{name}: prediction has {len(ps)} elements but target has {len(ts)}")
        return ps, ts


class MSELoss(_Loss):
    """Mean of ``(prediction - target) ** 2``."""

    def forward(self, pred, target):
        if _is_tensor(pred):
            return _functional().mse_loss(pred, target, reduction=self.reduction)
        ps, ts = self._pairs(pred, target)
        return _reduce([(p - t) ** 2 for p, t in zip(ps, ts)], self.reduction, "MSELoss")


_E100 = math.exp(-100.0)  # BCE's logs are clamped at -100, as PyTorch's are


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities ``p`` (e.g. sigmoid outputs)
    against targets in [0, 1]: ``-(t log p + (1 - t) log(1 - p))``.
    Finite at a probability of exactly 0 or 1 (a saturated sigmoid), for
    Values as for Tensors and PyTorch: each log is at least -100."""

    def forward(self, pred, target):
        if _is_tensor(pred):
            t = target.data if _is_tensor(target) else np.asarray(target, dtype=float)
            bad = ~((t >= 0.0) & (t <= 1.0))             # NaN is out too
            if np.any(bad):
                raise ValueError(f"BCELoss: targets must lie in [0, 1], got "
                                 f"{np.asarray(t)[bad].reshape(-1)[0]!r} (of shape {np.shape(t)})")
            return _functional().binary_cross_entropy(pred, target, reduction=self.reduction)
        ps, ts = self._pairs(pred, target)
        terms = []
        for p, t in zip(ps, ts):
            t = float(t)
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"BCELoss: targets must lie in [0, 1], got {t!r}")
            if not isinstance(p, Value):
                p = Value(p)
            term = 0.0
            if t:  # log of p clipped at e^-100: the log clamped at -100, its gradient 0 there
                term = -t * p.clip(_E100, None).log()
            if t != 1.0:
                term = term - (1.0 - t) * (1.0 - p).clip(_E100, None).log()
            terms.append(term)
        return _reduce(terms, self.reduction, "BCELoss")


def _value_cross_entropy(logits: list, target: Any, smoothing: float = 0.0) -> Value:
    """-log softmax(logits)[target], stable: the max logit is subtracted as a
    constant (it cancels, so the gradient is unchanged)."""
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) \
            or not 0 <= int(target) < len(logits):
        raise ValueError(f"CrossEntropyLoss: target must be a class index in "
                         f"[0, {len(logits)}), got {target!r}")
    zs = [z if isinstance(z, Value) else Value(z) for z in logits]
    m = max(z.data for z in zs)
    if not math.isfinite(m):
        m = 0.0
    shifted = [z - m for z in zs]
    total = shifted[0].exp()
    for s in shifted[1:]:
        total = total + s.exp()
    lse = total.log()
    loss = lse - shifted[int(target)]
    if smoothing:  # (1-ε)·nll + ε·mean over classes of -log p (PyTorch's rule)
        mean_nll = lse - sum(shifted[1:], shifted[0]) * (1.0 / len(shifted))
        loss = loss * (1.0 - smoothing) + mean_nll * smoothing
    return loss


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of raw scores (logits) against class indices.

    Tensors: logits of shape (N, C) and N integer targets
    (``F.cross_entropy``). Values: one list of C logits and an int target,
    or a list of such lists and a list of ints (averaged).
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        if not _is_real(label_smoothing) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], "
                             f"got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        if self.label_smoothing:
            extra += (", " if extra else "") + f"label_smoothing={self.label_smoothing:g}"
        return extra

    def forward(self, logits, target):
        if _is_tensor(logits):
            if logits.ndim == 1 and np.size(target.data if _is_tensor(target) else target) != 1:
                raise ValueError(f"CrossEntropyLoss: logits of shape {logits.shape} are one "
                                 f"sample, so one target is expected; got targets of shape "
                                 f"{np.shape(target.data if _is_tensor(target) else target)}")
            return _functional().cross_entropy(logits, target, reduction=self.reduction,
                                               label_smoothing=self.label_smoothing)
        logits = list(logits)
        if logits and isinstance(logits[0], (list, tuple)):
            targets = list(np.asarray(target).reshape(-1).tolist()) \
                if not isinstance(target, list) else target
            if len(targets) != len(logits):
                raise ValueError(f"CrossEntropyLoss: {len(logits)} rows of logits but "
                                 f"{len(targets)} targets")
            terms = [_value_cross_entropy(list(row), t, self.label_smoothing)
                     for row, t in zip(logits, targets)]
        else:
            if not isinstance(target, numbers.Integral) and np.ndim(target) == 1 \
                    and len(target) == 1:
                target = target[0]
            if isinstance(target, np.integer):
                target = int(target)
            terms = [_value_cross_entropy(logits, target, self.label_smoothing)]
        return _reduce(terms, self.reduction, "CrossEntropyLoss")


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities
    (N, C) (e.g. from ``F.log_softmax``); Values: a list of C log-probabilities
    and an int target, or lists of them."""

    def forward(self, log_probs, target):
        if _is_tensor(log_probs):
            return _functional().nll_loss(log_probs, target, reduction=self.reduction)
        rows = list(log_probs)
        if rows and not isinstance(rows[0], (list, tuple)):
            rows, target = [rows], [target]
        targets = list(np.asarray(target).reshape(-1).tolist())
        if len(targets) != len(rows):
            raise ValueError(f"NLLLoss: {len(rows)} rows of log-probabilities but "
                             f"{len(targets)} targets")
        terms = []
        for row, t in zip(rows, targets):
            if not _is_int(t) or not 0 <= t < len(row):
                raise ValueError(f"NLLLoss: target must be a class index in [0, {len(row)}), "
                                 f"got {t!r}")
            v = row[int(t)]
            terms.append(-(v if isinstance(v, Value) else Value(v)))
        return _reduce(terms, self.reduction, "NLLLoss")


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of raw scores (logits), stable for any magnitude:
    ``(1 - t)·x + (1 + (w - 1)·t)·softplus(-x)``; ``pos_weight`` w weighs the
    positive class (Tensors: broadcasting over the last axis)."""

    def __init__(self, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, logits, target):
        if _is_tensor(logits):
            return _functional().binary_cross_entropy_with_logits(
                logits, target, reduction=self.reduction, pos_weight=self.pos_weight)
        ps, ts = self._pairs(logits, target)
        w = 1.0 if self.pos_weight is None else float(self.pos_weight)
        terms = []
        for x, t in zip(ps, ts):
            t = float(t)
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"BCEWithLogitsLoss: targets must lie in [0, 1], got {t!r}")
            x = x if isinstance(x, Value) else Value(x)
            terms.append((1.0 - t) * x + (1.0 + (w - 1.0) * t) * (-x).softplus())
        return _reduce(terms, self.reduction, "BCEWithLogitsLoss")


class L1Loss(_Loss):
    """``|prediction - target|`` (gradient 0 where they are equal)."""

    def forward(self, pred, target):
        if _is_tensor(pred):
            return _functional().l1_loss(pred, target, reduction=self.reduction)
        ps, ts = self._pairs(pred, target)
        return _reduce([abs(p - t) if isinstance(p, Value) else abs(Value(p) - t)
                        for p, t in zip(ps, ts)], self.reduction, "L1Loss")


class HuberLoss(_Loss):
    """½d² where |d| < delta, else delta·(|d| - ½delta), d = prediction - target."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if not _is_real(delta) or not delta > 0:
            raise ValueError(f"HuberLoss: delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        return extra + (", " if extra else "") + f"delta={self.delta:g}" if self.delta != 1.0 \
            else extra

    def forward(self, pred, target):
        if _is_tensor(pred):
            return _functional().huber_loss(pred, target, reduction=self.reduction,
                                            delta=self.delta)
        from ..autograd.ops import OPS
        ps, ts = self._pairs(pred, target)
        return _reduce([OPS["huber"]((p if isinstance(p, Value) else Value(p)) - t,
                                     delta=self.delta) for p, t in zip(ps, ts)],
                       self.reduction, "HuberLoss")
