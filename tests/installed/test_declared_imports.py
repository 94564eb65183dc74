"""Every module-level import of a third-party package in `engine/` and `dashboard/` is a declared dependency:
of the core, or of the extra the module belongs to (an SDK adapter is imported only when selected)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Modules imported only when their adapter is selected (engine.models.create_adapter checks the SDK first).
EXTRA_MODULES = {
    "engine/models/openai_api.py": {"openai"},
    "engine/models/anthropic_api.py": {"anthropic"},
    "engine/models/gemini_api.py": {"gemini"},
    "engine/models/_cloud.py": {"openai", "anthropic", "gemini"},
    "engine/models/_http.py": {"openai", "anthropic", "gemini"},
    "engine/models/hf_local.py": {"local"},
    "engine/models/tiny.py": {"local"},
}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only, not inside functions
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_module_level_import_is_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _requirement_names(project["dependencies"])
    extras = {name: _requirement_names(reqs) for name, reqs in project["optional-dependencies"].items()}
    distributions = packages_distributions()
    undeclared = []
    for path in sorted([*REPO.glob("engine/**/*.py"), *REPO.glob("dashboard/**/*.py")]):
        relative = path.relative_to(REPO).as_posix()
        allowed = set(core)
        for extra in EXTRA_MODULES.get(relative, ()):
            allowed |= extras[extra]
        for module in _top_level_imports(path):
            if module in sys.stdlib_module_names or module in ("engine", "dashboard", "__future__"):
                continue
            provided = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
            if not provided & allowed:
                undeclared.append(f"{relative}: import {module} ({', '.join(sorted(provided))})")
    assert not undeclared, "module-level imports not declared in pyproject.toml:\n" + "\n".join(undeclared)
