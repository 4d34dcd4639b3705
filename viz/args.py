"""argparse types for the ``gradviz`` command and the example scripts, so a
mistyped argument is a usage message (exit 2) before any work starts, not a
traceback after a training run:

    ap.add_argument("--hidden", type=positive(int, "a number of neurons >= 1"))
    ap.add_argument("--plot", type=plot_file(".png", ".svg", ".pdf"))
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
from collections.abc import Callable
from typing import Any

__all__ = ["RANKDIRS", "rankdir", "positive", "at_least", "check_output", "output_file",
           "plot_file"]

#: Graphviz's layout directions, upper case as it spells them (the first two are
#: the ones the docs offer); ``--rankdir`` and ``rankdir=`` take either case.
RANKDIRS = ("LR", "TB", "RL", "BT")


def rankdir(text: str) -> str:
    """``--rankdir``: one of :data:`RANKDIRS` in either case, as Graphviz spells it
    (a refusal quotes what was typed, not its upper case)."""
    if text.upper() in RANKDIRS:
        return text.upper()
    raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                     f"{', '.join(RANKDIRS)}, in either case)")


def at_least(kind: Callable[[str], Any], low: float, what: str) -> Callable[[str], Any]:
    """A number of type ``kind`` (int or float), finite and >= ``low``;
    ``what`` says what is expected ("a number of steps >= 0")."""
    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (math.isfinite(v) and v >= low):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v
    parse.__name__ = what  # argparse names the type by it in its messages
    return parse


def positive(kind: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    """A finite number of type ``kind`` greater than 0."""
    def parse(text: str) -> Any:
        v = at_least(kind, -math.inf, what)(text)
        if not v > 0:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v
    parse.__name__ = what
    return parse


def check_output(path: str, exts: tuple = (), formats: str = "") -> str:
    """The one check of a file about to be written (the ``gradviz`` command's
    ``-o``, the examples' options): not a directory, with one of ``exts``
    when given (``formats`` says which in the message), in a directory that
    exists. Returns the extension; raises ``argparse.ArgumentTypeError``."""
    allowed = tuple(e.lower() for e in exts)
    if os.path.isdir(path):
        example = os.path.join(path, "out" + (allowed or (".png",))[0])
        raise argparse.ArgumentTypeError(f"{path!r} is a directory; give a file name "
                                         f"such as {example!r}")
    ext = os.path.splitext(path)[1].lower()
    if allowed and ext not in allowed:
        raise argparse.ArgumentTypeError(
            f"cannot tell the format of {path!r}: "
            + (formats or f"expected a {' or '.join(allowed)} file"))
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise argparse.ArgumentTypeError(f"the directory {d!r} does not exist "
                                         f"(for {path!r}); create it first")
    return ext


def output_file(*exts: str) -> Callable[[str], str]:
    """An argparse type: a file to write (see :func:`check_output`)."""
    def parse(path: str) -> str:
        check_output(path, exts)
        return path
    parse.__name__ = "output file"
    return parse


def plot_file(*exts: str) -> Callable[[str], str]:
    """:func:`output_file` for a matplotlib figure: also checks that
    matplotlib (an optional extra) is installed, before the work that the
    figure would show."""
    check = output_file(*exts)

    def parse(path: str) -> str:
        path = check(path)
        if importlib.util.find_spec("matplotlib") is None:
            raise argparse.ArgumentTypeError(
                f"drawing {path!r} needs matplotlib: pip install 'gradviz-engine[examples]' "
                "(or pip install matplotlib)")
        return path
    parse.__name__ = "plot file"
    return parse
