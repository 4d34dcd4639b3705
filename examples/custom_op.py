"""Your own op, first class: softsign(x) = x / (1 + |x|), defined once.

One define_op call gives the op everywhere the built-in ones go: on Values
and Tensors, in the diagram (its symbol, rule text and number on the edge),
in the step-through, in gradcheck, and through create_graph=True a second
derivative for free (the rule is written with the namespace M's math).

    .venv/bin/python examples/custom_op.py                 # prints the checks
    .venv/bin/python examples/custom_op.py --svg out.svg   # and draws the graph
"""
from __future__ import annotations

import argparse

import numpy as np

from gradviz import Tensor, Value, autograd, viz
from gradviz.viz.args import output_file

# (gradviz has softsign built in, x.softsign(); this defines the same op as your own)
softsign = autograd.define_op(
    "my_softsign",
    forward=lambda M, a: a / (1.0 + M.absolute(a)),
    # d/da = 1 / (1 + |a|)^2, written with M's math: it runs on nodes too
    deriv=lambda M, out, a: (1.0 / ((1.0 + M.absolute(a)) * (1.0 + M.absolute(a))),),
    rule=("d/da = 1/(1+|a|)²",),
    domain=(((-3.0, -0.1), (0.1, 3.0)),),   # |a| has a kink at 0: test away from it
    kink=lambda a: (a == 0,),
    doc="x / (1 + |x|): a smooth, bounded cousin of tanh",
)


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each option's default (none shown for options off unless given)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Define softsign once with define_op, draw it, "
                                "gradient-check it and take its second derivative.",
                                formatter_class=Help)
    p.add_argument("--svg", metavar="PATH", default=None,
                   type=output_file(".svg", ".png", ".pdf", ".dot", ".gv"),
                   help="also write the diagram of y = softsign(w*x) to PATH, .svg/.png/.dot "
                        "(default: draw nothing)")
    p.add_argument("--x", type=float, default=1.5, help="the input value x")
    a = p.parse_args(argv)

    x = Value(a.x, label="x")
    w = Value(0.8, label="w")
    y = softsign(w * x)
    y.label = "y"
    y.backward()
    print(f"y = softsign(w*x) = {y.data:.6f}   dy/dx = {x.grad:.6f}   dy/dw = {w.grad:.6f}")

    t = Tensor(np.linspace(-2, 2, 5), requires_grad=True)
    softsign(t).sum().backward()
    print("on a Tensor, d/dt:", np.round(t.grad, 4))

    ok = autograd.gradcheck(softsign, Value(0.7)) and autograd.gradcheck(
        softsign, Tensor(np.array([-1.2, 0.4, 2.0]), requires_grad=True))
    print("gradcheck against central differences:", "ok" if ok else "FAILED")

    v = Value(0.5)
    (d1,) = autograd.grad([softsign(v)], [v], create_graph=True)
    (d2,) = autograd.grad([d1], [v])
    exact = -2.0 / (1.0 + 0.5) ** 3
    print(f"second derivative at 0.5: {d2.data:.6f} (exact {exact:.6f})")

    if a.svg:
        print("wrote", viz.render(y, a.svg))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
