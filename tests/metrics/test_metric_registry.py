"""The metric registry is the one place a metric is declared: every metric scoring produces is registered for
the dimension it was scored on, with a direction and a definition; a metric added with `register_metric`'s
entry is computed by scoring on the same paired resamples and ranked by its declared direction."""

from __future__ import annotations

import numpy as np
import pytest

from engine.metrics.base import HIGHER_IS_BETTER, METRICS, describe
from engine.metrics.bootstrap import masked_mean
from engine.metrics.registry import METRIC_REGISTRY, Metric, computed_metrics, metric_names
from engine.metrics.scoring import score_store
from tests.metrics.metrics_fixtures import build


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return build(tmp_path_factory.mktemp("toy") / "results.duckdb")


def test_every_scored_metric_is_registered_for_its_dimension(toy):
    scores = score_store(toy.path, n_resamples=20)
    for dimension, metric in scores[["dimension", "metric"]].drop_duplicates().to_numpy():
        info = METRIC_REGISTRY.find(metric)
        assert info is not None, f"{metric} is scored but not registered"
        assert dimension in info.dimensions, (metric, dimension, info.dimensions)
        assert describe(metric) and METRICS[metric] == (info.higher_is_better, info.description)
    assert HIGHER_IS_BETTER["mae"] is False and HIGHER_IS_BETTER["ccc"] is True and HIGHER_IS_BETTER["bias"] is None
    assert HIGHER_IS_BETTER.get("no-such-metric", True) is True and "no-such-metric" not in METRICS


def _answered_confident(evaluation, counts):
    """Share of answered items stated with confidence of at least one half."""
    confident = np.where(np.isfinite(evaluation.confidence), evaluation.confidence >= 0.5, np.nan)
    return masked_mean(confident, evaluation.answered, counts)


def test_a_registered_metric_is_scored_on_its_dimensions_only(toy):
    name = "test_confident_share"
    METRIC_REGISTRY.add(name, Metric(name, _answered_confident, ("emotion",), False, "confident answers"))
    try:
        assert name in metric_names() and [m.name for m in computed_metrics("emotion")] == [name]
        assert computed_metrics("polarity") == [] and HIGHER_IS_BETTER[name] is False
        scores = score_store(toy.path, n_resamples=50)
        rows = scores[scores["metric"] == name]
        assert set(rows["dimension"]) == {"emotion"}
        alpha = rows[(rows["model"] == "alpha") & (rows["strategy"] == "zero-shot")].iloc[0]
        answered = np.isin(toy.alpha_status, ("ok", "partial"))
        confidence = toy.alpha_confidence[answered]
        expected = np.mean(confidence[np.isfinite(confidence)] >= 0.5)
        assert alpha["value"] == pytest.approx(expected)
        assert alpha["ci_low"] <= alpha["value"] <= alpha["ci_high"]
    finally:
        METRIC_REGISTRY.remove(name)
    assert name not in metric_names()
