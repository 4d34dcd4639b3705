"""Loss curves as PNG files (matplotlib, an optional extra: ``pip install
gradviz-engine[examples]``), written atomically."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ..autograd.fileio import atomic_path

__all__ = ["save_loss_curves", "save_curves"]


def pyplot(what: str = "plotting"):
    """matplotlib.pyplot on the Agg backend (files, no window), or an
    ImportError saying how to install the optional extra."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{what} needs matplotlib: pip install 'gradviz-engine[examples]' "
                          "(or pip install matplotlib)") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def save_loss_curves(path: str | os.PathLike, curves: Mapping[str, Sequence[float]],
                     title: str = "loss", xlabel: str = "step", logy: bool = False) -> str:
    """Plot each named sequence of numbers against its index (1, 2, ...)
    into ``path`` (format from the extension, e.g. ``.png``); returns the path."""
    longest = max((len(ys) for ys in curves.values()), default=0)
    return save_curves(path, list(range(1, longest + 1)), curves, title, xlabel, "loss", logy)


def save_curves(path: str | os.PathLike, xs: Sequence[float],
                curves: Mapping[str, Sequence[float]], title: str = "", xlabel: str = "x",
                ylabel: str = "y", logy: bool = False) -> str:
    """Plot each named sequence against ``xs`` (a curve may be shorter)."""
    plt = pyplot()
    path = os.fspath(path)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        for name, ys in curves.items():
            ys = list(ys)
            ax.plot(list(xs)[:len(ys)], ys, label=name)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logy:
            ax.set_yscale("log")
        if len(curves) > 1:
            ax.legend()
        fig.tight_layout()
        ext = os.path.splitext(path)[1] or ".png"
        with atomic_path(path, suffix=ext) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    return path
