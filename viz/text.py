"""Text for diagrams: numbers formatted for reading, and escaping.

Everything a user can put into a label (node labels, expression names) goes
through :func:`esc` before it reaches DOT, SVG or HTML, so ``<script>`` or
``{a|b}`` is shown as text, never interpreted as markup.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["fmt", "esc", "summary", "grad_norm"]

_ESC = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
        ord("'"): "&#39;", ord("\n"): " ", ord("\r"): " ", ord("\t"): " "}


def esc(text: Any) -> str:
    """``text`` made safe for graphviz HTML-like labels, SVG and HTML:
    ``& < > " '`` become entities, line breaks become spaces. A backslash
    or a brace needs nothing in these contexts (they are not DOT strings)."""
    return "".join(ch for ch in str(text) if ch >= " " or ch in "\n\r\t").translate(_ESC)


def fmt(x: Any, digits: int = 4) -> str:
    """A number as a person would write it: 4 significant digits, no float
    noise and no trailing zeros.

    >>> fmt(2.2000000000000002), fmt(33.0), fmt(1e-06), fmt(0.86759656), fmt(-0.0)
    ('2.2', '33', '1e-06', '0.8676', '0')
    """
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, np.ndarray) and x.size == 1:
        x = x.reshape(()).item()
    if not isinstance(x, numbers.Real):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    ax = abs(x)
    if ax < 1e7 and x.is_integer():  # whole numbers in full: 12345, not 1.234e+04
        return str(int(x))
    if 10.0 ** digits <= ax < 1e7:  # no exponent below ten million: 12346
        return f"{x:.{len(str(int(ax)))}g}"
    return f"{x:.{digits}g}"


def _fmt_array(a: np.ndarray) -> str:
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return "[" + ", ".join(fmt(v) for v in a.tolist()) + "]"
    return "[" + ", ".join(_fmt_array(r) for r in a) + "]"


#: Tensors with at most this many elements show their numbers.
SMALL = 6


def summary(a: Any) -> str:
    """Numbers of a small array, else ``min · mean · max``."""
    a = np.asarray(a)
    if a.size <= SMALL:
        return _fmt_array(a)
    if a.dtype.kind not in "fiub":
        return f"{a.size} values"
    af = a.astype(np.float64, copy=False)
    lo, hi, mean = float(af.min()), float(af.max()), float(af.mean())
    if abs(mean) < 1e-9 * max(abs(lo), abs(hi)):  # summation noise around zero
        mean = 0.0
    return f"min {fmt(lo)} · mean {fmt(mean)} · max {fmt(hi)}"


def grad_norm(g: Any) -> float:
    """Euclidean norm of a gradient (a float, an array, or None -> 0)."""
    if g is None:
        return 0.0
    if isinstance(g, float):
        return abs(g)
    return float(np.sqrt(np.sum(np.square(np.asarray(g, dtype=np.float64)))))
