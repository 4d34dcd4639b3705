"""Module-call scope records (viz.scope) and pass-through modules (issue 13 item 11):
no reference cycles (graphs freed by reference counting alone, the cycle collector off),
no growth for an input or parameter that many calls return."""
import gc
import weakref

import numpy as np
import pytest

from gradviz import Tensor, Value, nn, viz
from gradviz.autograd.graph import topological_order
from gradviz.viz import scope


class PassThrough(nn.Module):
    def forward(self, x):
        return x


class ReturnsInputAndNew(nn.Module):
    def forward(self, x):
        return (x, x * 2.0)


class ReturnsKwarg(nn.Module):
    def forward(self, x, *, skip):
        return [x + 1.0, skip]


class ReturnsFirst(nn.Module):
    def forward(self, xs):
        return xs[0]


class ReturnsParam(nn.Module):
    def __init__(self):
        self.w = Tensor(np.ones(3), requires_grad=True)

    def forward(self, x):
        return self.w


class SubCallAndInput(nn.Module):
    """A list of a sub-call's output and the input (an input made by an
    earlier call, so it already carries a record)."""
    def __init__(self):
        self.act = nn.Tanh()

    def forward(self, x):
        return [self.act(x), x]


def _tensor():
    return Tensor(np.arange(3.0), requires_grad=True)


def _values():
    return [Value(1.0, label="a"), Value(-2.0, label="b")]


def _seq_identity(x):   # the reported case: nn.Identity inside a model
    return nn.Sequential(nn.Identity(), nn.Tanh(), nn.Identity())(x)


# (model, input maker, how to call, a node of the result to keep a weak reference to)
CASES = {
    "nn.Identity tensor": (nn.Identity, _tensor, lambda m, x: m(x)),
    "nn.Identity values": (nn.Identity, _values, lambda m, x: m(x)),
    "pass-through module": (PassThrough, _tensor, lambda m, x: m(x)),
    "input and a new node": (ReturnsInputAndNew, _tensor, lambda m, x: m(x)),
    "kwarg returned": (ReturnsKwarg, _tensor, lambda m, x: m(x, skip=x)),
    "item of its list input": (ReturnsFirst, _values, lambda m, x: m(x)),
    "item of an MLP's output": (lambda: ReturnsFirst(), lambda: nn.MLP(2, [2], seed=0)(_values()),
                                lambda m, x: m(x)),
    "Sequential with Identity": (lambda: None, _tensor, lambda m, x: _seq_identity(x)),
    "returns its parameter": (ReturnsParam, _tensor, lambda m, x: m(x)),
    "a sub-call's output and its input": (SubCallAndInput, lambda: nn.Tanh()(_tensor()),
                                          lambda m, x: m(x)),
}


def _nodes_of(out):
    return [out] if isinstance(out, (Tensor, Value)) else list(out)


@pytest.mark.parametrize("case", list(CASES))
def test_graph_through_pass_through_modules_is_freed_by_refcount(case):
    make, inp, call = CASES[case]
    gc.collect()
    gc.disable()
    try:
        model, x = make(), inp()
        outs = _nodes_of(call(model, x))
        total = sum(outs[1:], outs[0] * 1.0) if isinstance(outs[0], Tensor) else outs[0] * 1.0
        refs = [weakref.ref(n) for n in topological_order([total])]
        refs += [weakref.ref(v) for v in (x if isinstance(x, list) else [x])]
        refs.append(weakref.ref(model)) if model is not None else None
        del model, x, outs, total
        alive = [r() for r in refs if r() is not None]
        assert alive == [], f"{len(alive)} node(s)/modules kept alive by a reference cycle"
    finally:
        gc.enable()


@pytest.mark.parametrize("case", list(CASES))
def test_records_per_node_stay_bounded_over_many_calls(case):
    make, inp, call = CASES[case]
    model, x = make(), inp()
    xs = x if isinstance(x, list) else [x]
    before = [len(n.scope or ()) for n in xs]
    first = _nodes_of(call(model, x))
    after_one = [len(n.scope or ()) for n in first + xs]
    later = []
    for _ in range(50):
        later = _nodes_of(call(model, x))
    assert [len(n.scope or ()) for n in first + xs] == after_one       # the reused ones
    assert [len(n.scope or ()) for n in later + xs] == after_one       # a fresh call: the same
    assert [len(n.scope or ()) for n in xs] == before                  # passed through: none


def test_fresh_modules_returning_one_node_are_capped():
    w = Tensor(np.ones(2), requires_grad=True)

    class Give(nn.Module):
        def forward(self, x):
            return w
    for _ in range(100):
        Give()(Tensor(np.zeros(2)))
    assert len(w.scope) == scope.MAX_RECORDS_PER_NODE


def test_identity_still_leaves_the_surrounding_boxes_right():
    net = nn.Sequential(nn.Identity(), nn.Linear(2, 2, seed=0), nn.Identity(), nn.Tanh())
    x = Tensor(np.ones((1, 2), np.float32))
    y = net(x).sum()
    y.backward()
    paths, _modules = scope.assign(topological_order([y]))
    assert id(x) not in paths
    assert paths[id(net[1].weight)] == ("Sequential", "1")
    assert set(paths.values()) == {("Sequential", "1"), ("Sequential", "3")}
    assert "Sequential.1" in viz.draw(y, collapse="module").source


def test_a_module_the_user_did_not_keep_is_kept_by_its_graph_and_freed_with_it():
    x = Tensor(np.ones((1, 2), np.float32))
    gc.collect()
    gc.disable()
    try:
        y = nn.Linear(2, 3, seed=0)(x).sum()               # the module is not kept
        paths, modules = scope.assign(topological_order([y]))
        assert set(paths.values()) == {("Linear",)}
        assert isinstance(modules[("Linear",)], nn.Linear)  # named and coloured as if kept
        assert "Linear" in viz.draw(y, collapse="module").source
        module = weakref.ref(modules[("Linear",)])
        del paths, modules, y
        assert module() is None                             # freed with the graph, no cycle
    finally:
        gc.enable()


def test_a_result_made_outside_modules_and_passed_through_is_not_recorded():
    """The common case is kept short (a result no call has returned gets its
    first record without searching the arguments); it must still tell a
    result passed straight through from one the call made."""
    x = Value(1.0) * 2.0                        # a result, made outside any module
    assert PassThrough()(x) is x and x.scope is None
    out = ReturnsKwarg()(Value(1.0), skip=x)    # returned from a keyword argument
    assert out[1] is x and x.scope is None and len(out[0].scope) == 1
    y = ReturnsInputAndNew()(x)[1]              # made by the call: one record
    assert [r.cls for r in y.scope] == [ReturnsInputAndNew]


def test_one_module_returning_the_same_node_again_keeps_its_newest_record():
    w = Value(3.0) * 1.0                        # a result the modules hand out (not an input)

    class Give(nn.Module):
        def forward(self, x):
            return w
    give = Give()
    assert give(Value(0.0)) is w and len(w.scope) == 1
    for _ in range(3):
        give(Value(0.0))
    newest = w.scope[0]
    assert len(w.scope) == 1 and newest.seq > 0
    Give()(Value(0.0))                          # another module: one more record
    assert len(w.scope) == 2 and w.scope[0] is newest
    give(Value(0.0))                            # the first module again: its record moves last
    assert len(w.scope) == 2 and w.scope[-1].module is give and w.scope[-1] is not newest
    first = ReturnsFirst()([w])                 # inside a list argument: handed back, not made
    assert first is w and len(w.scope) == 2
