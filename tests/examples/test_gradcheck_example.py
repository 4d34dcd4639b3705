"""examples/gradcheck_custom_op.py: the planted bug is named, drawn and shrunk."""
import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_gradcheck_custom_op_names_draws_and_shrinks_the_bug(tmp_path, capsys):
    res = runpy.run_path(str(EXAMPLES / "gradcheck_custom_op.py"), run_name="example")["main"](
        ["--svg", str(tmp_path / "gradcheck_softsign.svg")])
    out = capsys.readouterr().out
    assert res["op"] == "my_softsign" and res["node"] == "h"
    (_, analytic, numeric, _rel), = res["rows"]
    z = 0.8 * 1.5
    assert analytic == pytest.approx(1 / (1 + z)) and numeric == pytest.approx(1 / (1 + z) ** 2)
    assert "wrong local derivative in op 'my_softsign' at node 'h'" in out
    assert "gradcheck_custom_op.py:" in out
    svg = (tmp_path / "gradcheck_softsign.svg").read_text()
    assert "softsign" in svg and "analytic" in svg
    assert res["minimal_size"] == 1 and res["minimal"].endswith("= my_softsign(x0)")
    assert res["fixed_ok"] is True
