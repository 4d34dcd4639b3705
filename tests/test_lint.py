"""Static checks in the test command (issue 10): ruff (rules in ruff.toml) on the whole
repository, and mypy (mypy.ini: --check-untyped-defs, through the strict editable
install) on the library paths in LINTED. Both run from this venv (`python -m ruff`, `python -m mypy`), so the
versions are the ones pinned in setup.cfg's `test` extra; a failure shows the tool's
own report. pre-commit runs this file, so a commit is checked the same way.

LINTED is the whole library: every path below is kept clean.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINTED = ["src/gradviz", "autograd", "nn", "viz"]
# ruff checks the whole repository (tests, examples, bench and docs too); mypy the library.
RUFF_PATHS = ["."]

# Where each source folder installs (setup.cfg's package_dir): mypy checks the
# installed package, so a path is named to it as a module (-m) or a package (-p).
PACKAGE_DIRS = {"src/gradviz": "gradviz", "autograd": "gradviz.autograd",
                "nn": "gradviz.nn", "viz": "gradviz.viz"}

# mypy reports files through the editable install's link tree
# (build/__editable__.*/gradviz/...): shown as the repository's own paths.
_LINK_TREE = re.compile(r"build/__editable__[^/\s]*/gradviz/(?:(autograd|nn|viz)/)?")


def _module(package: str, file: Path) -> str:
    return package if file.stem == "__init__" else f"{package}.{file.stem}"


def mypy_targets(paths: list[str]) -> list[str]:
    """mypy's -m arguments for repository paths: a file is its module; a package
    folder is each of its modules (not `-p`: src/gradviz's subpackages are the other
    folders, listed on their own)."""
    args = []
    for path in paths:
        p = Path(path)
        folder, rest = next(((d, p.relative_to(d)) for d in map(Path, PACKAGE_DIRS)
                             if p == d or d in p.parents), (None, None))
        if folder is None or rest is None:
            raise ValueError(f"LINTED: {path!r} is not inside one of {list(PACKAGE_DIRS)}")
        package = PACKAGE_DIRS[folder.as_posix()]
        if rest == Path("."):
            files = sorted((ROOT / p).glob("*.py"))
        elif p.suffix == ".py" and len(rest.parts) == 1:
            files = [p]
        else:
            raise ValueError(f"LINTED: {path!r} is neither a package folder nor a module")
        for f in files:
            args += ["-m", _module(package, f)]
    return args


def _repo_paths(text: str) -> str:
    return _LINK_TREE.sub(lambda m: f"{m.group(1)}/" if m.group(1) else "src/gradviz/", text)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True)


def test_ruff_is_clean():
    paths = RUFF_PATHS
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", *paths)
    assert r.returncode == 0, f"ruff check {' '.join(paths)}:\n{r.stdout}{r.stderr}"


def test_mypy_is_clean():
    # follow-imports=silent: modules outside LINTED are analysed (for their types) but
    # their own errors are not reported here. The cache is mypy's own folder (it
    # ignores itself in git), apart from a plain `mypy` run's, whose options differ.
    r = _run("mypy", "--config-file", "mypy.ini", "--follow-imports", "silent",
             "--cache-dir", ".mypy_cache/test_lint", *mypy_targets(LINTED))
    assert r.returncode == 0, f"mypy:\n{_repo_paths(r.stdout)}{r.stderr}"


def test_mypy_targets_name_the_installed_modules():
    args = mypy_targets(["src/gradviz", "nn", "autograd/__init__.py", "autograd/graph.py"])
    modules = args[1::2]
    assert args[::2] == ["-m"] * len(modules)
    assert modules[0] == "gradviz" and "gradviz.nn" in modules and "gradviz.nn.optim" in modules
    assert modules[-2:] == ["gradviz.autograd", "gradviz.autograd.graph"]
    assert not any(m.startswith(("gradviz.viz", "gradviz.autograd.tensor")) for m in modules)
    for bad in ("tests", "autograd/templates/x.html"):
        try:
            mypy_targets([bad])
        except ValueError as e:
            assert bad in str(e)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_linted_covers_the_whole_library():
    """Every library module is checked: a new file in a package folder is linted without
    anyone having to list it."""
    checked = set(mypy_targets(LINTED)[1::2])
    for folder, package in PACKAGE_DIRS.items():
        for f in sorted((ROOT / folder).glob("*.py")):
            assert _module(package, f) in checked, f"{f.relative_to(ROOT)} is not in LINTED"
