"""Plugins: a separately installed package adds a model adapter, a dataset loader, a prompt strategy or a
metric without touching AffectLens, by declaring entry points in its own pyproject.toml:

```toml
[project.entry-points."affectlens.adapters"]
my-model = "my_package.adapter:MyAdapter"            # a ModelAdapter subclass
[project.entry-points."affectlens.loaders"]
my-set = "my_package.loader:load_my_set"             # a loader: (path, **options) -> Dataset
[project.entry-points."affectlens.strategies"]
my-prompt = "my_package.prompt:MyPrompt"             # a PromptStrategy class (attribute `name`)
[project.entry-points."affectlens.metrics"]
my-metric = "my_package.metric:my_metric"            # a Metric (see below)
```

The entry point's name is the name configs use (`adapter: my-model`, `format: my-set`, `strategies:
[my-prompt]`). A built-in name cannot be taken over. Entry points are read once, lazily, when a
registry is first asked for a name it does not hold, so an installed plugin costs nothing until used;
one that fails to load is an error naming the package and the entry point, never a silently missing
name. `docs/extending.md` shows a complete plugin.

Each part declares itself with its extension point's registry decorator, as the built-ins do
(`engine.registry`): `register_adapter` (typed options and capabilities), `register_loader`,
`register_strategy` and `register_metric`. A part without the decorator is still found, described from
what it is (an adapter's `Options` model and `local`, a metric's `dimensions` and `higher_is_better`).

A plugin metric's `compute(evaluation, counts)` gets an `engine.metrics.evaluation.Evaluation` and a
(B, n) matrix of how often each item is drawn in each of B resamples (row 0 of the point estimate is all
ones) and returns B values, so its bootstrap interval comes from the same paired resamples as every
built-in metric (`engine.metrics.registry`).
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

__all__ = ["GROUPS", "entry_points", "load", "names", "refresh"]

GROUPS = ("affectlens.adapters", "affectlens.loaders", "affectlens.strategies", "affectlens.metrics")


class PluginError(ImportError):
    pass


@functools.lru_cache(maxsize=None)
def entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    """The installed entry points of `group`, by name (read once per process; `refresh()` forgets them)."""
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}; one of {', '.join(GROUPS)}")
    return {ep.name: ep for ep in metadata.entry_points(group=group)}


@functools.lru_cache(maxsize=None)
def load(group: str, name: str) -> Any | None:
    """The object the entry point `name` of `group` names, or None when no installed package declares it."""
    found = entry_points(group).get(name)
    if found is None:
        return None
    try:
        return found.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported with what to fix
        package = getattr(found.dist, "name", "?") if getattr(found, "dist", None) else "?"
        raise PluginError(f"plugin {name!r} ({group}, {found.value}) from package {package!r} failed to load: "
                          f"{type(exc).__name__}: {exc}; fix or uninstall that package") from exc


def names(group: str) -> list[str]:
    return sorted(entry_points(group))


def refresh() -> None:
    """Forget the entry points read so far (after installing a plugin into a running process)."""
    entry_points.cache_clear()
    load.cache_clear()
