"""Losses on Values (Tensor losses: tests/nn/test_tensor_nn.py)."""
import math

import pytest

from gradviz import nn
from gradviz.autograd import Value


def test_mse_mean_and_sum_and_gradient():
    a, b = Value(2.0), Value(-1.0)
    loss = nn.MSELoss()([a, b], [1.0, 1.0])
    assert loss.data == pytest.approx((1.0 + 4.0) / 2)
    loss.backward()
    assert a.grad == pytest.approx(2 * (2.0 - 1.0) / 2) and b.grad == pytest.approx(2 * -2.0 / 2)
    assert nn.MSELoss(reduction="sum")([a, b], [1.0, 1.0]).data == pytest.approx(5.0)
    assert nn.MSELoss()(Value(3.0), 1.0).data == 4.0          # one Value, one number


def test_bce_matches_formula_and_gradient():
    p = Value(0.8)
    loss = nn.BCELoss()([p, Value(0.3)], [1.0, 0.0])
    assert loss.data == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)
    loss.backward()
    assert p.grad == pytest.approx(-1 / 0.8 / 2)
    soft = nn.BCELoss()(Value(0.6), 0.25)
    assert soft.data == pytest.approx(-(0.25 * math.log(0.6) + 0.75 * math.log(0.4)))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got 2.0"):
        nn.BCELoss()(Value(0.5), 2.0)


def test_cross_entropy_of_one_sample_and_its_gradient():
    z = [Value(1.0), Value(2.0), Value(0.5)]
    loss = nn.CrossEntropyLoss()(z, 1)
    e = [math.exp(v.data) for v in z]
    assert loss.data == pytest.approx(-math.log(e[1] / sum(e)))
    loss.backward()
    # d/dz_i = softmax_i - [i == target]
    assert [v.grad for v in z] == pytest.approx([e[0] / sum(e), e[1] / sum(e) - 1, e[2] / sum(e)])


def test_cross_entropy_batch_averages_and_is_stable_for_huge_logits():
    rows = [[Value(1e4), Value(0.0)], [Value(0.0), Value(-1e4)]]
    loss = nn.CrossEntropyLoss()(rows, [0, 1])
    assert loss.data == pytest.approx(1e4 / 2)
    loss.backward()
    assert rows[1][1].grad == pytest.approx(-0.5)
    assert math.isfinite(rows[0][0].grad)


def test_cross_entropy_bad_targets():
    with pytest.raises(ValueError, match=r"class index in \[0, 2\), got 2"):
        nn.CrossEntropyLoss()([Value(1.0), Value(2.0)], 2)
    with pytest.raises(ValueError, match="2 rows of logits but 1 targets"):
        nn.CrossEntropyLoss()([[1.0, 2.0], [3.0, 4.0]], [0])


def test_loss_shape_mismatch_and_bad_reduction():
    with pytest.raises(ValueError, match="prediction has 2 elements but target has 3"):
        nn.MSELoss()([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown reduction 'avg'; valid: mean, sum"):
        nn.MSELoss(reduction="avg")
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


import numpy as np  # noqa: E402

from gradviz import Tensor  # noqa: E402


# issue 13 (smaller ones, item 5 at the module level): Tensor losses check what the scalar
# ones check, before any arithmetic
@pytest.mark.parametrize("target", [[0.0, 1.0, 2.0], [-0.5, 0.5, 0.5], [0.0, float("nan"), 1.0]])
def test_tensor_bce_loss_refuses_targets_outside_0_1_like_the_scalar_one(target):
    p = Tensor(np.full(3, 0.5), requires_grad=True)
    for t in (np.array(target), Tensor(np.array(target))):
        with pytest.raises(ValueError, match=r"BCELoss: targets must lie in \[0, 1\]"):
            nn.BCELoss()(p, t)
    with pytest.raises(ValueError, match=r"BCELoss: targets must lie in \[0, 1\]"):
        nn.BCELoss()([Value(0.5)] * 3, target)


@pytest.mark.parametrize("target", [[0, 1], np.array([0, 1, 2]), []])
def test_tensor_cross_entropy_on_one_sample_names_the_shapes(target):
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: logits of shape \(3,\).*one target"):
        nn.CrossEntropyLoss()(Tensor(np.ones(3)), target)
    assert np.isclose(nn.CrossEntropyLoss()(Tensor(np.ones(3)), [2]).data, np.log(3))


@pytest.mark.parametrize("p, t", [(0.0, 1.0), (1.0, 0.0), (0.0, 0.5)])
def test_bce_on_values_is_finite_at_a_saturated_probability_as_on_tensors(p, t):
    import numpy as np

    from gradviz import Tensor
    v = Value(p)
    loss = nn.BCELoss()(v, t)
    loss.backward()
    pt = Tensor(np.array([p]), requires_grad=True, dtype=np.float64)
    lt = nn.BCELoss()(pt, np.array([t]))
    assert loss.data == pytest.approx(float(lt.data)) and math.isfinite(loss.data)
    assert math.isfinite(v.grad)
    z = Value(40.0)  # a saturated sigmoid (1.0 in floats) against target 0
    (nn.BCELoss()(z.sigmoid(), 0.0)).backward()
    assert math.isfinite(z.grad)


def test_leaky_relu_takes_pytorchs_keyword():
    assert nn.LeakyReLU(negative_slope=0.2).alpha == 0.2
