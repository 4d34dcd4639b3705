"""``python -m gradviz.autograd``: print the op reference (Markdown) from the table."""
import os
import sys

from . import tensor  # noqa: F401  (registers the structural tensor ops)
from .ops import op_reference

try:
    sys.stdout.write(op_reference() + "\n")
    sys.stdout.flush()
except BrokenPipeError:  # `python -m gradviz.autograd | head`: the reader left; end quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)
