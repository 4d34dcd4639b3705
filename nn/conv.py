"""Convolution layers (NCHW, as PyTorch): Conv2d, MaxPool2d, AvgPool2d and
Flatten, thin modules over ``autograd.functional``'s ``conv2d``,
``max_pool2d`` and ``avg_pool2d``.

>>> import numpy as np
>>> from gradviz import nn
>>> from gradviz.autograd import Tensor
>>> net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
...                     nn.Flatten(), nn.Linear(8 * 4 * 4, 10, seed=1))
>>> net(Tensor(np.zeros((5, 1, 8, 8), np.float32))).shape
(5, 10)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..autograd import Tensor
from ..autograd import functional as F
from ..autograd.conv import conv2d_params, pool_params
from . import init as _init
from .layers import WidthError, _as_input, _generator
from .module import Module, _is_int

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"]


def _positive(n: Any, what: str, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def _size2(v: Any, what: str, who: str) -> tuple:
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return _positive(v[0], what, who), _positive(v[1], what, who)
    n = _positive(v, what, who)
    return n, n


class Conv2d(Module):
    """2-D convolution: ``weight`` of shape (out_channels, in_channels/groups,
    kh, kw) and ``bias`` (out_channels,), float32 unless ``dtype`` says
    otherwise. ``stride``, ``dilation``: int or pair; ``padding``: int, pair,
    "valid" or "same". ``init`` as :class:`nn.Linear` (He uniform by
    default, fan-in = in_channels/groups * kh * kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, dtype: Any = np.float32, *,
                 init: str = "kaiming", nonlinearity: str = "relu", seed: Any = None,
                 label: str = ""):
        who = "Conv2d"
        self.in_channels = _positive(in_channels, "in_channels", who)
        self.out_channels = _positive(out_channels, "out_channels", who)
        self.kernel_size = _size2(kernel_size, "kernel_size", who)
        self.groups = _positive(groups, "groups", who)
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{who}: dtype must be a floating dtype, got {dt}")
        cg = self.in_channels // self.groups
        wshape = (self.out_channels, cg) + self.kernel_size
        # checks stride, padding, dilation and groups now (a large enough input)
        kh, kw = self.kernel_size
        p = conv2d_params((1, self.in_channels, 10 ** 6, 10 ** 6), wshape, None, stride,
                          padding, dilation, groups)
        self.stride, self.dilation = p["stride"], p["dilation"]
        self.padding = padding if isinstance(padding, str) else (p["padding"][0],
                                                                p["padding"][2])
        self.init = _init.check_scheme(init)
        rng = _generator(seed)
        pre = f"{label}." if label else ""
        fan_in, fan_out = cg * kh * kw, (self.out_channels // self.groups) * kh * kw
        wb = _init.weight_bound(init, fan_in, fan_out, nonlinearity)
        self.weight = Tensor(rng.uniform(-wb, wb, size=wshape).astype(dt), requires_grad=True,
                             label=pre + "weight")
        if bias:
            bb = _init.bias_bound(init, fan_in)
            b = rng.uniform(-bb, bb, size=self.out_channels) if bb else \
                np.zeros(self.out_channels)
            self.bias: Tensor | None = Tensor(b.astype(dt), requires_grad=True,
                                              label=pre + "bias")
        else:
            self.bias = None

    def forward(self, x):
        x = _as_input(x, "Conv2d")
        if x.ndim in (3, 4) and x.shape[-3] != self.in_channels:
            raise WidthError(f"Conv2d({self.extra_repr()}): input has {x.shape[-3]} channels "
                             f"(shape {x.shape}), expected {self.in_channels}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding not in (0, (0, 0), "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) \
                else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Maximum over ``kernel_size`` windows (``stride`` defaults to the kernel
    size; padding counts as -inf; the first maximum takes the gradient)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        big = (1, 1, 10 ** 6, 10 ** 6)
        p = pool_params("MaxPool2d", big, kernel_size, stride, padding, dilation, ceil_mode)
        self.kernel_size, self.stride, self.dilation = p["kernel_size"], p["stride"], \
            p["dilation"]
        self.padding = (p["padding"][0], p["padding"][2])
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x):
        return F.max_pool2d(_as_input(x, "MaxPool2d"), self.kernel_size, self.stride,
                            self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        return s + (", ceil_mode=True" if self.ceil_mode else "")


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows (``stride`` defaults to the kernel
    size); PyTorch's ``count_include_pad`` and ``divisor_override``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        big = (1, 1, 10 ** 6, 10 ** 6)
        p = pool_params("AvgPool2d", big, kernel_size, stride, padding, 1, ceil_mode)
        self.kernel_size, self.stride = p["kernel_size"], p["stride"]
        self.padding = (p["padding"][0], p["padding"][2])
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = None if divisor_override is None else \
            _positive(divisor_override, "divisor_override", "AvgPool2d")

    def forward(self, x):
        return F.avg_pool2d(_as_input(x, "AvgPool2d"), self.kernel_size, self.stride,
                            self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s


class Flatten(Module):
    """Axes ``start_dim`` .. ``end_dim`` merged into one (by default all but the
    batch axis: (N, C, H, W) -> (N, C*H*W))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        for what, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not _is_int(v):
                raise TypeError(f"Flatten: {what} must be an int, got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        x = _as_input(x, "Flatten")
        nd = x.ndim
        s, e = self.start_dim, self.end_dim
        if not (-nd <= s < nd and -nd <= e < nd) or (s % nd) > (e % nd):
            raise ValueError(f"Flatten: start_dim={s}, end_dim={e} do not fit an input of "
                             f"shape {x.shape}")
        s, e = s % nd, e % nd
        shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
        return x if shape == x.shape else x.reshape(shape)

    def extra_repr(self) -> str:
        return "" if (self.start_dim, self.end_dim) == (1, -1) else \
            f"start_dim={self.start_dim}, end_dim={self.end_dim}"
