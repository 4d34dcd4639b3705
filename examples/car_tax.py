"""The chain rule on the car-tax example.

One car costs 15; buying 2 makes 30; a 10% tax makes 33. How much does the
total change per unit of price? d(total)/d(price) = 1 x 1.1 x 2 = 2.2.

    python examples/car_tax.py
"""
import argparse
import sys

from gradviz.autograd import Value
from gradviz.autograd.graph import Step


def build():
    price = Value(15.0, label="price")
    count = Value(2, label="count")
    tax = Value(1.1, label="tax")
    subtotal = price * count
    subtotal.label = "subtotal"
    total = subtotal * tax
    total.label = "total"
    return price, count, tax, subtotal, total


def fmt(x: float) -> str:
    return f"{x:.10g}" if abs(x - round(x, 10)) > 1e-12 else f"{round(x, 10):g}"


def describe(step: Step) -> list[str]:
    lines = [f"step {step.index + 1}: {step.node.label} (op {step.node.op}) "
             f"has grad {fmt(step.grad)}"]
    for parent, local, contribution in step.contributions:
        lines.append(f"    d{step.node.label}/d{parent.label} = {fmt(local)};  "
                     f"{fmt(step.grad)} x {fmt(local)} = {fmt(contribution)} -> {parent.label}")
    return lines


def main(argv=()) -> dict:
    argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()) +
                            " Prints the forward pass, each backward step and the gradients; "
                            "takes no options.").parse_args(list(argv))
    price, count, tax, subtotal, total = build()
    print(f"total = price x count x tax = 15 x 2 x 1.1 = {fmt(total.data)}")
    print("backward, one node at a time (gradient x local derivative = contribution):")
    for step in total.backward_steps():
        print("\n".join(describe(step)))
    grads = {v.label: v.grad for v in (price, count, tax, subtotal, total)}
    print("gradients: " + ", ".join(f"d(total)/d({k}) = {fmt(g)}" for k, g in grads.items()))
    print("chain rule: d(total)/d(price) = 1 x 1.1 x 2 = " + fmt(price.grad))
    return grads


if __name__ == "__main__":
    main(sys.argv[1:])
