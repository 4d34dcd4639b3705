"""Handwritten digits with a Tensor MLP: 784-512-256-10, ReLU, softmax
cross-entropy.

With ``--data DIR`` (the four MNIST IDX .gz files; ``--download`` fetches
them into DIR, or into ~/.cache/gradviz/mnist without --data) it trains on
MNIST, 28x28 = 784 inputs. Otherwise it uses scikit-learn's 8x8 digits,
which ship inside the package (no download): the same network with 64
inputs, 64-512-256-10, which reaches about 98% test accuracy in a few
seconds. Adam, minibatches of 64, a progress bar per epoch.

    python examples/digits_mlp.py [--epochs 20] [--data DIR [--download]] [--plot loss.png]
                                  [--steps PAGE.html]

``--steps PAGE.html`` writes, after training, the backward pass of one batch
as an interactive step page: module by module (Linear, ReLU, ..., the loss),
with each box's output shape and gradient norms (``viz.steps_html`` with
``collapse="module"``).
"""
import argparse
import os
import sys
import time

import numpy as np

from gradviz import nn
from gradviz.autograd import Tensor, no_grad
from gradviz.nn.data import DataLoader, load_digits, load_mnist
from gradviz.viz.args import at_least, output_file, plot_file, positive


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build(nin: int, hidden=(512, 256), classes: int = 10, seed: int = 0) -> nn.Sequential:
    sizes = [nin, *hidden]
    mods = []
    for i in range(len(hidden)):
        mods += [nn.Linear(sizes[i], sizes[i + 1], seed=seed + i), nn.ReLU()]
    mods.append(nn.Linear(sizes[-1], classes, nonlinearity="linear", seed=seed + len(hidden)))
    return nn.Sequential(*mods)


def accuracy(model, X: np.ndarray, y: np.ndarray, batch: int = 2048) -> float:
    correct = 0
    with no_grad():
        for i in range(0, len(X), batch):
            logits = model(Tensor(X[i:i + batch])).data
            correct += int((logits.argmax(axis=1) == y[i:i + batch]).sum())
    return correct / len(X)


def load(args):
    if args.data or args.download:
        root = args.data or "~/.cache/gradviz/mnist"
        X_train, y_train, X_test, y_test = load_mnist(
            root, download=args.download, sha256={} if args.no_checksum else None)
        name = "MNIST"
    else:
        X_train, y_train, X_test, y_test = load_digits(test_fraction=0.2, seed=args.seed)
        name = "8x8 digits (scikit-learn)"
    if args.limit:
        X_train, y_train = X_train[:args.limit], y_train[:args.limit]
        X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    return name, X_train, y_train, X_test, y_test


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--data", metavar="DIR",
                    help="train on MNIST: the directory with its four IDX .gz files "
                         "(default: scikit-learn's 8x8 digits, no download)")
    ap.add_argument("--download", action="store_true",
                    help="download MNIST into --data (or ~/.cache/gradviz/mnist) if missing")
    ap.add_argument("--no-checksum", action="store_true",
                    help="skip the SHA-256 check of the MNIST files (for IDX files of your own)")
    ap.add_argument("--epochs", type=at_least(int, 0, "a number of epochs >= 0"),
                    default=20, help="passes over the training set")
    ap.add_argument("--batch-size", type=positive(int, "a batch size >= 1"),
                    default=64, help="samples per Adam step")
    ap.add_argument("--lr", type=positive(float, "a learning rate > 0"),
                    default=1e-3, help="Adam learning rate")
    ap.add_argument("--hidden", type=positive(int, "a layer width >= 1"),
                    nargs="+", default=[512, 256],
                    help="widths of the hidden ReLU layers")
    ap.add_argument("--seed", type=int, default=0,
                    help="seeds the weights, the split and the batches")
    ap.add_argument("--limit", type=at_least(int, 0, "a number of samples >= 0"),
                    default=0, help="use only this many samples (0: all)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the loss curve as a PNG at PATH (default: no picture)")
    ap.add_argument("--steps", metavar="PAGE.html", type=output_file(".html", ".htm"),
                    help="write one batch's backward pass, module by module, as a step page "
                         "(default: none)")
    args = ap.parse_args(argv)
    if args.steps and not os.path.isdir(os.path.dirname(os.path.abspath(args.steps))):
        raise SystemExit(f"digits_mlp: the directory for {args.steps!r} does not exist")

    try:
        name, X_train, y_train, X_test, y_test = load(args)
    except (OSError, ValueError, ImportError) as e:   # offline, bad checksum, no scikit-learn
        raise SystemExit(f"digits_mlp: {e}") from e
    nin = X_train.shape[1]
    model = build(nin, args.hidden, seed=args.seed)
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(X_train, y_train, batch_size=args.batch_size, seed=args.seed)
    arch = "-".join(str(n) for n in [nin, *args.hidden, 10])
    print(f"{name}: {len(X_train)} train / {len(X_test)} test images; MLP {arch} "
          f"({model.num_parameters():,} float32 parameters), Adam lr {args.lr:g}, "
          f"batch {args.batch_size}")
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but stay usable without it
        def tqdm(it, **kw):
            return it
    losses, epoch_losses, test_accs = [], [], []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, count = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", leave=False,
                   disable=args.no_progress, file=sys.stderr)
        for xb, yb in bar:
            loss = loss_fn(model(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = float(loss.data)
            losses.append(value)
            total += value * len(xb)
            count += len(xb)
            if not args.no_progress:
                bar.set_postfix(loss=f"{value:.4f}", refresh=False)
        model.eval()
        test_acc = accuracy(model, X_test, y_test)
        epoch_losses.append(total / count)
        test_accs.append(test_acc)
        print(f"epoch {epoch:2d}: train loss {total / count:.4f}, test accuracy {test_acc:.2%} "
              f"({time.perf_counter() - start:.1f}s)")
    seconds = time.perf_counter() - start
    train_acc = accuracy(model, X_train, y_train)
    final = test_accs[-1] if test_accs else accuracy(model, X_test, y_test)
    print(f"final: test accuracy {final:.2%} (train {train_acc:.2%}) after {args.epochs} "
          f"epoch{'s' if args.epochs != 1 else ''} in {seconds:.1f}s")
    if args.plot:
        print("loss curve saved to " + nn.plot.save_loss_curves(
            args.plot, {"minibatch loss": losses}, f"{name}: cross-entropy", xlabel="batch",
            logy=True))
    if args.steps:
        from gradviz import viz
        xb, yb = next(iter(DataLoader(X_test, y_test, batch_size=args.batch_size, seed=0)))
        loss = loss_fn(model(Tensor(xb, label="images")), yb)
        loss.label = "loss"
        print("backward pass of one test batch, module by module: " + viz.steps_html(
            loss, args.steps, collapse="module", title=f"{name}: one batch's backward pass"))
    return {"dataset": name, "test_accuracy": final, "train_accuracy": train_acc,
            "epoch_losses": epoch_losses, "test_accuracies": test_accs, "seconds": seconds,
            "model": model}


if __name__ == "__main__":
    main()
