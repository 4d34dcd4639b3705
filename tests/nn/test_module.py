"""nn.Module: traversal, parameter counts, modes, state dicts, repr."""
import numpy as np
import pytest

from gradviz import nn
from gradviz.autograd import Value


def test_mlp_2_16_16_1_has_337_parameters():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    assert len(params) == 337
    assert len({id(p) for p in params}) == 337
    assert model.num_parameters() == 337
    assert all(isinstance(p, Value) for p in params)


def test_named_parameters_follow_the_module_tree_weights_before_bias():
    model = nn.MLP(2, [3, 1], seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == 3 * 3 + 4
    named = dict(model.named_parameters())
    assert named["layers.1.neurons.0.w.2"] is model.layers[1].neurons[0].w[2]


def test_named_modules_parents_first_with_dotted_names():
    model = nn.MLP(2, [2, 1], seed=0)
    names = [n for n, _ in model.named_modules()]
    assert names == ["", "layers.0", "layers.0.neurons.0", "layers.0.neurons.1",
                     "layers.1", "layers.1.neurons.0"]
    assert [type(m).__name__ for m in model.modules()] == [
        "MLP", "Layer", "Neuron", "Neuron", "Layer", "Neuron"]


class Pair(nn.Module):
    """A user module without super().__init__(), sharing one sub-module."""

    def __init__(self):
        self.scale = Value(2.0, label="scale")
        self.left = nn.Neuron(2, "linear", seed=1)
        self.right = self.left              # shared: traversed once
        self.extra = [nn.Neuron(1, "tanh", seed=2), nn.Neuron(1, "tanh", seed=3)]
        self._cache = Value(5.0)            # private: not a parameter
        self.constants = [1.0, 2.0]         # plain numbers: not parameters

    def forward(self, x):
        return self.scale * self.left(x) + self.extra[0]([x[0]]) + self.extra[1]([x[1]])


def test_custom_module_traversal_dedupes_shared_and_skips_private():
    m = Pair()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "left.w.0", "left.w.1", "left.b", "extra.0.w.0", "extra.0.b",
                     "extra.1.w.0", "extra.1.b"]
    assert [n for n, _ in m.named_modules()] == ["", "left", "extra.0", "extra.1"]
    assert m._cache not in m.parameters()
    out = m([1.0, 2.0])
    out.backward()
    assert m.scale.grad == pytest.approx(m.left([1.0, 2.0]).data)


def test_zero_grad_clears_every_value_grad():
    model = nn.MLP(2, [4, 1], seed=0)
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_reach_every_module():
    model = nn.MLP(2, [3, 1], seed=0)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_repr_is_readable_and_collapses_identical_neurons():
    text = repr(nn.MLP(2, [16, 16, 1], seed=0))
    assert text.splitlines()[0] == "MLP(2 -> [16, 16, 1], activation='relu'):"
    assert "(layers.0): Layer(2 -> 16, activation='relu'):" in text
    assert "(neurons.0-15): 16 x Neuron(2, activation='relu')" in text
    assert "(neurons.0): Neuron(16, activation='linear')" in text
    assert len(text.splitlines()) == 7


def test_state_dict_shapes_values_and_vectors():
    model = nn.MLP(3, [2, 1], seed=0)
    state = model.state_dict()
    assert list(state)[:2] == ["layers.0.neurons.0.w", "layers.0.neurons.0.b"]
    assert state["layers.0.neurons.0.w"].shape == (3,)
    assert state["layers.0.neurons.0.b"].shape == ()
    assert state["layers.1.neurons.0.w"].shape == (2,)
    assert all(a.dtype == np.float64 for a in state.values())
    assert state["layers.0.neurons.1.w"].tolist() == [w.data for w in model.layers[0].neurons[1].w]
    state["layers.0.neurons.0.w"][0] = 123.0        # a copy, not a view
    assert model.layers[0].neurons[0].w[0].data != 123.0


def test_load_state_dict_round_trip_reproduces_outputs():
    a, b = nn.MLP(2, [5, 5, 1], seed=1), nn.MLP(2, [5, 5, 1], seed=2)
    x = [0.3, -0.7]
    assert a(x).data != b(x).data
    assert b.load_state_dict(a.state_dict()) == ([], [])
    assert b(x).data == a(x).data
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


def _snapshot(model):
    return [p.data for p in model.parameters()]


def test_missing_key_is_an_error_naming_it_and_changes_nothing():
    model = nn.MLP(2, [2, 1], seed=0)
    before = _snapshot(model)
    state = {k: v + 1 for k, v in model.state_dict().items()}
    del state["layers.1.neurons.0.b"]
    with pytest.raises(nn.CheckpointError, match=r"missing key\(s\) 'layers\.1\.neurons\.0\.b'"):
        model.load_state_dict(state)
    assert _snapshot(model) == before


def test_unexpected_key_is_an_error_naming_it():
    model = nn.MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    state["layers.2.neurons.0.w"] = np.zeros(2)
    with pytest.raises(nn.CheckpointError, match=r"unexpected key\(s\) 'layers\.2\.neurons\.0\.w'"):
        model.load_state_dict(state)


def test_wrong_shape_is_an_error_naming_key_and_shapes_and_changes_nothing():
    model = nn.MLP(2, [2, 1], seed=0)
    before = _snapshot(model)
    state = {k: v + 1 for k, v in model.state_dict().items()}
    state["layers.1.neurons.0.w"] = np.zeros(3)     # last key in order: the rest was valid
    with pytest.raises(nn.CheckpointError,
                       match=r"'layers\.1\.neurons\.0\.w' has shape \(3,\), expected \(2,\)"):
        model.load_state_dict(state)
    assert _snapshot(model) == before


def test_non_numeric_state_is_refused():
    model = nn.Neuron(2, seed=0)
    with pytest.raises(nn.CheckpointError, match="'b' has dtype"):
        model.load_state_dict({"w": np.zeros(2), "b": np.array("x")})
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("w", np.zeros(2))])


def test_non_strict_load_reports_missing_and_unexpected():
    model = nn.Neuron(2, seed=0)
    missing, unexpected = model.load_state_dict({"w": np.array([1.0, 2.0]), "zz": np.zeros(1)},
                                                strict=False)
    assert missing == ["b"] and unexpected == ["zz"]
    assert [w.data for w in model.w] == [1.0, 2.0]


def test_calls_are_recorded_as_viz_scopes_for_collapsed_diagrams():
    scope = pytest.importorskip("gradviz.viz.scope")
    from gradviz.autograd.graph import topological_order
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    paths, modules = scope.assign(topological_order([out]))
    assert paths[id(out)] == ("MLP", "L2", "n1")
    assert modules[("MLP", "L1", "n2")] is model.layers[0].neurons[1]
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    from gradviz.autograd import Tensor
    y = seq(Tensor(np.ones((1, 2), np.float32)))
    paths, _ = scope.assign(topological_order([y]))
    assert paths[id(y)] == ("Sequential", "1")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=20)
@given(nin=st.integers(1, 4), widths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       act=st.sampled_from(nn.ACTIVATIONS), seeds=st.tuples(st.integers(0, 99), st.integers(100, 199)))
def test_state_round_trip_for_any_scalar_architecture(tmp_path_factory, nin, widths, act, seeds):
    a = nn.MLP(nin, widths, activation=act, seed=seeds[0])
    b = nn.MLP(nin, widths, activation=act, seed=seeds[1])
    assert a.num_parameters() == sum((i + 1) * o for i, o in zip([nin] + widths, widths)) + (
        sum(widths[:-1]) if act in ("prelu", "swish") else 0)
    path = tmp_path_factory.mktemp("ckpt") / "m.npz"
    a.save(path)
    b.load(path)
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


def test_a_plain_list_of_tensor_parameters_is_traversed_saved_and_loaded(tmp_path):
    # lists of Modules and of Values were parameters, a list of Tensors silently not
    from gradviz import Tensor

    class Stack(nn.Module):
        def __init__(self):
            self.ws = [Tensor(np.full(2, float(i), np.float32), requires_grad=True)
                       for i in range(3)]

        def forward(self, x):
            return sum((w * x).sum() for w in self.ws)

    a = Stack()
    assert [k for k, _ in a.named_parameters()] == ["ws.0", "ws.1", "ws.2"]
    assert list(a.state_dict()) == ["ws.0", "ws.1", "ws.2"] and a.num_parameters() == 6
    a.save(tmp_path / "s.npz")
    b = Stack()
    for w in b.ws:
        w.data.fill(9.0)
    b.load(tmp_path / "s.npz")
    assert [float(w.data[0]) for w in b.ws] == [0.0, 1.0, 2.0]
