"""gradviz's visualizer: computation graphs as diagrams (:func:`draw`,
:func:`render`), backprop step by step (:func:`draw_steps`,
:func:`steps_html`), numbers for reading (:func:`fmt`), module scopes for
collapsed diagrams (:mod:`viz.scope`), and the ``gradviz`` command line
(:mod:`viz.cli`). See :mod:`viz.dot` for how to read a diagram."""
from . import scope
from .dot import GraphTooBigWarning, GraphvizNotFoundError, draw, render
from .text import esc, fmt
from . import check_report as _check_report  # noqa: F401  (registers gradcheck report drawing)
from ..autograd.graph import register_display as _register_display

# Values and Tensors display as their diagram in Jupyter (the engine does not import viz).
_register_display("svg", lambda node: draw(node).pipe(format="svg", encoding="utf-8"))

__all__ = ["draw", "render", "draw_steps", "steps_html", "step_text", "fmt", "esc", "scope",
           "plot_activations", "GraphTooBigWarning", "GraphvizNotFoundError"]


def __getattr__(name):  # the step-through and plotting load on first use
    if name in ("draw_steps", "steps_html", "step_text"):
        from . import steps
        return getattr(steps, name)
    if name == "plot_activations":
        from .plot import plot_activations
        return plot_activations
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
