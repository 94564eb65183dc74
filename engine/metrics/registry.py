"""The metric registry: every metric's name, direction, definition and the dimensions it applies to.

A new metric is one decorated function (plus its test):

    @register_metric("positive_share", dimensions=("polarity",), higher_is_better=None,
                     description="share of answered items answered 'positive'")
    def positive_share(evaluation, counts):
        return masked_mean(evaluation.answers == "positive", evaluation.answered, counts)

`compute(evaluation, counts)` gets the scored group's `Evaluation` and a (B, n) matrix of how often each
item is drawn in each resample (row 0 of the point estimate is all ones) and returns B values, so its
interval comes from the same paired bootstrap as every other metric. Scoring runs every registered
metric of the group's dimension; exports, the slice search, the results matrix and the dashboard read
its direction and definition from here. The metrics computed together inside the evaluations'
`compute_counts` (one confusion matrix for many of them) are declared with `declare_metric`
(`engine.metrics.base`). Plugins add metrics through the entry-point group `affectlens.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.registry import Registry

__all__ = ["Metric", "METRIC_REGISTRY", "CATEGORICAL", "CONTINUOUS", "DISTRIBUTION", "ALL_DIMENSIONS",
           "register_metric", "declare_metric", "computed_metrics", "metric_names", "HigherIsBetter"]

CATEGORICAL = ("polarity", "emotion", "ranking")  # a ranking is scored like a label: its first entry
CONTINUOUS = ("valence", "arousal", "intensity")
DISTRIBUTION = ("distribution",)
ALL_DIMENSIONS = (*CATEGORICAL, *CONTINUOUS, *DISTRIBUTION)


@dataclass(frozen=True)
class Metric:
    """One metric. `compute` is None for those an evaluation computes in its own batch (`compute_counts`).

    `higher_is_better`: True, False, or None where neither is better (a bias, a rate of one answer).
    """

    name: str
    compute: Callable[[Any, Any], Any] | None = None
    dimensions: tuple[str, ...] = ("polarity", "emotion")
    higher_is_better: bool | None = True
    description: str = ""
    extra: dict = field(default_factory=dict)


def _from_plugin(name: str, loaded: Any) -> Metric:
    """A plugin's `Metric`, or a plain callable carrying `dimensions`/`higher_is_better` attributes."""
    if isinstance(loaded, Metric):
        return loaded if loaded.name == name else Metric(name, loaded.compute, loaded.dimensions,
                                                         loaded.higher_is_better, loaded.description, loaded.extra)
    return Metric(name, loaded, tuple(getattr(loaded, "dimensions", ("polarity", "emotion"))),
                  getattr(loaded, "higher_is_better", True), (getattr(loaded, "__doc__", "") or "").strip())


METRIC_REGISTRY: Registry[Metric] = Registry("metric", "affectlens.metrics",
                                             ("engine.metrics.base",), _from_plugin)


def register_metric(name: str, *, dimensions: tuple[str, ...] = ("polarity", "emotion"),
                    higher_is_better: bool | None = True, description: str = ""):
    """Decorator on `compute(evaluation, counts) -> (B,) values`: register it as metric `name`."""
    def wrap(compute: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        text = description or (compute.__doc__ or "").strip().split("\n")[0]
        METRIC_REGISTRY.add(name, Metric(name, compute, tuple(dimensions), higher_is_better, text), compute)
        return compute
    return wrap


def declare_metric(name: str, higher_is_better: bool | None, description: str,
                   dimensions: tuple[str, ...] = CATEGORICAL) -> Metric:
    """Declare a metric an evaluation computes itself in `compute_counts` (no compute function here)."""
    return METRIC_REGISTRY.add(name, Metric(name, None, tuple(dimensions), higher_is_better, description))


def metric_names() -> list[str]:
    """Every registered metric: built-ins, then installed plugins'."""
    return METRIC_REGISTRY.names()


def computed_metrics(dimension: str | None) -> list[Metric]:
    """The metrics with their own compute function (decorated built-ins and plugins) that apply to
    `dimension`, in registry order."""
    if not dimension:
        return []
    return [m for m in METRIC_REGISTRY.entries() if m.compute is not None and dimension in m.dimensions]


class HigherIsBetter(Mapping):
    """metric -> True / False / None (neither), read from the registry each time (plugins included)."""

    def __getitem__(self, name: str) -> bool | None:
        found = METRIC_REGISTRY.find(name)
        if found is None:
            raise KeyError(name)
        return found.higher_is_better

    def __iter__(self) -> Iterator[str]:
        return iter(metric_names())

    def __len__(self) -> int:
        return len(metric_names())
