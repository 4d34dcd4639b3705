"""Loss modules: MSELoss, CrossEntropyLoss, BCELoss.

Each takes ``(prediction, target)`` and works on Tensors (through
:mod:`autograd.functional`) and on Values (a Value or a list of Values, with
numbers as targets), so the scalar networks and the tensor ones train with
the same code. ``reduction`` is "mean" (default) or "sum".
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..autograd import Value
from .module import Module, _tensor_type

__all__ = ["MSELoss", "CrossEntropyLoss", "BCELoss"]

_REDUCTIONS = ("mean", "sum")


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

    def _tensor_sum(self, loss_mean, n: int):
        """The Tensor functional losses average; "sum" scales back."""
        return loss_mean if self.reduction == "mean" else loss_mean * float(n)

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
            loss = _functional().mse_loss(pred, target)
            return self._tensor_sum(loss, pred.data.size)
        ps, ts = self._pairs(pred, target)
        return _reduce([(p - t) ** 2 for p, t in zip(ps, ts)], self.reduction, "MSELoss")


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities ``p`` (e.g. sigmoid outputs)
    against targets in [0, 1]: ``-(t log p + (1 - t) log(1 - p))``.
    For Values, a probability of exactly 0 or 1 gives an infinite loss."""

    def forward(self, pred, target):
        if _is_tensor(pred):
            t = target.data if _is_tensor(target) else np.asarray(target, dtype=float)
            bad = ~((t >= 0.0) & (t <= 1.0))             # NaN is out too
            if np.any(bad):
                raise ValueError(f"BCELoss: targets must lie in [0, 1], got "
                                 f"{np.asarray(t)[bad].reshape(-1)[0]!r} (of shape {np.shape(t)})")
            loss = _functional().binary_cross_entropy(pred, target)
            return self._tensor_sum(loss, pred.data.size)
        ps, ts = self._pairs(pred, target)
        terms = []
        for p, t in zip(ps, ts):
            t = float(t)
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"BCELoss: targets must lie in [0, 1], got {t!r}")
            if not isinstance(p, Value):
                p = Value(p)
            term = 0.0
            if t:
                term = -t * p.log()
            if t != 1.0:
                term = term - (1.0 - t) * (1.0 - p).log()
            terms.append(term)
        return _reduce(terms, self.reduction, "BCELoss")


def _value_cross_entropy(logits: list, target: Any) -> Value:
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
    return total.log() - shifted[int(target)]


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of raw scores (logits) against class indices.

    Tensors: logits of shape (N, C) and N integer targets
    (``F.cross_entropy``). Values: one list of C logits and an int target,
    or a list of such lists and a list of ints (averaged).
    """

    def forward(self, logits, target):
        if _is_tensor(logits):
            if logits.ndim == 1 and np.size(target.data if _is_tensor(target) else target) != 1:
                raise ValueError(f"CrossEntropyLoss: logits of shape {logits.shape} are one "
                                 f"sample, so one target is expected; got targets of shape "
                                 f"{np.shape(target.data if _is_tensor(target) else target)}")
            loss = _functional().cross_entropy(logits, target)
            n = logits.shape[0] if logits.ndim > 1 else 1
            return self._tensor_sum(loss, n)
        logits = list(logits)
        if logits and isinstance(logits[0], (list, tuple)):
            targets = list(np.asarray(target).reshape(-1).tolist()) \
                if not isinstance(target, list) else target
            if len(targets) != len(logits):
                raise ValueError(f"CrossEntropyLoss: {len(logits)} rows of logits but "
                                 f"{len(targets)} targets")
            terms = [_value_cross_entropy(list(row), t) for row, t in zip(logits, targets)]
        else:
            if not isinstance(target, numbers.Integral) and np.ndim(target) == 1 \
                    and len(target) == 1:
                target = target[0]
            if isinstance(target, np.integer):
                target = int(target)
            terms = [_value_cross_entropy(logits, target)]
        return _reduce(terms, self.reduction, "CrossEntropyLoss")
