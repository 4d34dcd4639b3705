"""``python -m autograd``: print the op reference (Markdown) from the table."""
import importlib.util

if importlib.util.find_spec("autograd.tensor") is not None:
    import autograd.tensor  # noqa: F401  (registers the structural tensor ops)
from autograd.ops import op_reference

print(op_reference())
