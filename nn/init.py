"""Weight initialisation schemes, shared by the scalar neurons and Linear.

Every scheme draws weights from a uniform distribution U(-bound, bound);
biases start at zero. ``fan_in``/``fan_out`` are a layer's input and output
widths.

* ``"uniform"``: bound 1 (micrograd's ``random.uniform(-1, 1)``);
* ``"kaiming"``: He uniform, bound ``gain * sqrt(3 / fan_in)`` with the
  activation's gain (sqrt(2) for ReLU): keeps activations' variance through
  deep ReLU stacks;
* ``"xavier"``: Glorot uniform, bound ``sqrt(6 / (fan_in + fan_out))`` (gain 1,
  as torch.nn.init.xavier_uniform_'s default; made for tanh and sigmoid);
* ``"torch"``: PyTorch's Linear default, bound ``1 / sqrt(fan_in)`` for the
  weights and the bias alike.
"""
from __future__ import annotations

import math

from ..autograd.ops import activations

__all__ = ["SCHEMES", "gain", "weight_bound", "bias_bound", "check_scheme"]

SCHEMES = ("uniform", "kaiming", "xavier", "torch")

#: Gains of activations that are not rows of the op table (a learnable slope).
_OTHER_GAINS = {"prelu": math.sqrt(2.0 / (1 + 0.25 ** 2))}


def gain(activation: str) -> float:
    """The recommended gain for an activation, from its op-table row (as
    torch.nn.init.calculate_gain; ELU/GELU/SiLU/Swish use ReLU's; a row's
    gain may depend on its default parameters, as leaky_relu's slope); 1 for
    linear and anything else."""
    for op in activations():
        if (op.method or op.key) == activation and op.gain is not None:
            g = op.gain
            return float(g(**op.defaults) if callable(g) else g)
    return _OTHER_GAINS.get(activation, 1.0)


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; valid: {', '.join(SCHEMES)}")
    return scheme


def weight_bound(scheme: str, fan_in: int, fan_out: int, activation: str = "linear") -> float:
    """The half-width of the uniform distribution weights are drawn from."""
    check_scheme(scheme)
    if scheme == "uniform":
        return 1.0
    if scheme == "kaiming":
        return gain(activation) * math.sqrt(3.0 / fan_in)
    if scheme == "xavier":
        return math.sqrt(6.0 / (fan_in + fan_out))
    return 1.0 / math.sqrt(fan_in)


def bias_bound(scheme: str, fan_in: int) -> float:
    """Biases are zero except under ``"torch"`` (U(-1/sqrt(fan_in), ...))."""
    check_scheme(scheme)
    return 1.0 / math.sqrt(fan_in) if scheme == "torch" else 0.0
