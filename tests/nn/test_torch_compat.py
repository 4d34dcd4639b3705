"""Moving to PyTorch (issue 10 item 6): state dicts converted to and from torch.nn layouts,
checked against real PyTorch both ways with the same outputs."""
import numpy as np
import pytest
import torch

from gradviz import Tensor, nn
from gradviz.nn.torch_compat import from_torch_state, to_torch_state

torch.set_num_threads(1)


def _pair(dtype):
    """The same architecture in gradviz and in torch, as (ours, theirs, input width)."""
    ours = nn.Sequential(nn.Linear(5, 8, dtype=dtype, seed=1), nn.Tanh(),
                         nn.Linear(8, 6, dtype=dtype, seed=2), nn.PReLU(6, dtype=dtype),
                         nn.Linear(6, 3, bias=False, dtype=dtype, seed=3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6),
                                 torch.nn.PReLU(6), torch.nn.Linear(6, 3, bias=False))
    return ours, theirs.to(torch.float64 if dtype == np.float64 else torch.float32), 5


def _outputs(ours, theirs, x):
    with torch.no_grad():
        t = theirs(torch.from_numpy(x)).numpy()
    return ours(Tensor(x)).data, t


TOL = {np.float32: {"rtol": 1e-6, "atol": 1e-6}, np.float64: {"rtol": 1e-13, "atol": 1e-14}}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradviz_model_to_torch_gives_the_same_outputs(dtype):
    ours, theirs, nin = _pair(dtype)
    state = to_torch_state(ours)
    assert all(type(v) is np.ndarray for v in state.values())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})  # strict
    assert state["0.weight"].shape == (8, 5) == tuple(theirs[0].weight.shape)
    assert "3.weight" in state and "3.alpha" not in state
    x = np.random.default_rng(0).normal(size=(7, nin)).astype(dtype)
    a, b = _outputs(ours, theirs, x)
    assert a.dtype == b.dtype == dtype
    np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_model_to_gradviz_gives_the_same_outputs(dtype):
    torch.manual_seed(0)
    ours, theirs, nin = _pair(dtype)
    with torch.no_grad():
        theirs[3].weight.copy_(torch.linspace(0.05, 0.5, 6))      # a non-default PReLU slope
    ours.load_state_dict(from_torch_state(theirs.state_dict(), ours))           # strict
    np.testing.assert_array_equal(ours[0].weight.data, theirs[0].weight.detach().numpy().T)
    x = np.random.default_rng(1).normal(size=(4, nin)).astype(dtype)
    a, b = _outputs(ours, theirs, x)
    np.testing.assert_allclose(a, b, **TOL[dtype])


def test_gradients_agree_after_conversion():
    ours, theirs, nin = _pair(np.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state(ours).items()})
    x = np.random.default_rng(2).normal(size=(3, nin))
    ours(Tensor(x)).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad, theirs[0].weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(ours[3].alpha.grad, theirs[3].weight.grad.numpy(), rtol=1e-12)


def test_a_module_tree_keeps_its_attribute_names():
    class Net(nn.Module):
        def __init__(self):
            self.fc1 = nn.Linear(3, 4, seed=0)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(4, 2, seed=1)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    ours, theirs = Net(), TNet()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch_state(ours).items()})
    x = np.random.default_rng(3).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


def test_state_dict_form_round_trips_exactly_and_through_a_checkpoint(tmp_path):
    _ours, _theirs, _ = _pair(np.float32)
    sd = nn.Sequential(nn.Linear(5, 8, seed=1), nn.ReLU(), nn.Linear(8, 3, seed=2)).state_dict()
    back = from_torch_state(to_torch_state(sd))
    assert list(back) == list(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k], sd[k])
        assert back[k].dtype == sd[k].dtype
    nn.save_state(to_torch_state(sd), tmp_path / "t.npz")                   # torch layout on disk
    t = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    t.load_state_dict({k: torch.from_numpy(v) for k, v in nn.load_state(tmp_path / "t.npz").items()})
    assert torch.equal(t[2].weight, torch.from_numpy(sd["2.weight"].T.copy()))


@pytest.mark.parametrize("model, words", [
    (nn.MLP(2, [3, 1], seed=0), "Neuron"),
    (nn.Sequential(nn.Linear(2, 2), nn.Swish()), "Swish"),
])
def test_modules_without_a_torch_counterpart_are_refused(model, words):
    with pytest.raises(TypeError, match=f"{words}.*no torch.nn counterpart"):
        to_torch_state(model)


def test_a_torch_state_that_does_not_fit_is_a_clear_error():
    ours, theirs, _ = _pair(np.float32)
    good = theirs.state_dict()
    with pytest.raises(nn.CheckpointError, match=r"'2.weight' has shape \(6, 9\), expected \(6, 8\)"):
        from_torch_state(dict(good, **{"2.weight": torch.zeros(6, 9)}), ours)
    with pytest.raises(nn.CheckpointError, match="missing key.*'0.bias'.*unexpected key.*'9.bias'"):
        from_torch_state({**{k: v for k, v in good.items() if k != "0.bias"},
                          "9.bias": torch.zeros(1)}, ours)
    before = ours[0].weight.data.copy()
    with pytest.raises(nn.CheckpointError):
        ours.load_state_dict(from_torch_state({}, ours))
    np.testing.assert_array_equal(ours[0].weight.data, before)


def test_the_library_does_not_import_torch():
    import subprocess
    import sys
    code = ("import sys; from gradviz import nn; import gradviz.nn.torch_compat; "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_the_documented_example_runs():
    import doctest

    import gradviz.nn.torch_compat as tc
    result = doctest.testmod(tc, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_conv2d_converts_as_is_both_ways():
    ours = nn.Sequential(nn.Conv2d(1, 2, 3, dtype=np.float64, seed=0), nn.ReLU())
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU()).double()
    ours.load_state_dict(from_torch_state(theirs.state_dict(), ours))
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5))
    with torch.no_grad():
        t = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, t, rtol=1e-12, atol=1e-12)
    back = to_torch_state(ours)
    assert back["0.weight"].shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(back["0.bias"], theirs.state_dict()["0.bias"].numpy())
