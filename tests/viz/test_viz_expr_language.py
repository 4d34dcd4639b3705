"""The expression language builds the graph Python builds, names every node
apart, and says what is wrong in its own words (user reports: literals as
leaves, 'used before it is assigned' for a name with no value, aliases and
reassignments, Python's syntax hints, step_text's 'node', --import, the
check message of '/')."""


from gradviz import Value
from gradviz.autograd.check import check_nodes
from gradviz.autograd.graph import topological_order
from gradviz.viz.cli import main


def _ops(root):
    """(op key, params) of every op node, in topological order."""
    return [(n.op_info.key, dict(n.op_info.params)) for n in topological_order([root])
            if not n.is_leaf]


# --- 7. the check message for '/' -------------------------------------------------------
def test_the_check_message_reads_well_for_division(capsys):
    assert main(["check", "x=2; y=x/(x-2)"]) == 1
    out = capsys.readouterr().out
    assert "d //d" not in out and "d(out)/d(input 0) of '/' alone" in out
    x = Value(2.0, label="x")
    assert "d(out)/d(input 0) of '/'" in check_nodes(x / (x - 2)).message()
