"""XOR: one neuron cannot learn it, two layers can.

XOR's four points (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0 are not linearly
separable: a single sigmoid neuron (a perceptron) draws one straight line, so
it gets at most 3 of 4 right however long it trains. An MLP with one hidden
tanh layer bends the boundary and reaches 100%.

    python examples/xor.py [--steps 300] [--hidden 4] [--seed 0] [--plot loss.png]
"""
import argparse

from gradviz import nn
from gradviz.nn.data import make_xor
from gradviz.viz.args import at_least, plot_file, positive

_X, _Y = make_xor()
X, Y = _X.tolist(), _Y.astype(float).tolist()


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def train(model, steps: int, lr: float) -> list[float]:
    """Full-batch Adam on binary cross-entropy; returns the loss per step."""
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCELoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn([model(x) for x in X], Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    return losses


def accuracy(model) -> float:
    return sum((model(x).data > 0.5) == (y > 0.5) for x, y in zip(X, Y)) / len(X)


def report(name: str, model, losses: list[float]) -> float:
    acc = accuracy(model)
    preds = ", ".join(f"{x[0]:g}{x[1]:g}->{model(x).data:.3f}" for x in X)
    print(f"{name}: final loss {losses[-1]:.4f}, accuracy {acc:.0%}  ({preds})")
    return acc


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--steps", type=at_least(int, 0, "a number of steps >= 0"),
                    default=300, help="training steps for each model")
    ap.add_argument("--hidden", type=positive(int, "a number of neurons >= 1"),
                    default=4, help="hidden tanh neurons in the MLP")
    ap.add_argument("--lr", type=positive(float, "a learning rate > 0"),
                    default=0.1, help="Adam learning rate")
    ap.add_argument("--seed", type=int, default=0, help="seeds the initial weights")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the two loss curves as a PNG at PATH (default: no picture)")
    args = ap.parse_args(argv)

    perceptron = nn.Neuron(2, "sigmoid", seed=args.seed)
    p_losses = train(perceptron, args.steps, args.lr)
    p_acc = report("single perceptron (2 -> 1, sigmoid)", perceptron, p_losses)

    mlp = nn.MLP(2, [args.hidden, 1], activation="tanh", out_activation="sigmoid", seed=args.seed)
    m_losses = train(mlp, args.steps, args.lr)
    m_acc = report(f"MLP (2 -> {args.hidden} tanh -> 1 sigmoid)", mlp, m_losses)
    print("the perceptron fails (one line cannot separate XOR); the MLP "
          + ("reaches 100%." if m_acc == 1.0 else f"reaches {m_acc:.0%}."))
    if args.plot:
        print("loss curves saved to " + nn.plot.save_loss_curves(
            args.plot, {"perceptron": p_losses, "MLP": m_losses}, "XOR: binary cross-entropy"))
    return {"perceptron_accuracy": p_acc, "mlp_accuracy": m_acc,
            "perceptron_losses": p_losses, "mlp_losses": m_losses}


if __name__ == "__main__":
    main()
