"""Checking your own op's gradient: gradcheck names the wrong op and draws it.

We define softsign(a) = a / (1 + |a|) as our own op, with a planted bug in
its derivative: the right rule is 1 / (1 + |a|)², we forget the square.
Used inside a small computation, the loss's gradient is wrong -- and
``gradcheck`` says which op is to blame, where it was created, and the
analytic against the numeric local derivative. ``check_op`` then
property-tests the op alone and shrinks a failure to the smallest graph.

    python examples/gradcheck_custom_op.py                          # the report, in text
    python examples/gradcheck_custom_op.py --svg gradcheck_softsign.svg  # and its diagram
"""
from __future__ import annotations

import argparse

import gradviz  # noqa: F401  (registers the report drawer)
from gradviz.autograd import GradcheckError, Value, define_op, gradcheck
from gradviz.autograd.testing import OpCheckError, check_op, unregister_op
from gradviz.viz.args import output_file


def make_softsign(buggy: bool = True):
    """Our own op (``autograd.define_op``; see the README, "Your own ops")."""
    if buggy:  # the planted bug: d/da = 1/(1+|a|) -- the square is missing
        deriv = lambda M, out, a: (M.div(1.0, 1.0 + M.absolute(a)),)
    else:
        deriv = lambda M, out, a: (M.div(1.0, (1.0 + M.absolute(a)) * (1.0 + M.absolute(a))),)
    return define_op("my_softsign", forward=lambda M, a: M.div(a, 1.0 + M.absolute(a)), deriv=deriv,
                     rule=("d/da = 1/(1+|a|)²",), domain=(((-3.0, -0.05), (0.05, 3.0)),),
                     kink=lambda a: a == 0)


def loss(w, x, softsign):
    """A one-neuron model: (softsign(w·x) - 0.3)² + 0.1·w²."""
    z = w * x
    z.label = "z"
    h = softsign(z)
    h.label = "h"
    err = h - 0.3
    err.label = "err"
    out = err * err + 0.1 * w * w
    out.label = "loss"
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="Your own op with a planted bug in its derivative: "
                                             "gradcheck names it and draws it, check_op shrinks "
                                             "it to one node.")
    ap.add_argument("--svg", metavar="PATH",
                    type=output_file(".svg", ".png", ".pdf", ".dot", ".gv", ".html", ".htm"),
                    help="also write the report's diagram to PATH (.svg .png .pdf .dot or .html; "
                         "default: no file)")
    a = ap.parse_args(argv)
    softsign = make_softsign(buggy=True)
    result = {}
    try:
        w, x = Value(0.8, label="w"), Value(1.5, label="x")
        try:
            gradcheck(lambda w, x: loss(w, x, softsign), w, x)
        except GradcheckError as err:
            print(err)
            report = err.report
            result.update(op=report.op, node=report.node.label, rows=report.rows)
            if a.svg:
                result["svg"] = report.render(a.svg)
                print(f"\ndiagram: {result['svg']}")
        try:
            check_op(softsign, max_examples=30, dtypes=[float])
        except OpCheckError as err:
            print("\ncheck_op found it too; the smallest failing graph is")
            print(f"    {err.text}")
            result.update(minimal=err.text, minimal_size=err.size)
    finally:
        unregister_op(softsign)
    fixed = make_softsign(buggy=False)
    try:
        result["fixed_ok"] = gradcheck(lambda w, x: loss(w, x, fixed), Value(0.8), Value(1.5)) \
            and check_op(fixed, max_examples=20)
        print("\nwith the square put back: gradcheck and check_op pass")
    finally:
        unregister_op(fixed)
    return result


if __name__ == "__main__":
    main()
