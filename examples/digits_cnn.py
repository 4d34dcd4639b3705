"""Handwritten digits with a small convolutional network:
conv 3x3 (16) - ReLU - max-pool 2 - conv 3x3 (32) - ReLU - max-pool 2 -
flatten - linear (10), softmax cross-entropy.

Without ``--data`` it trains on scikit-learn's 8x8 digits (shipped with
scikit-learn, no download): 8x8 -> 4x4 -> 2x2 feature maps, about 98-99%
test accuracy in well under a minute. With ``--data DIR`` (the four MNIST
IDX .gz files; ``--download`` fetches them) the same network reads 28x28
images (28 -> 14 -> 7). Adam, minibatches of 64, the learning rate decayed
to zero along a cosine over the run (steadier final accuracy).

``--graph PATH`` writes the diagram of one training loss with the graph
collapsed by module (one box per Conv2d / ReLU / MaxPool2d / Linear),
``viz.render(loss, PATH, collapse="module")``.

    python examples/digits_cnn.py [--epochs 10] [--data DIR [--download]] [--graph cnn.svg]
"""
import argparse
import math
import sys
import time

import numpy as np

from gradviz import nn
from gradviz.autograd import Tensor, no_grad
from gradviz.nn.data import DataLoader, load_digits, load_mnist
from gradviz.viz.args import at_least, output_file, plot_file, positive


def build(side: int, channels=(16, 32), classes: int = 10, seed: int = 0) -> nn.Sequential:
    """The CNN for ``side`` x ``side`` one-channel images."""
    mods, cin = [], 1
    for i, c in enumerate(channels):
        mods += [nn.Conv2d(cin, c, 3, padding=1, seed=seed + i), nn.ReLU(), nn.MaxPool2d(2)]
        cin, side = c, side // 2
    mods += [nn.Flatten(), nn.Linear(cin * side * side, classes, nonlinearity="linear",
                                     seed=seed + len(channels))]
    return nn.Sequential(*mods)


def images(X: np.ndarray) -> np.ndarray:
    """Flat (N, side*side) pixels as (N, 1, side, side) images."""
    side = math.isqrt(X.shape[1])
    return X.reshape(len(X), 1, side, side)


def accuracy(model, X: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
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
    return name, images(X_train), y_train, images(X_test), y_test


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=Help)
    ap.add_argument("--data", metavar="DIR",
                    help="train on MNIST: the directory with its four IDX .gz files "
                         "(default: scikit-learn's 8x8 digits, no download)")
    ap.add_argument("--download", action="store_true",
                    help="download MNIST into --data if missing")
    ap.add_argument("--no-checksum", action="store_true",
                    help="skip the SHA-256 check of the MNIST files (for IDX files of your own)")
    ap.add_argument("--epochs", type=at_least(int, 0, "a number of epochs >= 0"),
                    default=10, help="passes over the training set")
    ap.add_argument("--batch-size", type=positive(int, "a batch size >= 1"),
                    default=64, help="samples per Adam step")
    ap.add_argument("--lr", type=positive(float, "a learning rate > 0"),
                    default=1e-2, help="Adam's peak learning rate")
    ap.add_argument("--channels", type=positive(int, "a number of channels >= 1"),
                    nargs=2, default=[16, 32],
                    help="filters of the two 3x3 convolutions")
    ap.add_argument("--seed", type=int, default=0,
                    help="seeds the weights, the split and the batches")
    ap.add_argument("--limit", type=at_least(int, 0, "a number of samples >= 0"),
                    default=0, help="use only this many samples (0: all)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--plot", metavar="PATH", type=plot_file(".png", ".svg", ".pdf"),
                    help="save the loss curve as a PNG at PATH (default: no picture)")
    ap.add_argument("--graph", metavar="PATH",
                    type=output_file(".svg", ".png", ".pdf", ".dot", ".gv"),
                    help="write the module-collapsed diagram of a training loss to PATH, "
                         ".svg .png .pdf .dot (default: no diagram)")
    args = ap.parse_args(argv)

    try:
        name, X_train, y_train, X_test, y_test = load(args)
    except (OSError, ValueError, ImportError) as e:   # offline, bad checksum, no scikit-learn
        raise SystemExit(f"digits_cnn: {e}") from e
    side = X_train.shape[-1]
    model = build(side, tuple(args.channels), seed=args.seed)
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(X_train, y_train, batch_size=args.batch_size, seed=args.seed)
    print(f"{name}: {len(X_train)} train / {len(X_test)} test images of {side}x{side}; CNN "
          f"conv{args.channels[0]}-pool-conv{args.channels[1]}-pool-linear "
          f"({model.num_parameters():,} float32 parameters), Adam lr {args.lr:g}, "
          f"batch {args.batch_size}")
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but stay usable without it
        def tqdm(it, **kw):
            return it
    losses, epoch_losses, test_accs = [], [], []
    total_steps, done = max(args.epochs * len(loader), 1), 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, count = 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch", leave=False,
                   disable=args.no_progress, file=sys.stderr)
        for xb, yb in bar:
            opt.lr = args.lr * 0.5 * (1.0 + math.cos(math.pi * done / total_steps))
            done += 1
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
    graph = None
    if args.graph:
        from gradviz import viz
        loss = loss_fn(model(Tensor(X_train[:8])), y_train[:8])
        loss.label = "loss"
        opt.zero_grad()
        loss.backward()
        graph = viz.render(loss, args.graph, collapse="module")
        print(f"module-collapsed graph of one loss written to {graph}")
    return {"dataset": name, "test_accuracy": final, "train_accuracy": train_acc,
            "epoch_losses": epoch_losses, "test_accuracies": test_accs, "seconds": seconds,
            "model": model, "graph": graph}


if __name__ == "__main__":
    main()
