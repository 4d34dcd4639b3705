"""Fixtures shared by the engine's tests."""
import pytest

from gradviz.autograd import define_op
from gradviz.autograd.testing import unregister_op


@pytest.fixture
def user_ops():
    """``make(name, **define_op_args)``: ops defined in a test are removed
    from the table afterwards."""
    made = []

    def make(name, **kw):
        op = define_op(name, **kw)
        made.append(op)
        return op
    yield make
    for op in made:
        unregister_op(op)
