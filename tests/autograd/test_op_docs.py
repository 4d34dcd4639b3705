"""The op reference in docs/ is generated from the table and kept current."""
import pathlib
import re

from gradviz.autograd.ops import NAMESPACE_DOC, OPS, ArrayMath, FloatMath, NodeMath, op_reference

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


def _tables(text: str) -> list[list[str]]:
    """The Markdown tables of ``text``: runs of consecutive lines starting with `|`."""
    tables: list[list[str]] = [[]]
    for ln in text.splitlines():
        if ln.lstrip().startswith("|"):
            tables[-1].append(ln)
        elif tables[-1]:
            tables.append([])
    return [t for t in tables if t]


def _check_table(table: list[str]) -> tuple[list[str], list[str]]:
    assert len(table) >= 3, table
    header, rule, rows = _cells(table[0]), _cells(table[1]), table[2:]
    assert all(re.fullmatch(r":?-{3,}:?", c) for c in rule) and len(rule) == len(header)
    bad = [(row, len(_cells(row))) for row in rows if len(_cells(row)) != len(header)]
    assert not bad, f"rows whose cell count is not the header's {len(header)} " \
                    f"(an unescaped '|'?): {bad}"
    return header, rows


def test_docs_ops_md_is_a_valid_markdown_table():
    tables = _tables(DOC.read_text(encoding="utf-8"))
    assert len(tables) == 2, "docs/ops.md: the op table, then the namespace table"
    header, rows = _check_table(tables[0])
    arity = header.index("inputs")
    for row in rows:
        cell = _cells(row)[arity]
        assert cell.isdigit() or cell == "any number", f"arity {cell!r} in: {row}"
    _, rows = _check_table(tables[1])
    assert [_cells(r)[0].strip("`") for r in rows] == sorted(NAMESPACE_DOC)


def test_the_namespace_table_lists_what_every_namespace_has():
    """A rule written once runs on floats, arrays and nodes: the reference lists
    exactly the functions all three namespaces provide, each described."""
    def public(ns):
        return {k for k in dir(ns) if not k.startswith("_")}
    common = public(FloatMath) & public(ArrayMath) & public(NodeMath)
    assert set(NAMESPACE_DOC) == common, (
        f"undocumented: {sorted(common - set(NAMESPACE_DOC))}; "
        f"not in every namespace: {sorted(set(NAMESPACE_DOC) - common)}")
    assert all(text.strip() for text in NAMESPACE_DOC.values())
