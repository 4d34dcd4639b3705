"""Activation functions and their derivatives, the derivatives computed by
backprop (``x.grad`` after ``f(x).backward()``), saved as a PNG.

    python examples/activations.py [-o activations.png]
"""
import argparse

from gradviz import viz


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="activations.png", help="PNG to write")
    args = ap.parse_args(argv)
    path = viz.plot_activations(args.output)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
