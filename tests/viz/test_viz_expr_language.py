"""The expression language builds the graph Python builds, names every node
apart, and says what is wrong in its own words (user reports: literals as
leaves, 'used before it is assigned' for a name with no value, aliases and
reassignments, Python's syntax hints, step_text's 'node', --import, the
check message of '/')."""


from gradviz import Value, viz
from gradviz.autograd.check import check_nodes
from gradviz.autograd.graph import topological_order
from gradviz.viz.cli import main


def _ops(root):
    """(op key, params) of every op node, in topological order."""
    return [(n.op_info.key, dict(n.op_info.params)) for n in topological_order([root])
            if not n.is_leaf]


# --- 5. step_text names nodes as the diagrams do ---------------------------------------
def test_step_text_uses_the_diagrams_names():
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2, b = Value(0.0, label="x2"), Value(1.0, label="w2"), Value(6.88, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    names = {it.node: it.name for it in viz.model.build(o).values}
    text = "\n".join(line for s in o.backward_steps() for line in viz.step_text(s))
    assert "node" not in text
    assert f"step 1: {names[o]} (op tanh)" in text and "→ x1*w1 (running sum" in text
    from gradviz.viz.steps import record_steps
    _, recorded = record_steps(o)  # the step page's own text
    assert [ln for s in recorded for ln in s.lines] == text.splitlines()


# --- 7. the check message for '/' -------------------------------------------------------
def test_the_check_message_reads_well_for_division(capsys):
    assert main(["check", "x=2; y=x/(x-2)"]) == 1
    out = capsys.readouterr().out
    assert "d //d" not in out and "d(out)/d(input 0) of '/' alone" in out
    x = Value(2.0, label="x")
    assert "d(out)/d(input 0) of '/'" in check_nodes(x / (x - 2)).message()
