"""The benchmarks say which extra to install when a peer is missing (no KeyError)."""
import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"


def run_without(blocked: list[str], script: str, *args):
    """Run a bench script with the ``blocked`` modules unimportable."""
    code = ("import runpy, sys\n"
            f"for m in {blocked!r}:\n    sys.modules[m] = None\n"
            f"sys.argv = [{script!r}, *{list(args)!r}]\n"
            f"runpy.run_path({str(BENCH / script)!r}, run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)


def test_bench_scalar_without_micrograd_names_the_extra():
    res = run_without(["micrograd"], "bench_scalar.py", "--quick")
    assert res.returncode == 2, res.stderr
    assert "micrograd" in res.stderr and "pip install -e '.[bench]'" in res.stderr
    assert "gradviz-engine" in res.stderr
    assert "Traceback" not in res.stderr and "KeyError" not in res.stderr


def test_bench_tensor_without_torch_says_how_to_get_the_columns():
    res = run_without(["torch"], "bench_tensor.py", "--quick", "--task", "ops")
    assert res.returncode == 0, res.stderr
    assert "pip install -e '.[bench]'" in res.stdout and "Traceback" not in res.stderr
