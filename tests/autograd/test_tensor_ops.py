"""Every op of the table through Tensor, driven by the table: gradients
against central differences over random shapes and broadcasting patterns
(first order, and second order: Hessian-vector products of grad with
create_graph against differences of the gradient), the hand-specialised
numpy kernels against the table's generic rule, forward against the table,
float32 kept float32."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradviz.autograd.functional as F
from gradviz.autograd import Tensor, concatenate, grad, gradcheck, stack
from gradviz.autograd.kernel import ARRAY, kernel
from gradviz.autograd.ops import AM, OPS, arity_of, elementwise_ops
from gradviz.autograd.tensor_ops import TN
from gradviz.autograd.testing import apply_op, op_params

ELEMENTWISE = elementwise_ops()
EW_IDS = [op.key for op in ELEMENTWISE]
# Second-order checks cost a gradcheck per input: fewer examples keep the
# Tensor tests within their time budget under the ci profile.
second_order = settings(max_examples=min(settings.default.max_examples, 60))
# Exact comparisons (fast kernel vs table rule, float32 vs float64) need fewer.
comparison = settings(max_examples=min(settings.default.max_examples, 75))


def table_apply(op, args, params):
    """Apply ``op`` through its Tensor kernel (any elementwise op, wsum included)."""
    return op(*args, **params)


def in_domain(intervals, margin=0.02):
    return st.one_of(*[st.floats(lo + margin, hi - margin, allow_nan=False)
                       for lo, hi in intervals])


@st.composite
def ew_case(draw, op, dtype=np.float64, max_side=3):
    """Operands of elementwise ``op`` with mutually broadcastable shapes."""
    k = arity_of(op)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=k, min_dims=0, max_dims=3,
                                                    max_side=max_side)).input_shapes
    arrays = [draw(hnp.arrays(np.float64, s, elements=in_domain(iv))).astype(dtype)
              for s, iv in zip(shapes, op.domain)]
    params = draw(op_params(op))
    return [Tensor(a, requires_grad=True, label=f"x{i}") for i, a in enumerate(arrays)], params


# ---------------------------------------------------------------------------
# elementwise ops
# ---------------------------------------------------------------------------
def test_every_elementwise_op_has_a_tensor_front_end():
    for op in ELEMENTWISE:
        args = [Tensor(np.full((2, 2), 0.5), requires_grad=True) for _ in range(arity_of(op))]
        params = {k: v[0] for k, v in op.params.items()}
        out = apply_op(op, args, params)
        if op.key == "wsum":  # spelled out with + and * for tensors
            continue
        assert out.op == op.name and out._op.op is op, op.key
        assert out.parents == tuple(args)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=EW_IDS)
@given(data=st.data())
def test_elementwise_first_order(op, data):
    leaves, params = data.draw(ew_case(op), label="case")
    assert gradcheck(lambda *v: table_apply(op, v, params), *leaves)
    if op.key != "wsum":  # and through the public front end
        assert gradcheck(lambda *v: apply_op(op, v, params), *leaves)


@pytest.mark.parametrize("op", ELEMENTWISE,
                         ids=EW_IDS)
@second_order
@given(data=st.data())
def test_elementwise_second_order(op, data):
    leaves, params = data.draw(ew_case(op, max_side=2), label="case")
    out_shape = np.broadcast_shapes(*[t.shape for t in leaves])
    u = np.random.default_rng(0).standard_normal(out_shape)
    for i in range(len(leaves)):
        # v -> J^T u of input i, differentiated again: Hessian-vector products
        first = lambda *v, i=i: grad(table_apply(op, v, params), v[i], grad_outputs=Tensor(u),
                                     create_graph=True)
        assert gradcheck(first, *leaves, atol=1e-4, rtol=2e-3)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=EW_IDS)
@comparison
@given(data=st.data())
def test_elementwise_forward_matches_table_and_keeps_float32(op, data):
    leaves, params = data.draw(ew_case(op, dtype=np.float32), label="case")
    out = table_apply(op, leaves, params) if op.key == "wsum" else apply_op(op, leaves, params)
    expected = op.forward(AM, *[t.data.astype(np.float64) for t in leaves], *params.values())
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=2e-5, atol=2e-6)
    out.backward(np.ones(out.shape, np.float32))
    for t in leaves:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


def _fast_kernels():
    """Every row declaring a hand-specialised array rule, as a kernel."""
    ks = []
    for op in OPS.values():
        if "array" in op.fast and op.deriv is not None:
            params = {k: v[0] for k, v in op.params.items()}
            ks.append(kernel(op.key, ARRAY, **params))
    assert len(ks) >= 10
    return ks


@pytest.mark.parametrize("kern", _fast_kernels(), ids=repr)
@comparison
@given(data=st.data())
def test_fast_elementwise_backward_equals_table_rule(kern, data):
    leaves, _ = data.draw(ew_case(kern.op), label="case")
    if len(leaves) > 1:
        leaves[-1].requires_grad = data.draw(st.booleans(), label="last requires grad")
    out = table_apply(kern.op, leaves, kern.params)
    assert out._op.op is kern.op and out._op.params == kern.params
    g = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-5, 5)), label="g")
    fast = kern.vjp(out, g)
    generic = kern._elementwise_vjp(out, g)
    for f, r, t in zip(fast, generic, leaves):
        if not t.requires_grad:
            assert f is None and r is None
            continue
        assert f.shape == t.shape and f.dtype == t.dtype
        np.testing.assert_array_equal(f, r)  # bit for bit


# ---------------------------------------------------------------------------
# structural and fused ops: one case per table key
# ---------------------------------------------------------------------------
ARR = {"elements": st.floats(-2.0, 2.0, allow_nan=False)}
small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)


def leaf(a, label="x"):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=True, label=label)


@st.composite
def distinct(draw, shape):
    """Values at least 4/size apart: no ties for max within gradcheck's eps."""
    size = int(np.prod(shape))
    perm = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    return (perm * (4.0 / max(size, 1)) - 2.0).reshape(shape)


@st.composite
def axis_for(draw, nd):
    single = st.integers(-nd, nd - 1) if nd else st.nothing()
    return draw(st.one_of(st.none(), single,
                          st.lists(st.integers(0, max(nd - 1, 0)), unique=True, max_size=nd)
                          .map(tuple)))


@st.composite
def case_matmul(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["1x1", "1x2", "2x1", "2x2", "batched"]))
    if kind == "batched":
        b1, b2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                        max_side=2)).input_shapes
        sa, sb = b1 + (n, k), b2 + (k, m)
    else:
        sa = (k,) if kind[0] == "1" else (n, k)
        sb = (k,) if kind[2] == "1" else (k, m)
    a, b = draw(hnp.arrays(np.float64, sa, **ARR)), draw(hnp.arrays(np.float64, sb, **ARR))
    return (lambda x, y: x @ y), [leaf(a, "a"), leaf(b, "b")]


@st.composite
def case_reduce(draw, name):
    shape = draw(small_shapes)
    a = draw(distinct(shape)) if name in ("max", "min") else draw(hnp.arrays(np.float64, shape, **ARR))
    axis = draw(axis_for(len(shape)))
    keep = draw(st.booleans())
    return (lambda x: getattr(x, name)(axis=axis, keepdims=keep)), [leaf(a)]


@st.composite
def case_reshape(draw):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    new = draw(st.sampled_from([(-1,), shape[::-1], (1,) + shape, (a.size, 1)]))
    return (lambda x: x.reshape(*new)), [leaf(a)]


@st.composite
def case_transpose(draw):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    use_T = draw(st.booleans())
    return ((lambda x: x.T) if use_T else (lambda x: x.transpose(*perm))), [leaf(a)]


@st.composite
def case_broadcast_to(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    target = (draw(st.integers(1, 3)),) + tuple(draw(st.integers(1, 3)) if s == 1 else s
                                                for s in shape)
    return (lambda x: x.broadcast_to(target)), [leaf(a)]


@st.composite
def case_getitem(draw):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    index = draw(st.one_of(hnp.basic_indices(shape, allow_newaxis=True),
                           hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(
                               min_dims=1, max_dims=2, max_side=4))))
    return (lambda x: x[index]), [leaf(a)]


@st.composite
def case_index_add(draw):
    shape = draw(small_shapes)
    index = draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(
        min_dims=1, max_dims=2, max_side=4)))
    gshape = np.zeros(shape)[index].shape
    g = draw(hnp.arrays(np.float64, gshape, **ARR))
    return (lambda x: TN.scatter(x, shape, index)), [leaf(g)]


@st.composite
def case_join(draw, name):
    shape = draw(small_shapes)
    count = draw(st.integers(1, 3))
    if name == "concatenate":
        axis = draw(st.integers(0, len(shape) - 1))
        shapes = [shape[:axis] + (draw(st.integers(1, 3)),) + shape[axis + 1:]
                  for _ in range(count)]
        fn = lambda *xs: concatenate(xs, axis=axis)
    else:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        shapes = [shape] * count
        fn = lambda *xs: stack(xs, axis=axis)
    arrays = [draw(hnp.arrays(np.float64, s, **ARR)) for s in shapes]
    return fn, [leaf(a, f"x{i}") for i, a in enumerate(arrays)]


@st.composite
def case_softmax(draw, name):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    f = getattr(F, name)
    return (lambda x: f(x, axis=axis)), [leaf(a)]


@st.composite
def case_cross_entropy(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a = draw(hnp.arrays(np.float64, (n, c), **ARR))
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    if draw(st.booleans()) and n == 1:
        return (lambda x: F.cross_entropy(x, int(t[0]))), [leaf(a[0])]
    return (lambda x: F.cross_entropy(x, t)), [leaf(a)]


@st.composite
def case_bce(draw):
    shape = draw(small_shapes)
    p = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.05, 0.95)))
    # targets inside (0, 1) by more than a finite-difference step: outside
    # [0, 1] they are refused
    t = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.01, 0.9)))
    return (lambda x, y: F.binary_cross_entropy(x, y)), [leaf(p, "p"), leaf(t, "t")]


@st.composite
def _conv_setup(draw):
    """Small conv2d shapes and validated parameters (autograd.conv)."""
    from gradviz.autograd.conv import conv2d_params
    g = draw(st.integers(1, 2))
    x_shape = (draw(st.integers(1, 2)), g * draw(st.integers(1, 2)),
               draw(st.integers(3, 4)), draw(st.integers(3, 4)))
    w_shape = (g * draw(st.integers(1, 2)), x_shape[1] // g, draw(st.integers(1, 2)),
               draw(st.integers(1, 3)))
    try:
        p = conv2d_params(x_shape, w_shape, None, draw(st.integers(1, 2)),
                          draw(st.integers(0, 1)), draw(st.integers(1, 2)), g)
    except ValueError:   # the kernel does not fit
        assume(False)
    return x_shape, w_shape, p


@st.composite
def case_conv(draw, name):
    from gradviz.autograd import conv as C
    x_shape, w_shape, p = draw(_conv_setup())
    x = draw(hnp.arrays(np.float64, x_shape, **ARR))
    w = draw(hnp.arrays(np.float64, w_shape, **ARR))
    g_shape = C.conv2d_forward(x, w, None, **p).shape
    g = draw(hnp.arrays(np.float64, g_shape, **ARR))
    if name == "conv2d":
        if draw(st.booleans()):
            b = draw(hnp.arrays(np.float64, w_shape[:1], **ARR))
            return (lambda x, w, b: F.conv2d(x, w, b, p["stride"], (p["padding"][0],
                    p["padding"][2]), p["dilation"], p["groups"])), \
                [leaf(x, "x"), leaf(w, "w"), leaf(b, "b")]
        return (lambda x, w: C._tensor_conv(x, w, None, p)), [leaf(x, "x"), leaf(w, "w")]
    if name == "conv2d_input_grad":
        return (lambda g, w: C._tensor_input_grad(g, w, x_shape, p)), [leaf(g, "g"), leaf(w, "w")]
    return (lambda x, g: C._tensor_weight_grad(x, g, w_shape, p)), [leaf(x, "x"), leaf(g, "g")]


@st.composite
def case_pool(draw, name):
    from gradviz.autograd import conv as C
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 4)),
             draw(st.integers(2, 4)))
    k = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kw = {"kernel_size": k, "stride": (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
              "padding": (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2))),
              "ceil_mode": draw(st.booleans())}
    if name == "max_pool2d":
        return (lambda x: F.max_pool2d(x, **kw)), [leaf(draw(distinct(shape)))]
    x = draw(hnp.arrays(np.float64, shape, **ARR))
    kw["count_include_pad"] = draw(st.booleans())
    if name == "avg_pool2d":
        return (lambda x: F.avg_pool2d(x, **kw)), [leaf(x)]
    p = C.pool_params("avg_pool2d", shape, kw["kernel_size"], kw["stride"], kw["padding"], 1,
                      kw["ceil_mode"])
    del p["dilation"]
    p.update(count_include_pad=kw["count_include_pad"], divisor_override=None)
    g = draw(hnp.arrays(np.float64, C.avg_pool2d_forward(x, **p).shape, **ARR))
    return (lambda g: C._tensor_avg_grad(g, shape, p)), [leaf(g, "g")]


@st.composite
def case_moments(draw, name):
    shape = draw(small_shapes)
    # distinct values: std is not differentiable where all values are equal
    a = draw(distinct(shape)) if name == "std" else draw(hnp.arrays(np.float64, shape, **ARR))
    axis = draw(axis_for(len(shape)))
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([shape[i] for i in axes]))
    assume(n >= 2 or name == "var")
    ddof = draw(st.integers(0, min(1, n - 1)))
    keep = draw(st.booleans())
    return (lambda x: getattr(x, name)(axis=axis, keepdims=keep, ddof=ddof)), [leaf(a)]


@st.composite
def case_cumulative(draw, name):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return (lambda x: getattr(x, name)(axis)), [leaf(a)]


@st.composite
def case_shape_op(draw, name):
    shape = draw(small_shapes)
    a = draw(hnp.arrays(np.float64, shape, **ARR))
    nd = len(shape)
    if name == "squeeze":
        ones = tuple(i for i, s in enumerate(shape) if s == 1)
        axis = draw(st.one_of(st.none(), st.sampled_from([ones] + [(i,) for i in ones])))
        return (lambda x: x.squeeze(axis)), [leaf(a)]
    if name == "unsqueeze":
        axis = draw(st.integers(-nd - 1, nd))
        return (lambda x: x.unsqueeze(axis)), [leaf(a)]
    if name == "flatten":
        s0 = draw(st.integers(0, nd - 1))
        e0 = draw(st.integers(s0, nd - 1))
        return (lambda x: x.flatten(s0, e0)), [leaf(a)]
    if name == "flip":
        axis = draw(axis_for(nd))
        return (lambda x: x.flip(axis)), [leaf(a)]
    if name == "tile":
        reps = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=3)))
        return (lambda x: x.tile(reps)), [leaf(a)]
    if name == "repeat":
        axis = draw(st.one_of(st.none(), st.integers(0, nd - 1)))
        n = a.size if axis is None else shape[axis]
        reps = draw(st.one_of(st.integers(0, 2),
                              st.lists(st.integers(0, 2), min_size=n, max_size=n).map(np.array)))
        return (lambda x: x.repeat(reps, axis)), [leaf(a)]
    if name == "pad":
        pw = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
        value = draw(st.sampled_from([0.0, 1.5]))
        return (lambda x: x.pad(pw, value=value)), [leaf(a)]
    if name == "take_along_axis":
        axis = draw(st.integers(0, nd - 1))
        ishape = list(shape)
        ishape[axis] = draw(st.integers(1, 4))
        if draw(st.booleans()):  # torch's gather: index no larger than x outside axis
            ishape = [s if i == axis else draw(st.integers(1, s)) for i, s in enumerate(ishape)]
            idx = draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(0, shape[axis] - 1)))
            return (lambda x: x.gather(axis, idx)), [leaf(a)]
        idx = draw(hnp.arrays(np.int64, tuple(ishape),
                              elements=st.integers(-shape[axis], shape[axis] - 1)))
        return (lambda x: x.take_along_axis(idx, axis)), [leaf(a)]
    raise AssertionError(name)


EINSUM_SPECS = [("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(3, 3)]), ("ii", [(2, 2)]),
                ("ij->", [(2, 3)]), ("ij,ij", [(2, 3), (2, 3)]), ("i,j->ij", [(2,), (3,)]),
                ("...ij,jk->...ik", [(2, 2, 3), (3, 2)]), ("bii->b", [(2, 3, 3)]),
                ("ij,jk,kl->il", [(2, 2), (2, 3), (3, 2)]), ("iij->ji", [(2, 2, 3)]),
                ("ij,jk", [(2, 3), (3, 2)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)])]


@st.composite
def case_einsum(draw):
    spec, shapes = draw(st.sampled_from(EINSUM_SPECS))
    arrays = [draw(hnp.arrays(np.float64, sh, **ARR)) for sh in shapes]
    from gradviz.autograd import einsum
    return (lambda *xs: einsum(spec, *xs)), [leaf(x, f"x{i}") for i, x in enumerate(arrays)]


@st.composite
def case_bce_each(draw):
    shape = draw(small_shapes)
    p = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.05, 0.95)))
    t = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.05, 0.95)))
    return (lambda p, t: F.binary_cross_entropy(p, t, reduction="none")), [leaf(p, "p"), leaf(t, "t")]


STRUCTURAL_CASES = {
    "binary_cross_entropy_each": case_bce_each(),
    **{k: case_shape_op(k) for k in ("squeeze", "unsqueeze", "flatten", "flip", "tile", "repeat",
                                     "pad", "take_along_axis")},
    "einsum": case_einsum(),
    "min": case_reduce("min"), "prod": case_reduce("prod"),
    "logsumexp": case_reduce("logsumexp"),
    "var": case_moments("var"), "std": case_moments("std"),
    "cumsum": case_cumulative("cumsum"), "cumprod": case_cumulative("cumprod"),
    "matmul": case_matmul(),
    "sum": case_reduce("sum"), "mean": case_reduce("mean"), "max": case_reduce("max"),
    "reshape": case_reshape(), "transpose": case_transpose(),
    "broadcast_to": case_broadcast_to(),
    "getitem": case_getitem(), "index_add": case_index_add(),
    "concatenate": case_join("concatenate"), "stack": case_join("stack"),
    "softmax": case_softmax("softmax"), "log_softmax": case_softmax("log_softmax"),
    "cross_entropy": case_cross_entropy(), "binary_cross_entropy": case_bce(),
    "conv2d": case_conv("conv2d"), "conv2d_input_grad": case_conv("conv2d_input_grad"),
    "conv2d_weight_grad": case_conv("conv2d_weight_grad"),
    "max_pool2d": case_pool("max_pool2d"), "avg_pool2d": case_pool("avg_pool2d"),
    "avg_pool2d_grad": case_pool("avg_pool2d_grad"),
}
STRUCTURAL = [op for op in OPS.values() if op.deriv is None]
ST_IDS = [op.key for op in STRUCTURAL]
SMOOTH2 = list(STRUCTURAL)  # every structural op is twice differentiable on its cases


def test_every_op_in_the_table_has_a_tensor_test():
    # A new op registered without a Tensor case fails here, not silently.
    for op in OPS.values():
        if op.user:  # users' own rows (defined by other tests) bring their own checks
            continue
        assert op.deriv is not None or op.key in STRUCTURAL_CASES, op.key
        assert op.deriv is not None or op.vjp is not None, op.key


def _case(op, data):
    assert op.key in STRUCTURAL_CASES, f"no Tensor test case for table op {op.key!r}"
    return data.draw(STRUCTURAL_CASES[op.key], label="case")


def _built_by(fn, leaves, op):
    out = fn(*leaves)
    assert out._op.op is op, (out.op, op.key)
    return out


@pytest.mark.parametrize("op", STRUCTURAL, ids=ST_IDS)
@given(data=st.data())
def test_structural_first_order(op, data):
    fn, leaves = _case(op, data)
    assume(all(t.size for t in leaves))
    out = _built_by(fn, leaves, op)
    assume(out.size)
    assert gradcheck(fn, *leaves)


@pytest.mark.parametrize("op", SMOOTH2, ids=[o.key for o in SMOOTH2])
@second_order
@given(data=st.data())
def test_structural_second_order(op, data):
    fn, leaves = _case(op, data)
    assume(all(t.size for t in leaves))
    out = fn(*leaves)
    assume(out.size)
    u = Tensor(np.random.default_rng(1).standard_normal(out.shape))
    # Make the function non-linear first, so the second derivative is not
    # trivially zero: fn(x + 0.05 x³), strictly increasing (distinct values
    # stay distinct for max; probabilities in (0.05, 0.95) stay below 1).
    for i in range(len(leaves)):
        def first(*v, i=i):
            sq = [x + 0.05 * x * x * x for x in v]
            return grad(fn(*sq), v[i], grad_outputs=u, create_graph=True)
        assert gradcheck(first, *leaves, atol=1e-4, rtol=2e-3)


@pytest.mark.parametrize("op", STRUCTURAL, ids=ST_IDS)
@comparison
@given(data=st.data())
def test_fast_structural_backward_equals_table_rule(op, data):
    fn, leaves = _case(op, data)
    out = fn(*leaves)
    assume(out._op.op is op)
    g = data.draw(hnp.arrays(np.float64, out.shape, **ARR), label="g")
    fast = out._op.vjp(out, g)
    generic = out._op._structural_vjp(out, g)
    for f, r, t in zip(fast, generic, out.parents):
        assert f.shape == t.shape
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", STRUCTURAL, ids=ST_IDS)
@comparison
@given(data=st.data())
def test_structural_keeps_float32(op, data):
    fn, leaves = _case(op, data)
    leaves = [Tensor(t.data.astype(np.float32), requires_grad=True) for t in leaves]
    out = fn(*leaves)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for t in leaves:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape
    # forward agrees with float64
    out64 = fn(*[Tensor(t.data.astype(np.float64)) for t in leaves])
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-4, atol=1e-5)
