"""What every metric shares: NaN that carries its reason, metric directions and descriptions.

A metric that cannot be computed (no items, one class, constant input, n < 2) returns `MetricNaN`, a
float NaN with a `reason` attribute, never raises: `math.isnan(v)` holds and `reason_of(v)` says why.
This follows inspect_ai's habit of storing failures as data (`Score.unscored()`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

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
_BUILTIN: dict[str, tuple[bool | None, str]] = {
    "accuracy": (True, "share of answered items whose answer equals the gold label"),
    "accuracy_strict": (True, "share of all evaluated items answered correctly (unanswered count as wrong)"),
    "accuracy_fractional": (True, "answered items' credit, where a gold tied between k labels gives 1/k to an answer "
                                  "among them (Emotion6 ties); `accuracy` gives such an answer full credit"),
    "accuracy_mapped": (True, "accuracy after mapping the answer's taxonomy onto the gold's (taxonomy-aware credit)"),
    "coverage": (True, "share of evaluated items with a usable answer (status ok or partial; continuous: a number)"),
    "macro_f1": (True, "unweighted mean of per-class F1 over gold classes (Sokolova & Lapalme 2009)"),
    "weighted_f1": (True, "support-weighted mean of per-class F1 over gold classes"),
    "uar": (True, "unweighted average recall = balanced accuracy (Schuller et al. 2009)"),
    "cohen_kappa": (True, "Cohen (1960) kappa between answers and gold"),
    "top2_accuracy": (True, "gold label among the first two of the ranking"),
    "top3_accuracy": (True, "gold label among the first three of the ranking"),
    "kendall_tau": (True, "mean Kendall tau-b between the ranking and the gold rater shares (Kendall 1945)"),
    "rater_share": (True, "mean share of raters who chose the answered label"),
    "human_ceiling": (True, "mean share of raters agreeing with the majority label (a random rater's accuracy)"),
    "accuracy_vs_ceiling": (True, "accuracy divided by the human ceiling"),
    "pearson": (True, "Pearson correlation of predicted and gold normalised values"),
    "spearman": (True, "Spearman rank correlation (Pearson on average ranks)"),
    "ccc": (True, "Lin (1989) concordance correlation coefficient"),
    "mae": (False, "mean absolute error on the normalised scale"),
    "rmse": (False, "root mean squared error on the normalised scale"),
    "bias": (None, "mean signed error (prediction - gold) on the normalised scale"),
    "mae_scale": (False, "mean absolute error on the dataset's own scale (unit column, e.g. 1–9)"),
    "rmse_scale": (False, "root mean squared error on the dataset's own scale"),
    "bias_scale": (None, "mean signed error (prediction - gold) on the dataset's own scale"),
    "kl": (False, "Kullback & Leibler (1951) divergence KL(gold || prediction), nats, mean over items"),
    "js": (False, "Jensen-Shannon divergence (Lin 1991), base 2, in [0, 1], mean over items"),
    "cosine": (True, "cosine similarity of gold and predicted distributions, mean over items"),
    "majority_agreement": (True, "share of items whose most probable predicted label is a rater-majority label"),
    "ece": (False, "expected calibration error, equal-width bins (Naeini et al. 2015; Guo et al. 2017)"),
    "brier": (False, "Brier (1950) score of stated confidence against correctness"),
    "parse_failure_rate": (False, "share of evaluated items whose answer could not be parsed or is absent"),
    "refusal_rate": (False, "share of evaluated items the model refused"),
    "error_rate": (False, "share of evaluated items lost to API errors"),
    "out_of_set_rate": (False, "share of evaluated items answered with a label outside the label set"),
    "positive_rate": (None, "share of answered items predicted positive"),
    "positive_bias": (None, "positive_rate minus the gold positive share over the same items"),
    "label_prior_bias": (False, "total variation distance between predicted and gold label frequencies"),
}
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
