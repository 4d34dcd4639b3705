"""Tensor layers, activation modules, Tensor losses and optimizers on Tensors."""
import math

import numpy as np
import pytest

from gradviz import nn
from gradviz.autograd import Tensor, Value
from gradviz.autograd import functional as F


def _t(a, dtype=np.float64, grad=True):
    return Tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def test_linear_is_x_at_w_plus_b_float32_by_default():
    lin = nn.Linear(4, 3, seed=0)
    assert lin.weight.shape == (4, 3) and lin.bias.shape == (3,)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    y = lin(Tensor(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, x @ lin.weight.data + lin.bias.data, rtol=1e-6)
    assert nn.Linear(4, 3, dtype=np.float64).weight.dtype == np.float64
    assert nn.Linear(4, 3, bias=False).bias is None
    assert len(nn.Linear(4, 3, bias=False).parameters()) == 1
    assert nn.Linear(784, 512).num_parameters() == 784 * 512 + 512


def test_linear_gradients_are_the_matrix_calculus_ones():
    lin = nn.Linear(3, 2, dtype=np.float64, seed=1)
    x = _t(np.random.default_rng(0).standard_normal((5, 3)))
    g = np.random.default_rng(1).standard_normal((5, 2))
    lin(x).backward(g)
    np.testing.assert_allclose(lin.weight.grad, x.data.T @ g)
    np.testing.assert_allclose(lin.bias.grad, g.sum(axis=0))
    np.testing.assert_allclose(x.grad, g @ lin.weight.data.T)


@pytest.mark.parametrize("init,bound", [("kaiming", math.sqrt(2) * math.sqrt(3 / 200)),
                                        ("xavier", math.sqrt(6 / 300)),
                                        ("torch", 1 / math.sqrt(200)), ("uniform", 1.0)])
def test_linear_init_schemes(init, bound):
    lin = nn.Linear(200, 100, init=init, seed=0)
    w = lin.weight.data
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    if init != "torch":
        assert not lin.bias.data.any()


def test_linear_seeds_are_reproducible_and_bad_arguments_rejected():
    assert np.array_equal(nn.Linear(5, 5, seed=3).weight.data, nn.Linear(5, 5, seed=3).weight.data)
    with pytest.raises(ValueError, match="nout must be a positive int"):
        nn.Linear(5, 0)
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Linear(5, 5, dtype=np.int32)
    with pytest.raises(ValueError, match="unknown init scheme"):
        nn.Linear(5, 5, init="normal")


def test_wrong_width_names_the_layer_and_both_widths():
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(16, 10))
    with pytest.raises(ValueError, match=r"Linear\(64 -> 32\): input has 63 features "
                                         r"\(shape \(2, 63\)\), expected 64"):
        nn.Linear(64, 32)(Tensor(np.zeros((2, 63), np.float32)))
    with pytest.raises(nn.WidthError, match=r"Sequential layer 2: Linear\(16 -> 10\): input has "
                                            r"32 features"):
        model(Tensor(np.zeros((2, 64), np.float32)))


def test_sequential_names_indexing_and_labels():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    assert model[2].weight.label == "2.weight"
    assert isinstance(model[1], nn.Tanh) and len(model) == 3 and len(model[:2]) == 2
    assert repr(model).splitlines() == ["Sequential():", "  (0): Linear(2 -> 3)",
                                        "  (1): Tanh()", "  (2): Linear(3 -> 1)"]
    with pytest.raises(TypeError, match="item 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)


X = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0]])
SIG = 1 / (1 + np.exp(-X))
ERF = np.vectorize(math.erf)
CASES = [
    (nn.ReLU(), np.maximum(X, 0)),
    (nn.Tanh(), np.tanh(X)),
    (nn.Sigmoid(), SIG),
    (nn.LeakyReLU(0.1), np.where(X > 0, X, 0.1 * X)),
    (nn.ELU(0.5), np.where(X > 0, X, 0.5 * np.expm1(X))),
    (nn.SiLU(), X * SIG),
    (nn.Swish(2.0), X / (1 + np.exp(-2 * X))),
    (nn.GELU(), 0.5 * X * (1 + ERF(X / math.sqrt(2)))),
    (nn.Softplus(), np.log1p(np.exp(X))),
    (nn.Softmax(), np.exp(X) / np.exp(X).sum()),
]


@pytest.mark.parametrize("module,expected", CASES, ids=[type(m).__name__ for m, _ in CASES])
def test_activation_modules_on_tensors_and_values(module, expected):
    np.testing.assert_allclose(module(Tensor(X)).data, expected, rtol=1e-12, atol=1e-15)
    if not isinstance(module, nn.Softmax):
        out = module([Value(v) for v in X[0]])
        np.testing.assert_allclose([v.data for v in out], expected[0], rtol=1e-12, atol=1e-15)


def test_gelu_is_exact_not_the_tanh_approximation():
    assert nn.GELU()(Value(1.0)).data == pytest.approx(0.8413447460685429, abs=1e-15)


def test_prelu_learns_its_slope():
    act = nn.PReLU()
    assert [n for n, _ in act.named_parameters()] == ["alpha"]
    x = _t(X)
    out = act(x)
    np.testing.assert_allclose(out.data, np.where(X > 0, X, 0.25 * X), rtol=1e-6)
    out.sum().backward()
    assert act.alpha.grad == pytest.approx([-2.5])   # sum of the negative inputs
    per = nn.PReLU(5, init=0.1)
    per(x).sum().backward()
    np.testing.assert_allclose(per.alpha.grad, np.minimum(X[0], 0))
    with pytest.raises(ValueError, match=r"PReLU\(5\): input has shape \(1, 3\)"):
        per(_t([[1.0, 2.0, 3.0]]))


def test_swish_beta_learnable_only_when_not_given():
    assert nn.Swish(1.5).parameters() == []
    sw = nn.Swish()
    assert [n for n, _ in sw.named_parameters()] == ["beta"]
    x = _t([[1.5]])
    sw(x).sum().backward()
    s = 1 / (1 + math.exp(-1.5))
    assert sw.beta.grad == pytest.approx([1.5 ** 2 * s * (1 - s)], rel=1e-6)
    assert repr(sw) == "Swish(beta=learnable)"


def test_tensor_losses_use_the_functional_ones():
    rng = np.random.default_rng(0)
    logits = _t(rng.standard_normal((4, 3)))
    targets = np.array([0, 2, 1, 2])
    ce = nn.CrossEntropyLoss()(logits, targets)
    assert ce.data == pytest.approx(F.cross_entropy(logits, targets).data)
    assert nn.CrossEntropyLoss(reduction="sum")(logits, targets).data == pytest.approx(4 * ce.data)
    p, t = _t([0.2, 0.9]), np.array([0.0, 1.0])
    assert nn.BCELoss()(p, t).data == pytest.approx(-(math.log(0.8) + math.log(0.9)) / 2)
    a, b = _t([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 0.0])
    assert nn.MSELoss()(a, b).data == pytest.approx(20 / 3)
    assert nn.MSELoss(reduction="sum")(a, b).data == pytest.approx(20)
    loss = nn.MSELoss()(a, b)
    loss.backward()
    np.testing.assert_allclose(a.grad, 2 * (a.data - b) / 3)


def test_sgd_and_adam_on_tensors_match_the_value_path():
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
    for make in (lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                         weight_decay=0.01),
                 lambda ps: nn.optim.Adam(ps, lr=0.05, weight_decay=0.01)):
        t = _t(start.copy())
        vals = [Value(float(v)) for v in start]
        opt_t, opt_v = make([t]), make(vals)
        for g in grads:
            t.grad = g.copy()
            for v, gi in zip(vals, g):
                v.grad = float(gi)
            opt_t.step()
            opt_v.step()
        np.testing.assert_allclose(t.data, [v.data for v in vals], rtol=1e-13)


def test_tensor_updates_are_in_place_keep_float32_and_reuse_buffers():
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    data = w.data
    for opt in (nn.optim.SGD([w], lr=0.1, momentum=0.9), nn.optim.Adam([w], lr=0.1)):
        w.grad = np.full((3, 2), 0.5, np.float32)
        opt.step()
        bufs = [id(b) for d in vars(opt).values() if isinstance(d, dict) for b in d.values()
                if isinstance(b, np.ndarray)]  # (Adam's step counts are ints)
        w.grad = np.full((3, 2), 0.5, np.float32)
        opt.step()
        assert [id(b) for d in vars(opt).values() if isinstance(d, dict) for b in d.values()
                if isinstance(b, np.ndarray)] == bufs
        assert w.data is data and w.data.dtype == np.float32
    assert (w.data < 1).all()


def test_optimizer_skips_tensors_without_grad_and_mixes_values():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    v = Value(1.0)
    opt = nn.optim.SGD([a, b, v], lr=0.5)
    a.grad = np.array([1.0, 2.0])
    v.grad = 2.0
    opt.step()
    assert a.data.tolist() == [0.5, 0.0] and b.data.tolist() == [1.0, 1.0] and v.data == 0.0
    opt.zero_grad()
    assert a.grad is None and v.grad == 0.0
    b.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"shape \(2,\) but its grad has shape \(3,\)"):
        opt.step()
    with pytest.raises(ValueError, match="requires_grad=False"):
        nn.optim.SGD([Tensor(np.ones(2))], lr=0.1)


def test_tensor_state_dict_round_trip_keeps_dtype(tmp_path):
    a = nn.Sequential(nn.Linear(3, 4, seed=0), nn.PReLU(), nn.Linear(4, 2, dtype=np.float64, seed=1))
    b = nn.Sequential(nn.Linear(3, 4, seed=5), nn.PReLU(), nn.Linear(4, 2, dtype=np.float64, seed=6))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.alpha", "2.weight", "2.bias"]
    assert state["0.weight"].dtype == np.float32 and state["2.weight"].dtype == np.float64
    a.save(tmp_path / "m.npz")
    w = b[0].weight.data
    b.load(tmp_path / "m.npz")
    assert b[0].weight.data is w                          # loaded in place
    x = Tensor(np.ones((1, 3), np.float32))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    bad = dict(state)
    bad["2.weight"] = np.zeros((2, 4))
    with pytest.raises(nn.CheckpointError, match=r"'2.weight' has shape \(2, 4\), expected \(4, 2\)"):
        b.load_state_dict(bad)


def test_zero_grad_on_tensor_modules():
    lin = nn.Linear(2, 2)
    lin(Tensor(np.ones((1, 2), np.float32))).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_a_small_tensor_network_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)             # XOR of signs
    model = nn.Sequential(nn.Linear(2, 16, seed=1), nn.Tanh(), nn.Linear(16, 2, seed=2))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(150):
        loss = loss_fn(model(Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (model(Tensor(x)).data.argmax(axis=1) == y).mean()
    assert acc >= 0.95
