"""The package layering of `engine/` and the dashboard, checked on the import graph.

Every `import engine.X` / `from engine.X import ...` in `engine/**/*.py` is an edge from the importing
package to package X -- module-level and function-level (lazy) imports alike, since a lazy import is
still a dependency. A package may import only packages on a lower layer; two packages on one layer
may not import each other. The same table is written down in docs/extending.md ("Layers").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"

# Lowest first. A top-level module (engine/errors.py) is a package of its own here.
LAYERS: list[set[str]] = [
    {"errors", "secrets", "taxonomy", "plugins"},
    {"registry"},
    {"store", "models"},
    {"preprocess", "perturb"},
    {"datasets"},
    {"parsing", "metrics", "sample"},
    {"prompts"},
    {"runner", "importers"},
    {"explain"},
    {"suites"},
    {"cli"},
]
# Edges that break the layering today, each with why it stays; the test fails when one disappears too.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def _package_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return parts[0] if parts[0] != "__init__" else "engine"


def _imported_packages(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "engine":  # `from engine import __version__` is the top package itself
                names = [f"engine.{a.name}" if (ENGINE / a.name).is_dir() or (ENGINE / f"{a.name}.py").exists()
                         else "engine" for a in node.names]
        found += [(name.split(".")[1] if "." in name else "engine", node.lineno) for name in names
                  if name == "engine" or name.startswith("engine.")]
    return found


def import_edges(root: Path = ENGINE) -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> the file:line of each import making that edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        source = _package_of(path, root)
        for target, line in _imported_packages(ast.parse(path.read_text(encoding="utf-8"))):
            if target != source:
                edges.setdefault((source, target), []).append(f"{path.relative_to(root.parent)}:{line}")
    return edges


def layer_violations(edges: dict[tuple[str, str], list[str]]) -> list[str]:
    bad = []
    for (source, target), where in sorted(edges.items()):
        if (source, target) in KNOWN_EXCEPTIONS or "engine" in (source, target):
            continue
        if source not in RANK or target not in RANK:
            bad.append(f"{source} -> {target} ({where[0]}): add the new package to LAYERS in tests/test_layers.py "
                       "and docs/extending.md")
        elif RANK[target] >= RANK[source]:
            bad.append(f"{source} -> {target} ({', '.join(where)}): {target} is not on a lower layer than {source}")
    return bad


def test_every_engine_import_goes_down_a_layer():
    edges = import_edges()
    assert len(edges) > 20  # the walk found the real graph
    assert not layer_violations(edges), "\n".join(layer_violations(edges))


def test_known_exceptions_still_exist():
    missing = KNOWN_EXCEPTIONS - set(import_edges())
    assert not missing, f"remove {sorted(missing)} from KNOWN_EXCEPTIONS: the edge is gone"


def test_the_graph_has_no_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for source, target in import_edges():
        if (source, target) not in KNOWN_EXCEPTIONS and "engine" not in (source, target):
            graph.setdefault(source, set()).add(target)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_checker_reports_an_upward_edge(tmp_path):
    """The checker itself: a store module importing the runner, lazily, is named with its file and line."""
    (tmp_path / "engine" / "store").mkdir(parents=True)
    (tmp_path / "engine" / "store" / "bad.py").write_text("def f():\n    from engine.runner.plan import plan_runs\n")
    edges = import_edges(tmp_path / "engine")
    assert edges == {("store", "runner"): ["engine/store/bad.py:2"]}
    (message,) = layer_violations(edges)
    assert message.startswith("store -> runner (engine/store/bad.py:2)")


def test_the_dashboard_imports_only_public_engine_modules():
    private = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else None
            names = [module] if module else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name and name.startswith("engine") and (
                        any(part.startswith("_") for part in name.split(".")) or name.startswith("engine.cli")):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not private, "\n".join(private)
