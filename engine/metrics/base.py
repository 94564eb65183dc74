"""What every metric shares: NaN that carries its reason, metric directions and descriptions.

A metric that cannot be computed (no items, one class, constant input, n < 2) returns `MetricNaN`, a
float NaN with a `reason` attribute, never raises: `math.isnan(v)` holds and `reason_of(v)` says why.
This follows inspect_ai's habit of storing failures as data (`Score.unscored()`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources

import numpy as np
import yaml

from engine.metrics.registry import (ALL_DIMENSIONS, CATEGORICAL, CONTINUOUS, DISTRIBUTION, METRIC_REGISTRY,
                                     HigherIsBetter, declare_metric, metric_names)

__all__ = ["MetricNaN", "nan", "reason_of", "is_nan", "HIGHER_IS_BETTER", "METRICS", "describe"]


class MetricNaN(float):
    """A NaN that says why it is NaN.

    >>> v = nan("no answered items")
    >>> math.isnan(v), v.reason
    (True, 'no answered items')
    """

    reason: str

    def __new__(cls, reason: str) -> "MetricNaN":
        value = super().__new__(cls, "nan")
        value.reason = reason
        return value

    def __repr__(self) -> str:
        return f"nan({self.reason!r})"


def nan(reason: str) -> MetricNaN:
    return MetricNaN(reason)


def is_nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def reason_of(value) -> str | None:
    """The reason attached to a NaN metric value, or None."""
    return getattr(value, "reason", None) if is_nan(value) else None


def finite_or_nan(value, reason: str) -> float:
    """`value` as float, or a MetricNaN with `reason` when it is not finite."""
    value = float(value)
    return value if np.isfinite(value) else nan(reason)


# The metrics the evaluations compute together in `compute_counts` (engine.metrics.evaluation), declared in the
# metric registry with their direction, one-line definition with its source, and the dimensions they apply to.
# A new metric is not added here: it is one `@register_metric` function (engine.metrics.registry).
_CAT, _CONT, _DIST = CATEGORICAL, CONTINUOUS, DISTRIBUTION
_EVERY = ALL_DIMENSIONS
# name -> (higher is better?, one-line definition with its source), from the table engine/data/metrics.yaml.
_BUILTIN: dict[str, tuple[bool | None, str]] = {
    name: (spec["higher_is_better"], spec["definition"])
    for name, spec in yaml.safe_load((resources.files("engine") / "data" / "metrics.yaml").read_text("utf-8")).items()}
_DIMENSIONS = {**{name: _CONT for name in ("pearson", "spearman", "ccc", "mae", "rmse", "bias", "mae_scale",
                                           "rmse_scale", "bias_scale")},
               **{name: _DIST for name in ("kl", "js", "cosine", "majority_agreement")},
               **{name: _EVERY for name in ("coverage", "parse_failure_rate", "refusal_rate", "error_rate",
                                            "out_of_set_rate")}}
for _name, (_direction, _text) in _BUILTIN.items():
    declare_metric(_name, _direction, _text, _DIMENSIONS.get(_name, _CAT))


class _Definitions(Mapping):
    """metric -> (higher is better?, one-line definition), for every registered metric (plugins included)."""

    def __getitem__(self, name: str) -> tuple[bool | None, str]:
        found = METRIC_REGISTRY.find(name)
        if found is None:
            raise KeyError(name)
        return found.higher_is_better, found.description

    def __iter__(self):
        return iter(metric_names())

    def __len__(self) -> int:
        return len(metric_names())


#: Used for exports, the slice search (which direction is "worse") and the README.
METRICS: Mapping[str, tuple[bool | None, str]] = _Definitions()
HIGHER_IS_BETTER: Mapping[str, bool | None] = HigherIsBetter()


def describe(metric: str) -> str:
    """One-line definition of a metric name (empty when unknown)."""
    return METRICS.get(metric, (None, ""))[1]
