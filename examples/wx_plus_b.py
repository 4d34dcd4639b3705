"""A neuron's linear part, z = w*x + b, and its three partial derivatives:
dz/db = 1, dz/dw = x, dz/dx = w.

    python examples/wx_plus_b.py [w x b]
"""
import sys

from gradviz.autograd import Value


def main(argv=None) -> dict:
    args = [float(a) for a in (argv if argv is not None else sys.argv[1:])] or [0.5, 3.0, -1.0]
    if len(args) != 3:
        raise SystemExit("usage: wx_plus_b.py [w x b]")
    w, x, b = (Value(v, label=n) for v, n in zip(args, "wxb"))
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
