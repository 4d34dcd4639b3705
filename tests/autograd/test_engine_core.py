"""Engine core v2: modes on contextvars, the table as the one source, edge
semantics that both engines and both gradient paths share."""
import asyncio
import math
import threading

import numpy as np
import pytest

from gradviz import Tensor, Value
from gradviz.autograd import detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from gradviz.autograd import functional as F
from gradviz.autograd.kernel import _WITH_PARAMS, CACHE_LIMIT
from gradviz.autograd.ops import OPS, arity_of, elementwise_ops


# --- modes --------------------------------------------------------------------
def test_a_paused_generator_in_no_grad_does_not_leak_into_a_new_thread():
    def gen():
        with no_grad():
            yield

    g = gen()
    next(g)  # paused inside no_grad, never finished
    seen = []
    th = threading.Thread(target=lambda: seen.append((is_grad_enabled(),
                                                      bool((Value(1.0) * 2).parents))))
    th.start()
    th.join()
    assert seen == [(True, True)]
    g.close()
    assert is_grad_enabled()


def test_no_grad_is_per_asyncio_task():
    async def inside():
        with no_grad():
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return is_grad_enabled()

    async def outside():
        await asyncio.sleep(0)
        return is_grad_enabled()

    async def main():
        return await asyncio.gather(inside(), outside())

    assert asyncio.run(main()) == [False, True]


def test_no_grad_and_enable_grad_nest_and_decorate():
    @no_grad()
    def f(x):
        return x * 2

    x = Value(1.0)
    assert f(x).parents == ()
    with no_grad():
        with enable_grad():
            assert (x * 2).parents == (x,)
        assert (x * 2).parents == ()
    assert (x * 2).parents == (x,)


# --- the table is the one source -------------------------------------------
@pytest.mark.parametrize("cls", [Value, Tensor])
def test_every_spelled_row_is_a_method_and_every_method_a_row(cls):
    spelled = {op.method for op in OPS.values() if op.method and not op.user}
    for name in spelled:
        assert callable(getattr(cls, name)), f"{cls.__name__}.{name} missing"
        doc = getattr(cls, name).__doc__ or ""
        assert "local derivative" in doc or name == "swish"
    elementwise_methods = {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin",
                           "cos", "erf", "gelu", "silu", "softplus", "leaky_relu",
                           "elu", "swish", "neg", "abs"}
    assert elementwise_methods <= spelled


def test_method_defaults_come_from_the_row():
    import inspect
    for cls in (Value, Tensor):
        sig = inspect.signature(cls.leaky_relu)
        assert sig.parameters["alpha"].default == OPS["leaky_relu"].defaults["alpha"]
        assert inspect.signature(cls.elu).parameters["alpha"].default == 1.0


def test_python_constants_live_inside_the_op():
    x = Value(2.0)
    y = x * 3 + 1
    assert y.parents[0].parents == (x,) and y.op == "+" and y.parents[0].op == "*"
    assert y.parents[0].op_info.params == {"c": 3.0}
    y.backward()
    assert x.grad == 3.0


def test_kernel_caches_are_bounded():
    x = Tensor(np.ones(2), requires_grad=True)
    for i in range(CACHE_LIMIT + 500):
        x.leaky_relu(0.001 + i * 1e-6)
    assert len(_WITH_PARAMS) <= CACHE_LIMIT
    v = Value(1.0)
    from gradviz.autograd.value import _MULC
    for i in range(CACHE_LIMIT + 500):
        v * (1.0 + i * 1e-9)
        v * math.nan
    assert len(_MULC.cache) <= CACHE_LIMIT


# --- nan, edge points, both engines and both gradient paths -----------------
def _args(op, x):
    return [x] * arity_of(op)


def _params(op):
    return {k: v[0] for k, v in op.params.items()}


BUILTIN_EW = [op for op in elementwise_ops() if not op.user]


@pytest.mark.parametrize("op", BUILTIN_EW, ids=[o.key for o in BUILTIN_EW])
def test_value_and_tensor_agree_on_nan(op):
    v = op(*[Value(math.nan) for _ in range(arity_of(op))], **_params(op))
    t = op(*[Tensor(np.array([math.nan]), requires_grad=True) for _ in range(arity_of(op))],
           **_params(op))
    assert math.isnan(v.data) == bool(np.isnan(t.data[0])), op.key
    gv = grad(v, list(v.parents)) if v.parents else ()
    gt = grad(t.sum(), list(t.parents)) if t.parents else ()
    for a, b in zip(gv, gt):
        assert math.isnan(a.data) == bool(np.isnan(b.data[0])), op.key


EDGE = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf]


@pytest.mark.parametrize("op", BUILTIN_EW, ids=[o.key for o in BUILTIN_EW])
@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_create_graph_gives_the_same_first_order_gradient(op, engine):
    """At 0, ±1, ±inf (kinks included): d/dx with create_graph=True equals d/dx without."""
    import itertools
    n = arity_of(op)
    for pt in itertools.product(EDGE, repeat=min(n, 2)):
        pt = list(pt) + [1.0] * (n - len(pt))
        if engine == "value":
            xs = [Value(p) for p in pt]
        else:
            xs = [Tensor(np.array([p]), requires_grad=True) for p in pt]
        with np.errstate(all="ignore"):
            out = op(*xs, **_params(op))
            if engine == "tensor":
                out = out.sum()
            plain = grad(out, xs)
            graph = grad(out, xs, create_graph=True)
        for i, (a, b) in enumerate(zip(plain, graph)):
            a, b = float(np.asarray(a.data).ravel()[0]), float(np.asarray(b.data).ravel()[0])
            assert (math.isnan(a) and math.isnan(b)) or a == b, (op.key, pt, i, a, b)


def test_elu_gradient_keeps_precision_for_large_negative_inputs():
    for x in (-30.0, -40.0, -700.0):
        v = Value(x)
        v.elu().backward()
        assert v.grad == pytest.approx(math.exp(x), rel=1e-12, abs=0.0)
        t = Tensor(np.array([x]), requires_grad=True)
        t.elu().sum().backward()
        assert t.grad[0] == pytest.approx(math.exp(x), rel=1e-12, abs=0.0)


# --- integer tensors promote, never truncate ----------------------------------
def test_integer_tensors_promote_for_real_valued_ops():
    i = Tensor(np.array([0, 1, 2, 3]), dtype=np.int64)
    assert i.dtype == np.int64
    s = i.sigmoid()
    assert s.dtype == np.float32 and s.data[1] == pytest.approx(1 / (1 + math.exp(-1)))
    assert (i / 2).dtype == np.float32 and (i / 2).data[3] == 1.5
    assert i.log().data[0] == -np.inf and i.sqrt().data[2] == pytest.approx(math.sqrt(2))
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64 and i.relu().dtype == np.int64
    ce = F.cross_entropy(Tensor(np.array([[1, 2, 3]]), dtype=np.int64), [2])
    assert ce.data == pytest.approx(0.40760596, rel=1e-6)


# --- PyTorch's 0-d semantics and numpy's error classes --------------------------
def test_zero_d_tensors_reduce_and_softmax_like_pytorch():
    s = Tensor(np.array(1.5), requires_grad=True)
    assert F.softmax(s).data == 1.0 and F.log_softmax(s).data == 0.0
    assert s.sum(axis=0).data == 1.5 and s.mean(axis=-1).data == 1.5 and s.max(axis=0).data == 1.5
    s.sum(axis=0).backward()
    assert s.grad == 1.0
    with pytest.raises(np.exceptions.AxisError):
        s.sum(axis=1)


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=3), lambda t: t.mean(axis=-4), lambda t: t.transpose(0, 5, 1),
    lambda t: t.swapaxes(0, 7), lambda t: F.softmax(t, axis=2)])
def test_axis_out_of_range_is_numpys_axis_error(call):
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError) as err:
        call(t)
    assert isinstance(err.value, ValueError) and isinstance(err.value, IndexError)


def test_small_bad_inputs_get_clear_errors():
    Value(2.0).backward(grad=Value(3.0))  # a Value seed is accepted
    with pytest.raises(TypeError, match=r"grad: outputs must be a Value or a Tensor, got float"):
        grad(1.0, Value(1.0))
    with pytest.raises(TypeError, match=r"grad: inputs must be a Value or a Tensor, got int"):
        grad(Value(1.0) * 2, 3)
    with pytest.raises(TypeError):
        Value(1.0) < "x"  # noqa: B015 (the comparison is what must raise)
    assert Tensor(np.array(1.0)).swapaxes(0, 0).data == 1.0
    with pytest.raises(ValueError, match=r"cross_entropy: logits of shape \(3,\) \(one sample\) take one target"):
        F.cross_entropy(Tensor(np.ones(3)), [0, 1])
    with pytest.raises(ValueError, match=r"matmul.*0-d operands"):
        Tensor(np.array(2.0)) @ Tensor(np.ones(2))


def test_abs_and_neg_methods():
    t = Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    np.testing.assert_array_equal(t.abs().data, [2.0, 3.0])
    np.testing.assert_array_equal(t.neg().data, [2.0, -3.0])
    assert Value(-2.0).abs().data == 2.0 and Value(2.0).neg().data == -2.0


def test_anomaly_mode_still_names_the_op_and_line():
    with detect_anomaly():
        x = Value(0.0)
        with pytest.raises(Exception, match="log"):
            x.log() * 0  # -inf from log(0): caught in the forward pass


# --- a row's direct forwards compute what its generic forward computes ---------
DIRECT = [op for op in OPS.values() if "float_forward" in op.fast or "array_forward" in op.fast]
POINTS = [0.0, -0.0, 0.5, -0.5, 3.0, -3.0, 30.0, -30.0, 800.0, -800.0, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("op", DIRECT, ids=[o.key for o in DIRECT])
def test_direct_forwards_equal_the_generic_forward(op):
    from gradviz.autograd.ops import ArrayMath, FloatMath
    assert DIRECT, "no row declares a direct forward"
    for x in POINTS:
        if "float_forward" in op.fast:
            a, b = op.fast["float_forward"](x), op.forward(FloatMath, x)
            assert (math.isnan(a) and math.isnan(b)) or a == b, (op.key, x)
    arr = np.array(POINTS, dtype=np.float64)
    for dt in (np.float32, np.float64):
        with np.errstate(all="ignore"):
            a = op.fast["array_forward"](arr.astype(dt))
            b = op.forward(ArrayMath, arr.astype(dt))
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype == dt


# --- the fast pass ------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _dags(draw):
    """A random scalar DAG: leaves, then ops whose operands are any earlier
    node (so nodes are reused, diamonds and multi-use leaves appear)."""
    n_leaves = draw(st.integers(1, 4))
    vals = draw(st.lists(st.floats(-2, 2), min_size=n_leaves, max_size=n_leaves))
    plan = draw(st.lists(st.tuples(st.sampled_from(["+", "*", "tanh", "-", "c*"]),
                                   st.integers(0, 10 ** 6), st.integers(0, 10 ** 6)),
                         min_size=1, max_size=25))
    return vals, plan


def _build(vals, plan):
    leaves = [Value(v) for v in vals]
    nodes = list(leaves)
    for op, i, j in plan:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append({"+": lambda: a + b, "*": lambda: a * b, "tanh": lambda: a.tanh(),  # noqa: B023
                      "-": lambda: a - b, "c*": lambda: 0.5 * a}[op]())  # noqa: B023 (called at once)
    return leaves, nodes[-1]


@given(_dags())
def test_the_fast_pass_agrees_with_the_stepping_walk(dag):
    """backward() (the in-place pass with its use counts in the nodes) and
    backward_steps() give the same leaf gradients on any DAG, to the last bit
    (they take the nodes in the same order, so they sum in the same order),
    and a second backward() on the same graph adds the same amount again."""
    leaves1, out1 = _build(*dag)
    leaves2, out2 = _build(*dag)
    out1.backward()
    first = [v.grad for v in leaves1]
    steps = list(out2.backward_steps())
    assert [v.grad for v in leaves2] == first
    assert len(steps) == len({id(s.node) for s in steps})  # each node once
    out1.backward()
    assert [v.grad for v in leaves1] == pytest.approx([2 * g for g in first], rel=1e-9,
                                                      abs=1e-12)


@given(_dags(), st.lists(st.integers(0, 10 ** 6), min_size=2, max_size=4))
def test_the_fast_pass_from_several_roots_agrees_with_the_walk(dag, picks):
    """Several roots, one reaching another (or the same root twice): each
    is expanded once, and the leaves get what the walk gives them."""
    from gradviz.autograd import graph

    def build():
        leaves = [Value(v) for v in dag[0]]
        nodes = list(leaves)
        for op, i, j in dag[1]:  # _build's graph, every node kept
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            nodes.append({"+": a + b, "*": a * b, "tanh": a.tanh(), "-": a - b,
                          "c*": 0.5 * a}[op])
        return leaves, [nodes[k % len(nodes)] for k in picks], nodes
    leaves1, roots1, nodes1 = build()
    leaves2, roots2, _ = build()
    seeds = [0.5 + k for k in range(len(picks))]
    graph.backward(roots1, seeds)
    steps = list(graph.walk(roots2, seeds))
    assert len(steps) == len({id(s.node) for s in steps})  # each node once
    assert [v.grad for v in leaves1] == pytest.approx([v.grad for v in leaves2], rel=1e-12,
                                                      abs=1e-12)
    assert all(getattr(n, "_pending", 0) == 0 for n in nodes1)  # every count back at 0


def test_backward_equals_grad_to_the_last_bit_where_the_walks_once_parted():
    # A node used by both operands of a product, once through a neg and once through
    # a wsum: the fast pass took the neg first, the walk the wsum, and the sums came
    # out 1 ulp apart (found by a thorough-profile run of test_backward_equals_grad).
    from gradviz.autograd.value import wsum
    x0 = Value(1.0, label="x0")
    v1 = x0.tanh()
    out = -v1 * wsum([v1, v1], [v1, v1], v1)
    (g,) = grad(out, [x0])
    out.backward()
    assert x0.grad == g.data == -2.1012753724485727


def test_a_failed_pass_leaves_the_graph_ready_for_the_next():
    """A rule that raises mid-pass (a user's op) must not leave half-counted
    nodes: once it is fixed, backward() on the same graph is right."""
    from gradviz.autograd import define_op
    broken = {"on": False}

    def deriv(M, o, a):
        if broken["on"]:
            raise RuntimeError("rule broke")
        return (M.cos(a),)
    op = define_op("flaky_sin_core", forward=lambda M, a: M.sin(a), deriv=deriv,
                   rule="d/da = cos a")
    x, w = Value(0.3), Value(1.5)
    h = x * w
    y = op(h) * h + h  # h is used three times
    broken["on"] = True
    with pytest.raises(RuntimeError, match="rule broke"):
        y.backward()
    broken["on"] = False
    x.grad = w.grad = 0.0
    y.backward()
    x2, w2 = Value(0.3), Value(1.5)
    h2 = x2 * w2
    (h2.sin() * h2 + h2).backward()
    assert (x.grad, w.grad) == pytest.approx((x2.grad, w2.grad), rel=1e-14)


def test_a_pass_started_inside_another_keeps_its_own_leaf_counts():
    """Two passes in flight at once (here one started from inside the other's
    rule; threads do the same) over graphs that share a parameter: each
    counts the shared leaf's uses on its own, so neither loses the other's
    gradient and both hand the leaf its full total."""
    from gradviz.autograd import Function
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    other = (w * 3.0 * w).sum()  # d/dw = 6w

    class Reenter(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            other.backward()  # a second pass over a graph sharing w, mid-pass
            return g

    y = (Reenter.apply(w * w) * w).sum()  # d/dw = 3w²
    y.backward()
    np.testing.assert_allclose(w.grad, 3 * w.data ** 2 + 6 * w.data)


def test_the_walker_is_specialised_when_the_package_is_imported():
    """CPython 3.11 specialises a function's bytecode only after a few calls,
    and a pass is one call: importing the engine runs the passes on tiny
    graphs so that a user's first backward() (often the only one, on the
    biggest graph) is not run unspecialised. Checked in a fresh process."""
    import subprocess
    import sys
    code = (
        "import dis, io, sys\n"
        "import gradviz.autograd.graph as g\n"
        "out = []\n"
        "for f in (g._discover, g._in_place_pass, g._owning_pass):\n"
        "    s = io.StringIO(); dis.dis(f, adaptive=True, file=s)\n"
        "    out.append(sum('_SLOT' in ln for ln in s.getvalue().splitlines()))\n"
        "calls = []\n"
        "g.warm_up(lambda: calls.append(1) or __import__('gradviz').Value(1.0))\n"
        "print(out, len(calls))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    counts, calls = res.stdout.rsplit(" ", 1)
    if sys.version_info < (3, 12):
        assert all(n >= 3 for n in eval(counts)), res.stdout  # slot loads/stores specialised
        assert int(calls) == 8
    else:  # specialised from the start: nothing to warm
        assert int(calls) == 0


def test_a_paused_stepping_walk_and_a_backward_over_the_same_graph():
    """backward_steps() may be paused halfway while backward() runs over the
    same graph: each keeps its own counts, so both finish with their full
    gradient (the leaves get the sum of the two passes)."""
    def build():
        x, w = Value(0.3), Value(-1.2)
        h = x * w
        return x, w, (h.tanh() * h + h.exp()) * x
    x1, w1, y1 = build()
    y1.backward()
    x, w, y = build()
    steps = y.backward_steps()
    next(steps)
    next(steps)
    y.backward()
    rest = list(steps)
    assert rest and (x.grad, w.grad) == pytest.approx((2 * x1.grad, 2 * w1.grad), rel=1e-12)
