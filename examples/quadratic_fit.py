"""A small tanh MLP learns a parabola y = a x^2 + b x + c from samples.

The network never sees the formula: 1 input -> 8 tanh -> 8 tanh -> 1 linear,
trained with Adam on the mean squared error over points x in [-1, 1]. The
loss falls by orders of magnitude and the fitted curve matches the parabola,
on the training points and between them.

    python examples/quadratic_fit.py [--a 2 --b -1 --c 0.5] [--steps 800] [--plot loss.png]
"""
import argparse

from gradviz import nn
from gradviz.viz.args import at_least, plot_file, positive


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--a", type=float, default=2.0, help="coefficient of x^2")
    ap.add_argument("--b", type=float, default=-1.0, help="coefficient of x")
    ap.add_argument("--c", type=float, default=0.5, help="constant term")
    ap.add_argument("--points", type=int, default=21, help="training points on [-1, 1]")
    ap.add_argument("--hidden", type=positive(int, "a layer width >= 1"), nargs="+", default=[8, 8],
                    help="widths of the hidden tanh layers")
    ap.add_argument("--steps", type=at_least(int, 0, "a number of steps >= 0"),
                    default=800, help="Adam steps")
    ap.add_argument("--lr", type=positive(float, "a learning rate > 0"),
                    default=0.03, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=0, help="seeds the initial weights")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the loss curve and the fit as a PNG at PATH (default: no picture)")
    args = ap.parse_args(argv)
    if args.points < 2:
        ap.error("--points must be at least 2")

    def f(x: float) -> float:
        return args.a * x * x + args.b * x + args.c

    xs = [-1.0 + 2.0 * i / (args.points - 1) for i in range(args.points)]
    ys = [f(x) for x in xs]
    model = nn.MLP(1, [*args.hidden, 1], activation="tanh", seed=args.seed, init="uniform")
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()
    formula = f"{args.a:g} x^2 {'-' if args.b < 0 else '+'} {abs(args.b):g} x " \
              f"{'-' if args.c < 0 else '+'} {abs(args.c):g}"
    print(f"fitting y = {formula} with MLP({model.extra_repr()}), "
          f"{model.num_parameters()} parameters, {args.points} points")
    losses = []
    every = max(1, args.steps // 5)
    for step in range(1, args.steps + 1):
        loss = loss_fn([model([x]) for x in xs], ys)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
        if step == 1 or step % every == 0 or step == args.steps:
            print(f"step {step:4d}  mse {loss.data:.6f}")

    print("     x     true   fitted")
    for x in (-1.0, -0.5, 0.0, 0.25, 0.5, 1.0):
        print(f"{x:6.2f} {f(x):8.4f} {model([x]).data:8.4f}")
    between = [-1.0 + 2.0 * (i + 0.5) / (args.points - 1) for i in range(args.points - 1)]
    max_err = max(abs(model([x]).data - f(x)) for x in between)
    final = loss_fn([model([x]) for x in xs], ys).data
    print(f"final training mse {final:.6f} (started at {losses[0]:.4f}); "
          f"largest error between training points {max_err:.4f}")
    if args.plot:
        print("loss curve saved to " + nn.plot.save_loss_curves(
            args.plot, {"mse": losses}, "quadratic fit: training loss", logy=True))
    return {"losses": losses, "final_mse": final, "max_error_between": max_err}


if __name__ == "__main__":
    main()
