"""What every metric shares: NaN that carries its reason, metric directions and descriptions.

A metric that cannot be computed (no items, one class, constant input, n < 2) returns `MetricNaN`, a
float NaN with a `reason` attribute, never raises: `math.isnan(v)` holds and `reason_of(v)` says why.
This follows inspect_ai's habit of storing failures as data (`Score.unscored()`).
"""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import yaml

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


# name -> (higher is better?, one-line definition with its source), from the table engine/data/metrics.yaml.
# Used for exports, the slice search (which direction is "worse") and the README.
METRICS: dict[str, tuple[bool | None, str]] = {
    name: (spec["higher_is_better"], spec["definition"])
    for name, spec in yaml.safe_load((resources.files("engine") / "data" / "metrics.yaml").read_text("utf-8")).items()}

HIGHER_IS_BETTER: dict[str, bool | None] = {name: spec[0] for name, spec in METRICS.items()}


def describe(metric: str) -> str:
    """One-line definition of a metric name (empty when unknown)."""
    return METRICS.get(metric, (None, ""))[1]
