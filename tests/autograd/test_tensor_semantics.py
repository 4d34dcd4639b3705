"""Tensor semantics: dtypes, graph recording, gradient buffers, the walker's
modes (steps, grad, create_graph, anomaly), bad input, and random Tensor
graphs from autograd.testing."""
import numpy as np
import pytest
from hypothesis import given

import gradviz.autograd.functional as F
from gradviz import autograd
from gradviz.autograd import (
    AnomalyError,
    GradcheckError,
    Tensor,
    concatenate,
    detect_anomaly,
    grad,
    gradcheck,
    no_grad,
    stack,
)
from gradviz.autograd.testing import expressions, tensors


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    (np.zeros(3, np.float64), np.float64), (np.zeros(3, np.float32), np.float32),
    (np.zeros(3, np.float16), np.float16), ([1, 2, 3], np.float32), (3, np.float32),
    (2.5, np.float32), (np.arange(3), np.float32), ([True, False], np.float32),
])
def test_dtype_rules(data, dtype):
    assert Tensor(data).dtype == dtype


def test_dtype_argument_and_sharing():
    a = np.ones(3, np.float32)
    assert Tensor(a, dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64
    t = Tensor(a)
    assert t.data is a  # floating arrays are not copied


def test_float32_stays_float32_with_python_and_numpy_scalars():
    x = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x + np.float64(1.5), np.float64(3.0) - x, x / np.array(2.0),
              x ** 2, 2.0 ** x, -x, abs(x), x.tanh(), x @ x, x.sum(), x.mean(axis=0),
              F.softmax(x), F.cross_entropy(x, [0, 1])):
        assert y.dtype == np.float32, y
    (x * np.float64(2.0)).sum().backward()
    assert x.grad.dtype == np.float32


def test_zero_dimensional_results_hold_ndarrays():
    a = Tensor(np.array(2.0), requires_grad=True)
    b = Tensor(np.array(3.0))
    for y in (a * b, a + b, a - b, a / b, a ** 2, -a, a.tanh(), a.exp(), a.sum(), b * b, a[()]):
        assert type(y.data) is np.ndarray and y.shape == (), y
    (a * b).tanh().backward()
    assert type(a.grad) is np.ndarray and a.grad.shape == ()


def test_mixed_dtypes_promote_and_grads_keep_each_leafs_dtype():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(3, np.float64), requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_ndarray_on_the_left_dispatches_to_tensor():
    x = Tensor(np.ones(3), requires_grad=True)
    for y in (np.ones(3) + x, np.ones(3) * x, np.ones(3) - x, np.ones(3) / x,
              np.ones((2, 3)) @ x):
        assert isinstance(y, Tensor) and y.requires_grad
    assert np.asarray(x) is x.data
    c = np.array(x, copy=True)
    assert c is not x.data and np.array_equal(c, x.data)


# ---------------------------------------------------------------------------
# recording
# ---------------------------------------------------------------------------
def test_no_graph_without_requires_grad_or_under_no_grad():
    a = Tensor(np.ones(2))
    assert (a * 2 + a).parents == () and not (a * 2).requires_grad
    b = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = (b * 2).sum()
    assert y.parents == () and not y.requires_grad
    z = b * a
    assert z.requires_grad and z.parents == (b, a) and z.op == "*"


def test_requires_grad_false_leaves_get_no_grad():
    x = Tensor(np.ones((4, 3)))
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    (x @ w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 2)


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_detach_and_zero_grad():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 3).detach()
    assert y.parents == () and not y.requires_grad and np.array_equal(y.data, [3, 3])
    (x * x).sum().backward()
    x.zero_grad()
    assert x.grad is None


# ---------------------------------------------------------------------------
# gradient buffers
# ---------------------------------------------------------------------------
def test_leaf_grads_accumulate_and_intermediates_hold_the_latest_pass():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * x
    y = h.sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])


def test_shared_gradient_arrays_never_alias_two_leaves():
    # + hands the same g to both operands; each leaf must own its own buffer
    a = Tensor(np.zeros(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    y = a + b
    y.backward(np.ones(3))
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, y.grad)
    (a * 1.0).backward(np.ones(3))  # accumulates into a only
    np.testing.assert_array_equal(a.grad, [2, 2, 2])
    np.testing.assert_array_equal(b.grad, [1, 1, 1])
    np.testing.assert_array_equal(y.grad, [1, 1, 1])


@pytest.mark.parametrize("shape", [(2, 3), (100, 50)])
def test_broadcast_gradients_become_owned_writable_arrays(shape):
    # sum's backward broadcasts g: a fresh array when small, a read-only view when big
    x = Tensor(np.ones(shape), requires_grad=True)
    x.sum().backward()
    assert x.grad.flags.writeable and x.grad.base is None
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(shape, 2.0))


def test_user_seed_is_not_taken_over():
    x = Tensor(np.ones(3), requires_grad=True)
    seed = np.ones(3)
    x.backward(seed)
    x.grad += 1
    np.testing.assert_array_equal(seed, np.ones(3))


def test_repeated_indices_accumulate():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([0, 0, 3, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 0, 1])


# ---------------------------------------------------------------------------
# the walker: steps, grad, create_graph, anomaly
# ---------------------------------------------------------------------------
def test_backward_steps_leave_the_same_grads_and_show_contributions():
    def build():
        x = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
        w = Tensor(np.array([0.3, -0.7]), requires_grad=True)
        return x, w, F.log_softmax((x * w).tanh() @ x, axis=0).sum()
    x1, w1, y1 = build()
    y1.backward()
    x2, w2, y2 = build()
    steps = list(y2.backward_steps())
    np.testing.assert_allclose(x2.grad, x1.grad, rtol=1e-12)
    np.testing.assert_allclose(w2.grad, w1.grad, rtol=1e-12)
    mul = next(s for s in steps if s.node.op == "*")
    (px, dx, _cx), (_pw, dw, cw) = mul.contributions
    assert px is mul.node.parents[0] and isinstance(dx, np.ndarray)
    np.testing.assert_allclose(cw, (mul.grad * dw).sum(axis=0))  # reduced to w's shape


def test_backward_needs_grad_for_non_scalars_and_checks_its_shape():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"one-element.*\(3,\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(np.ones(2))
    with pytest.raises(ValueError, match="one-element"):
        list((x * 2).backward_steps())
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()
    (x.sum() * 1).backward()  # one element: fine
    Tensor([[2.0]], requires_grad=True).backward()


def test_grad_does_not_touch_grad_and_gives_zeros_for_unused_inputs():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = Tensor(np.ones(2), requires_grad=True)
    gx, gz = grad((x * x).sum(), [x, z])
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    np.testing.assert_array_equal(gz.data, [0.0, 0.0])
    assert x.grad is None


def test_hessian_vector_product_of_matmul_and_reductions():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    f = lambda x: (x @ Tensor(A) @ x) + (x * x * x).sum() + F.log_softmax(x, 0).max()
    g = grad(f(x), x, create_graph=True)
    hv = grad(g, x, grad_outputs=Tensor(v))
    # central differences of the gradient along v
    eps = 1e-6

    def gradient(at):
        t = Tensor(at, requires_grad=True)
        return grad(f(t), t).data
    fd = (gradient(x.data + eps * v) - gradient(x.data - eps * v)) / (2 * eps)
    assert hv.shape == (3,)
    np.testing.assert_allclose(hv.data, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # log(0) on purpose
def test_anomaly_names_op_and_user_line():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"'log'.*test_tensor_semantics\.py:\d+"):
            x.log()
    y = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        out = y.sqrt().sum()  # finite forward, infinite gradient at 0
        with pytest.raises(AnomalyError, match="sqrt.*backward"):
            out.backward()


def test_gradcheck_catches_a_wrong_tensor_gradient_and_checks_big_inputs_by_directions():
    from gradviz.autograd import define_op
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    big = Tensor(np.linspace(-1, 1, 400).reshape(20, 20), requires_grad=True)
    assert gradcheck(lambda t: (t @ t.T).tanh().sum(axis=0), big)
    wrong_sin = define_op("wrong_sin", forward=lambda M, a: M.sin(a),
                          deriv=lambda M, o, a: (M.cos(a) * 1.01,))  # 1% off on purpose
    with pytest.raises(GradcheckError, match=r"element \(\d, \d\)"):
        gradcheck(wrong_sin, x)
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(wrong_sin, big)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["abc", ["a", "b"], [object()], [[1, 2], [3]], {"a": 1}, None])
def test_non_numeric_data_is_a_type_error_naming_tensor(data):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(data)


@pytest.mark.parametrize("make_bad, pattern", [
    (lambda a, b: a + b, r"\+.*\(2, 3\).*\(4,\)"),
    (lambda a, b: a * b, r"\*.*\(2, 3\).*\(4,\)"),
    (lambda a, b: a / b, r"/.*\(2, 3\).*\(4,\)"),
    (lambda a, b: a @ b, r"matmul.*\(2, 3\).*\(4,\)"),
    (lambda a, b: a.reshape(5, 2), r"reshape.*\(2, 3\).*\(5, 2\)"),
    (lambda a, b: concatenate([a, b.reshape(1, 4)], axis=0), r"concatenate.*\(2, 3\).*\(1, 4\)"),
    (lambda a, b: stack([a, a.T]), r"stack.*\(2, 3\).*\(3, 2\)"),
    (lambda a, b: a.sum(axis=2), r"sum.*axis 2"),
    (lambda a, b: a.transpose(0, 0), r"transpose.*permutation"),
])
def test_shape_errors_name_the_op_and_shapes_before_recording(make_bad, pattern):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    with pytest.raises(ValueError, match=pattern):
        make_bad(a, b)


@pytest.mark.parametrize("idx, pattern", [
    (5, r"Tensor\[5\]: index 5 is out of bounds for axis 0 with size 2 \(the tensor has shape \(2, 3\)\)"),
    ((slice(0, 2), 7), r"Tensor\[0:2, 7\]: index 7 is out of bounds for axis 1"),
    (np.array([0, 4]), r"Tensor\[array of shape \(2,\)\]: index 4"),
    ((slice(None), slice(1, None, 2), 0), r"Tensor\[:, 1::2, 0\]: too many indices"),
])
def test_an_index_out_of_range_names_the_index_and_the_shape(idx, pattern):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match=pattern):
        a[idx]


def test_truth_value_only_for_one_element():
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_operands_of_the_wrong_kind():
    x = Tensor(np.ones(2))
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        x * object()
    with pytest.raises(TypeError, match="leaky_relu"):
        x.leaky_relu("0.1")


# ---------------------------------------------------------------------------
# random Tensor graphs (autograd.testing)
# ---------------------------------------------------------------------------
@given(expressions(tensors=True))
def test_random_tensor_graphs_gradcheck(expr):
    assert gradcheck(expr.fn, *expr.leaves, atol=1e-4, rtol=2e-3)


@given(expressions(tensors=True, max_ops=4))
def test_random_tensor_graphs_backward_equals_grad(expr):
    out = expr.output
    seed = np.random.default_rng(0).standard_normal(out.shape)
    g = grad(out, expr.leaves, grad_outputs=Tensor(seed))
    out.backward(seed)
    for leaf, gl in zip(expr.leaves, g):
        np.testing.assert_allclose(leaf.grad if leaf.grad is not None else 0.0, gl.data,
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.slow
@given(expressions(tensors=True, max_ops=3, max_leaves=2))
def test_random_tensor_graphs_second_order(expr):
    out = expr.output
    u = Tensor(np.random.default_rng(1).standard_normal(out.shape))
    first = lambda *v: grad(expr.fn(*v), v[0], grad_outputs=u, create_graph=True)
    assert gradcheck(first, *expr.leaves, atol=1e-3, rtol=5e-3)


@given(tensors(), tensors(shape=(3,), dtype=np.float32))
def test_tensors_strategy(t, t32):
    assert t.requires_grad and t.dtype == np.float64 and np.all(np.abs(t.data) <= 3)
    assert t32.dtype == np.float32 and t32.shape == (3,)


def test_public_names():
    for name in ("Tensor", "concatenate", "stack", "functional"):
        assert hasattr(autograd, name)


def test_tensor_equality_with_an_array_is_an_error_not_a_silent_false():
    # the accuracy line np.mean(pred == y) gave 0.0 (== was identity, one False)
    pred = Tensor(np.array([[0.1, 0.9], [0.8, 0.2]])).argmax(1)
    y = np.array([1, 0])
    for compare in (lambda: pred == y, lambda: y == pred, lambda: pred == 1,
                    lambda: pred != y):
        with pytest.raises(TypeError, match=r"compares nodes by identity .* t\.(eq|ne)\(other\)"):
            compare()
    assert np.mean(pred.eq(y).data) == 1.0
    other = Tensor([1.0])
    assert pred == pred and pred != other and not (pred == other)
    assert pred in {pred: 1} and pred in [None, pred] and pred != None  # noqa: E711


def test_an_in_place_update_of_a_parameter_updates_it_under_no_grad_and_is_refused_outside():
    from gradviz import nn
    from gradviz.autograd import no_grad
    lin = nn.Linear(2, 1, seed=0)
    w0 = lin.weight.data.copy()
    lin(Tensor(np.ones((1, 2)))).sum().backward()
    with no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad          # rebound the loop variable before: the model kept w0
    np.testing.assert_allclose(lin.weight.data, w0 - 0.1 * lin.weight.grad, rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"Tensor -=: a leaf that requires grad .*no_grad"):
        for p in lin.parameters():
            p -= 0.1 * p.grad
    # building a graph with += still makes new nodes
    x = Tensor([1.0, 2.0], requires_grad=True)
    acc = Tensor([0.0, 0.0])
    before = acc
    acc += x * 2.0
    acc.sum().backward()
    assert acc is not before and np.all(before.data == 0.0) and np.all(x.grad == 2.0)
    with no_grad(), pytest.raises(ValueError, match=r"Tensor \+= in place: .*shape \(2,\)"):
        acc += np.ones((3, 2))


# --- found by a PyTorch porter: data changed in place under a recorded graph ------
def test_backward_refuses_a_graph_whose_data_changed_in_place_after_it_was_built():
    from gradviz.autograd import GraphChangedError, grad, no_grad
    w = Tensor(np.ones(3), requires_grad=True, label="w")
    y = (w * w).sum()
    with no_grad():
        w *= 3.0  # y's rule for * would read 3, not 1: the gradient 6 instead of 2
    with pytest.raises(GraphChangedError, match=r"op '\*': its input 0, 'w', was changed in "
                                                r"place after the op was recorded"):
        y.backward()
    with pytest.raises(GraphChangedError):
        grad(y, w)  # the stepping walk too
    y2 = (w * w).sum()  # a graph built after the change is fine
    y2.backward()
    assert w.grad.tolist() == [6.0, 6.0, 6.0]
    a = Tensor(np.ones(2), requires_grad=True)
    b = a.exp()
    with no_grad():
        b += 100.0  # exp's rule reads its own output
    with pytest.raises(GraphChangedError, match="op 'exp': its output"):
        b.backward(np.ones(2))


def test_an_optimisers_step_makes_the_old_graph_stale():
    from gradviz import nn
    from gradviz.autograd import GraphChangedError
    layer = nn.Linear(3, 2, dtype=np.float64, seed=0)
    opt = nn.optim.SGD(layer.parameters(), lr=0.1)
    loss = (layer(Tensor(np.ones((4, 3)))) ** 2).sum()
    loss.backward()
    opt.step()
    with pytest.raises(GraphChangedError):
        loss.backward()
    opt.zero_grad()
    (layer(Tensor(np.ones((4, 3)))) ** 2).sum().backward()  # the next step's graph: fine


def test_messages_for_torch_habits_say_what_to_write():
    from gradviz import autograd, nn
    with pytest.raises(ValueError, match=r"use swapaxes\(0, 1\)"):
        Tensor(np.ones((2, 3, 4))).transpose(0, 1)
    with pytest.raises(TypeError, match="non-integer values such as 1.5"):
        nn.CrossEntropyLoss()(Tensor(np.zeros((3, 4))), np.array([1.5, 2.0, 0.0]))
    spb = autograd.define_op("spb_hint", forward=lambda M, a, beta: M.softplus(a * beta) / beta,
                             deriv=lambda M, o, a, beta: (M.sigmoid(a * beta),),
                             params={"beta": 1.0})
    with pytest.raises(TypeError, match=r"its constants are keywords: spb_hint\(\.\.\., beta=1.0\)"):
        spb(Tensor(np.ones(2)), 3.0)
