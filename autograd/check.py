"""gradcheck: analytic gradients against central differences.

Works for any node type with the hooks ``_gc_array`` (the data as a float64
array) and ``_gc_leaf`` (a new float64 leaf of the same type from an array);
Value and Tensor both have them. Small inputs are checked element by element;
inputs with more than ``max_elements`` elements along random directions
(``<u, J^T v>`` from backprop against ``<v, J u>`` from two evaluations),
which stays cheap for big tensors.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .graph import grad, topological_order

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one.

    Attributes: ``input_index``, ``label``, ``index`` (the element, or None
    for a random-direction check), ``analytic``, ``numeric``, ``kink`` (a
    description of a non-differentiable point in the graph, or None).
    """

    def __init__(self, message: str, input_index: int, label: str, index, analytic: float,
                 numeric: float, kink: str | None = None):
        super().__init__(message)
        self.input_index, self.label, self.index = input_index, label, index
        self.analytic, self.numeric, self.kink = analytic, numeric, kink


def _projection(out, seed: int):
    arr = np.asarray(out.data, dtype=np.float64)
    if arr.size == 1:
        v = np.ones_like(arr)
    else:
        v = np.random.default_rng(seed).standard_normal(arr.shape)
    return v


def _kinks(out, eps: float) -> list[str]:
    """Nodes sitting (within a few eps) on a point where their op is not
    differentiable, described for the error message."""
    found = []
    for node in topological_order([out]):
        kern = node._op
        if kern is None or kern.op.kink is None:
            continue
        for p in node._parents[:1]:
            data = np.asarray(p.data, dtype=np.float64)
            near = np.abs(data) <= 10 * eps
            if near.any():
                where = tuple(int(i) for i in np.argwhere(near)[0]) if data.ndim else ()
                found.append(f"{kern.name} at input {float(data[where] if data.ndim else data):g}"
                             + (f" (element {where})" if where else "")
                             + (f" of node {p.label!r}" if p.label else ""))
    return found


def gradcheck(fn: Callable[..., Any], *inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, max_elements: int = 200, directions: int = 3,
              seed: int = 0) -> bool:
    """Check ``fn``'s gradients at ``inputs`` against central differences.

    ``fn(*inputs)`` returns a node (any shape; non-scalar outputs are
    projected on a fixed random direction). Numerical derivatives are taken
    in float64 on copies of the inputs. Returns True or raises
    :class:`GradcheckError` naming the input, the element index, the analytic
    and the numeric value; when the graph sits on a kink (``relu`` at 0, ...)
    the error says the function is not differentiable there instead.
    """
    if not inputs:
        raise ValueError("gradcheck: give at least one input node")
    for i, x in enumerate(inputs):
        if not hasattr(x, "_gc_array"):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}, not a Value or Tensor")
    out = fn(*inputs)
    if not hasattr(out, "_gc_array"):
        raise TypeError(f"gradcheck: fn returned {type(out).__name__}, not a Value or Tensor")
    v = _projection(out, seed)
    seed_node = out._coerce_seed(v.astype(np.asarray(out.data).dtype) if v.ndim else float(v),
                                 "gradcheck", False)
    analytic = grad(out, list(inputs), grad_outputs=seed_node)
    if not isinstance(analytic, tuple):
        analytic = (analytic,)
    base = [x._gc_array() for x in inputs]

    def f(arrays: Sequence[np.ndarray]) -> float:
        # Recorded normally: fn may itself differentiate (second-order checks).
        leaves = [x._gc_leaf(a) for x, a in zip(inputs, arrays)]
        y = fn(*leaves)
        return float(np.sum(np.asarray(y.data, dtype=np.float64) * v))

    def fail(i, index, a, n):
        kinks = _kinks(out, eps)
        name = inputs[i].label or f"#{i}"
        where = ("a random direction" if index is None else
                 "its value" if index == () else f"element {index}")
        if kinks:
            msg = (f"gradcheck: not differentiable at this point ({'; '.join(kinks)}): "
                   f"input {name}, {where}: analytic {a:.8g} vs numeric {n:.8g}")
        else:
            msg = (f"gradcheck: gradient mismatch for input {name}, {where}: "
                   f"analytic {a:.10g} vs numeric {n:.10g} (atol={atol}, rtol={rtol})")
        raise GradcheckError(msg, i, inputs[i].label, index, a, n, "; ".join(kinks) or None)

    rng = np.random.default_rng(seed + 1)
    for i, x0 in enumerate(base):
        g = np.asarray(analytic[i]._gc_array(), dtype=np.float64)
        if x0.size <= max_elements:
            for index in np.ndindex(x0.shape):
                plus = [b.copy() for b in base]
                minus = [b.copy() for b in base]
                plus[i][index] += eps
                minus[i][index] -= eps
                num = (f(plus) - f(minus)) / (2 * eps)
                a = float(g[index])
                if not np.isclose(a, num, atol=atol, rtol=rtol, equal_nan=False):
                    fail(i, index, a, num)
        else:
            for _ in range(directions):
                u = rng.standard_normal(x0.shape)
                u /= np.linalg.norm(u)
                plus = [b.copy() for b in base]
                minus = [b.copy() for b in base]
                plus[i] += eps * u
                minus[i] -= eps * u
                num = (f(plus) - f(minus)) / (2 * eps)
                a = float(np.sum(g * u))
                if not np.isclose(a, num, atol=atol, rtol=rtol):
                    fail(i, None, a, num)
    return True
