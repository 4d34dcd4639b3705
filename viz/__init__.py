"""gradviz's visualizer: computation graphs as diagrams (:func:`draw`,
:func:`render`), backprop step by step (:func:`steps`, :func:`steps_html`,
:func:`draw_steps`), numbers for reading (:func:`fmt`), module scopes for
collapsed diagrams (:mod:`viz.scope`), and the ``gradviz`` command line
(:mod:`viz.cli`). See :mod:`viz.dot` for how to read a diagram and
:mod:`viz.model` for the diagram model every picture is drawn from."""
from ..autograd.graph import register_display as _register_display
from . import check_report as _check_report  # noqa: F401  (registers gradcheck report drawing)
from . import scope
from . import steps as _steps_module  # noqa: F401  (the module; `viz.steps` is the function)
from .dot import GraphTooBigWarning, GraphvizNotFoundError, LayoutError, draw, render
from .steps import Steps, draw_steps, step_text, steps, steps_html
from .text import esc, fmt

# Values and Tensors display as their diagram in Jupyter (the engine does not import viz).
_register_display("svg", lambda node: draw(node).pipe(format="svg", encoding="utf-8"))

__all__ = ["draw", "render", "draw_steps", "steps", "steps_html", "Steps", "step_text", "fmt",
           "esc", "scope", "plot_activations", "GraphTooBigWarning", "GraphvizNotFoundError",
           "LayoutError"]


def __getattr__(name):  # plotting (matplotlib) loads on first use
    if name == "plot_activations":
        from .plot import plot_activations
        return plot_activations
    if name in ("plot", "expr"):  # viz.expr: the expression language, as the docs spell it
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gradviz.viz' has no attribute {name!r}")
