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


# --- elementwise ops: values and gradients against PyTorch ---------------------
UNARY = {  # our method -> torch function
    "tan": torch.tan, "arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan,
    "sinh": torch.sinh, "cosh": torch.cosh, "log2": torch.log2, "log10": torch.log10,
    "exp2": torch.exp2, "log1p": torch.log1p, "expm1": torch.expm1, "rsqrt": torch.rsqrt,
    "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil, "round": torch.round,
}
POINTS = [-2.5, -1.5, -0.5, -1e-12, 0.0, 1e-12, 0.3, 0.5, 0.999, 1.0, 2.5, 40.0, 800.0]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_pytorch(name):
    x = np.array(POINTS)
    with np.errstate(all="ignore"):
        tt = torch.tensor(x, requires_grad=True)
        UNARY[name](tt).sum().backward()
        want, want_g = UNARY[name](torch.tensor(x)).numpy(), tt.grad.numpy()
        t = Tensor(x, requires_grad=True)
        out = getattr(t, name)()
        out.sum().backward()
        np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=0)
        np.testing.assert_allclose(t.grad, want_g, rtol=1e-12, atol=0)
        for xi, wi, gi in zip(POINTS, want, want_g):  # Value: the same numbers
            v = Value(xi)
            y = getattr(v, name)()
            y.backward()
            assert y.data == pytest.approx(wi, rel=1e-12, abs=0, nan_ok=True), (name, xi)
            assert v.grad == pytest.approx(gi, rel=1e-12, abs=0, nan_ok=True), (name, xi)


def test_log1p_and_expm1_keep_tiny_inputs():
    for x in (1e-300, 1e-17, -1e-17):
        assert Value(x).log1p().data == x and Value(x).expm1().data == x
        assert Tensor(np.array([x])).log1p().data[0] == x
    assert Value(1000.0).expm1().data == INF and Value(1000.0).sinh().data == INF
    assert Value(-1000.0).sinh().data == -INF and Value(1e6).exp2().data == INF
    assert math.isnan(Value(2.0).arcsin().data) and Value(-1.0).log1p().data == -INF


def test_rounding_ops_have_zero_gradient_and_keep_integers():
    t = Tensor(np.array([-1.5, 0.5, 2.5, 0.7]), requires_grad=True)
    for name in ("floor", "ceil", "round", "sign"):
        getattr(t, name)().sum().backward()
        assert (t.grad == 0).all()
        t.grad = None
    np.testing.assert_array_equal(t.round().data, [-2.0, 0.0, 2.0, 1.0])  # halves to even
    i = Tensor(np.array([-3, 0, 4]), dtype=np.int64)
    for name in ("floor", "ceil", "round", "sign"):
        assert getattr(i, name)().dtype == np.int64
    assert (i * i).sqrt().dtype == np.float32 and i.clip(0, 2).dtype == np.int64
    np.testing.assert_array_equal(i.clip(0, 2).data, [0, 0, 2])


def test_clip_matches_torch_clamp():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, INF, -INF])
    for lo, hi in ((-1.0, 1.0), (None, 0.5), (0.0, None), (1.0, -1.0)):
        tt = torch.tensor(x, requires_grad=True)
        torch.clamp(tt, lo, hi).sum().backward()
        t = Tensor(x, requires_grad=True)
        y = t.clip(lo, hi)
        y.sum().backward()
        np.testing.assert_array_equal(y.data, torch.clamp(torch.tensor(x), lo, hi).numpy())
        np.testing.assert_array_equal(t.grad, tt.grad.numpy())
        for xi, gi in zip(x, tt.grad.numpy()):
            v = Value(xi)
            v.clamp(lo, hi).backward()
            assert v.grad == gi
    assert Tensor(np.ones(2), requires_grad=True).clip(max=0).op == "clip"
    from gradviz.autograd import OPS
    assert OPS["clip"](Value(3.0), bounds=(0.0, 1.0)).data == 1.0
    with pytest.raises(TypeError, match=r"op 'clip': min is a parameter of the method \.clip\(\)"):
        OPS["clip"](Value(3.0), min=1.0)
    from gradviz.viz.expr import build  # the expression language spells it as the method
    assert build("x = 0.5; y = clip(x, 0, 0.25)")[0].data == 0.25


def test_maximum_minimum_share_ties_like_pytorch():
    from gradviz.autograd import maximum, minimum
    a, b = np.array([1.0, 2.0, 3.0, NAN]), np.array([3.0, 2.0, 1.0, 0.0])
    for ours, theirs in ((maximum, torch.maximum), (minimum, torch.minimum)):
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        theirs(ta, tb).sum().backward()
        xa, xb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        out = ours(xa, xb)
        out.sum().backward()
        np.testing.assert_array_equal(out.data, theirs(torch.tensor(a), torch.tensor(b)).numpy())
        np.testing.assert_array_equal(xa.grad[:3], ta.grad.numpy()[:3])
        np.testing.assert_array_equal(xb.grad[:3], tb.grad.numpy()[:3])
    va, vb = Value(2.0), Value(2.0)
    va.maximum(vb).backward()
    assert (va.grad, vb.grad) == (0.5, 0.5)
    assert maximum(Value(1.0), 3.0).data == 3.0
    with pytest.raises(ValueError, match=r"maximum.*\(2,\) and \(3,\)"):
        Tensor(np.ones(2), requires_grad=True).maximum(Tensor(np.ones(3)))


def test_where_routes_the_gradient_to_the_branch_taken():
    from gradviz.autograd import where
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([[10.0], [20.0]]), requires_grad=True)
    cond = a.gt(1.5)
    assert cond.dtype == bool and not cond.requires_grad
    out = where(cond, a * a, b)
    np.testing.assert_array_equal(out.data, [[10.0, 4.0, 9.0], [20.0, 4.0, 9.0]])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 8.0, 12.0])
    np.testing.assert_array_equal(b.grad, [[1.0], [1.0]])
    # the branch not taken may be inf: no nan leaks into the gradient
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    y = where(x.gt(0), x, 1.0).log()
    y.sum().backward()
    assert np.isfinite(x.grad).all()
    v = Value(3.0)
    where(v.gt(0), v * 2, v * 5).backward()
    assert v.grad == 2.0
    with pytest.raises(ValueError, match=r"where: shapes \(2,\) \(cond\), \(3,\)"):
        where(np.array([True, False]), Tensor(np.ones(3)), 0.0)


def test_comparison_methods_return_boolean_tensors_without_graph():
    t = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for name, want in (("eq", [0, 1, 0]), ("ne", [1, 0, 1]), ("lt", [1, 0, 0]),
                       ("le", [1, 1, 0]), ("gt", [0, 0, 1]), ("ge", [0, 1, 1])):
        r = getattr(t, name)(2.0)
        assert r.dtype == bool and r.parents == () and not r.requires_grad
        np.testing.assert_array_equal(r.data, np.array(want, dtype=bool))
    assert Value(1.0).lt(2) and not Value(1.0).eq(2)


# --- activations -----------------------------------------------------------------
import torch.nn.functional as TF  # noqa: E402

ACTS = {"selu": TF.selu, "celu": TF.celu, "mish": TF.mish, "hardswish": TF.hardswish,
        "hardsigmoid": TF.hardsigmoid, "relu6": TF.relu6, "softsign": TF.softsign,
        "logsigmoid": TF.logsigmoid}
ACT_POINTS = [-1e4, -100.0, -30.0, -3.0, -2.9, -1.0, -1e-8, 0.0, 1e-8, 0.5, 2.9, 3.0, 5.9, 6.0,
              30.0, 100.0, 1e4]


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activations_match_pytorch_including_extremes(name):
    x = np.array(ACT_POINTS)
    tt = torch.tensor(x, requires_grad=True)
    y = ACTS[name](tt)
    y.sum().backward()
    t = Tensor(x, requires_grad=True)
    out = getattr(t, name)()
    out.sum().backward()
    np.testing.assert_allclose(out.data, y.detach().numpy(), rtol=1e-12, atol=1e-300)
    # PyTorch's float64 hardsigmoid gradient uses a float32 1/6: ours is the exact one
    rtol = 1e-7 if name == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=rtol, atol=1e-300)
    assert np.isfinite(out.data).all() and np.isfinite(t.grad).all()
    for xi, yi, gi in zip(ACT_POINTS, y.detach().numpy(), tt.grad.numpy()):
        v = Value(xi)
        o = getattr(v, name)()
        o.backward()
        assert o.data == pytest.approx(yi, rel=1e-12, abs=1e-300), (name, xi)
        assert v.grad == pytest.approx(gi, rel=rtol, abs=1e-300), (name, xi)


def test_celu_alpha_and_float32():
    x = np.array([-2.0, -0.5, 0.5], dtype=np.float32)
    t = Tensor(x, requires_grad=True)
    out = t.celu(0.5)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, TF.celu(torch.tensor(x), 0.5).numpy(), rtol=1e-6)


def test_activation_modules_and_names_come_from_the_table():
    from gradviz import nn
    from gradviz.autograd.ops import activations
    names = {op.method for op in activations()}
    assert {"selu", "celu", "mish", "hardswish", "hardsigmoid", "relu6", "softsign",
            "logsigmoid"} <= names <= set(nn.ACTIVATIONS)
    x = Tensor(np.linspace(-4, 4, 9), requires_grad=True)
    for mod, name in ((nn.SELU(), "selu"), (nn.CELU(0.5), "celu"), (nn.Mish(), "mish"),
                      (nn.Hardswish(), "hardswish"), (nn.Hardsigmoid(), "hardsigmoid"),
                      (nn.ReLU6(), "relu6"), (nn.Softsign(), "softsign"),
                      (nn.LogSigmoid(), "logsigmoid")):
        theirs = getattr(torch.nn, type(mod).__name__)(*([0.5] if name == "celu" else []))
        np.testing.assert_allclose(mod(x).data, theirs(torch.tensor(x.data)).numpy(),
                                   rtol=1e-12)
        assert mod([Value(1.0), Value(-1.0)])[1].op == name  # Values too
    with pytest.raises(ValueError, match="CELU alpha must be positive"):
        nn.CELU(0.0)
    n = nn.MLP(2, [3, 1], activation="mish", seed=0)
    n([0.5, -0.5]).backward()


# --- reductions ----------------------------------------------------------------------
RED_X = np.array([[0.5, 0.0, -2.0, 0.0], [1.0, -1.5, 3.0, 0.7], [0.2, 0.2, -0.3, 1.1]])
REDUCTIONS = [
    (lambda t: t.min(axis=0), lambda t: t.amin(0)),
    (lambda t: t.prod(axis=1), lambda t: t.prod(1)),
    (lambda t: t.prod(), lambda t: t.prod()),
    (lambda t: t.var(axis=1, ddof=1), lambda t: t.var(1)),
    (lambda t: t.var(), lambda t: t.var(correction=0)),
    (lambda t: t.std(axis=0, keepdims=True, ddof=1), lambda t: t.std(0, keepdim=True)),
    (lambda t: t.logsumexp(axis=1), lambda t: t.logsumexp(1)),
    (lambda t: t.cumsum(1), lambda t: t.cumsum(1)),
    (lambda t: t.cumprod(1), lambda t: t.cumprod(1)),
    (lambda t: t.cumprod(0), lambda t: t.cumprod(0)),
]


@pytest.mark.parametrize("ours,theirs", REDUCTIONS)
def test_reductions_match_pytorch_zeros_included(ours, theirs):
    t = Tensor(RED_X, requires_grad=True)
    out = ours(t)
    out.sum().backward()
    tt = torch.tensor(RED_X, requires_grad=True)
    want = theirs(tt)
    want.sum().backward()
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_reduction_edge_cases_and_bad_input():
    big = Tensor(np.array([1e4, 1e4, -1e4]), requires_grad=True)
    lse = big.logsumexp()
    assert lse.data == pytest.approx(1e4 + math.log(2.0), rel=1e-15)
    lse.backward()
    np.testing.assert_allclose(big.grad, [0.5, 0.5, 0.0])
    assert Tensor(np.array([-INF, -INF])).logsumexp().data == -INF
    x = Tensor(RED_X, requires_grad=True)
    am = x.argmax(axis=1)
    assert am.dtype == np.int64 and not am.requires_grad and am.parents == ()
    np.testing.assert_array_equal(am.data, [0, 2, 3])
    assert x.argmin().data == 2 and x.argmax(axis=0, keepdims=True).shape == (1, 4)
    with pytest.raises(ValueError, match=r"Tensor.var: ddof=4 must be smaller than the number "
                                         r"of elements reduced \(4"):
        x.var(axis=1, ddof=4)
    with pytest.raises(ValueError, match="ddof must be a non-negative int"):
        x.std(ddof=-1)
    with pytest.raises(np.exceptions.AxisError, match="Tensor.cumsum: axis 2"):
        x.cumsum(2)
    with pytest.raises(ValueError, match=r"Tensor.min: cannot take the min of an empty"):
        Tensor(np.ones((0, 2))).min(axis=0)
    i = Tensor(np.array([1, 2, 3]), dtype=np.int64)
    assert i.prod().dtype == np.int64 and i.min().data == 1 and i.var().dtype == np.float32
    assert i.logsumexp().dtype == np.float32 and i.cumsum().dtype == np.int64
    s = Tensor(np.array(2.0), requires_grad=True)  # 0-d: axis 0 as PyTorch
    assert s.prod(axis=0).data == 2.0 and s.cumsum(0).data == 2.0 and s.argmax(0).data == 0


# --- shape ops ----------------------------------------------------------------------
SX = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7.0
SHAPE_OPS = [
    (lambda t: t.reshape(2, 1, 12).squeeze(1), lambda t: t.reshape(2, 1, 12).squeeze(1)),
    (lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    (lambda t: t.flatten(1), lambda t: t.flatten(1)),
    (lambda t: t.flip((0, 2)), lambda t: t.flip((0, 2))),
    (lambda t: t[:, :1].expand(3, -1, 5, -1), lambda t: t[:, :1].expand(3, -1, 5, -1)),
    (lambda t: t.tile((2, 1, 3)), lambda t: t.repeat(2, 1, 3)),
    (lambda t: t.repeat(np.array([2, 0, 1]), axis=1),
     lambda t: t.repeat_interleave(torch.tensor([2, 0, 1]), dim=1)),
    (lambda t: t.pad(((0, 0), (1, 2), (3, 0)), value=-1.0),
     lambda t: TF.pad(t, (3, 0, 1, 2), value=-1.0)),
    (lambda t: t.gather(2, np.array([[[3, 3, 0]], [[1, 0, 0]]])),
     lambda t: torch.gather(t, 2, torch.tensor([[[3, 3, 0]], [[1, 0, 0]]]))),
    (lambda t: __import__("gradviz").autograd.einsum("bij,bkj->bik", t, t),
     lambda t: torch.einsum("bij,bkj->bik", t, t)),
    (lambda t: __import__("gradviz").autograd.einsum("...ii->...i", t[:, :, :3]),
     lambda t: torch.einsum("...ii->...i", t[:, :, :3])),
]


@pytest.mark.parametrize("ours,theirs", SHAPE_OPS)
def test_shape_ops_match_pytorch(ours, theirs):
    t = Tensor(SX, requires_grad=True)
    out = ours(t)
    w = np.random.default_rng(0).standard_normal(out.shape)
    (out * w).sum().backward()
    tt = torch.tensor(SX, requires_grad=True)
    want = theirs(tt)
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_take_along_axis_is_numpys_and_repeats_accumulate():
    t = Tensor(SX, requires_grad=True)
    idx = np.array([[[0], [0], [2]], [[1], [1], [1]]])   # broadcast along the last axis
    out = t.take_along_axis(idx, axis=1)
    np.testing.assert_array_equal(out.data, np.take_along_axis(SX, idx, axis=1))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad[:, :, 0], [[2, 0, 1], [0, 3, 0]])


@pytest.mark.parametrize("call,match", [
    (lambda t: t.squeeze(0), r"Tensor.squeeze: axis 0 has size 2, not 1"),
    (lambda t: t.unsqueeze(5), r"Tensor.unsqueeze: axis 5 is out of range"),
    (lambda t: t.flatten(2, 1), r"Tensor.flatten: start_dim 2 comes after end_dim 1"),
    (lambda t: t.expand(2, 3), r"Tensor.expand: 2 sizes for a tensor with 3 dimensions"),
    (lambda t: t.expand(5, 3, 4), r"broadcast_to: shape \(2, 3, 4\) cannot be broadcast"),
    (lambda t: t.tile((-1,)), r"Tensor.tile: reps must be non-negative"),
    (lambda t: t.repeat([1, 2], axis=1), r"Tensor.repeat: repeats must be an int or 3 ints"),
    (lambda t: t.pad(-1), r"Tensor.pad: negative padding"),
    (lambda t: t.pad(((1, 1), (1, 1))), r"Tensor.pad: pad_width .* does not fit"),
    (lambda t: t.take_along_axis(np.zeros((2, 3), int), 1), r"take_along_axis: indices have 2 dim"),
    (lambda t: t.take_along_axis(np.full((2, 3, 4), 3), 1), r"take_along_axis: index 3 is out of range for axis 1 of size 3"),
    (lambda t: t.gather(1, np.zeros((3, 1, 1), int)), r"gather: index has size 3 along axis 0, larger"),
    (lambda t: __import__("gradviz").autograd.einsum("ij,jk->ik", t, t), r"einsum: operand 'ij' has 2 letters but shape \(2, 3, 4\)"),
    (lambda t: __import__("gradviz").autograd.einsum("abc,abd->cd", t, t[:1, :2]), r"einsum: 'abc,abd->cd' does not fit the shapes"),
    (lambda t: __import__("gradviz").autograd.einsum("abc->z", t), r"einsum: output 'z' names letters"),
])
def test_shape_ops_bad_input_is_named_before_recording(call, match):
    t = Tensor(SX, requires_grad=True)
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        call(t)


# --- losses ---------------------------------------------------------------------------
from gradviz.autograd import functional as F  # noqa: E402

LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0], [1e4, -1e4, 0.0], [-5.0, 5.0, 1.0]])
IDX = np.array([0, 2, 1, 1])
PROB = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]])
PRED = np.array([[0.3, -1.2], [2.5, 0.0], [-0.4, 7.0]])
TARG = np.array([[0.1, -1.0], [0.0, 0.0], [0.6, 1.0]])
BIN_T = np.array([[1.0, 0.0], [0.3, 1.0], [0.0, 1.0]])


def _both(ours, theirs, x, *rest):
    t = Tensor(x, requires_grad=True)
    out = ours(t, *rest)
    w = np.random.default_rng(2).standard_normal(out.shape)
    (out * w).sum().backward()
    tt = torch.tensor(x, requires_grad=True)
    want = theirs(tt, *[torch.tensor(r) for r in rest])
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.isfinite(out.data).all() and np.isfinite(t.grad).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_options_match_pytorch(reduction, smoothing):
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    _both(lambda x, t: F.cross_entropy(x, t.astype(np.int64), **kw),
          lambda x, t: TF.cross_entropy(x, t, **kw), LOGITS, IDX)
    _both(lambda x, t: F.cross_entropy(x, t, **kw),
          lambda x, t: TF.cross_entropy(x, t, **kw), LOGITS, PROB)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_other_losses_match_pytorch(reduction):
    r = {"reduction": reduction}
    lp = np.log(np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]))
    _both(lambda x, t: F.nll_loss(x, t.astype(np.int64), **r),
          lambda x, t: TF.nll_loss(x, t, **r), lp, np.array([2, 0]))
    big = np.array([[100.0, -100.0], [1e4, -1e4], [0.3, -0.7]])
    _both(lambda x, t: F.binary_cross_entropy_with_logits(x, t, **r),
          lambda x, t: TF.binary_cross_entropy_with_logits(x, t, **r), big, BIN_T)
    _both(lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=np.array([2.0, 0.5]),
                                                          **r),
          lambda x, t: TF.binary_cross_entropy_with_logits(
              x, t, pos_weight=torch.tensor([2.0, 0.5], dtype=torch.float64), **r), big, BIN_T)
    _both(lambda x, t: F.l1_loss(x, t, **r), lambda x, t: TF.l1_loss(x, t, **r), PRED, TARG)
    for delta in (1.0, 0.5, 3.0):
        _both(lambda x, t: F.huber_loss(x, t, delta=delta, **r),  # noqa: B023 (run at once)
              lambda x, t: TF.huber_loss(x, t, delta=delta, **r), PRED, TARG)  # noqa: B023
    _both(lambda x, t: F.mse_loss(x, t, **r), lambda x, t: TF.mse_loss(x, t, **r), PRED, TARG)
    p = np.array([[0.3, 0.9], [1e-3, 0.5]])
    _both(lambda x, t: F.binary_cross_entropy(x, t, **r),
          lambda x, t: TF.binary_cross_entropy(x, t, **r), p, np.array([[1.0, 0.0], [0.0, 0.5]]))


def test_bce_with_logits_is_exact_at_extremes():
    x = Tensor(np.array([100.0, -100.0, 800.0]), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0, 1.0]), reduction="none")
    assert loss.data[0] == pytest.approx(math.exp(-100.0), rel=1e-12)
    assert loss.data[2] == 0.0 and np.isfinite(loss.data).all()


@pytest.mark.parametrize("call,match", [
    (lambda: F.cross_entropy(Tensor(LOGITS), IDX, reduction="avg"),
     r"cross_entropy: unknown reduction 'avg'; valid: 'mean', 'sum', 'none'"),
    (lambda: F.cross_entropy(Tensor(LOGITS), PROB * 0.9),
     r"cross_entropy: probability targets must sum to 1 over the classes; row \d sums to 0.9"),
    (lambda: F.cross_entropy(Tensor(LOGITS), -PROB), r"probability targets must lie in \[0, 1\]"),
    (lambda: F.cross_entropy(Tensor(LOGITS), IDX, label_smoothing=1.5), r"label_smoothing must be in \[0, 1\]"),
    (lambda: F.nll_loss(Tensor(LOGITS), np.array([0, 3, 1, 1])), r"nll_loss: target 3 is out of range for 3 classes"),
    (lambda: F.nll_loss(Tensor(LOGITS), IDX[:2]), r"nll_loss: targets have shape \(2,\) but logits have 4 rows"),
    (lambda: F.l1_loss(Tensor(PRED), TARG[:2]), r"l1_loss: input has shape \(3, 2\) but target has shape \(2, 2\)"),
    (lambda: F.huber_loss(Tensor(PRED), TARG, delta=0), r"huber_loss: delta must be positive"),
    (lambda: F.binary_cross_entropy_with_logits(Tensor(PRED), TARG), r"target must hold values in \[0, 1\]"),
    (lambda: F.mse_loss(Tensor(PRED), TARG, reduction=None), r"mse_loss: unknown reduction None"),
    (lambda: F.binary_cross_entropy(Tensor(PRED), TARG, reduction="x"), r"binary_cross_entropy: unknown reduction"),
])
def test_loss_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_loss_modules_match_pytorch_on_tensors_and_values():
    from gradviz import nn
    cases = [
        (nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1),
         LOGITS[:2], IDX[:2]),
        (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum"),
         np.log(PROB[:1] * 0.5 + 0.1), np.array([2])),
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), PRED, BIN_T),
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), PRED, TARG),
        (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), PRED, TARG),
        (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), PRED, TARG),
    ]
    for ours, theirs, x, t in cases:
        want = theirs(torch.tensor(x), torch.tensor(t)).numpy()
        got = ours(Tensor(x, requires_grad=True), t)
        np.testing.assert_allclose(got.data, want, rtol=1e-10, err_msg=repr(ours))
        if got.data.ndim == 0:  # the Value path gives the same number
            vx = [[Value(v) for v in row] for row in x]
            vt = t.tolist()
            assert ours(vx, vt).data == pytest.approx(float(want), rel=1e-10), repr(ours)
    none = nn.L1Loss(reduction="none")([Value(1.0), Value(-2.0)], [0.0, 0.0])
    assert [v.data for v in none] == [1.0, 2.0]
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        nn.HuberLoss(reduction="avg")
    with pytest.raises(ValueError, match="delta must be a positive number"):
        nn.HuberLoss(delta=-1)
