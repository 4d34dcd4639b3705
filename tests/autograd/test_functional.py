"""autograd.functional: values against plain formulas, stability at extreme
values (logits of magnitude 1e4, sigmoid at ±1000, BCE at 0 and 1), and
clear errors for bad targets."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradviz.autograd.functional as F
from gradviz.autograd import Tensor, grad, gradcheck


def ref_log_softmax(x, axis):
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.floats(-50, 50)), st.data())
def test_softmax_and_log_softmax_match_the_formula(a, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    lp = ref_log_softmax(a, axis)
    np.testing.assert_allclose(F.log_softmax(Tensor(a), axis).data, lp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.softmax(Tensor(a), axis).data, np.exp(lp), rtol=1e-12,
                               atol=1e-300)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)),
                  elements=st.floats(-20, 20)), st.data())
def test_cross_entropy_is_mean_nll_of_log_softmax(a, data):
    n, c = a.shape
    t = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    x = Tensor(a, requires_grad=True)
    loss = F.cross_entropy(x, t)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, -ref_log_softmax(a, 1)[np.arange(n), t].mean(),
                               rtol=1e-12)
    # the fused op's gradient equals the composed graph's
    x2 = Tensor(a, requires_grad=True)
    composed = -(F.log_softmax(x2, 1)[np.arange(n), t]).mean()
    loss.backward()
    composed.backward()
    np.testing.assert_allclose(x.grad, x2.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e4, -1e4, 1e30])
def test_softmax_family_stable_at_huge_logits(dtype, scale):
    big = np.array([[1.0, -1.0, 0.5], [0.0, 0.3, -0.2]]) * scale
    big = np.clip(big, np.finfo(dtype).min, np.finfo(dtype).max).astype(dtype)
    x = Tensor(big, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        s = F.softmax(x)
        ls = F.log_softmax(x)
        loss = F.cross_entropy(x, [0, 2])
        loss.backward()
    for t in (s, ls, loss):
        assert t.dtype == dtype
        assert np.all(np.isfinite(t.data)) or t is ls  # log_softmax may be -huge, finite
    assert np.all(np.isfinite(ls.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(s.data.sum(axis=-1), 1.0, rtol=1e-6)
    # the gradient (softmax - onehot)/N is exact here: rows are one-hot softmaxes
    expected = np.zeros_like(big, dtype=np.float64)
    expected[0, big[0].argmax()] += 0.5
    expected[1, big[1].argmax()] += 0.5
    expected[0, 0] -= 0.5
    expected[1, 2] -= 0.5
    np.testing.assert_allclose(x.grad, expected, atol=1e-6)


def test_cross_entropy_at_1e4_has_the_exact_loss():
    x = Tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True)
    loss = F.cross_entropy(x, [1])
    assert loss.data == pytest.approx(1e4)
    loss.backward()
    np.testing.assert_allclose(x.grad, [[1.0, -1.0, 0.0]], atol=1e-12)


def test_cross_entropy_second_derivative_at_extremes_is_finite():
    x = Tensor(np.array([[1e4, 0.0, -1e4], [3.0, 2.0, 1.0]]), requires_grad=True)
    g = grad(F.cross_entropy(x, [0, 1]), x, create_graph=True)
    hv = grad(g, x, grad_outputs=Tensor(np.ones((2, 3))))
    assert np.all(np.isfinite(hv.data))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_plus_minus_1000(dtype):
    x = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype), requires_grad=True)
    with np.errstate(over="raise"):
        y = x.sigmoid()
        y.sum().backward()
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-6, atol=0)
    assert np.all(np.isfinite(x.grad)) and x.grad[0] == 0 and x.grad[-1] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_finite_at_and_near_0_and_1(dtype):
    p = Tensor(np.array([0.0, 1e-30, 1e-8, 0.5, 1 - 1e-8, 1.0], dtype), requires_grad=True)
    t = Tensor(np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0], dtype))
    loss = F.binary_cross_entropy(p, t)
    loss.backward()
    assert loss.dtype == dtype and np.isfinite(loss.data)
    assert np.all(np.isfinite(p.grad))
    # log clamped at -100 (PyTorch's convention): p = 0 with target 1 costs 100
    one = F.binary_cross_entropy(Tensor(np.array([0.0], dtype)), Tensor(np.array([1.0], dtype)))
    assert one.data == pytest.approx(100.0)


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(0.01, 0.99)),
       st.data())
def test_bce_matches_the_formula_and_gradchecks(p, data):
    t = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(0, 1)))
    got = F.binary_cross_entropy(Tensor(p), Tensor(t)).data
    np.testing.assert_allclose(got, -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(),
                               rtol=1e-12)
    assert gradcheck(lambda pp: F.binary_cross_entropy(pp, Tensor(t)), Tensor(p, requires_grad=True))
    # the gradient with respect to the target, away from the ends (a step
    # outside [0, 1] is refused)
    inner = np.clip(t, 0.01, 0.99)
    assert gradcheck(lambda tt: F.binary_cross_entropy(Tensor(p), tt),
                     Tensor(inner, requires_grad=True))


@pytest.mark.parametrize("bad", [[-0.5, 0.5], [0.5, 1.5], [0.5, np.nan]])
def test_bce_refuses_targets_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target must hold values in \[0, 1\]"):
        F.binary_cross_entropy(Tensor([0.3, 0.6]), Tensor(bad))


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4),
                  elements=st.floats(-3, 3)), st.data())
def test_mse_loss(a, data):
    b = data.draw(hnp.arrays(np.float64, a.shape, elements=st.floats(-3, 3)))
    x = Tensor(a, requires_grad=True)
    loss = F.mse_loss(x, b)
    np.testing.assert_allclose(loss.data, ((a - b) ** 2).mean(), rtol=1e-12)
    assert gradcheck(lambda x: F.mse_loss(x, b), x)


@pytest.mark.parametrize("targets, err, pattern", [
    ([0, 3], ValueError, r"target 3 is out of range for 3 classes"),
    ([-1, 0], ValueError, r"target -1 is out of range"),
    ([0], ValueError, r"shape \(1,\).*2 rows"),
    ([0.5, 1.0], TypeError, "integer class indices"),
    (["a", "b"], TypeError, "integer class indices"),
])
def test_cross_entropy_bad_targets(targets, err, pattern):
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(err, match=pattern):
        F.cross_entropy(x, targets)


def test_loss_shape_and_value_errors():
    with pytest.raises(ValueError, match=r"cross_entropy.*\(2, 3, 4\)"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), [0, 1])
    with pytest.raises(ValueError, match=r"mse_loss.*\(3,\).*\(2,\)"):
        F.mse_loss(Tensor(np.zeros(3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*\(3,\).*\(2,\)"):
        F.binary_cross_entropy(Tensor(np.full(3, 0.5)), np.zeros(2))
    with pytest.raises(ValueError, match=r"probabilities"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.zeros(1))
    with pytest.raises(ValueError, match=r"softmax: axis 2"):
        F.softmax(Tensor(np.zeros((2, 2))), axis=2)


def test_targets_as_tensor_and_float32_mlp_step_stays_float32():
    rng = np.random.default_rng(0)
    x = Tensor(rng.random((4, 5), dtype=np.float32))
    w = Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, np.float32), requires_grad=True)
    loss = F.cross_entropy((x @ w + b).relu(), Tensor(np.array([0, 1, 2, 1]), dtype=np.int64))
    loss.backward()
    assert loss.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_fused_losses_hand_back_gradients_in_each_operands_dtype():
    p = Tensor(np.full(3, 0.3, np.float32), requires_grad=True)
    q = p.sigmoid()
    loss = F.binary_cross_entropy(q, Tensor(np.ones(3)))  # float64 target promotes the loss
    loss.backward()
    assert loss.dtype == np.float64
    assert q.grad.dtype == np.float32 and p.grad.dtype == np.float32
