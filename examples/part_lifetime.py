"""One training step of a tiny network, every number printed.

Predicting a machine part's lifetime from its length (0.1) and width (0.2):
2 inputs -> 2 sigmoid hidden neurons -> 1 sigmoid output neuron, every weight
1.0 and every bias 0.5. The forward pass predicts 0.8676 (hidden neurons
sigmoid(0.1 + 0.2 + 0.5) = 0.6900, output sigmoid(0.69 + 0.69 + 0.5)); the
target is 1.0, the loss is the squared error (MSE over one output). One SGD
step at learning rate 0.5 moves every weight against its gradient, and the
loss falls.

    python examples/part_lifetime.py [--lr 0.5] [--plot graph.svg]
"""
import argparse

from gradviz import nn
from gradviz.autograd import Value
from gradviz.viz.args import at_least, output_file


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build() -> nn.MLP:
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid")
    return model.set_weights(1.0, 0.5)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--lr", type=at_least(float, 0, "a learning rate >= 0"),
                    default=0.5, help="SGD learning rate")
    ap.add_argument("--x", type=float, nargs=2, default=[0.1, 0.2], metavar=("LENGTH", "WIDTH"),
                    help="the part's length and width (the two inputs)")
    ap.add_argument("--target", type=float, default=1.0, help="the lifetime to predict")
    ap.add_argument("--plot", metavar="PATH",
                    type=output_file(".svg", ".png", ".pdf", ".tex", ".dot", ".gv"),
                    help="also draw the graph of the loss into PATH (.svg .png .pdf .tex .dot; "
                         "default: no picture)")
    args = ap.parse_args(argv)

    model = build()
    loss_fn = nn.MSELoss()
    opt = nn.optim.SGD(model.parameters(), lr=args.lr)
    print(f"network: {model.extra_repr()}; weights 1.0, biases 0.5")

    x = [Value(args.x[0], label="length"), Value(args.x[1], label="width")]
    hidden = model.layers[0](x)
    pred = model(x)
    print(f"input: length={args.x[0]:g}, width={args.x[1]:g}; target {args.target:g}")
    print("hidden: " + ", ".join(f"{h.label} = {h.data:.4f}" for h in hidden))
    print(f"prediction: {pred.data:.4f}")
    loss = loss_fn(pred, args.target)
    loss.label = "loss"
    print(f"loss before: {loss.data:.6f}")

    opt.zero_grad()
    loss.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    print("gradients (d loss / d parameter):")
    for p in model.parameters():
        print(f"    {p.label:>8}  {p.grad:+.6f}")
    if args.plot:
        from gradviz.viz import render
        print(f"graph written to {render(loss, args.plot)}")
    opt.step()

    pred_after = model(x)
    loss_after = loss_fn(pred_after, args.target)
    print(f"after one SGD step (lr {args.lr:g}): prediction {pred_after.data:.4f}, "
          f"loss after: {loss_after.data:.6f} "
          f"({'fell' if loss_after.data < loss.data else 'did not fall'} by "
          f"{loss.data - loss_after.data:.6f})")
    return {"prediction": pred.data, "loss_before": loss.data, "loss_after": loss_after.data,
            "prediction_after": pred_after.data, "grads": grads}


if __name__ == "__main__":
    main()
