"""From DOT text to picture bytes: :func:`render_source`.

Two renderers, tried in this order:

1. the system Graphviz ``dot`` program, when it is on ``PATH`` (every format
   Graphviz has, PDF included);
2. ``graphviz-pure``, a self-contained port of Graphviz's ``dot`` that
   ``pip install gradviz-engine`` brings along (a static program in the
   environment's ``bin``/``Scripts`` folder; ``svg``, ``png``, ``jpeg``,
   ``json``, ``plain``, ``xdot``..., but not PDF or PostScript).

So ``pip install`` alone is enough to draw. ``GRADVIZ_RENDERER`` (or the
``renderer=`` argument) forces one: ``dot``, ``graphviz-pure`` or ``auto``
(the default, the order above).

:class:`Digraph` is the :class:`graphviz.Digraph` that :func:`viz.draw
<gradviz.viz.dot.draw>` returns: its ``pipe()``, and so its inline display
in Jupyter, goes through :func:`render_source` as well.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from typing import Any

import graphviz

__all__ = ["render_source", "find_renderer", "Renderer", "Digraph", "GraphvizNotFoundError",
           "RENDERER_ENV", "RENDERERS", "FALLBACK_FORMATS"]

#: Environment variable that forces a renderer (``dot``, ``graphviz-pure`` or ``auto``).
RENDERER_ENV = "GRADVIZ_RENDERER"
#: The renderers, in the order ``auto`` tries them.
RENDERERS = ("dot", "graphviz-pure")
#: What graphviz-pure can write (``graphviz-pure -T?``); PDF and PostScript are not among them.
FALLBACK_FORMATS = frozenset({
    "svg", "png", "jpeg", "jpg", "jpe", "json", "json0", "dot_json", "xdot_json", "plain",
    "plain-ext", "xdot", "xdot1.2", "xdot1.4", "canon", "dot", "gv"})

_INSTALL_GRAPHVIZ = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install -c conda-forge graphviz; Windows: https://graphviz.org/download/)")


class GraphvizNotFoundError(RuntimeError):
    """No renderer can make the picture: neither Graphviz ``dot`` nor
    graphviz-pure is installed, or the format (PDF) needs Graphviz ``dot``."""


@dataclass(frozen=True)
class Renderer:
    """A program that lays out DOT text: ``name`` is ``dot`` or ``graphviz-pure``."""
    name: str
    path: str

    def can_write(self, fmt: str) -> bool:
        return self.name == "dot" or fmt in FALLBACK_FORMATS


def _fallback_dirs() -> list[str]:
    """Where pip puts graphviz-pure's program when it is not on PATH (a venv
    used without activating it, a ``--user`` install)."""
    dirs = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    try:
        dirs.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    except (KeyError, ValueError):  # pragma: no cover - a Python without a user scheme
        pass
    return [d for d in dirs if d]


def _which(name: str) -> str | None:
    if name == "dot":
        return shutil.which("dot")
    found = shutil.which(name)
    for d in [] if found else _fallback_dirs():
        found = shutil.which(name, path=d)
        if found:
            break
    return found


def _choice(renderer: str | None) -> str:
    choice = (renderer or os.environ.get(RENDERER_ENV) or "auto").strip().lower()
    if choice not in ("auto",) + RENDERERS:
        source = "renderer=" if renderer else f"{RENDERER_ENV}="
        raise ValueError(f"viz: unknown renderer {source}{choice!r}; use one of auto, "
                         + ", ".join(RENDERERS))
    return choice


def find_renderer(fmt: str = "svg", renderer: str | None = None) -> Renderer:
    """The renderer that will make ``fmt``: the system ``dot`` first, else
    graphviz-pure (unless ``renderer`` or ``$GRADVIZ_RENDERER`` forces one).

    Raises :class:`GraphvizNotFoundError` saying what to install when none
    is there or the one there cannot write ``fmt``.
    """
    fmt = fmt.lower()
    choice = _choice(renderer)
    names = RENDERERS if choice == "auto" else (choice,)
    found = [Renderer(n, p) for n in names if (p := _which(n))]
    for r in found:
        if r.can_write(fmt):
            return r
    if found and choice == "graphviz-pure":  # forced, though dot may well be there
        source = "renderer='graphviz-pure'" if renderer else f"{RENDERER_ENV}=graphviz-pure"
        raise GraphvizNotFoundError(
            f"viz: {source} selects graphviz-pure, which makes svg, png, jpeg and json but "
            f"not {fmt}; " + ("the Graphviz `dot` program on PATH would: unset it or use 'auto'"
                              if _which("dot") else f"to write {fmt}, {_INSTALL_GRAPHVIZ}"))
    if found:  # only graphviz-pure, and the format is one it cannot make
        raise GraphvizNotFoundError(
            f"viz: {fmt.upper()} needs the Graphviz `dot` program, which is not on PATH; "
            f"graphviz-pure (at {found[0].path}) makes svg, png, jpeg and json but not {fmt}. "
            f"To write {fmt}, {_INSTALL_GRAPHVIZ}; or write a .svg or .png instead.")
    if choice == "dot":
        raise GraphvizNotFoundError(
            f"viz: {RENDERER_ENV}/renderer asks for the Graphviz `dot` program, which is not "
            f"on PATH: {_INSTALL_GRAPHVIZ}, or use renderer 'auto'.")
    pip = f"{sys.executable} -m pip install graphviz-pure"
    if choice == "graphviz-pure":
        raise GraphvizNotFoundError(
            f"viz: {RENDERER_ENV}/renderer asks for graphviz-pure, which is not installed in "
            f"this Python: {pip}")
    raise GraphvizNotFoundError(
        "viz: rendering images needs a Graphviz renderer and there is none: neither the "
        "Graphviz `dot` program (not on PATH) nor graphviz-pure (not installed in this Python). "
        f"Either install graphviz-pure, which needs no root ({pip}; gradviz-engine normally "
        f"brings it), or {_INSTALL_GRAPHVIZ}. A .dot file needs neither.")


# graphviz-pure has text metrics for font families only: a PostScript face name such as
# "Helvetica-Bold" gets Times widths there, and bold labels overflow their boxes. <B> is the
# portable spelling (system dot keeps the face name: <B> shifts the baseline in its tables).
_BOLD_FACE = re.compile(r'<FONT FACE="([A-Za-z ]+)-Bold">(.*?)</FONT>', re.S)


def _for_fallback(source: str) -> str:
    return _BOLD_FACE.sub(r"<B>\2</B>", source)


def render_source(source: str, fmt: str, *, timeout: float | None = 120.0,
                  renderer: str | None = None) -> bytes:
    """``source`` (DOT text, one graph or several) laid out as ``fmt`` bytes
    (``svg``, ``png``, ``pdf``, ``json``...) by the renderer
    :func:`find_renderer` picks. A layout taking longer than ``timeout``
    seconds is a :class:`TimeoutError`; a renderer's failure a
    :class:`RuntimeError` with its message."""
    fmt = fmt.lower()
    r = find_renderer(fmt, renderer)
    text = _for_fallback(source) if r.name == "graphviz-pure" else source
    return _run(r, text, fmt, timeout)


def _run(r: Renderer, source: str, fmt: str, timeout: float | None) -> bytes:
    try:
        res = subprocess.run([r.path, f"-T{fmt}"], input=source.encode("utf-8"),
                             capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"viz: `{r.name}` did not finish within {timeout:g} s; draw the graph "
                           "with collapse='module' or collapse='repeat'") from None
    if res.returncode != 0 and "concentrate=true" in source:  # dot's edge bundling can crash
        return _run(r, source.replace("concentrate=true", "concentrate=false"), fmt, timeout)
    if res.returncode != 0:
        raise RuntimeError(f"viz: `{r.name} -T{fmt}` failed (exit {res.returncode}): "
                           f"{res.stderr.decode('utf-8', 'replace').strip()[:500]}")
    return res.stdout


class Digraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` whose :meth:`pipe` (and so Jupyter's inline
    display) renders with :func:`render_source`: the system ``dot``, else
    graphviz-pure. Other layout engines and renderer options go to Graphviz
    as usual."""

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False, *,
             engine: str | None = None, encoding: str | None = None) -> Any:
        if renderer or formatter or neato_no_op or (engine or self.engine) != "dot":
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        data = render_source(self.source, format or self.format)
        return data.decode(encoding) if encoding else data

    def __repr__(self) -> str:
        """What a notebook shows where it cannot show the picture (text/plain):
        what the diagram holds and how to see it, not a memory address."""
        nodes = sum(1 for line in self.body if " [label=" in line and "->" not in line)
        edges = sum(1 for line in self.body if " -> " in line and "style=invis" not in line)
        return (f"<gradviz diagram: {nodes} boxes and circles, {edges} edges; shown as SVG in "
                f"Jupyter, or .render('graph.svg'), or .source for the DOT text>")
