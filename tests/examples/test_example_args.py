"""A mistyped argument to an example is a usage message (exit 2) before any
work: not a traceback, and not a traceback after a whole training run (the
output folder of --plot is checked first). viz.args holds the shared types."""
import argparse
import pathlib
import runpy

import pytest

from gradviz.viz.args import at_least, output_file, plot_file, positive

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

# (script, arguments, what the message says)
MISTAKES = [
    ("xor.py", ["--hidden", "0"], "a number of neurons >= 1"),
    ("xor.py", ["--lr", "-1"], "a learning rate > 0"),
    ("moons.py", ["--steps", "-3"], "a number of steps >= 0"),
    ("moons.py", ["--samples", "1"], "a number of points >= 2"),
    ("digits_mlp.py", ["--hidden", "512", "0"], "a layer width >= 1"),
    ("digits_mlp.py", ["--batch-size", "nan"], "a batch size >= 1"),
    ("digits_cnn.py", ["--channels", "0", "4"], "a number of channels >= 1"),
    ("digits_cnn.py", ["--lr", "inf"], "a learning rate > 0"),
    ("quadratic_fit.py", ["--steps", "many"], "a number of steps >= 0"),
    ("universal_approx.py", ["--k", "0"], "a steepness > 0"),
    ("part_lifetime.py", ["--lr", "-0.5"], "a learning rate >= 0"),
]
# every option that writes a file, pointed into a folder that does not exist
OUTPUTS = [("activations.py", "--plot"), ("custom_op.py", "--svg"), ("digits_cnn.py", "--plot"),
           ("digits_cnn.py", "--graph"), ("digits_mlp.py", "--plot"), ("digits_mlp.py", "--steps"),
           ("gradcheck_custom_op.py", "--svg"), ("moons.py", "--plot"),
           ("moons.py", "--boundary"), ("part_lifetime.py", "--plot"),
           ("quadratic_fit.py", "--plot"), ("universal_approx.py", "--plot"), ("xor.py", "--plot")]


def _main(script):
    return runpy.run_path(str(EXAMPLES / script), run_name="example")["main"]


@pytest.mark.parametrize("script,argv,message", MISTAKES)
def test_a_bad_number_is_a_usage_message(script, argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        _main(script)(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("script,option", OUTPUTS)
def test_an_output_in_a_missing_folder_stops_before_any_work(script, option, tmp_path, capsys):
    ext = {"--svg": ".svg", "--graph": ".svg", "--steps": ".html"}.get(option, ".png")
    with pytest.raises(SystemExit) as e:
        _main(script)([option, str(tmp_path / "missing" / f"out{ext}")])
    assert e.value.code == 2
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and "create it first" in captured.err
    assert captured.out == ""  # nothing ran: no data loaded, no step trained


def test_the_argument_types():
    assert positive(int, "n >= 1")("3") == 3 and at_least(float, 0, "x >= 0")("0") == 0.0
    for parse, bad in ((positive(int, "n >= 1"), "0"), (positive(float, "x > 0"), "nan"),
                       (at_least(int, 2, "n >= 2"), "1"), (at_least(float, 0, "x >= 0"), "-inf"),
                       (positive(int, "n >= 1"), "1.5")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)


def test_output_files(tmp_path):
    assert output_file(".svg")(str(tmp_path / "a.svg")) == str(tmp_path / "a.svg")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a .svg or .png file"):
        output_file(".svg", ".png")(str(tmp_path / "a.bmp"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory"):
        output_file()(str(tmp_path))
    assert plot_file(".png")(str(tmp_path / "p.png")).endswith("p.png")  # matplotlib: installed


def test_a_plot_without_matplotlib_is_refused_up_front(tmp_path, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(argparse.ArgumentTypeError, match="needs matplotlib"):
        plot_file(".png")(str(tmp_path / "p.png"))
