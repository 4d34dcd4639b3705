"""conv2d, max_pool2d and avg_pool2d: values and gradients against PyTorch
over random configurations (stride, padding, dilation, groups, shapes,
float32 and float64), central differences (first and second order), and
the errors bad arguments give."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradviz.autograd.functional as F
from gradviz.autograd import Tensor, grad, gradcheck
from gradviz.autograd.conv import conv2d_backward, conv2d_forward

TF = torch.nn.functional
against_torch = settings(max_examples=min(settings.default.max_examples, 80))
few = settings(max_examples=min(settings.default.max_examples, 25))
TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-4}, np.float64: {"rtol": 1e-9, "atol": 1e-9}}
DTYPES = st.sampled_from([np.float32, np.float64])


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def close(ours, theirs, dtype, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    assert ours.dtype == dtype, (what, ours.dtype)
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOL[dtype])


# ---------------------------------------------------------------------------
# configurations
# ---------------------------------------------------------------------------
@st.composite
def conv_configs(draw, max_side=9):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if stride == (1, 1) and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    pads = (0, 0) if padding in ("same", "valid") else padding
    min_h = max(1, dilation[0] * (kh - 1) + 1 - 2 * pads[0])
    min_w = max(1, dilation[1] * (kw - 1) + 1 - 2 * pads[1])
    assume(min_h <= max_side and min_w <= max_side)
    H, W = draw(st.integers(min_h, max_side)), draw(st.integers(min_w, max_side))
    N = draw(st.integers(1, 3))
    return {"x": (N, cin, H, W), "w": (cout, cin // groups, kh, kw), "bias": draw(st.booleans()),
                "kw": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}}


@st.composite
def pool_configs(draw, dilation=True):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    eh, ew = dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    H = draw(st.integers(max(1, eh - 2 * padding[0]), 8))
    W = draw(st.integers(max(1, ew - 2 * padding[1]), 8))
    x = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W)
    kw_ = {"kernel_size": (kh, kw), "stride": stride, "padding": padding,
               "ceil_mode": draw(st.booleans())}
    if dilation:
        kw_["dilation"] = dil
    return x, kw_


# ---------------------------------------------------------------------------
# against PyTorch
# ---------------------------------------------------------------------------
@against_torch
@given(cfg=conv_configs(), dtype=DTYPES, seed=st.integers(0, 2 ** 16))
def test_conv2d_values_and_gradients_match_pytorch(cfg, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w = rand(rng, cfg["x"], dtype), rand(rng, cfg["w"], dtype)
    b = rand(rng, cfg["w"][0], dtype) if cfg["bias"] else None
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    B = Tensor(b, requires_grad=True) if b is not None else None
    out = F.conv2d(X, W, B, **cfg["kw"])
    assert out.op == "conv2d" and out.parents == ((X, W, B) if B is not None else (X, W))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if b is not None else None
    ref = TF.conv2d(xt, wt, bt, **cfg["kw"])
    close(out.data, ref, dtype, "forward")
    g = rand(rng, out.shape, dtype)
    out.backward(g)
    ref.backward(torch.tensor(g))
    close(X.grad, xt.grad, dtype, "d/dinput")
    close(W.grad, wt.grad, dtype, "d/dweight")
    if b is not None:
        close(B.grad, bt.grad, dtype, "d/dbias")


@against_torch
@given(cfg=pool_configs(), dtype=DTYPES, seed=st.integers(0, 2 ** 16), ties=st.booleans())
def test_max_pool2d_values_gradients_and_indices_match_pytorch(cfg, dtype, seed, ties):
    shape, kw = cfg
    rng = np.random.default_rng(seed)
    # ties: small integers repeat inside windows, so the gradient must go to
    # the same (first) maximum PyTorch picks
    x = rng.integers(0, 3, shape).astype(dtype) if ties else rand(rng, shape, dtype)
    X = Tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(X, **kw, return_indices=True)
    # a dilated window wholly in the padding has max -inf and no meaningful index
    assume(np.isfinite(out.data).all())
    xt = torch.tensor(x, requires_grad=True)
    ref, ref_idx = TF.max_pool2d(xt, **kw, return_indices=True)
    close(out.data, ref, dtype, "forward")
    np.testing.assert_array_equal(idx, ref_idx.numpy())
    g = rand(rng, out.shape, dtype)
    out.backward(g)
    ref.backward(torch.tensor(g))
    close(X.grad, xt.grad, dtype, "d/dinput")


@against_torch
@given(cfg=pool_configs(dilation=False), dtype=DTYPES, seed=st.integers(0, 2 ** 16),
       include=st.booleans(), divisor=st.one_of(st.none(), st.integers(1, 7)))
def test_avg_pool2d_values_and_gradients_match_pytorch(cfg, dtype, seed, include, divisor):
    shape, kw = cfg
    kw.update(count_include_pad=include, divisor_override=divisor)
    rng = np.random.default_rng(seed)
    x = rand(rng, shape, dtype)
    X = Tensor(x, requires_grad=True)
    out = F.avg_pool2d(X, **kw)
    xt = torch.tensor(x, requires_grad=True)
    ref = TF.avg_pool2d(xt, **kw)
    close(out.data, ref, dtype, "forward")
    g = rand(rng, out.shape, dtype)
    out.backward(g)
    ref.backward(torch.tensor(g))
    close(X.grad, xt.grad, dtype, "d/dinput")


def test_unbatched_chw_inputs_match_pytorch():
    rng = np.random.default_rng(0)
    x, w, b = rand(rng, (3, 7, 6), np.float64), rand(rng, (4, 3, 3, 2), np.float64), \
        rand(rng, 4, np.float64)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), padding=1)
    close(out.data, TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1),
          np.float64, "conv2d")
    close(F.max_pool2d(Tensor(x), 2).data, TF.max_pool2d(torch.tensor(x), 2), np.float64,
          "max_pool2d")
    close(F.avg_pool2d(Tensor(x), 3, 2, 1).data, TF.avg_pool2d(torch.tensor(x), 3, 2, 1),
          np.float64, "avg_pool2d")


def test_second_derivatives_match_pytorch_double_backward():
    # d/dw of <v, d/dx <u, conv(x, w)^2>>: needs the vjp of the vjp, both ways
    rng = np.random.default_rng(3)
    x, w = rand(rng, (2, 4, 7, 6), np.float64), rand(rng, (6, 2, 3, 2), np.float64)
    kw = {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.conv2d(X, W, **kw)
    u, v = rand(rng, y.shape, np.float64), rand(rng, x.shape, np.float64)
    (dx,) = grad((y * y * Tensor(u)).sum(), [X], create_graph=True)
    dw, dx2 = grad((dx * Tensor(v)).sum(), [W, X])
    yt = TF.conv2d(xt, wt, **kw)
    (dxt,) = torch.autograd.grad((yt * yt * torch.tensor(u)).sum(), [xt], create_graph=True)
    dwt, dx2t = torch.autograd.grad((dxt * torch.tensor(v)).sum(), [wt, xt])
    close(dx.data, dxt, np.float64, "first order")
    close(dw.data, dwt, np.float64, "second order, d/dw")
    close(dx2.data, dx2t, np.float64, "second order, d/dx")


def test_pool_second_derivatives_match_pytorch():
    rng = np.random.default_rng(4)
    x = rand(rng, (2, 3, 7, 7), np.float64)
    for fn, tfn, kw in ((F.max_pool2d, TF.max_pool2d, {"kernel_size": 3, "stride": 2, "padding": 1}),
                        (F.avg_pool2d, TF.avg_pool2d, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                           "count_include_pad": False})):
        X = Tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        y, yt = fn(X * X * X, **kw), tfn(xt * xt * xt, **kw)
        u = rand(rng, y.shape, np.float64)
        (dx,) = grad((y * Tensor(u)).sum(), [X], create_graph=True)
        (dxt,) = torch.autograd.grad((yt * torch.tensor(u)).sum(), [xt], create_graph=True)
        v = rand(rng, x.shape, np.float64)
        (h,) = grad((dx * Tensor(v)).sum(), [X])
        (ht,) = torch.autograd.grad((dxt * torch.tensor(v)).sum(), [xt])
        close(h.data, ht, np.float64, f"{fn.__name__} second order")


# ---------------------------------------------------------------------------
# central differences
# ---------------------------------------------------------------------------
@few
@given(cfg=conv_configs(max_side=5), seed=st.integers(0, 2 ** 16))
def test_conv2d_gradcheck(cfg, seed):
    rng = np.random.default_rng(seed)
    leaves = [Tensor(rand(rng, cfg["x"], np.float64), requires_grad=True, label="x"),
              Tensor(rand(rng, cfg["w"], np.float64), requires_grad=True, label="w")]
    if cfg["bias"]:
        leaves.append(Tensor(rand(rng, cfg["w"][0], np.float64), requires_grad=True))
    assert gradcheck(lambda *t: F.conv2d(*t, **cfg["kw"]), *leaves)


@few
@given(cfg=conv_configs(max_side=4), seed=st.integers(0, 2 ** 16))
def test_conv2d_second_order_gradcheck(cfg, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rand(rng, cfg["x"], np.float64), requires_grad=True, label="x")
    w = Tensor(rand(rng, cfg["w"], np.float64), requires_grad=True, label="w")
    u = Tensor(rand(rng, F.conv2d(x, w, **cfg["kw"]).shape, np.float64))

    def dx_of(x, w):   # the input gradient of a non-linear function of the conv
        y = F.conv2d(x, w, **cfg["kw"])
        return grad((y * y * u).sum(), [x], create_graph=True)[0]

    def dw_of(x, w):
        y = F.conv2d(x, w, **cfg["kw"])
        return grad((y * y * u).sum(), [w], create_graph=True)[0]

    assert gradcheck(dx_of, x, w, atol=1e-4)
    assert gradcheck(dw_of, x, w, atol=1e-4)


@st.composite
def distinct_images(draw, shape):
    """Values at least 0.05 apart: no ties inside gradcheck's eps."""
    n = int(np.prod(shape))
    perm = np.random.default_rng(draw(st.integers(0, 2 ** 16))).permutation(n)
    return (perm.reshape(shape) * 0.05 - 0.025 * n).astype(np.float64)


@few
@given(cfg=pool_configs(), data=st.data())
def test_pools_gradcheck(cfg, data):
    shape, kw = cfg
    x = Tensor(data.draw(distinct_images(shape)), requires_grad=True)
    # a dilated window can lie wholly in the padding: its max is -inf (as in
    # PyTorch), where central differences are nan
    assume(np.isfinite(F.max_pool2d(x, **kw).data).all())
    assert gradcheck(lambda t: F.max_pool2d(t, **kw), x)
    kw.pop("dilation")
    assert gradcheck(lambda t: F.avg_pool2d(t, **kw, count_include_pad=False), x)


# ---------------------------------------------------------------------------
# the numpy layer
# ---------------------------------------------------------------------------
def test_numpy_backward_skips_what_is_not_needed_and_agrees_with_the_full_one():
    rng = np.random.default_rng(5)
    x, w, g = rand(rng, (2, 3, 6, 5), np.float64), rand(rng, (4, 3, 2, 2), np.float64), None
    p = {"stride": (1, 2), "padding": (1, 0, 1, 1), "dilation": (1, 1), "groups": 1}
    y = conv2d_forward(x, w, None, **p)
    g = rand(rng, y.shape, np.float64)
    _dx, dw, db = conv2d_backward(g, x, w, (True, True, True), **p)
    only = conv2d_backward(g, x, w, (False, True, False), **p)
    assert only[0] is None and only[2] is None
    np.testing.assert_array_equal(only[1], dw)
    np.testing.assert_allclose(db, g.sum(axis=(0, 2, 3)))
    # asymmetric padding ("same" with an even kernel) against padding by hand
    ref = conv2d_forward(np.pad(x, ((0, 0), (0, 0), (1, 0), (1, 1))), w, None,
                         (1, 2), (0, 0, 0, 0), (1, 1), 1)
    np.testing.assert_allclose(y, ref)


def test_float32_stays_float32_and_mixed_dtypes_promote():
    x = Tensor(np.ones((1, 2, 5, 5), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 2, 3, 3), np.float32), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    w64 = Tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    assert F.conv2d(x, w64).dtype == np.float64
    assert F.max_pool2d(x, 2).dtype == F.avg_pool2d(x, 2).dtype == np.float32


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
X4 = Tensor(np.zeros((2, 4, 6, 6)), requires_grad=True)
W4 = Tensor(np.zeros((8, 4, 3, 3)), requires_grad=True)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.conv2d(Tensor(np.zeros((4, 6))), W4), ValueError,
     ["conv2d", "4-D", "(4, 6)"]),
    (lambda: F.conv2d(X4, Tensor(np.zeros((8, 4, 3)))), ValueError,
     ["conv2d", "weight", "(8, 4, 3)"]),
    (lambda: F.conv2d(X4, Tensor(np.zeros((8, 3, 3, 3)))), ValueError,
     ["conv2d", "(2, 4, 6, 6)", "4 channels", "(8, 3, 3, 3)"]),
    (lambda: F.conv2d(X4, Tensor(np.zeros((6, 2, 3, 3))), groups=3), ValueError,
     ["conv2d", "groups=3", "divide"]),
    (lambda: F.conv2d(X4, W4, Tensor(np.zeros(7))), ValueError, ["conv2d", "bias", "(8,)", "(7,)"]),
    (lambda: F.conv2d(X4, W4, padding=-1), ValueError, ["conv2d", "padding", ">= 0", "-1"]),
    (lambda: F.conv2d(X4, W4, stride=0), ValueError, ["conv2d", "stride", ">= 1"]),
    (lambda: F.conv2d(X4, W4, stride=1.5), TypeError, ["conv2d", "stride", "1.5"]),
    (lambda: F.conv2d(X4, W4, dilation=(1, 2, 3)), ValueError, ["conv2d", "dilation"]),
    (lambda: F.conv2d(X4, W4, padding="full"), ValueError, ["conv2d", "'full'", "same"]),
    (lambda: F.conv2d(X4, W4, stride=2, padding="same"), ValueError, ["conv2d", "same", "stride"]),
    (lambda: F.conv2d(X4, Tensor(np.zeros((8, 4, 7, 3)))), ValueError,
     ["conv2d", "kernel 7x3", "padded input 6x6"]),
    (lambda: F.conv2d(X4, W4, dilation=4), ValueError, ["conv2d", "dilation", "9x9", "6x6"]),
    (lambda: F.max_pool2d(X4, 7), ValueError, ["max_pool2d", "kernel 7x7", "6x6"]),
    (lambda: F.max_pool2d(X4, 2, padding=2), ValueError, ["max_pool2d", "padding", "half"]),
    (lambda: F.max_pool2d(Tensor(np.zeros((6, 6))), 2), ValueError, ["max_pool2d", "(6, 6)"]),
    (lambda: F.avg_pool2d(X4, 0), ValueError, ["avg_pool2d", "kernel_size", ">= 1"]),
    (lambda: F.avg_pool2d(X4, 2, padding=-1), ValueError, ["avg_pool2d", "padding"]),
    (lambda: F.avg_pool2d(X4, 2, divisor_override=0), ValueError,
     ["avg_pool2d", "divisor_override"]),
])
def test_bad_arguments_are_clear_errors_before_anything_is_recorded(call, error, words):
    X4.grad = W4.grad = None
    with pytest.raises(error) as e:
        call()
    for word in words:
        assert word in str(e.value), (word, str(e.value))
    assert X4.grad is None and W4.grad is None


def test_backward_steps_and_local_protocol_work_on_conv_nodes():
    rng = np.random.default_rng(6)
    x = Tensor(rand(rng, (1, 2, 5, 5), np.float64), requires_grad=True)
    w = Tensor(rand(rng, (3, 2, 3, 3), np.float64), requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, w, padding=1).relu(), 2).sum()
    steps = list(y.backward_steps())
    ops = [s.node.op for s in steps]
    assert "conv2d" in ops and "max_pool2d" in ops
    stepped = (x.grad.copy(), w.grad.copy())
    x.grad = w.grad = None
    y.backward()
    np.testing.assert_allclose(stepped[0], x.grad)
    np.testing.assert_allclose(stepped[1], w.grad)
    conv = next(s.node for s in steps if s.node.op == "conv2d")
    info = conv.op_info
    assert info.params["padding"] == (1, 1, 1, 1) and not info.elementwise
    np.testing.assert_allclose(conv.op_forward(x.data, w.data), conv.data)


@pytest.mark.parametrize("chunk", [1, 3000])
@pytest.mark.parametrize("kw", [{"padding": 1}, {"stride": 2, "padding": (0, 1), "groups": 2},
                                {"dilation": 2, "padding": "same", "groups": 2}])
def test_batch_chunks_give_the_same_result(monkeypatch, chunk, kw):
    # tiny chunks: one image (or a few) per im2col buffer, the rest of the batch reuses it
    import gradviz.autograd.conv as conv
    monkeypatch.setattr(conv, "CHUNK_BYTES", chunk)
    rng = np.random.default_rng(7)
    x, w = rand(rng, (5, 4, 7, 6), np.float64), rand(rng, (6, 2, 3, 3), np.float64)
    if kw.get("groups", 1) == 1:
        w = rand(rng, (6, 4, 3, 3), np.float64)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, yt = F.conv2d(X, W, **kw), TF.conv2d(xt, wt, **kw)
    close(y.data, yt, np.float64, "forward")
    g = rand(rng, y.shape, np.float64)
    y.backward(g)
    yt.backward(torch.tensor(g))
    close(X.grad, xt.grad, np.float64, "d/dinput")
    close(W.grad, wt.grad, np.float64, "d/dweight")


def test_an_empty_batch_works_as_in_pytorch():
    x = Tensor(np.zeros((0, 3, 5, 5)), requires_grad=True)
    w = Tensor(np.ones((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (0, 4, 5, 5)
    y.sum().backward()
    assert x.grad.shape == x.shape and not w.grad.any()
    assert F.max_pool2d(x, 2).shape == F.avg_pool2d(x, 2).shape == (0, 3, 2, 2)
