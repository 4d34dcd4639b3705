"""The architecture holds: imports point down only (viz -> nn -> autograd),
no import cycles inside autograd, and viz reads only the public node
protocol (no underscore attribute of an engine object).

Checked on the source with ``ast`` (every import statement, module level or
inside a function), so a violation anywhere fails the test.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAYERS = {"autograd": 0, "nn": 1, "viz": 2}


def _modules(pkg):
    return sorted((ROOT / pkg).rglob("*.py"))


def _imports(path: pathlib.Path, pkg: str, root: pathlib.Path = ROOT):
    """(line, absolute module name) for each import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(root / pkg).with_suffix("")
    here = [pkg, *rel.parts[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                if node.level - 1 > len(here) - 1:
                    base = []
                mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [mod] if node.module else [f"{'.'.join(base)}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            for name in names:
                yield node.lineno, name
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name


def _layer_of(name: str):
    parts = name.split(".")
    if parts[0] == "gradviz":
        parts = parts[1:]
    return parts[0] if parts and parts[0] in LAYERS else None


@pytest.mark.parametrize("pkg", sorted(LAYERS))
def test_imports_point_down_only(pkg):
    bad = []
    for path in _modules(pkg):
        for line, name in _imports(path, pkg):
            target = _layer_of(name)
            if target is not None and LAYERS[target] > LAYERS[pkg]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles_inside_autograd():
    graph = {}
    for path in _modules("autograd"):
        mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mod = mod[: -len(".__init__")] if mod.endswith(".__init__") else mod
        deps = set()
        for _, name in _imports(path, "autograd"):
            name = name[len("gradviz."):] if name.startswith("gradviz.") else name
            if name.startswith("autograd.") and name != mod:
                # "from . import x" resolves to autograd.x (a module) or a name in autograd
                target = name if (ROOT / (name.replace(".", "/") + ".py")).exists() else None
                if target:
                    deps.add(target)
        graph[mod] = deps
    # autograd/__init__ imports everything by design (the package's API); the
    # modules must not import it back
    init_users = [m for m, d in graph.items() if "autograd" in d and m != "autograd"]
    assert not init_users, f"modules importing the package __init__: {init_users}"
    state, cycle = {}, []

    def visit(m, path):
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycle.extend(path[path.index(d):] + [d] if d in path else [m, d])
                return True
            if state.get(d) is None and visit(d, path + [d]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if state.get(m) is None and visit(m, [m]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


ENGINE_PRIVATE = {"_op", "_parents", "_ctx", "_site", "_scope", "_accumulate_grad",
                  "_set_grad", "_constant", "_record", "_default_seed", "_coerce_seed",
                  "_grad_node", "_gc_array", "_gc_leaf", "_leaf_grads_in_place"}


def test_viz_reads_only_the_public_node_protocol():
    bad = []
    for path in _modules("viz"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in ENGINE_PRIVATE:
                name = node.attr
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr", "setattr")
                  and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and node.args[1].value in ENGINE_PRIVATE):
                name = node.args[1].value
            if name:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {name}")
    assert not bad, "viz reads engine internals:\n" + "\n".join(bad)


def test_the_checks_can_fail(tmp_path):
    """The ast walk sees function-level relative imports, resolved."""
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "x.py").write_text("def f():\n    from ..viz import draw\n    from .ops import OPS\n")
    found = list(_imports(fake / "x.py", "autograd", root=tmp_path))
    assert found == [(2, "viz"), (3, "autograd.ops")]
    assert _layer_of(found[0][1]) == "viz"
