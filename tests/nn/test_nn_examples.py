"""The nn examples run (small sizes) and print what the teaching texts say."""
import itertools
import pathlib
import runpy

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def load(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


def test_part_lifetime_prediction_gradients_and_one_sgd_step(capsys):
    res = load("part_lifetime.py")["main"]([])
    out = capsys.readouterr().out
    assert "prediction: 0.8676" in out
    assert round(res["prediction"], 4) == 0.8676
    assert res["loss_before"] == pytest.approx((1 - res["prediction"]) ** 2)
    assert res["loss_after"] < res["loss_before"]
    assert "loss before: 0.017528" in out and "loss after: 0.016604" in out
    grads = res["grads"]
    assert len(grads) == 9 and all(g < 0 for g in grads.values())   # every weight should grow
    # output neuron: dL/dz = 2 (p - 1) p (1 - p); its weights see the hidden value 0.68997
    p = res["prediction"]
    dz = 2 * (p - 1) * p * (1 - p)
    assert grads["layers.1.neurons.0.b"] == pytest.approx(dz)
    assert grads["layers.1.neurons.0.w.0"] == pytest.approx(dz / (1 + np.exp(-0.8)))
    for label in ("L1.n1.w1", "L1.n2.w2", "L2.n1.w2", "L2.n1.b"):
        assert label in out


def test_quadratic_fit_loss_falls(capsys):
    res = load("quadratic_fit.py")["main"](["--steps", "150"])
    assert res["final_mse"] < 0.05 * res["losses"][0]
    out = capsys.readouterr().out
    assert "fitting y = 2 x^2 - 1 x + 0.5" in out and "final training mse" in out


def test_xor_perceptron_fails_mlp_reaches_100_percent(capsys, tmp_path):
    png = tmp_path / "xor.png"
    res = load("xor.py")["main"](["--plot", str(png)])
    assert res["perceptron_accuracy"] <= 0.75
    assert res["mlp_accuracy"] == 1.0
    assert "the MLP reaches 100%" in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_universal_approx_bumps_valleys_and_shrinking_error(capsys):
    res = load("universal_approx.py")["main"](["--max-bumps", "16"])
    xs = np.array(res["xs"])
    bump = np.array(res["curves"]["bump on [0.3, 0.6] (2 neurons)"])
    valley = np.array(res["curves"]["valley on [0.3, 0.6] (2 neurons)"])
    inside, outside = (xs > 0.33) & (xs < 0.57), (xs < 0.27) | (xs > 0.63)
    assert (bump[inside] > 0.95).all() and (np.abs(bump[outside]) < 0.05).all()
    np.testing.assert_allclose(valley, -bump)
    errors = [res["errors"][n] for n in sorted(res["errors"])]
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[-1] < 0.2
    assert "largest error" in capsys.readouterr().out


def test_moons_reaches_100_percent_training_accuracy(capsys):
    res = load("moons.py")["main"](["--steps", "60"])
    assert res["model"].num_parameters() == 337
    assert res["final_accuracy"] == 1.0
    assert res["losses"][-1] < 0.1 * res["losses"][0]
    assert "training accuracy 100%" in capsys.readouterr().out


def test_digits_mlp_on_the_shipped_8x8_digits_reaches_97_percent(capsys):
    pytest.importorskip("sklearn")
    res = load("digits_mlp.py")["main"](["--no-progress"])
    assert res["test_accuracy"] >= 0.97
    assert res["model"][0].weight.shape == (64, 512)
    out = capsys.readouterr().out
    assert "MLP 64-512-256-10" in out and "final: test accuracy" in out


def _write_fake_mnist(root, n_train=120, n_test=40):
    from gradviz.nn.data import MNIST_FILES, write_idx
    rng = np.random.default_rng(0)
    for (images, labels), n in zip((MNIST_FILES[:2], MNIST_FILES[2:]), (n_train, n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = (rng.random((n, 28, 28)) * 30).astype(np.uint8)
        for i, c in enumerate(y):
            X[i, 2 * c:2 * c + 3, :] = 255          # the class is a bright band
        write_idx(root / images, X)
        write_idx(root / labels, y)


def test_digits_mlp_trains_784_512_256_10_on_idx_files(tmp_path, capsys):
    _write_fake_mnist(tmp_path)
    main = load("digits_mlp.py")["main"]
    res = main(["--data", str(tmp_path), "--no-checksum", "--epochs", "2", "--no-progress"])
    assert res["dataset"] == "MNIST"
    assert [m.weight.shape for m in res["model"] if hasattr(m, "weight")] == [
        (784, 512), (512, 256), (256, 10)]
    assert res["test_accuracy"] >= 0.9
    assert "MLP 784-512-256-10" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="SHA-256"):            # checked by default
        main(["--data", str(tmp_path), "--epochs", "1", "--no-progress"])


def test_digits_mlp_without_mnist_files_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="missing .*train-images-idx3-ubyte.gz.*download=False"):
        load("digits_mlp.py")["main"](["--data", str(tmp_path / "none"), "--no-progress"])


def test_moons_saves_loss_curve_and_decision_boundary_pngs(capsys, tmp_path):
    curve, boundary = tmp_path / "loss.png", tmp_path / "boundary.png"
    load("moons.py")["main"](["--steps", "2", "--plot", str(curve), "--boundary", str(boundary)])
    for png in (curve, boundary):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
