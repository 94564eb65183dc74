"""Metrics and statistics: pure metric functions, seeded paired bootstrap, comparisons, slices, scoring.

- `categorical`, `continuous`, `distribution`, `calibration`: metric functions (scalar and batch form).
- `bootstrap`: seeded resample matrices shared by every model on the same items (paired CIs).
- `compare`: McNemar, permutation test, Holm, effect sizes, Krippendorff's alpha.
- `scoring`: the store -> scores frame (`score_store`) and the `scores` table (`refresh_scores`).
- `api`: DataFrames for people and the dashboard; `export`: CSV, Parquet, LaTeX.
- `registry`: every metric's direction, definition and dimensions; `register_metric` adds one.
"""

from engine.metrics.base import HIGHER_IS_BETTER, METRICS, MetricNaN, describe, reason_of
from engine.metrics.registry import METRIC_REGISTRY, Metric, register_metric

__all__ = ["HIGHER_IS_BETTER", "METRICS", "METRIC_REGISTRY", "Metric", "MetricNaN", "describe", "reason_of",
           "register_metric"]
