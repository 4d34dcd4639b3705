"""Activation functions and their derivatives, each derivative computed by
backprop (``x.grad`` after ``f(x).backward()``): a table in the terminal, or
a PNG with --plot.

    python examples/activations.py [--plot activations.png] [--at -2 -1 0 1 2]
"""
import argparse

from gradviz import viz
from gradviz.autograd import Value
from gradviz.viz.args import plot_file
from gradviz.viz.plot import ACTIVATIONS


def table(xs: list[float]) -> list[str]:
    """f(x) and f'(x) (by backprop) for every activation at the points xs."""
    lines = [f"{'activation':<20}" + "".join(f"{f'x = {x:g}':>18}" for x in xs),
             f"{'':<20}" + "".join(f"{'f':>9}{'df/dx':>9}" for _ in xs)]
    for name, f in ACTIVATIONS.items():
        cells = []
        for x0 in xs:
            x = Value(x0)
            y = f(x)
            y.backward()
            cells.append(f"{y.data:>9.4f}{x.grad:>9.4f}")
        lines.append(f"{name:<20}" + "".join(cells))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--plot", "-o", "--output", dest="plot", metavar="PATH",
                    type=plot_file(".png"),
                    default=argparse.SUPPRESS,
                    help="also save the curves and their derivatives as a PNG at PATH (needs "
                         "matplotlib: pip install 'gradviz-engine[examples]'; default: the "
                         "table only, nothing written)")
    ap.add_argument("--at", type=float, nargs="+", default=[-2.0, -1.0, 0.0, 1.0, 2.0],
                    metavar="X", help="the points of the table")
    args = ap.parse_args(argv)
    print("\n".join(table(args.at)))
    path = getattr(args, "plot", None)
    if path is None:
        print("(add --plot PATH to save the curves as a PNG)")
        return None
    path = viz.plot_activations(path)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
