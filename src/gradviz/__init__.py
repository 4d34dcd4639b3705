"""gradviz: a small autograd engine with a computation-graph visualizer.

The import package holds three layers, each a subpackage (imports point down
only): :mod:`gradviz.autograd` (the op table, the graph walker, ``Value`` and
``Tensor``), :mod:`gradviz.nn` (modules, losses, optimizers, data) and
:mod:`gradviz.viz` (diagrams, the step-through page, the ``gradviz`` command).

>>> from gradviz import Value
>>> total = Value(15.0) * 2 * 1.1
>>> total.backward()
"""
from . import autograd, nn, viz
from .autograd import Tensor, Value

try:
    from importlib.metadata import version as _version
    __version__ = _version("gradviz-engine")
except Exception:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0+unknown"

__all__ = ["Value", "Tensor", "autograd", "nn", "viz", "__version__"]
