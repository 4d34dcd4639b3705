"""Activation functions and their derivatives as a PNG (matplotlib, an
optional extra: ``pip install 'gradviz-engine[examples]'``).

The derivative curves are not written down anywhere here: each point is
``x.grad`` after ``f(x).backward()``, so the picture shows what the engine's
backprop computes (kinks follow PyTorch: relu'(0) = 0).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import Value
from ..autograd.fileio import atomic_path
from ..autograd.ops import activations
from ..nn.plot import pyplot

__all__ = ["ACTIVATIONS", "RANGES", "activation_curves", "activation_figure", "plot_activations"]

def _curves() -> dict[str, Callable[[Value], Value]]:
    """name -> function of a Value: every activation row of the op table; a
    row with a parameter is drawn at its largest sample value, so a slope or
    a sharpness is visible (leaky_relu (α=0.2), swish (β=2))."""
    out: dict[str, Callable[[Value], Value]] = {}
    for op in activations():
        name = op.method or op.key
        if op.params:
            (pname, samples), = op.params.items()
            v = max(samples)
            label = f"{name} ({_GREEK.get(pname, pname)}={v:g})"
            out[label] = (lambda m, k, x: lambda z: getattr(z, m)(**{k: x}))(name, pname, v)
        else:
            out[name] = (lambda m: lambda z: getattr(z, m)())(name)
    return out


_GREEK = {"alpha": "α", "beta": "β"}
#: label -> function of a Value (the op table's activations, with visible slopes)
ACTIVATIONS: dict[str, Callable[[Value], Value]] = _curves()


def activation_curves(names: Sequence[str] | None = None, lo: float = -4.0, hi: float = 4.0,
                      n: int = 161) -> dict[str, tuple[list, list, list]]:
    """name -> (xs, f(xs), f'(xs)), the derivative by backprop."""
    names = list(ACTIVATIONS) if names is None else list(names)
    unknown = [k for k in names if k not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"plot_activations: unknown activation(s) {unknown}; "
                         f"choose from {list(ACTIVATIONS)}")
    if not (lo < hi) or n < 2:
        raise ValueError(f"plot_activations: need lo < hi and n >= 2, got {lo}, {hi}, {n}")
    xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    out = {}
    for name in names:
        f = ACTIVATIONS[name]
        ys, ds = [], []
        for x in xs:
            v = Value(x)
            y = f(v)
            y.backward()
            ys.append(y.data)
            ds.append(v.grad)
        out[name] = (xs, ys, ds)
    return out


#: Activations whose shape reaches past the default x range, drawn over their own:
#: relu6 caps at 6, so on [-4, 4] it would look like relu.
RANGES: dict[str, tuple[float, float]] = {"relu6": (-4.0, 8.0)}


def plot_activations(path: str | os.PathLike = "activations.png",
                     names: Sequence[str] | None = None, lo: float | None = None,
                     hi: float | None = None, n: int = 161) -> str:
    """Each activation (solid) and its derivative by backprop (dashed), one
    panel each, saved to ``path`` (PNG, written atomically); returns the path.
    ``lo``, ``hi``: the x range of every panel; unset, it is [-4, 4] and, for an
    activation in :data:`RANGES`, its own (relu6: [-4, 8], its cap in view)."""
    path = os.fsdecode(os.fspath(path))  # str, bytes or a PathLike
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise FileNotFoundError(f"plot_activations: the directory {d!r} does not exist")
    plt = pyplot("plot_activations")
    fig = activation_figure(plt, names, lo, hi, n)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return path


def activation_figure(plt: Any, names: Sequence[str] | None = None, lo: float | None = None,
                      hi: float | None = None, n: int = 161) -> Any:
    """The figure :func:`plot_activations` saves (the caller closes it)."""
    names = list(ACTIVATIONS) if names is None else list(names)
    if lo is None and hi is None:  # each its own range
        curves: dict = {}
        for name in names:
            curves.update(activation_curves([name], *RANGES.get(name, (-4.0, 4.0)), n=n))
    else:
        curves = activation_curves(names, -4.0 if lo is None else lo, 4.0 if hi is None else hi,
                                   n)
    cols = 3
    rows = (len(curves) + cols - 1) // cols
    # constrained layout leaves the figure's title a row of its own (tight_layout
    # does not know of it: the title sat on the first row's panel titles)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), dpi=100, squeeze=False,
                             layout="constrained")
    try:
        for ax, (name, (xs, ys, ds)) in zip(axes.flat, curves.items()):
            ax.axhline(0, color="#cbd5e1", lw=0.8)
            ax.axvline(0, color="#cbd5e1", lw=0.8)
            ax.plot(xs, ys, color="#2563eb", lw=2, label="f(x)")
            ax.plot(xs, ds, color="#dc2626", lw=1.6, ls="--", label="f'(x) (backprop)")
            ax.set_title(name)
            # (capped a little above the x range's end: an exp would flatten the rest)
            ax.set_ylim(min(-1.2, min(ys + ds) - 0.1),
                        max(1.2, min(xs[-1] + 0.2, max(ys + ds) + 0.1)))
        for ax in list(axes.flat)[len(curves):]:
            ax.axis("off")
        axes.flat[0].legend(loc="upper left", fontsize=8)
        fig.suptitle("Activations and their derivatives (computed by backprop)")
    except BaseException:
        plt.close(fig)
        raise
    return fig
