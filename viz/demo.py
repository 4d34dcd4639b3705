"""The worked examples behind ``gradviz demo`` (importable from an installed
package, unlike ``examples/``).

* :func:`car_tax` -- price 15 × count 2 × tax 1.1 = 33; the chain rule gives
  d(total)/d(price) = 1 × 1.1 × 2 = 2.2.
* :func:`part_lifetime` -- a machine part's lifetime from its length (0.1)
  and width (0.2): 2 inputs -> 2 sigmoid hidden -> 1 sigmoid output, every
  weight 1.0 and every bias 0.5, predicting 0.8676 against a target of 1.0
  (squared-error loss); :func:`train_part_lifetime` runs a few SGD steps.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from ..autograd import Value

__all__ = ["car_tax", "part_lifetime", "train_part_lifetime", "run_demo", "CAR_TAX_EXPR"]

CAR_TAX_EXPR = "price = 15; count = 2; tax = 1.1; subtotal = price * count; total = subtotal * tax"


def car_tax() -> dict[str, Value]:
    """The car-tax graph, forward pass only: {name: Value}."""
    price = Value(15.0, label="price")
    count = Value(2, label="count")
    tax = Value(1.1, label="tax")
    subtotal = price * count
    subtotal.label = "subtotal"
    total = subtotal * tax
    total.label = "total"
    return {"price": price, "count": count, "tax": tax, "subtotal": subtotal, "total": total}


def part_lifetime():
    """(model, prediction, loss) for the part-lifetime network on its one sample."""
    from .. import nn
    model = nn.MLP(2, [2, 1], activation="sigmoid", out_activation="sigmoid")
    model.set_weights(1.0, 0.5)
    return (model, *_loss(model))


def _loss(model) -> tuple[Value, Value]:
    from .. import nn
    pred = model([Value(0.1, label="length"), Value(0.2, label="width")])
    pred.label = "prediction"
    loss = nn.MSELoss()(pred, 1.0)
    loss.label = "loss"
    return pred, loss


def train_part_lifetime(steps: int = 5, lr: float = 0.5,
                        say: Callable[[str], None] = print) -> list[float]:
    """A small training run: ``steps`` SGD steps at ``lr``; returns the losses."""
    from .. import nn
    model, _, _ = part_lifetime()
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for i in range(steps + 1):
        _, loss = _loss(model)
        losses.append(loss.data)
        say(f"  step {i}: loss {loss.data:.6f}")
        if i == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def run_demo(outdir: str = "out", say: Callable[[str], None] = print) -> list[str]:
    """Write the car-tax diagram and step page and the part-lifetime diagram
    into ``outdir`` (created if missing; its parent must exist); returns the paths."""
    from .dot import render
    from .steps import steps_html
    parent = os.path.dirname(os.path.abspath(outdir))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"demo: the directory {parent!r} (parent of {outdir!r}) "
                                "does not exist")
    os.makedirs(outdir, exist_ok=True)
    paths = []
    ct = car_tax()
    ct["total"].backward()
    paths.append(render(ct["total"], os.path.join(outdir, "car_tax.svg")))
    say(f"car tax: total = 15 × 2 × 1.1 = 33; d(total)/d(price) = {ct['price'].grad:.4g}")
    paths.append(steps_html(car_tax()["total"], os.path.join(outdir, "car_tax_steps.html"),
                            title="Backprop step by step: the car tax"))
    model, pred, loss = part_lifetime()
    loss.backward()
    paths.append(render(loss, os.path.join(outdir, "part_lifetime.svg"), legend=True,
                        params=model.parameters()))
    say(f"part lifetime: prediction {pred.data:.4f} "
        f"(target 1.0), loss {loss.data:.6f}")
    say("a small training run (SGD, lr 0.5):")
    train_part_lifetime(5, 0.5, say)
    return paths
