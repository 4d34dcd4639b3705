"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam.

Both take any mix of Value and Tensor parameters (e.g. ``model.parameters()``)
and follow PyTorch's update formulas. Updates happen in place and record no
graph: Values are updated together as one float64 numpy vector, Tensors with
in-place numpy ops on ``p.data`` (a float32 parameter stays float32) and
buffers allocated once. A Tensor whose ``grad`` is None is skipped (as in
PyTorch); a Value's grad is always a number.

    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()

``lr`` may be changed between steps (``opt.lr = 0.01``) for a schedule.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import Value, no_grad
from ..autograd.tensor import mark_changed
from .module import _is_real, _tensor_type

__all__ = ["Optimizer", "SGD", "Adam"]


def _nonneg(x: Any, what: str, owner: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x < 0:
        raise ValueError(f"{owner}: {what} must be a finite number >= 0, got {x!r}")
    return float(x)


class Optimizer:
    """Holds the parameters (Values in one group, Tensors in another)."""

    def __init__(self, params: Iterable, lr: float):
        name = type(self).__name__
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()
        if isinstance(params, (Value,)) or (_tensor_type() and isinstance(params, _tensor_type())):
            raise TypeError(f"{name}: params must be an iterable of parameters "
                            "(e.g. model.parameters()), got a single parameter")
        T = _tensor_type()
        plist = list(params)
        if not plist:
            raise ValueError(f"{name}: no parameters to optimize (got an empty list)")
        seen: set[int] = set()
        self.values: list[Value] = []
        self.tensors: list = []
        for i, p in enumerate(plist):
            if id(p) in seen:
                continue
            seen.add(id(p))
            if isinstance(p, Value):
                self.values.append(p)
            elif T is not None and isinstance(p, T):
                if not getattr(p, "requires_grad", False):
                    raise ValueError(f"{name}: parameter {i} ({p.label or 'unlabelled'} tensor of "
                                     f"shape {p.shape}) has requires_grad=False")
                if p.data.dtype.kind != "f":
                    raise ValueError(f"{name}: parameter {i} has dtype {p.data.dtype}; "
                                     "only floating tensors can be optimized")
                self.tensors.append(p)
            else:
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, "
                                "expected a Value or a Tensor")
        self.lr = lr
        self.step_count = 0

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _nonneg(value, "learning rate (lr)", type(self).__name__)

    def params(self) -> list:
        return self.values + self.tensors

    def zero_grad(self) -> None:
        """Value grads become 0.0, Tensor grads None."""
        for v in self.values:
            v.grad = 0.0
        for t in self.tensors:
            t.grad = None

    def step(self) -> None:
        with no_grad():
            self.step_count += 1
            if self.values:
                data = np.fromiter((v.data for v in self.values), np.float64, len(self.values))
                grad = np.fromiter((v.grad for v in self.values), np.float64, len(self.values))
                self._update(-1, data, grad)
                for v, d in zip(self.values, data.tolist()):
                    v.data = d
            for i, t in enumerate(self.tensors):
                g = t.grad
                if g is None:
                    continue
                g = np.asarray(g)
                if g.shape != t.data.shape:
                    raise ValueError(f"{type(self).__name__}.step: parameter "
                                     f"{t.label or i} has shape {t.data.shape} but its grad "
                                     f"has shape {g.shape}")
                self._update(i, t.data, g)
                mark_changed(t)  # graphs built before the step are stale (backward refuses)

    def _update(self, key: int, p: np.ndarray, g: np.ndarray) -> None:
        """Update ``p`` in place from ``g`` (``key``: -1 for the Value group,
        else the tensor's index, for the state buffers)."""
        raise NotImplementedError

    def _hyper(self) -> str:
        """The hyper-parameters, as ``__repr__`` shows them."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self._hyper()}; {len(self.values)} Value and "
                f"{len(self.tensors)} Tensor parameters)")


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulas (dampening 0)::

        g = grad + weight_decay * p
        buf = g (first step), else momentum * buf + g
        g = g + momentum * buf (nesterov), or buf (momentum > 0)
        p = p - lr * g
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = _nonneg(momentum, "momentum", "SGD")
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "SGD")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.buffers: dict[int, np.ndarray] = {}
        self._scratch: dict[int, np.ndarray] = {}

    def _hyper(self) -> str:
        return (f"lr={self.lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
                f"nesterov={self.nesterov}")

    def _update(self, key, p, g):
        s = self._scratch.get(key)
        if s is None:
            s = self._scratch[key] = np.empty_like(p)
        np.copyto(s, g, casting="same_kind")
        if self.weight_decay:
            s += self.weight_decay * p
        if self.momentum:
            buf = self.buffers.get(key)
            if buf is None:
                buf = self.buffers[key] = s.copy()
            else:
                buf *= self.momentum
                buf += s
            if self.nesterov:
                s += self.momentum * buf
            else:
                np.copyto(s, buf)
        s *= self.lr
        p -= s


class Adam(Optimizer):
    """Adam with bias correction, PyTorch's formulas (L2 weight decay added
    to the gradient, as torch.optim.Adam; not AdamW)::

        g = grad + weight_decay * p
        m = b1 * m + (1 - b1) * g;   v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas must be a pair of numbers, got {betas!r}") from None
        for i, b in enumerate((b1, b2)):
            if not _is_real(b) or not 0.0 <= b < 1.0:
                raise ValueError(f"Adam: betas[{i}] must be in [0, 1), got {b!r}")
        self.betas = (float(b1), float(b2))
        self.eps = _nonneg(eps, "eps", "Adam")
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "Adam")
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}
        #: steps taken per parameter (bias correction): a parameter without a gradient
        #: at a step (None: frozen, unused) is not stepped, as in PyTorch
        self.t: dict[int, int] = {}
        self._scratch: dict[int, np.ndarray] = {}

    def _hyper(self) -> str:
        return (f"lr={self.lr:g}, betas={self.betas}, eps={self.eps:g}, "
                f"weight_decay={self.weight_decay:g}")

    def _update(self, key, p, g):
        b1, b2 = self.betas
        if key not in self.m:
            self.m[key] = np.zeros_like(p)
            self.v[key] = np.zeros_like(p)
            self._scratch[key] = np.empty_like(p)
        m, v, s = self.m[key], self.v[key], self._scratch[key]
        if self.weight_decay:
            np.multiply(p, self.weight_decay, out=s)
            s += g
            g = s
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        np.multiply(g, g, out=s, casting="same_kind")
        s *= (1.0 - b2)
        v += s
        t = self.t[key] = self.t.get(key, 0) + 1
        c1 = 1.0 - b1 ** t
        c2 = 1.0 - b2 ** t
        # p -= lr / c1 * m / (sqrt(v / c2) + eps)
        np.divide(v, c2, out=s)
        np.sqrt(s, out=s)
        s += self.eps
        np.divide(m, s, out=s)
        s *= self.lr / c1
        p -= s
