"""Text for diagrams: numbers formatted for reading, and escaping.

Everything a user can put into a label (node labels, expression names) goes
through :func:`esc` before it reaches DOT (:func:`esc_html` for HTML and SVG
outside DOT), so ``<script>``, ``{a|b}`` or ``a\\N`` is shown as typed, never
interpreted as markup or as a Graphviz escape; text no output can hold (a
lone surrogate, U+FFFF) is replaced and very long text shortened for display
(:func:`clean`, :func:`shorten`).
"""
from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np

__all__ = ["fmt", "esc", "esc_html", "clean", "shorten", "summary", "grad_norm", "DISPLAY_MAX",
           "TOOLTIP_MAX"]

_ESC = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
        ord("'"): "&#39;", ord("\n"): " ", ord("\r"): " ", ord("\t"): " ", ord("\v"): " ",
        ord("\f"): " "}

#: Text longer than this many characters is shortened for display by :func:`esc`
#: (Graphviz refuses an HTML label over 16,384 bytes; a diagram cannot show more anyway).
DISPLAY_MAX = 1000
#: A tooltip (a quoted DOT string, also limited to 16,384 bytes) holds the text up to
#: this many characters: ``_q(esc_html(label, TOOLTIP_MAX))``; the page's data has it all.
TOOLTIP_MAX = 2500

_UNSHOWABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")  # lone surrogates, noncharacters
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def clean(text: Any) -> str:
    """``text`` as a str that every output can hold: lone surrogates and the
    noncharacters U+FFFE/U+FFFF (which UTF-8 encoders and XML parsers refuse)
    become U+FFFD, control characters other than white space are dropped;
    nothing is shortened."""
    s = str(text)
    if s.isascii() and s.isprintable():
        return s
    return _CONTROL.sub("", _UNSHOWABLE.sub("\ufffd", s))


def shorten(text: Any, limit: int | None = DISPLAY_MAX) -> str:
    """:func:`clean` text, cut in the middle when longer than ``limit``
    characters: ``head … tail (17000 characters)``, so both ends stay visible."""
    s = clean(text)
    if limit is None or len(s) <= limit:
        return s
    note = f" ({len(s)} characters)"
    keep = max(2, limit - len(note) - 1)
    return s[:keep - keep // 3] + "…" + s[len(s) - keep // 3:] + note


def esc(text: Any, limit: int | None = DISPLAY_MAX) -> str:
    """``text`` made safe for Graphviz HTML-like labels (the DOT that
    :mod:`viz.dot` writes): ``& < > " '`` become entities, line breaks become
    spaces, a backslash is doubled (Graphviz would read ``\\N`` as the node's
    name, ``\\G`` as the graph's), and the text is :func:`shorten`-ed to
    ``limit`` characters (None: never). For HTML and SVG outside DOT use
    :func:`esc_html`."""
    return esc_html(text, limit).replace("\\", "\\\\")


def esc_html(text: Any, limit: int | None = DISPLAY_MAX) -> str:
    """``text`` made safe for HTML and SVG (text or a quoted attribute):
    ``& < > " '`` become entities, line breaks become spaces, unencodable
    characters are replaced (:func:`clean`), and it is :func:`shorten`-ed to
    ``limit`` characters (None: never). A backslash stays as it is."""
    return shorten(text, limit).translate(_ESC)


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
