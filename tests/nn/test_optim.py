"""Optimizers: updates checked against hand computation (and against PyTorch)."""
import math

import numpy as np
import pytest

from gradviz import nn
from gradviz.autograd import Value


def _run(opt, params, grads_per_step):
    """Set the given grads, step; returns the data after each step."""
    out = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        out.append([p.data for p in params])
    return out


def test_plain_sgd_is_p_minus_lr_grad():
    p, q = Value(1.0), Value(-2.0)
    opt = nn.optim.SGD([p, q], lr=0.1)
    assert _run(opt, [p, q], [[0.5, -3.0]]) == [[pytest.approx(0.95), pytest.approx(-1.7)]]


def test_sgd_momentum_by_hand():
    p = Value(1.0)
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    (s1,), (s2,) = _run(opt, [p], [[0.5], [-0.2]])
    # step 1: d = 0.5 + 0.1*1 = 0.6; buf = 0.6; p = 1 - 0.1*0.6
    assert s1 == pytest.approx(0.94, abs=1e-15)
    # step 2: d = -0.2 + 0.1*0.94 = -0.106; buf = 0.9*0.6 - 0.106 = 0.434; p = 0.94 - 0.0434
    assert s2 == pytest.approx(0.8966, abs=1e-15)


def test_sgd_nesterov_with_weight_decay_by_hand():
    p = Value(1.0)
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)
    (s1,), (s2,) = _run(opt, [p], [[0.5], [-0.2]])
    # step 1: d = 0.6; buf = 0.6; d = 0.6 + 0.9*0.6 = 1.14; p = 1 - 0.114
    assert s1 == pytest.approx(0.886, abs=1e-15)
    # step 2: d = -0.2 + 0.0886 = -0.1114; buf = 0.54 - 0.1114 = 0.4286;
    #         d = -0.1114 + 0.9*0.4286 = 0.27434; p = 0.886 - 0.027434
    assert s2 == pytest.approx(0.858566, abs=1e-14)


def test_adam_with_bias_correction_by_hand():
    p = Value(1.0)
    opt = nn.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    (s1,), (s2,) = _run(opt, [p], [[0.5], [-0.2]])
    # step 1: m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25: p = 1 - 0.1 * 0.5 / (0.5 + eps)
    assert s1 == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-15)
    # step 2: m = 0.9*0.05 + 0.1*(-0.2) = 0.025; v = 0.999*0.00025 + 0.001*0.04 = 0.00028975
    m_hat = 0.025 / (1 - 0.9 ** 2)
    v_hat = 0.00028975 / (1 - 0.999 ** 2)
    assert s2 == pytest.approx(s1 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8), abs=1e-14)
    assert s2 == pytest.approx(0.8654394, abs=1e-7)


def test_adam_weight_decay_adds_to_the_gradient():
    p = Value(2.0)
    opt = nn.optim.Adam([p], lr=0.01, weight_decay=0.5)
    p.grad = 0.0
    opt.step()                       # g = 0 + 0.5*2 = 1 > 0: p goes down by ~lr
    assert p.data == pytest.approx(2.0 - 0.01, abs=1e-9)


# PyTorch 2.13.0 (CPU, float64) run on the same start point and gradients
# (numpy default_rng(0): start = standard_normal(5), grads = standard_normal((6, 5))),
# recorded once so the comparison runs without torch installed.
TORCH_RESULTS = [
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True},
     [0.3891777337128285, -0.3955489506895332, 1.1535243653454885, 0.16883325636210206,
      -0.40712276909142675]),
    ("SGD", {"lr": 0.05, "momentum": 0.5},
     [0.2738422557899697, -0.2667908735681675, 0.9373800517331766, 0.1333091606438018,
      -0.49444368375522957]),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
     [0.1426044990636286, -0.15770647440059996, 0.6538714559569315, 0.12303005132063105,
      -0.5150331207857111]),
]


@pytest.mark.parametrize("name, kw, expected", TORCH_RESULTS, ids=["sgd-nesterov-wd", "sgd-momentum", "adam-wd"])
def test_optimizers_match_pytorch_on_a_sequence_of_steps(name, kw, expected):
    rng = np.random.default_rng(0)
    start = rng.standard_normal(5)
    grads = rng.standard_normal((6, 5))
    vals = [Value(float(x)) for x in start]
    opt = getattr(nn.optim, name)(vals, **kw)
    for g in grads:
        for v, gi in zip(vals, g):
            v.grad = float(gi)
        opt.step()
    np.testing.assert_allclose([v.data for v in vals], expected, rtol=1e-12, err_msg=f"{name} {kw}")


def test_training_a_neuron_reduces_the_loss():
    n = nn.Neuron(2, "linear", seed=0)
    opt = nn.optim.SGD(n.parameters(), lr=0.1, momentum=0.9)
    data = [([1.0, 2.0], 3.0), ([2.0, -1.0], 0.5), ([0.0, 1.0], 1.0)]
    losses = []
    for _ in range(200):
        loss = nn.MSELoss()([n(x) for x, _ in data], [y for _, y in data])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 1e-3 * losses[0]


def test_zero_grad_and_lr_schedule():
    p = Value(1.0)
    opt = nn.optim.SGD([p], lr=1.0)
    p.grad = 3.0
    opt.zero_grad()
    assert p.grad == 0.0
    opt.lr = 0.5
    p.grad = 1.0
    opt.step()
    assert p.data == 0.5
    with pytest.raises(ValueError, match="learning rate"):
        opt.lr = -1.0
    assert opt.lr == 0.5


def test_optimizer_accepts_a_module_and_dedupes_parameters():
    model = nn.MLP(2, [3, 1], seed=0)
    assert len(nn.optim.Adam(model).values) == model.num_parameters()
    p = Value(1.0)
    assert len(nn.optim.SGD([p, p], lr=0.1).values) == 1


@pytest.mark.parametrize("make,match", [
    (lambda: nn.optim.SGD([], lr=0.1), "no parameters"),
    (lambda: nn.optim.Adam(iter([])), "no parameters"),
    (lambda: nn.optim.SGD([Value(1.0)], lr=-0.1), "learning rate.*-0.1"),
    (lambda: nn.optim.Adam([Value(1.0)], lr=float("nan")), "learning rate"),
    (lambda: nn.optim.SGD([Value(1.0)], lr=0.1, momentum=-0.5), "momentum"),
    (lambda: nn.optim.SGD([Value(1.0)], lr=0.1, nesterov=True), "nesterov=True needs momentum"),
    (lambda: nn.optim.SGD([Value(1.0)], lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda: nn.optim.Adam([Value(1.0)], betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda: nn.optim.Adam([Value(1.0)], betas=0.9), "pair"),
    (lambda: nn.optim.Adam([Value(1.0)], eps=-1e-8), "eps"),
])
def test_bad_optimizer_arguments_are_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_parameters_are_rejected():
    with pytest.raises(TypeError, match="parameter 1 is a float"):
        nn.optim.SGD([Value(1.0), 2.0], lr=0.1)
    with pytest.raises(TypeError, match="single parameter"):
        nn.optim.SGD(Value(1.0), lr=0.1)


def _reference_sgd(p, grads, lr, momentum, wd, nesterov):
    """PyTorch's documented SGD, one float at a time."""
    buf = None
    for g in grads:
        d = g + wd * p
        if momentum:
            buf = d if buf is None else momentum * buf + d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def _reference_adam(p, grads, lr, b1, b2, eps, wd):
    m = v = 0.0
    for t, g in enumerate(grads, 1):
        d = g + wd * p
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        p = p - lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
    return p


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

finite = st.floats(-10, 10, allow_nan=False)


@given(p=finite, grads=st.lists(finite, min_size=1, max_size=6), lr=st.floats(0, 1),
       momentum=st.floats(0, 0.99), wd=st.floats(0, 0.5), nesterov=st.booleans())
def test_sgd_matches_the_reference_formulas(p, grads, lr, momentum, wd, nesterov):
    if nesterov and momentum == 0:
        momentum = 0.5
    v = Value(p)
    t = Tensor_(np.array([p, -p]))
    opt = nn.optim.SGD([v, t], lr=lr, momentum=momentum, weight_decay=wd, nesterov=nesterov)
    for g in grads:
        v.grad = g
        t.grad = np.array([g, -g])
        opt.step()
    expected = _reference_sgd(p, grads, lr, momentum, wd, nesterov)
    assert v.data == pytest.approx(expected, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(t.data, [expected, -expected], rtol=1e-9, atol=1e-9)


@given(p=finite, grads=st.lists(finite, min_size=1, max_size=6), lr=st.floats(0, 1),
       b1=st.floats(0, 0.99), b2=st.floats(0, 0.999), eps=st.floats(1e-8, 1e-3),
       wd=st.floats(0, 0.5))
def test_adam_matches_the_reference_formulas(p, grads, lr, b1, b2, eps, wd):
    v = Value(p)
    t = Tensor_(np.array([p]))
    opt = nn.optim.Adam([v, t], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    for g in grads:
        v.grad = g
        t.grad = np.array([g])
        opt.step()
    expected = _reference_adam(p, grads, lr, b1, b2, eps, wd)
    assert v.data == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert t.data[0] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def Tensor_(a):
    from gradviz.autograd import Tensor
    return Tensor(a, requires_grad=True)


def test_adam_counts_steps_per_parameter_as_pytorch_does():
    # b gets no gradient for three steps (None: skipped), then one; its bias correction
    # is that of its first step (torch.optim.Adam: b moves by lr exactly)
    import numpy as np

    from gradviz import Tensor
    a = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    b = Tensor(np.array([0.5]), requires_grad=True)
    opt = nn.optim.Adam([a, b], lr=0.1)
    for s in range(4):
        opt.zero_grad()
        loss = (a * a).sum() + ((b * 3.0).sum() if s >= 3 else 0.0)
        loss.backward()
        opt.step()
    assert b.data[0] == pytest.approx(0.4, abs=1e-9)  # was 0.5 - 0.058 (the correction of t = 4)
