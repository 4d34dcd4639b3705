"""viz.plot_activations: derivatives by backprop, drawn to PNG."""
import math
import os
import runpy

import pytest

from gradviz import viz
from gradviz.viz.plot import ACTIVATIONS, activation_curves


def test_backprop_derivatives_match_central_differences():
    curves = activation_curves(lo=-3.0, hi=3.0, n=25)
    assert set(curves) == set(ACTIVATIONS)
    h = 1e-6
    for name, (xs, ys, ds) in curves.items():
        f = ACTIVATIONS[name]
        for x, y, d in zip(xs, ys, ds):
            if abs(x) < 1e-9 or _on_kink(name, x):
                continue  # a kink (relu at 0, hardswish at ±3...): no derivative to compare
            num = (f(viz_value(x + h)).data - f(viz_value(x - h)).data) / (2 * h)
            assert math.isclose(d, num, rel_tol=1e-5, abs_tol=1e-6), (name, x, d, num)
            assert y == f(viz_value(x)).data


def _on_kink(name, x):
    """Whether ``x`` is a kink of the activation's row (its ``kink`` predicate)."""
    from gradviz.autograd.ops import activations
    op = {o.method: o for o in activations()}[name.split(" (")[0]]
    return op.kink is not None and bool(op.kink(x, *op.defaults.values())[0])


def viz_value(x):
    from gradviz.autograd import Value
    return Value(x)


def test_relu_derivative_at_zero_is_zero():
    xs, _, ds = activation_curves(["relu"], lo=-1.0, hi=1.0, n=3)["relu"]
    assert xs[1] == 0.0 and ds == [0.0, 0.0, 1.0]


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = viz.plot_activations(tmp_path / "act.png", names=["relu", "tanh"], n=21)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert list(os.listdir(tmp_path)) == ["act.png"]  # no temp file left


def test_plot_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown activation"):
        viz.plot_activations(tmp_path / "a.png", names=["nope"])
    with pytest.raises(ValueError, match="lo < hi"):
        activation_curves(["relu"], lo=1.0, hi=0.0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.plot_activations(tmp_path / "missing" / "a.png")


def test_example_script(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    here = os.path.dirname(__file__)
    script = os.path.join(here, "..", "..", "examples", "activations.py")
    out = tmp_path / "a.png"
    mod = runpy.run_path(script)
    assert mod["main"](["-o", str(out)]) == str(out)
    assert out.stat().st_size > 20_000 and "wrote" in capsys.readouterr().out


def test_the_plot_module_is_reachable_as_an_attribute_of_viz():
    import subprocess
    import sys
    code = ("from gradviz import viz; import sys; assert 'matplotlib' not in sys.modules; "
            "assert viz.plot.ACTIVATIONS is viz.plot_activations.__globals__['ACTIVATIONS']\n"
            "try:\n    viz.nope\nexcept AttributeError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "module 'gradviz.viz' has no attribute 'nope'"


def test_the_figure_title_has_a_row_of_its_own_and_relu6_shows_its_cap():
    # a teacher's report: the title sat on the "sigmoid" panel's title, and relu6 on
    # [-4, 4] looked like relu
    pytest.importorskip("matplotlib")
    from gradviz.nn.plot import pyplot
    from gradviz.viz.plot import activation_figure
    plt = pyplot()
    fig = activation_figure(plt)
    try:
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        top = fig._suptitle.get_window_extent(r)
        titled = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
        for name, ax in titled.items():
            assert not top.overlaps(ax.title.get_window_extent(r)), name
        relu6 = titled["relu6"]
        assert relu6.get_xlim()[1] >= 7 and relu6.get_ylim()[1] > 6  # the cap at 6, in view
        assert titled["relu"].get_xlim()[1] < 5                      # the others as they were
    finally:
        plt.close(fig)
    fig = activation_figure(plt, ["relu6"], lo=-1.0, hi=1.0, n=5)  # a range given: for all
    try:
        assert fig.axes[0].lines[-1].get_xdata()[-1] == 1.0
    finally:
        plt.close(fig)
