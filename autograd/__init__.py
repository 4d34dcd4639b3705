"""gradviz's autograd engine.

Where each idea lives:

* :mod:`.ops` -- the op table: one row per op (forward, local derivative or
  vjp, rule text, domain, kinks, spelling, optional fast rules);
* :mod:`.kernel` -- a row bound to an engine (floats or arrays) and to
  constant parameters: the one interface every consumer uses;
* :mod:`.graph` -- the node protocol and the one walker (discovery, Kahn's
  algorithm, ``backward``, ``backward_steps``, ``grad``);
* :mod:`.mode` -- ``no_grad``, ``enable_grad``, ``detect_anomaly``, creation
  sites, on ``contextvars``;
* :mod:`.value`, :mod:`.tensor` -- the two node types, each with its one
  constructor; :mod:`.tensor_ops` -- structural tensor ops;
  :mod:`.functional` -- softmax and the losses;
* :mod:`.custom` -- users' own ops (:func:`define_op`, :class:`Function`);
* :mod:`.check` -- :func:`gradcheck`; :mod:`.testing` -- hypothesis strategies.
"""
from . import functional
from .check import CheckReport, GradcheckError, gradcheck, gradgradcheck
from .custom import Function, FunctionCtx, define_op, maximum, minimum, where
from .graph import Step, grad, warm_up
from .mode import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad, record_sites
from .ops import OPS
from .tensor import GraphChangedError, Tensor, concatenate, einsum, stack
from .value import Value, wsum

__all__ = ["Value", "wsum", "grad", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "record_sites", "AnomalyError", "Step", "gradcheck", "GradcheckError", "Tensor",
           "concatenate", "stack", "functional", "define_op", "Function", "FunctionCtx", "OPS",
           "gradgradcheck", "CheckReport", "where", "maximum", "minimum",
           "einsum", "GraphChangedError"]



def __getattr__(name: str):
    """``autograd.testing`` without importing it first (it needs hypothesis,
    a test dependency, so it is not imported with the package)."""
    if name == "testing":
        import importlib
        return importlib.import_module(".testing", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The walker's loops, specialised now rather than during a user's first passes
# (CPython 3.11; see graph.warm_up).
warm_up(lambda: (Value(0.5) * Value(2.0) + 1.0).tanh())
warm_up(lambda: (Tensor([0.5, 1.0], requires_grad=True) * 2.0).sum())
