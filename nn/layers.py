"""Tensor layers: Linear, Sequential and one module per activation.

``Linear(nin, nout)`` computes ``x @ weight + bias`` with ``weight`` of shape
``(nin, nout)`` (the API's ``x @ W + b``; PyTorch stores the transpose) and
``bias`` of shape ``(nout,)``, both float32 unless ``dtype`` says otherwise.
The activation modules also accept a Value or a list of Values (applied
elementwise), except PReLU and a learnable Swish, whose parameters are
Tensors.

>>> import numpy as np
>>> from gradviz import nn
>>> from gradviz.autograd import Tensor
>>> model = nn.Sequential(nn.Linear(64, 32, seed=0), nn.ReLU(), nn.Linear(32, 10, seed=1))
>>> model(Tensor(np.zeros((5, 64), np.float32))).shape
(5, 10)
"""
from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..autograd import Tensor, Value
from ..autograd import functional as F
from . import init as _init
from .module import Module, _is_int

__all__ = ["WidthError", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
           "PReLU", "ELU", "SiLU", "Swish", "GELU", "Softmax", "Softplus", "Identity", "SELU",
           "CELU", "Mish", "Hardswish", "Hardsigmoid", "ReLU6", "Softsign", "LogSigmoid"]


class WidthError(ValueError):
    """An input whose width does not match the layer's."""


def _generator(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or _is_int(seed):
        return np.random.default_rng(None if seed is None else int(seed))
    raise TypeError(f"seed must be an int, None or a numpy Generator, got {type(seed).__name__}")


def _as_input(x: Any, who: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Value) or (isinstance(x, (list, tuple)) and x and isinstance(x[0], Value)):
        raise TypeError(f"{who} works on Tensors; for Values use nn.Layer / nn.MLP")
    return Tensor(x)


class Linear(Module):
    """``y = x @ weight + bias`` for inputs of shape ``(..., nin)``.

    ``init`` (see :mod:`nn.init`): "kaiming" (He uniform, the default, with
    the gain of ``nonlinearity``, the activation that follows), "xavier",
    "torch" (PyTorch's own default) or "uniform". ``seed``: an int, a numpy
    Generator or None. ``label`` prefixes the parameters' labels.
    """

    def __init__(self, nin: int, nout: int, bias: bool = True, dtype: Any = np.float32, *,
                 init: str = "kaiming", nonlinearity: str = "relu", seed: Any = None,
                 label: str = ""):
        for what, n in (("nin", nin), ("nout", nout)):
            if not _is_int(n) or n < 1:
                raise ValueError(f"Linear {what} must be a positive int, got {n!r}")
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Linear: dtype must be a floating dtype, got {dt}")
        self.nin, self.nout = int(nin), int(nout)
        self.init = _init.check_scheme(init)
        rng = _generator(seed)
        pre = f"{label}." if label else ""
        wb = _init.weight_bound(init, self.nin, self.nout, nonlinearity)
        w = rng.uniform(-wb, wb, size=(self.nin, self.nout)).astype(dt)
        self.weight = Tensor(w, requires_grad=True, label=pre + "weight")
        if bias:
            bb = _init.bias_bound(init, self.nin)
            b = rng.uniform(-bb, bb, size=self.nout) if bb else np.zeros(self.nout)
            self.bias: Tensor | None = Tensor(b.astype(dt), requires_grad=True,
                                              label=pre + "bias")
        else:
            self.bias = None

    def forward(self, x):
        x = _as_input(x, "Linear")
        if x.ndim == 0 or x.shape[-1] != self.nin:
            raise WidthError(f"{type(self).__name__}({self.extra_repr()}): input has "
                             f"{x.shape[-1] if x.ndim else 0} features (shape {x.shape}), "
                             f"expected {self.nin}")
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        extra = "" if self.bias is not None else ", bias=False"
        if self.weight.dtype != np.float32:
            extra += f", dtype={self.weight.dtype}"
        return f"{self.nin} -> {self.nout}{extra}"


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... An input
    of the wrong width is a :class:`WidthError` naming the position."""

    def __init__(self, *modules: Module):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
        self._mods = list(modules)
        for i, m in enumerate(self._mods):   # "0.weight" in diagrams
            for name, p in m.named_parameters():
                if p.label in ("", name):
                    p.label = f"{i}.{name}"

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self._mods):
            yield str(i), m

    def __len__(self) -> int:
        return len(self._mods)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self._mods[i])
        return self._mods[i]

    def __iter__(self):
        return iter(self._mods)

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self._mods.append(module)
        return self

    def forward(self, x):
        for i, m in enumerate(self._mods):
            try:
                x = m(x)
            except WidthError as e:
                raise WidthError(f"Sequential layer {i}: {e}") from None
        return x


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------
def _map(x, fn):
    if isinstance(x, (list, tuple)):
        return [fn(v) for v in x]
    return fn(x)


class _Activation(Module):
    def _fn(self, x):
        """The activation of one Value or Tensor."""
        raise NotImplementedError

    def forward(self, x):
        return _map(x, self._fn)


class Identity(_Activation):
    def _fn(self, x):
        return x


class ReLU(_Activation):
    def _fn(self, x):
        return x.relu()


class Tanh(_Activation):
    def _fn(self, x):
        return x.tanh()


class Sigmoid(_Activation):
    def _fn(self, x):
        return x.sigmoid()


class GELU(_Activation):
    """Exact GELU: x * Phi(x) (erf-based, not the tanh approximation)."""

    def _fn(self, x):
        return x.gelu()


class SiLU(_Activation):
    def _fn(self, x):
        return x.silu()


class Softplus(_Activation):
    def _fn(self, x):
        return x.softplus()


class SELU(_Activation):
    """Scaled ELU with PyTorch's constants (self-normalising networks)."""

    def _fn(self, x):
        return x.selu()


class Mish(_Activation):
    """x * tanh(softplus(x))."""

    def _fn(self, x):
        return x.mish()


class Hardswish(_Activation):
    """x * relu6(x + 3) / 6."""

    def _fn(self, x):
        return x.hardswish()


class Hardsigmoid(_Activation):
    """relu6(x + 3) / 6."""

    def _fn(self, x):
        return x.hardsigmoid()


class ReLU6(_Activation):
    """min(max(x, 0), 6)."""

    def _fn(self, x):
        return x.relu6()


class Softsign(_Activation):
    """x / (1 + |x|)."""

    def _fn(self, x):
        return x.softsign()


class LogSigmoid(_Activation):
    """log(sigmoid(x)), stable for any magnitude."""

    def _fn(self, x):
        return x.logsigmoid()


def _real(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}")
    return float(x)


class LeakyReLU(_Activation):
    """``leaky_relu(x, alpha)``; PyTorch's name for alpha, ``negative_slope``,
    is taken too."""

    def __init__(self, alpha: float = 0.01, *, negative_slope: float | None = None):
        if negative_slope is not None:
            alpha = negative_slope
        self.alpha = _real(alpha, "LeakyReLU alpha")

    def _fn(self, x):
        return x.leaky_relu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class ELU(_Activation):
    def __init__(self, alpha: float = 1.0):
        self.alpha = _real(alpha, "ELU alpha")

    def _fn(self, x):
        return x.elu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class CELU(_Activation):
    """x if x > 0 else alpha * (exp(x / alpha) - 1); alpha > 0."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = _real(alpha, "CELU alpha")
        if not self.alpha > 0:
            raise ValueError(f"CELU alpha must be positive, got {alpha!r}")

    def _fn(self, x):
        return x.celu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class PReLU(Module):
    """``max(0, x) + alpha * min(0, x)`` with a learnable ``alpha``: one for
    all features (``num_parameters=1``) or one per feature (last axis)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = np.float32):
        if not _is_int(num_parameters) or num_parameters < 1:
            raise ValueError(f"PReLU num_parameters must be a positive int, got {num_parameters!r}")
        self.alpha = Tensor(np.full(int(num_parameters), _real(init, "PReLU init"), dtype=dtype),
                            requires_grad=True, label="alpha")

    def forward(self, x):
        x = _as_input(x, "PReLU")
        n = self.alpha.shape[0]
        if n != 1 and (x.ndim == 0 or x.shape[-1] != n):
            raise WidthError(f"PReLU({n}): input has shape {x.shape}, expected {n} features "
                             "on the last axis")
        return x.relu() - self.alpha * (-x).relu()

    def extra_repr(self) -> str:
        return f"{self.alpha.shape[0]}" if self.alpha.shape[0] != 1 else ""


class Swish(Module):
    """``x * sigmoid(beta * x)``; ``beta=None`` makes beta a learnable
    Tensor (starting at 1), a number keeps it fixed (1.0 is SiLU)."""

    def __init__(self, beta: float | None = None, dtype: Any = np.float32):
        self.beta: Tensor | float
        if beta is None:
            self.beta = Tensor(np.ones(1, dtype=dtype), requires_grad=True, label="beta")
        else:
            self.beta = _real(beta, "Swish beta")

    def forward(self, x):
        if isinstance(self.beta, Tensor):
            return _as_input(x, "Swish with a learnable beta").swish(self.beta)
        return _map(x, lambda v: v.swish(self.beta))

    def extra_repr(self) -> str:
        return "beta=learnable" if isinstance(self.beta, Tensor) else f"beta={self.beta:g}"


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``axis`` (stable)."""

    def __init__(self, axis: int = -1):
        if not _is_int(axis):
            raise TypeError(f"Softmax axis must be an int, got {type(axis).__name__}")
        self.axis = int(axis)

    def forward(self, x):
        return F.softmax(_as_input(x, "Softmax"), axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
