"""Scalar networks built from Values: Neuron, Layer, MLP (micrograd's shape).

Every weight is its own :class:`~autograd.Value` and every neuron one
``wsum`` node (``b + Σ w_i x_i``) followed by its activation, so a diagram
shows each neuron. Slow for big networks by design; use ``nn.Linear`` on
Tensors for those.

>>> from gradviz import nn
>>> model = nn.MLP(2, [16, 16, 1], seed=0)
>>> model.num_parameters()
337
>>> y = model([0.5, -1.0])          # one output: a Value
"""
from __future__ import annotations

import numbers
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import Value, wsum
from ..autograd.ops import activations
from . import init as _init
from .module import Module, _is_int

__all__ = ["Neuron", "Layer", "MLP", "ACTIVATIONS", "check_activation"]


def _prelu(z: Value, n: Neuron) -> Value:
    return z.relu() - n.alpha * (-z).relu()


def _activations() -> dict[str, Callable[[Value, Any], Value]]:
    """name -> function(pre-activation Value, neuron) -> Value: "linear", then
    every activation row of the op table (its method, with its default
    parameters), with "prelu" (a learnable slope ``n.alpha``, init 0.25)
    after leaky_relu and "swish" taking the neuron's learnable ``n.beta``."""
    acts: dict[str, Callable[[Value, Any], Value]] = {"linear": lambda z, n: z}
    for op in activations():
        name = op.method or op.key
        if name == "swish":
            acts[name] = lambda z, n: z.swish(n.beta)
        else:
            acts[name] = (lambda m: lambda z, n: getattr(z, m)())(name)
        if name == "leaky_relu":
            acts["prelu"] = _prelu
    return acts


_ACTS = _activations()
#: The activation names a Neuron, Layer or MLP accepts.
ACTIVATIONS = tuple(_ACTS)


def check_activation(name: Any) -> str:
    if not isinstance(name, str) or name not in _ACTS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return name


def _rng(seed: Any) -> Any:
    """The generator weights are drawn from: ``seed``'s own, or for None
    Python's global one, so that ``random.seed(0)`` makes a model reproducible
    as it does in micrograd (the module has ``uniform`` like a Random)."""
    if isinstance(seed, random.Random) or seed is random:  # (a layer's, handed to its neurons)
        return seed
    if seed is None:
        return random
    if _is_int(seed):
        # int(): random.Random refuses numpy integers, which the check above accepts
        return random.Random(int(seed))
    raise TypeError(f"seed must be an int, None or a random.Random, got {type(seed).__name__}")


def _width(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


_BATCH_HINT = ("a scalar module takes one point, a list of {n} numbers or Values; for a "
               "batch, call it once per point, or use the Tensor modules (nn.Linear, "
               "nn.Sequential)")


def _inputs(x: Any, module: Any) -> list:
    """A list of Values from a list, tuple, 1-d array or one number; numbers
    become constant leaves (one per input, shared by every neuron reading it).
    Anything else is a TypeError naming the module and the input at fault."""
    if isinstance(x, (list, tuple)):
        out = [v for v in x if v.__class__ is Value]
        if len(out) == len(x):  # the common case: Values already
            return out
    elif isinstance(x, (Value, numbers.Real)):  # one number (a bool is refused below)
        x = [x]
    elif isinstance(x, np.ndarray):
        if x.ndim > 1:
            raise ValueError(f"{module._who()}: expected one point (a 1-d input), got an array "
                             f"of shape {x.shape}: " + _BATCH_HINT.format(n=module.nin))
        x = x.reshape(-1).tolist()
    else:
        raise TypeError(f"{module._who()}: expected a list of {module.nin} numbers or Values, "
                        f"got {type(x).__name__}")
    out = []
    for i, v in enumerate(x):
        if v.__class__ is float:  # a data point's numbers
            v = Value(v)
        elif not isinstance(v, Value):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                hint = (": " + _BATCH_HINT.format(n=module.nin)
                        if isinstance(v, (list, tuple, np.ndarray)) else "")
                raise TypeError(f"{module._who()}: input {i} is a {type(v).__name__}, not a "
                                f"number or Value{hint}")
            v = Value(float(v))
        out.append(v)
    return out


def _numbers(x: Any, n: int, what: str) -> list[float]:
    if isinstance(x, (numbers.Real, Value)):
        return [float(x)] * n
    vals = [float(v) for v in x]
    if len(vals) != n:
        raise ValueError(f"{what}: expected {n} values, got {len(vals)}")
    return vals


class Neuron(Module):
    """``activation(b + Σ w_i x_i)`` over ``nin`` inputs.

    ``activation`` is one of :data:`ACTIVATIONS` ("linear" for none; "prelu"
    and "swish" add a learnable ``alpha``/``beta``). Weights are drawn by
    ``init`` (see :mod:`nn.init`; micrograd's U(-1, 1) by default) from
    ``seed`` (an int, a ``random.Random``, or None for Python's global
    generator: ``random.seed(0)`` then makes it reproducible); the bias
    starts at 0. ``w``/``b`` set them explicitly (a number or a list), as does
    :meth:`set_weights`. ``name`` prefixes the parameters' labels
    (``"h1.w1"``) and labels the output, for diagrams.
    """

    def __init__(self, nin: int, activation: str = "relu", *, w=None, b=None, seed=None,
                 init: str = "uniform", name: str = "", _fan_out: int = 1):
        self.nin = _width(nin, "Neuron nin")
        self.activation = check_activation(activation)
        _init.check_scheme(init)
        self.name = str(name)
        rng = _rng(seed)
        bound = _init.weight_bound(init, self.nin, _fan_out, activation)
        bb = _init.bias_bound(init, self.nin)
        pre = self.name + "." if self.name else ""
        self.w = [Value(rng.uniform(-bound, bound), label=f"{pre}w{i + 1}")
                  for i in range(self.nin)]
        self.b = Value(rng.uniform(-bb, bb) if bb else 0.0, label=f"{pre}b")
        if activation == "prelu":
            self.alpha = Value(0.25, label=f"{pre}alpha")
        elif activation == "swish":
            self.beta = Value(1.0, label=f"{pre}beta")
        self._act = _ACTS[activation]
        if w is not None or b is not None:
            self.set_weights(w, b)

    def set_weights(self, w=None, b=None) -> Neuron:
        """Set the weights (a number for all, or ``nin`` numbers) and/or the bias."""
        if w is not None:
            for v, d in zip(self.w, _numbers(w, self.nin, f"{self._who()} weights")):
                v.data = d
        if b is not None:
            self.b.data = float(b)
        return self

    def _who(self) -> str:
        return f"Neuron {self.name} ({self.extra_repr()})" if self.name else repr(self)

    def forward(self, x) -> Value:
        if type(x) is not list:  # a list goes straight to wsum (it wraps numbers itself)
            x = _inputs(x, self)
        if len(x) != self.nin:
            raise ValueError(f"{self._who()}: expected {self.nin} inputs, got {len(x)}")
        try:
            lin = wsum(self.w, x, self.b)
        except TypeError:  # an input that is not a number: say which, in the neuron's words
            _inputs(x, self)
            raise
        out = self._act(lin, self)
        if self.name:
            out.label = self.name
        return out

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}"


class Layer(Module):
    """``nout`` neurons over the same ``nin`` inputs; always returns a list
    of Values (one per neuron). Options as for :class:`Neuron`."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", *, seed=None,
                 init: str = "uniform", name: str = ""):
        self.nin = _width(nin, "Layer nin")
        self.nout = _width(nout, "Layer nout")
        self.activation = check_activation(activation)
        self.name = str(name)
        rng = _rng(seed)
        pre = self.name + "." if self.name else ""
        self.neurons = [Neuron(self.nin, activation, seed=rng, init=init, name=f"{pre}n{j + 1}",
                               _fan_out=self.nout) for j in range(self.nout)]

    def set_weights(self, w=None, b=None) -> Layer:
        """``w``: a number for all weights, or ``nout`` rows (each a number or
        ``nin`` numbers); ``b``: a number or ``nout`` numbers."""
        ws = [w] * self.nout if w is None or isinstance(w, (numbers.Real, Value)) else list(w)
        bs = [b] * self.nout if b is None or isinstance(b, (numbers.Real, Value)) else list(b)
        if len(ws) != self.nout or len(bs) != self.nout:
            raise ValueError(f"{self._who()}.set_weights: expected {self.nout} rows of weights "
                             f"and biases, got {len(ws)} and {len(bs)}")
        for n, wi, bi in zip(self.neurons, ws, bs):
            n.set_weights(wi, bi)
        return self

    def _who(self) -> str:
        inner = self.extra_repr()
        return f"Layer {self.name} ({inner})" if self.name else f"Layer({inner})"

    def forward(self, x) -> list[Value]:
        x = _inputs(x, self)
        if len(x) != self.nin:
            raise ValueError(f"{self._who()}: expected {self.nin} inputs, got {len(x)}")
        return [n(x) for n in self.neurons]

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, activation={self.activation!r}"


class MLP(Module):
    """A multi-layer perceptron of :class:`Layer` s: ``nin`` inputs, then one
    layer per entry of ``nouts``. Hidden layers use ``activation``, the last
    one ``out_activation`` ("linear" by default, as micrograd's MLP).
    Returns a Value when the last layer has one neuron, else a list.
    Layers are named L1, L2, ... and neurons L1.n1, ... (labels in diagrams).
    """

    def __init__(self, nin: int, nouts: int | Sequence[int], activation: str = "relu", *,
                 out_activation: str = "linear", seed=None, init: str = "uniform"):
        self.nin = _width(nin, "MLP nin")
        widths = [nouts] if isinstance(nouts, (int, numbers.Integral)) else nouts
        self.nouts = [_width(n, "MLP layer width") for n in widths]
        if not self.nouts:
            raise ValueError("MLP needs at least one layer (nouts is empty)")
        self.activation = check_activation(activation)
        self.out_activation = check_activation(out_activation)
        rng = _rng(seed)
        sizes = [self.nin] + self.nouts
        last = len(self.nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], out_activation if i == last else activation,
                             seed=rng, init=init, name=f"L{i + 1}") for i in range(len(self.nouts))]

    def set_weights(self, w=None, b=None) -> MLP:
        """A number for every weight and/or every bias, or one entry per layer
        (each as :meth:`Layer.set_weights` takes)."""
        n = len(self.layers)
        ws = [w] * n if w is None or isinstance(w, (numbers.Real, Value)) else list(w)
        bs = [b] * n if b is None or isinstance(b, (numbers.Real, Value)) else list(b)
        if len(ws) != n or len(bs) != n:
            raise ValueError(f"MLP.set_weights: expected {n} layers of weights and biases, "
                             f"got {len(ws)} and {len(bs)}")
        for layer, wi, bi in zip(self.layers, ws, bs):
            layer.set_weights(wi, bi)
        return self

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def extra_repr(self) -> str:
        act = f", out_activation={self.out_activation!r}" if self.out_activation != "linear" else ""
        return f"{self.nin} -> {self.nouts}, activation={self.activation!r}{act}"
