"""The op reference in docs/ is generated from the table and kept current."""
import pathlib
import re

from gradviz.autograd.ops import OPS, op_reference

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def test_docs_ops_md_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8").strip() == op_reference(user=False).strip(), \
        "docs/ops.md is stale: run `python -m gradviz.autograd > docs/ops.md`"


def test_every_op_has_rule_text_and_doc():
    for op in OPS.values():
        assert op.rule and op.doc, op.key


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, split where GitHub splits them: at every
    `|` not escaped with a backslash (a `|` inside `code` splits too)."""
    inner = row.strip()
    assert inner.startswith("|") and inner.endswith("|"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner[1:-1])]


def test_docs_ops_md_is_a_valid_markdown_table():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    table = [ln for ln in lines if ln.lstrip().startswith("|")]
    assert len(table) >= 3, "docs/ops.md has no table"
    header, rule, rows = _cells(table[0]), _cells(table[1]), table[2:]
    assert all(re.fullmatch(r":?-{3,}:?", c) for c in rule) and len(rule) == len(header)
    arity = header.index("inputs")
    bad = [(row, len(_cells(row))) for row in rows if len(_cells(row)) != len(header)]
    assert not bad, f"rows whose cell count is not the header's {len(header)} " \
                    f"(an unescaped '|'?): {bad}"
    for row in rows:
        cell = _cells(row)[arity]
        assert cell.isdigit() or cell == "any number", f"arity {cell!r} in: {row}"
