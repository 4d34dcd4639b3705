"""gradviz's autograd engine: a scalar :class:`Value` and a numpy
:class:`Tensor` recording computation graphs, one op table
(:mod:`autograd.ops`) and one reverse-mode graph walker
(:mod:`autograd.graph`)."""
from .graph import (AnomalyError, Step, detect_anomaly, enable_grad, grad, is_grad_enabled,
                    no_grad)
from .value import Value, wsum
from .check import GradcheckError, gradcheck
from .tensor import Tensor
from .tensor_ops import concatenate, stack
from . import functional

__all__ = ["Value", "wsum", "grad", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
           "AnomalyError", "Step", "gradcheck", "GradcheckError", "Tensor", "concatenate", "stack", "functional"]
