"""micrograd's demo: a scalar MLP separates two moons.

100 noisy points on two interleaving half circles, labels -1/+1, an
MLP(2, [16, 16, 1]) of Values (337 parameters, ReLU hidden layers, linear
output), the max-margin (SVM) loss mean(relu(1 - y * score)) plus 1e-4 times
the sum of squared parameters, and full-batch SGD with the learning rate
decaying from 1.0 to 0.1 over the run. It reaches 100% training accuracy.

    python examples/moons.py [--steps 100] [--samples 100] [--seed 0]
                             [--plot loss.png] [--boundary moons.png]
"""
import argparse
import time

from gradviz import nn
from gradviz.autograd import wsum
from gradviz.nn.data import make_moons
from gradviz.viz.args import at_least, plot_file


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def svm_loss(model, X, y, alpha: float):
    """(total loss, accuracy): mean hinge loss + alpha * L2 of the parameters."""
    scores = [model(x) for x in X]
    hinge = [(1.0 - yi * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(hinge[1:], hinge[0]) * (1.0 / len(hinge))
    params = model.parameters()
    total = data_loss + alpha * wsum(params, params)      # sum of p*p as one node
    acc = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
    return total, acc


def save_boundary(path: str, model, X, y) -> str:
    import numpy as np
    plt = nn.plot.pyplot("moons --boundary")
    xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 60)
    ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 60)
    grid = np.array([[model([a, b]).data > 0 for a in xs] for b in ys])
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    ax.contourf(xs, ys, grid, levels=[-0.5, 0.5, 1.5], alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap="coolwarm", edgecolors="k", linewidths=0.5)
    ax.set_title("moons: decision boundary")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--steps", type=at_least(int, 0, "a number of steps >= 0"),
                    default=100, help="full-batch SGD steps")
    ap.add_argument("--samples", type=at_least(int, 2, "a number of points >= 2"),
                    default=100, help="points in the data set")
    ap.add_argument("--noise", type=at_least(float, 0, "a noise level >= 0"), default=0.1,
                    help="standard deviation of the noise added to the points")
    ap.add_argument("--seed", type=int, default=0, help="seeds the data and the weights")
    ap.add_argument("--alpha", type=at_least(float, 0, "a regularisation strength >= 0"),
                    default=1e-4, help="L2 regularisation strength")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the loss curve as a PNG at PATH (default: no picture)")
    ap.add_argument("--boundary", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the decision boundary as a PNG at PATH (default: no picture)")
    args = ap.parse_args(argv)

    X, labels = make_moons(args.samples, noise=args.noise, seed=args.seed)
    y = (labels * 2 - 1).tolist()
    Xl = X.tolist()
    model = nn.MLP(2, [16, 16, 1], seed=args.seed)
    opt = nn.optim.SGD(model.parameters(), lr=1.0)
    print(f"moons: {args.samples} points, MLP({model.extra_repr()}), "
          f"{model.num_parameters()} parameters")
    losses, accs = [], []
    every = max(1, args.steps // 10)
    start = time.perf_counter()
    for k in range(args.steps):
        total, acc = svm_loss(model, Xl, y, args.alpha)
        opt.zero_grad()
        total.backward()
        opt.lr = 1.0 - 0.9 * k / args.steps
        opt.step()
        losses.append(total.data)
        accs.append(acc)
        if k % every == 0 or k == args.steps - 1:
            print(f"step {k:3d} loss {total.data:.4f}, accuracy {acc:.0%}")
    final_loss, final_acc = svm_loss(model, Xl, y, args.alpha)
    seconds = time.perf_counter() - start
    first = next((i for i, a in enumerate(accs) if a == 1.0), None)
    print(f"final: loss {final_loss.data:.4f}, training accuracy {final_acc:.0%}"
          + (f" (first 100% at step {first})" if first is not None else "")
          + f", {seconds:.1f}s")
    if args.plot:
        print("loss curve saved to " + nn.plot.save_loss_curves(
            args.plot, {"SVM loss + L2": losses}, "moons: training loss"))
    if args.boundary:
        print("decision boundary saved to " + save_boundary(args.boundary, model, X, labels))
    return {"losses": losses, "accuracies": accs, "final_accuracy": final_acc,
            "final_loss": final_loss.data, "seconds": seconds, "model": model}


if __name__ == "__main__":
    main()
