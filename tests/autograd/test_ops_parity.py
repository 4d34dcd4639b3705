"""Issue 12: the ops a learner reaches for next, against PyTorch (the
reference where numpy has no gradient): edge semantics, values and
gradients at extreme inputs, bad input. The table-driven tests
(test_value_ops, test_tensor_ops, test_engine_core) gradcheck every row;
this file checks what they cannot: agreement with PyTorch's numbers."""
import math

import numpy as np
import pytest
import torch

from gradviz import Tensor, Value
from gradviz.autograd import grad

INF, NAN = math.inf, math.nan


def _value_grads(f, xs, create_graph=False):
    vs = [Value(x) for x in xs]
    return [g.data for g in grad(f(*vs), vs, create_graph=create_graph)]


def _tensor_grads(f, xs, create_graph=False):
    ts = [Tensor(np.array([x]), requires_grad=True) for x in xs]
    gs = grad(f(*ts).sum(), ts, create_graph=create_graph)
    return [float(g.data[0]) for g in gs]


def _torch_grads(f, xs):
    ts = [torch.tensor([x], dtype=torch.float64, requires_grad=True) for x in xs]
    f(*ts).sum().backward()
    return [t.grad.item() for t in ts]


def _same(a, b):
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b))


POW_CASES = [
    (lambda a, b: a ** b, (0.0, 0.0)), (lambda a, b: a ** b, (-0.0, 0.0)),
    (lambda a, b: a ** b, (0.0, 1.0)), (lambda a, b: a ** b, (0.0, -1.0)),
    (lambda a, b: a ** b, (0.0, 0.5)), (lambda a, b: a ** b, (2.0, 0.0)),
    (lambda a, b: a ** b, (INF, 0.0)), (lambda a, b: a ** b, (-1.0, 0.5)),
    (lambda a: a ** 0, (INF,)), (lambda a: a ** 0, (-INF,)), (lambda a: a ** 0, (0.0,)),
    (lambda a: a ** 0, (NAN,)),
    (lambda a: 0 ** a, (0.0,)), (lambda a: 0 ** a, (1.0,)), (lambda a: 0 ** a, (-1.0,)),
    (lambda a: 0 ** a, (INF,)),
]


@pytest.mark.parametrize("f,xs", POW_CASES)
def test_pow_at_zero_and_infinity_is_pytorchs(f, xs):
    with np.errstate(all="ignore"):
        want = _torch_grads(f, xs)
        for cg in (False, True):
            assert _same(_value_grads(f, xs, cg), want), (xs, cg)
            assert _same(_tensor_grads(f, xs, cg), want), (xs, cg)
