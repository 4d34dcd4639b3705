"""Scalar networks: Neuron, Layer, MLP."""
import math
import random

import numpy as np
import pytest

from gradviz import nn
from gradviz.autograd import Value

SIG = lambda z: 1.0 / (1.0 + math.exp(-z))
EXPECTED = {
    "linear": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "tanh": math.tanh,
    "sigmoid": SIG,
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "prelu": lambda z: z if z > 0 else 0.25 * z,
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "silu": lambda z: z * SIG(z),
    "swish": lambda z: z * SIG(z),
    "gelu": lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))),
    "softplus": lambda z: math.log1p(math.exp(z)),
    "selu": lambda z: 1.0507009873554805 * (z if z > 0 else 1.6732632423543772 * math.expm1(z)),
    "celu": lambda z: z if z > 0 else math.expm1(z),
    "mish": lambda z: z * math.tanh(math.log1p(math.exp(z))),
    "hardswish": lambda z: z * min(max(z + 3.0, 0.0), 6.0) / 6.0,
    "hardsigmoid": lambda z: min(max(z + 3.0, 0.0), 6.0) / 6.0,
    "relu6": lambda z: min(max(z, 0.0), 6.0),
    "softsign": lambda z: z / (1.0 + abs(z)),
    "logsigmoid": lambda z: -math.log1p(math.exp(-z)),
}


def test_every_activation_is_covered():
    assert set(EXPECTED) == set(nn.ACTIVATIONS)


@pytest.mark.parametrize("act", sorted(EXPECTED))
@pytest.mark.parametrize("x", [[0.5, -1.5], [-2.0, 0.25]])
def test_neuron_computes_activation_of_weighted_sum(act, x):
    n = nn.Neuron(2, act, w=[0.8, 0.3], b=0.1)
    z = 0.1 + 0.8 * x[0] + 0.3 * x[1]
    assert n(x).data == pytest.approx(EXPECTED[act](z), rel=1e-12, abs=1e-15)


def test_learnable_activation_parameters_get_gradients():
    p = nn.Neuron(1, "prelu", w=1.0)
    assert [name for name, _ in p.named_parameters()] == ["w.0", "b", "alpha"]
    p([-2.0]).backward()
    assert p.alpha.grad == pytest.approx(-2.0)
    s = nn.Neuron(1, "swish", w=1.0)
    s([1.5]).backward()
    # d/dbeta x*sigmoid(beta x) = x^2 sigmoid'(beta x)
    assert s.beta.grad == pytest.approx(1.5 ** 2 * SIG(1.5) * (1 - SIG(1.5)))


def test_gradients_match_finite_differences():
    model = nn.MLP(3, [4, 3, 1], activation="tanh", seed=5)
    x = [0.3, -0.8, 0.5]
    model.zero_grad()
    model(x).backward()
    for p in model.parameters()[::5]:
        old = p.data
        p.data = old + 1e-6
        up = model(x).data
        p.data = old - 1e-6
        down = model(x).data
        p.data = old
        assert p.grad == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8)


def test_layer_always_returns_a_list():
    out = nn.Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert len(nn.Layer(2, 3, seed=0)([1.0, 2.0])) == 3


def test_mlp_returns_a_value_for_one_output_else_a_list():
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = nn.MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2


def test_mlp_last_layer_is_linear_unless_told():
    m = nn.MLP(2, [3, 3, 1], activation="tanh", seed=0)
    assert [layer.activation for layer in m.layers] == ["tanh", "tanh", "linear"]
    m2 = nn.MLP(2, [3, 1], out_activation="sigmoid", seed=0)
    assert m2.layers[-1].activation == "sigmoid"
    assert 0.0 < m2([5.0, -5.0]).data < 1.0


def test_inputs_may_be_values_numbers_or_arrays():
    m = nn.MLP(2, [3, 1], seed=0)
    ref = m([0.5, -0.25]).data
    assert m((0.5, -0.25)).data == ref
    assert m(np.array([0.5, -0.25])).data == ref
    assert m([Value(0.5), Value(-0.25)]).data == ref
    one = nn.Neuron(1, "linear", w=2.0, b=1.0)
    assert one(3.0).data == 7.0
    xv = Value(0.5)
    m([xv, 1.0]).backward()
    assert xv.grad != 0.0


def test_wrong_input_width_names_the_layer_and_both_widths():
    m = nn.MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"Layer L1 \(3 -> 4.*expected 3 inputs, got 2"):
        m([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Layer\(2 -> 2.*expected 2 inputs, got 5"):
        nn.Layer(2, 2)([1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match=r"Neuron\(4.*expected 4 inputs, got 1"):
        nn.Neuron(4)([1.0])
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        nn.Neuron(4)(np.zeros((2, 2)))


@pytest.mark.parametrize("x, error, pattern", [
    ([[1.0, 2.0]], TypeError, r"Layer L1 \(2 -> 3.*input 0 is a list, not a number or Value: a "
                              r"scalar module takes one point, a list of 2 numbers.*for a batch"),
    (np.ones((5, 2)), ValueError, r"Layer L1.*one point.*array of shape \(5, 2\).*for a batch"),
    ([1.0, None], TypeError, r"Layer L1.*input 1 is a NoneType, not a number or Value$"),
    ("ab", TypeError, r"Layer L1.*expected a list of 2 numbers or Values, got str"),
    ([True, 1.0], TypeError, r"input 0 is a bool"),
])
def test_inputs_that_are_not_one_point_of_numbers_name_the_layer_and_the_input(x, error, pattern):
    m = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(error, match=pattern):
        m(x)


def test_a_neuron_given_a_list_with_a_non_number_names_itself():
    n = nn.MLP(2, [3, 1], seed=0).layers[0].neurons[0]
    with pytest.raises(TypeError, match=r"Neuron L1.n1 \(2.*input 1 is a str"):
        n([1.0, "x"])


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'; valid: linear, tanh, sigmoid, relu"):
        nn.MLP(2, [3, 1], activation="rleu")
    with pytest.raises(ValueError, match="gelu"):
        nn.Neuron(2, activation="softmax")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_bad_widths_are_rejected(bad):
    with pytest.raises(ValueError, match="positive int"):
        nn.Layer(2, bad)
    with pytest.raises(ValueError):
        nn.MLP(bad, [1])


def test_seeds_make_networks_reproducible():
    a, b, c = nn.MLP(2, [8, 1], seed=7), nn.MLP(2, [8, 1], seed=7), nn.MLP(2, [8, 1], seed=8)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]
    rng = random.Random(3)
    d = nn.Neuron(3, seed=rng)
    ref = random.Random(3)
    assert [w.data for w in d.w] == [ref.uniform(-1, 1) for _ in range(3)]


@pytest.mark.parametrize("scheme,bound", [("uniform", 1.0), ("kaiming", math.sqrt(6 / 50)),
                                          ("xavier", math.sqrt(6 / 60)), ("torch", 1 / math.sqrt(50))])
def test_init_schemes_draw_within_their_bound(scheme, bound):
    layer = nn.Layer(50, 10, "relu", seed=0, init=scheme)
    ws = [w.data for n in layer.neurons for w in n.w]
    assert max(map(abs, ws)) <= bound
    assert max(map(abs, ws)) > 0.9 * bound              # really uses the range
    if scheme != "torch":
        assert all(n.b.data == 0.0 for n in layer.neurons)
    with pytest.raises(ValueError, match="unknown init scheme 'he'; valid: uniform, kaiming"):
        nn.Layer(2, 2, init="he")


def test_set_weights_and_part_lifetime_prediction():
    m = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid").set_weights(1.0, 0.5)
    assert round(m([0.1, 0.2]).data, 4) == 0.8676
    m.layers[0].set_weights([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0])
    assert [w.data for w in m.layers[0].neurons[1].w] == [3.0, 4.0]
    assert m.layers[0].neurons[1].b.data == 1.0
    with pytest.raises(ValueError, match="expected 2 values, got 3"):
        m.layers[0].set_weights([[1.0, 2.0, 3.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="expected 2 rows"):
        m.layers[0].set_weights([1.0, 2.0, 3.0])


def test_parameters_and_outputs_are_labelled_for_diagrams():
    m = nn.MLP(2, [2, 1], seed=0)
    assert m.layers[0].neurons[1].w[0].label == "L1.n2.w1"
    assert m.layers[1].neurons[0].b.label == "L2.n1.b"
    assert m([1.0, 2.0]).label == "L2.n1"
    assert nn.Neuron(2).w[1].label == "w2"


def test_random_seed_makes_a_model_reproducible_as_in_micrograd():
    import random
    random.seed(0)
    a = [p.data for p in nn.MLP(2, [3, 1]).parameters()]
    random.seed(0)
    b = [p.data for p in nn.MLP(2, [3, 1]).parameters()]
    assert a == b
    assert a != [p.data for p in nn.MLP(2, [3, 1]).parameters()]  # the generator moved on
