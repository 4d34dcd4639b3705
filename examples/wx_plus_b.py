"""A neuron's linear part, z = w*x + b, and its three partial derivatives:
dz/db = 1, dz/dw = x, dz/dx = w.

    python examples/wx_plus_b.py [w x b]
"""
import argparse

from gradviz.autograd import Value


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("numbers", nargs="*", type=float, metavar="w x b", default=[0.5, 3.0, -1.0],
                    help="the weight, the input and the bias (three numbers)")
    args = ap.parse_args(argv)
    if len(args.numbers) != 3:
        ap.error(f"give three numbers (w x b) or none, got {len(args.numbers)}")
    w, x, b = (Value(v, label=n) for v, n in zip(args.numbers, "wxb"))
    wx = w * x
    wx.label = "w*x"
    z = wx + b
    z.label = "z"
    z.backward()
    print(f"z = w*x + b = {w.data:g}*{x.data:g} + {b.data:g} = {z.data:g}")
    print(f"dz/db = {b.grad:g}   (always 1)")
    print(f"dz/dw = {w.grad:g}   (= x = {x.data:g})")
    print(f"dz/dx = {x.grad:g}   (= w = {w.data:g})")
    return {"z": z.data, "dz/db": b.grad, "dz/dw": w.grad, "dz/dx": x.grad}


if __name__ == "__main__":
    main()
