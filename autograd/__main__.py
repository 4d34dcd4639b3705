"""``python -m gradviz.autograd``: print the op reference (Markdown) from the table."""
from . import tensor  # noqa: F401  (registers the structural tensor ops)
from .ops import op_reference

print(op_reference())
