"""nn.Conv2d, MaxPool2d, AvgPool2d, Flatten: PyTorch's modules with the same
weights give the same outputs and gradients; bad arguments fail at
construction; a CNN saves and loads; examples/digits_cnn.py reaches 98% on
the 8x8 digits and draws its module-collapsed diagram."""
import pathlib
import runpy

import numpy as np
import pytest
import torch

from gradviz import nn
from gradviz.autograd import Tensor

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _torch_conv(mine: nn.Conv2d) -> torch.nn.Conv2d:
    theirs = torch.nn.Conv2d(mine.in_channels, mine.out_channels, mine.kernel_size,
                             stride=mine.stride, padding=mine.padding, dilation=mine.dilation,
                             groups=mine.groups, bias=mine.bias is not None,
                             dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(mine.weight.data.astype(np.float64)))
        if mine.bias is not None:
            theirs.bias.copy_(torch.from_numpy(mine.bias.data.astype(np.float64)))
    return theirs


@pytest.mark.parametrize("args, kwargs", [
    ((3, 4, 3), {"padding": 1}),
    ((4, 6, (3, 2)), {"stride": (2, 1), "groups": 2, "bias": False}),
    ((2, 3, 3), {"padding": "same", "dilation": 2}),
    ((2, 2, 2), {"padding": "valid", "stride": 2}),
])
def test_conv2d_module_matches_pytorch_module(args, kwargs):
    mine = nn.Conv2d(*args, **kwargs, dtype=np.float64, seed=0)
    theirs = _torch_conv(mine)
    x = np.random.default_rng(1).standard_normal((2, args[0], 7, 6))
    X = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = mine(X), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(X.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    assert mine.num_parameters() == sum(p.numel() for p in theirs.parameters())


def test_conv2d_parameters_float32_labelled_and_kaiming_bounded():
    conv = nn.Conv2d(4, 8, 3, groups=2, seed=0, label="c1")
    assert conv.weight.shape == (8, 2, 3, 3) and conv.bias.shape == (8,)
    assert conv.weight.dtype == np.float32 and conv.bias.dtype == np.float32
    assert conv.weight.label == "c1.weight" and conv.bias.label == "c1.bias"
    bound = np.sqrt(2.0) * np.sqrt(3.0 / (2 * 3 * 3))     # He uniform, fan-in 2*3*3
    assert np.abs(conv.weight.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound
    assert not conv.bias.data.any()
    assert "kernel_size=(3, 3)" in repr(conv) and "groups=2" in repr(conv)


@pytest.mark.parametrize("mine, theirs", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
     torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    (nn.Flatten(), torch.nn.Flatten()),
    (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
])
def test_pool_and_flatten_modules_match_pytorch(mine, theirs):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    X = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = mine(X), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(3).standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad, xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("make, error, words", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, ["groups=2", "3"]),
    (lambda: nn.Conv2d(0, 4, 3), ValueError, ["Conv2d", "in_channels"]),
    (lambda: nn.Conv2d(3, 4, 0), ValueError, ["Conv2d", "kernel_size"]),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), ValueError, ["padding", "-1"]),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), ValueError, ["same", "stride"]),
    (lambda: nn.Conv2d(3, 4, 3, dtype=np.int32), TypeError, ["Conv2d", "dtype"]),
    (lambda: nn.MaxPool2d(2, padding=2), ValueError, ["MaxPool2d", "half"]),
    (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, ["AvgPool2d", "divisor"]),
    (lambda: nn.Flatten(1.5), TypeError, ["Flatten", "start_dim"]),
])
def test_bad_module_arguments_fail_at_construction(make, error, words):
    with pytest.raises(error) as e:
        make()
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_wrong_channels_in_a_sequential_name_the_layer():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, seed=0), nn.ReLU(), nn.Conv2d(3, 2, 3, seed=1))
    with pytest.raises(nn.WidthError) as e:
        net(Tensor(np.zeros((1, 1, 8, 8), np.float32)))
    assert "Sequential layer 2" in str(e.value) and "4 channels" in str(e.value)
    with pytest.raises(ValueError, match="Flatten: start_dim=3"):
        nn.Flatten(3)(Tensor(np.zeros((2, 3))))


def test_a_cnn_saves_and_loads(tmp_path):
    def cnn(seed):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=seed), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3, seed=seed))
    a, b = cnn(0), cnn(1)
    path = a.save(tmp_path / "cnn.npz")
    b.load(path)
    x = Tensor(np.random.default_rng(4).random((2, 1, 8, 8), dtype=np.float32))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert sorted(a.state_dict()) == ["0.bias", "0.weight", "4.bias", "4.weight"]


def test_digits_cnn_example_reaches_98_percent_and_draws_its_modules(capsys, tmp_path):
    pytest.importorskip("sklearn")
    main = runpy.run_path(str(EXAMPLES / "digits_cnn.py"), run_name="example")["main"]
    svg = tmp_path / "cnn.svg"
    from threadpoolctl import threadpool_limits  # small matrices: one BLAS thread is faster
    with threadpool_limits(limits=1):
        res = main(["--no-progress", "--epochs", "8", "--graph", str(svg)])
    assert res["test_accuracy"] >= 0.98, res["test_accuracies"]
    model = res["model"]
    assert isinstance(model[0], nn.Conv2d) and model[0].weight.shape == (16, 1, 3, 3)
    out = capsys.readouterr().out
    assert "8x8 digits" in out and "final: test accuracy" in out
    text = svg.read_text(encoding="utf-8")
    assert text.count("Conv2d") == 2 and text.count("MaxPool2d") == 2
    assert "Linear" in text and "160 params" in text      # 16*1*3*3 + 16


def test_digits_cnn_reads_mnist_idx_files_with_data_dir(capsys, tmp_path):
    # Small MNIST-format files (28x28 uint8 images, gzipped IDX) of two easy
    # classes: a bright left half or a bright right half.
    from gradviz.nn.data import MNIST_FILES, write_idx
    rng = np.random.default_rng(0)

    def split(n):
        y = rng.integers(0, 2, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, :, 14 * label:14 * label + 14] += 150
        return x, y

    (xtr, ytr), (xte, yte) = split(96), split(32)
    for name, arr in zip(MNIST_FILES, (xtr, ytr, xte, yte)):
        write_idx(tmp_path / name, arr)
    main = runpy.run_path(str(EXAMPLES / "digits_cnn.py"), run_name="example")["main"]
    res = main(["--data", str(tmp_path), "--no-checksum", "--epochs", "5", "--no-progress",
                "--channels", "4", "8"])
    assert res["dataset"] == "MNIST" and res["test_accuracy"] >= 0.95
    assert res["model"][-1].weight.shape == (8 * 7 * 7, 10)     # 28 -> 14 -> 7
    assert "of 28x28" in capsys.readouterr().out
