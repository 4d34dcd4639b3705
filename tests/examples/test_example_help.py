"""Every example script explains itself (--help: a one-line description, each
option's meaning and default) and writes nothing unless asked."""
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def option_entries(help_text: str) -> list[str]:
    """The entries of the options section, one string per option (flags + help)."""
    section = help_text.split("\noptions:\n", 1)[1]
    entries: list[str] = []
    for line in section.splitlines():
        if re.match(r"  -", line):
            entries.append(line.strip())
        elif line.startswith("   ") and entries:
            entries[-1] += " " + line.strip()
    return entries


def test_there_are_examples():
    assert len(EXAMPLES) >= 9


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_help(script, tmp_path):
    res = run(script, "--help", cwd=tmp_path)
    assert res.returncode == 0 and not res.stderr, res.stderr
    out = res.stdout
    assert out.startswith(f"usage: {script.name}")
    description = out.split("\n\n")[1]
    assert re.search(r"[.:!?)]$", description.strip()), description  # not cut mid-sentence
    entries = option_entries(out)
    assert entries and entries[0].startswith("-h, --help")
    for entry in entries[1:]:
        flags = re.match(r"((?:-{1,2}[\w-]+(?: [A-Z_][A-Z_ .\[\]]*)?(?:, )?)+)", entry).group(1)
        meaning = entry[len(flags):].strip()
        assert len(meaning) > 8, entry  # says what the option does
        takes_value = bool(re.search(r"-{1,2}[\w-]+ [A-Z]", flags))
        if takes_value:
            assert "default" in meaning, entry  # and what happens without it
        assert "None" not in meaning and "False" not in meaning, entry
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name,args", [
    ("activations.py", []), ("car_tax.py", []), ("wx_plus_b.py", ["2", "-3", "0.25"]),
    ("wx_plus_b.py", []), ("part_lifetime.py", []), ("universal_approx.py", ["--max-bumps", "4"]),
])
def test_examples_write_nothing_unless_asked(name, args, tmp_path):
    script = next(p for p in EXAMPLES if p.name == name)
    res = run(script, *args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert list(tmp_path.iterdir()) == []


def test_activations_plot_option_as_the_readme_says(tmp_path):
    pytest.importorskip("matplotlib")
    script = next(p for p in EXAMPLES if p.name == "activations.py")
    res = run(script, "--plot", "curves.png", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    assert "wrote curves.png" in res.stdout and "sigmoid" in res.stdout
    res = run(script, "-o", "alias.png", "--at", "0", cwd=tmp_path)  # the old spelling still works
    assert res.returncode == 0 and (tmp_path / "alias.png").exists()


def test_wx_plus_b_refuses_a_wrong_count_with_usage(tmp_path):
    script = next(p for p in EXAMPLES if p.name == "wx_plus_b.py")
    res = run(script, "1", "2", cwd=tmp_path)
    assert res.returncode == 2 and "usage:" in res.stderr and "Traceback" not in res.stderr
    res = run(script, "a", "b", "c", cwd=tmp_path)
    assert res.returncode == 2 and "invalid float value" in res.stderr
