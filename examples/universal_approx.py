"""Why a network with enough neurons can draw any curve: bumps and valleys.

Weights are set by hand (no training), so each piece can be read off:

1. one sigmoid neuron with a steep weight k is a step at x = -b/k;
2. a sum of two steps, one added and one subtracted, is a bump (a valley
   when the output weight is negative): 2 hidden neurons, 1 linear output;
3. a composition: a sigmoid neuron on top of the bump sharpens it into a
   plateau, and a bump minus a narrower bump is a volcano (two layers);
4. a sum of N bumps whose heights follow f: the hidden layer of an ordinary
   MLP(1, [2N, 1]). Its largest error on sin(2 pi x) shrinks as N grows.

    python examples/universal_approx.py [--k 200] [--plot curves.png]
"""
import argparse
import math

from gradviz import nn
from gradviz.viz.args import at_least, plot_file, positive

BARS = " ▁▂▃▄▅▆▇█"


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def spark(ys: list[float], lo: float, hi: float) -> str:
    """A one-line sketch of ys: one block character per point."""
    span = (hi - lo) or 1.0
    return "".join(BARS[max(0, min(8, round((y - lo) / span * 8)))] for y in ys)


def bumps(edges: list[float], heights: list[float], k: float) -> nn.MLP:
    """MLP(1, [2N, 1]): neuron pairs (step up at edges[i], step down at
    edges[i+1]), output weights +h_i and -h_i."""
    n = len(heights)
    model = nn.MLP(1, [2 * n, 1], activation="sigmoid")
    steps_at = [edges[i + j] for i in range(n) for j in (0, 1)]
    hidden_w = [k] * (2 * n)
    hidden_b = [-k * e for e in steps_at]
    out_w = [h * s for h in heights for s in (1.0, -1.0)]
    model.set_weights([hidden_w, [out_w]], [hidden_b, [0.0]])
    return model


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--k", type=positive(float, "a steepness > 0"),
                    default=200.0, help="steepness of the sigmoid steps")
    ap.add_argument("--points", type=at_least(int, 2, "a number of points >= 2"),
                    default=60, help="points drawn on [0, 1]")
    ap.add_argument("--max-bumps", type=positive(int, "a number of bumps >= 1"), default=32,
                    help="the largest number of bumps N tried for sin(2 pi x)")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the curves as a PNG at PATH (default: no picture)")
    args = ap.parse_args(argv)
    k = args.k
    xs = [(i + 0.5) / args.points for i in range(args.points)]

    def curve(model) -> list[float]:
        return [model([x]).data for x in xs]

    step = nn.Neuron(1, "sigmoid", w=k, b=-k * 0.4)
    bump = bumps([0.3, 0.6], [1.0], k)
    valley = bumps([0.3, 0.6], [-1.0], k)
    shown = {"step at 0.4 (1 neuron)": curve(step),
             "bump on [0.3, 0.6] (2 neurons)": curve(bump),
             "valley on [0.3, 0.6] (2 neurons)": curve(valley)}

    # compositions: neurons fed by neurons
    soft = bumps([0.3, 0.6], [1.0], 15.0)            # a soft bump ...
    sharpen = nn.Neuron(1, "sigmoid", w=40.0, b=-20.0)  # ... thresholded at 0.5
    shown["sigmoid(bump) (3 neurons, 2 layers)"] = [sharpen([soft([x])]).data for x in xs]
    inner = bumps([0.4, 0.5], [0.6], k)
    shown["bump - narrow bump (4 neurons)"] = [b - i for b, i in zip(curve(bump), curve(inner))]

    for name, ys in shown.items():
        print(f"{name:<36} |{spark(ys, -1.0 if min(ys) < -0.01 else 0.0, 1.0)}|")

    def f(x: float) -> float:
        return math.sin(2 * math.pi * x)

    print("approximating sin(2 pi x) on [0, 1] by N bumps (an MLP with 2N sigmoid neurons):")
    errors = {}
    approx = None
    n = 1
    while n <= args.max_bumps:
        edges = [i / n for i in range(n + 1)]
        heights = [f((i + 0.5) / n) for i in range(n)]
        model = bumps(edges, heights, max(k, 40.0 * n))
        approx = curve(model)
        errors[n] = max(abs(a - f(x)) for a, x in zip(approx, xs))
        head = f"  N = {n:2d} bumps ({2 * n:2d} hidden neurons): largest error {errors[n]:.3f}  "
        print(f"{head}|{spark(approx, -1.0, 1.0)}|")
        n *= 2
    print(f"{'  target sin(2 pi x)':<{len(head)}}|{spark([f(x) for x in xs], -1.0, 1.0)}|")
    if args.plot:
        curves = dict(shown)
        curves[f"{n // 2} bumps ~ sin(2 pi x)"] = approx
        print("curves saved to " + nn.plot.save_curves(
            args.plot, xs, curves, "sums and compositions of sigmoid neurons"))
    return {"curves": shown, "errors": errors, "xs": xs}


if __name__ == "__main__":
    main()
