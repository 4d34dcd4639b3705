"""The install: one import package, gradviz; nothing shadows other packages."""
import subprocess
import sys

import pytest


def _run(code, cwd):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("name", ["autograd", "nn", "viz"])
def test_old_top_level_names_are_not_installed(name, tmp_path):
    r = _run(f"import {name}", tmp_path)
    assert r.returncode != 0 and f"ModuleNotFoundError: No module named '{name}'" in r.stderr


def test_gradviz_exposes_the_layers(tmp_path):
    r = _run("from gradviz import Value, Tensor, nn, viz, autograd\n"
             "import gradviz.autograd as ag\n"
             "assert ag is autograd and ag.Value is Value and ag.Tensor is Tensor\n"
             "t = Value(15.0) * 2 * 1.1; t.backward(); print(t.data)", tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "33.0"


def test_op_reference_module_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gradviz.autograd"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Op reference")
