"""``python -m gradviz.autograd``: print the op reference (Markdown) from the table.

    python -m gradviz.autograd                 # the whole reference (docs/ops.md)
    python -m gradviz.autograd --op tanh       # one op's row (by name, method or symbol)
    python -m gradviz.autograd --import my_ops.py   # with your own define_op ops
"""
import argparse
import os
import sys

from . import tensor  # noqa: F401  (registers the structural tensor ops)
from .custom import ImportOpsError, import_ops
from .ops import OPS, _reference_row, op_reference


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m gradviz.autograd",
        description="Print the op reference (Markdown), generated from the op table: each op's "
                    "symbol, inputs, parameters, local derivative, smooth domain and method.")
    ap.add_argument("--op", metavar="NAME", action="append", default=[],
                    help="print only this op's row (its table name such as 'mul', its method "
                         "such as 'leaky_relu', or its symbol such as '×'); repeatable")
    ap.add_argument("--import", dest="imports", metavar="MODULE_OR_FILE", action="append",
                    default=[], help="import a module or run a .py file first, so that its "
                                     "autograd.define_op ops are listed too; repeatable")
    return ap


def _find(name: str) -> list:
    """The rows called ``name``: by key, else by method, else by symbol."""
    for field in ("key", "method", "symbol"):
        rows = [op for op in OPS.values() if getattr(op, field, None) == name]
        if rows:
            return rows
    return []


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    for spec in a.imports:
        try:
            import_ops(spec)
        except ImportOpsError as e:  # the user's code: one line, no traceback
            sys.stderr.write(f"python -m gradviz.autograd: {e}\n")
            return 2
    if not a.op:
        text = op_reference()
    else:
        rows = []
        for name in a.op:
            found = _find(name)
            if not found:
                sys.stderr.write(f"python -m gradviz.autograd: no op {name!r}; the ops are: "
                                 + ", ".join(OPS) + "\n")
                return 2
            rows += [op for op in found if op not in rows]
        lines = op_reference().split("\n")
        i = next(i for i, ln in enumerate(lines) if ln.startswith("| op |"))
        head = lines[i:i + 2]  # the table's heading row and its rule
        text = "\n".join(head + [_reference_row(op) for op in rows])
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `python -m gradviz.autograd | head`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


sys.exit(main())
