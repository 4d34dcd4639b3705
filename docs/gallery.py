"""Regenerate the gallery's pictures (docs/img/gallery/) by running every example.

    .venv/bin/python docs/gallery.py            # all of them (about a minute)
    .venv/bin/python docs/gallery.py moons xor  # some

Each entry is the example's own command line; ``docs/gallery.md`` shows the
pictures and ``tests/docs`` checks that every example in ``examples/`` has
one. Needs matplotlib and scikit-learn (``./dev.sh test`` installs them).
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = pathlib.Path("docs/img/gallery")

#: example -> (arguments, pictures it writes); paths are relative to the repository.
GALLERY: dict[str, tuple[list[str], list[str]]] = {
    "car_tax": ([], ["car_tax.svg"]),
    "wx_plus_b": ([], ["wx_plus_b.svg"]),
    "part_lifetime": (["--plot", "{out}/part_lifetime.svg"], ["part_lifetime.svg"]),
    "xor": (["--plot", "{out}/xor_loss.png"], ["xor_loss.png"]),
    "quadratic_fit": (["--plot", "{out}/quadratic_fit_loss.png"], ["quadratic_fit_loss.png"]),
    "universal_approx": (["--plot", "{out}/universal_approx.png"], ["universal_approx.png"]),
    "moons": (["--plot", "{out}/moons_loss.png", "--boundary", "{out}/moons_boundary.png"],
              ["moons_loss.png", "moons_boundary.png"]),
    "digits_mlp": (["--epochs", "5", "--no-progress", "--plot", "{out}/digits_loss.png"],
                   ["digits_loss.png"]),
    "activations": (["-o", "{out}/activations.png"], ["activations.png"]),
    "custom_op": (["--svg", "{out}/custom_op.svg"], ["custom_op.svg"]),
    "digits_cnn": (["--epochs", "1", "--limit", "300", "--no-progress", "--graph",
                    "{out}/digits_cnn.svg"], ["digits_cnn.svg"]),
    "gradcheck_custom_op": (["--svg", "{out}/gradcheck_custom_op.svg"],
                            ["gradcheck_custom_op.svg"]),
}

# car_tax.py and wx_plus_b.py print their steps and draw nothing: their diagrams are the
# same graphs drawn by the gradviz command.
_EXPR = {
    "car_tax": "price=15; count=2; tax=1.1; subtotal=price*count; total=subtotal*tax",
    "wx_plus_b": "w=0.5; x=3; b=-1; wx=w*x; z=wx+b",
}


def make(name: str) -> None:
    args, _ = GALLERY[name]
    py = sys.executable
    if name in _EXPR:
        cmd = [py, "-m", "gradviz.viz.cli", "expr", _EXPR[name], "-o", f"{OUT}/{name}.svg"]
    else:
        cmd = [py, f"examples/{name}.py", *(a.format(out=OUT) for a in args)]
    print("$", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main(names: list[str]) -> None:
    os.makedirs(ROOT / OUT, exist_ok=True)
    for name in names or list(GALLERY):
        make(name)


if __name__ == "__main__":
    main(sys.argv[1:])
