"""The op reference in docs/ is generated from the table and kept current."""
import pathlib

from gradviz.autograd.ops import OPS, op_reference

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def test_docs_ops_md_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8").strip() == op_reference(user=False).strip(), \
        "docs/ops.md is stale: run `python -m gradviz.autograd > docs/ops.md`"


def test_every_op_has_rule_text_and_doc():
    for op in OPS.values():
        assert op.rule and op.doc, op.key
