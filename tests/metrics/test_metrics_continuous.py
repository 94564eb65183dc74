"""Continuous, distribution and calibration metrics against scipy / scikit-learn / textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy import stats
from scipy.spatial import distance
from sklearn import calibration as skcal
from sklearn import metrics as skm

from engine.metrics import calibration as cal
from engine.metrics import continuous as cont
from engine.metrics import distribution as dist
from engine.metrics.base import reason_of

# Normalised ratings have a finite resolution (a 1-9 scale in steps of 0.01 is 1/400 apart); 0.001 is finer
values = st.floats(-1, 1, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))


@st.composite
def paired(draw, min_size=3):
    n = draw(st.integers(min_size, 50))
    x = draw(st.lists(values, min_size=n, max_size=n))
    y = draw(st.lists(values, min_size=n, max_size=n))
    return np.array(x), np.array(y)


def _ccc_textbook(x, y):
    """Lin (1989), eq. 2, with 1/n moments."""
    sxy = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * sxy / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


@settings(max_examples=80, deadline=None)
@given(paired())
def test_matches_scipy_and_scikit_learn(data):
    x, y = data
    assume(np.ptp(x) > 1e-6 and np.ptp(y) > 1e-6)
    assert cont.pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-9)
    assert cont.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-9)
    assert cont.ccc(x, y) == pytest.approx(_ccc_textbook(x, y), abs=1e-9)
    assert cont.mae(x, y) == pytest.approx(skm.mean_absolute_error(y, x), abs=1e-12)
    assert cont.rmse(x, y) == pytest.approx(skm.root_mean_squared_error(y, x), abs=1e-12)
    assert cont.bias(x, y) == pytest.approx(np.mean(x - y), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(paired(), st.integers(0, 2**31 - 1))
def test_batch_rows_equal_the_metric_on_each_resample(data, seed):
    x, y = data
    idx = np.random.default_rng(seed).integers(0, len(x), size=(4, len(x)))
    valid = np.ones(len(x), dtype=bool)
    for row, rows in enumerate(idx):
        xs, ys = x[rows], y[rows]
        for name in ("pearson", "spearman", "ccc", "mae", "rmse", "bias"):
            batch = getattr(cont, f"{name}_batch")(x, y, valid, idx)[row]
            scalar = getattr(cont, name)(xs, ys)
            if math.isnan(scalar):
                assert math.isnan(batch), name
            else:  # replicates use one-pass moments: equal to well below the 4 decimals reported
                assert batch == pytest.approx(scalar, abs=1e-7), name


def test_continuous_degenerate_inputs():
    assert reason_of(cont.pearson([], [])).startswith("no items")
    assert reason_of(cont.pearson([0.5], [0.2])) == "fewer than two items"
    assert "constant predictions" in reason_of(cont.pearson([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]))
    assert "constant gold" in reason_of(cont.spearman([0.1, 0.2, 0.3], [0.4, 0.4, 0.4]))
    assert "constant" in reason_of(cont.ccc([0.4, 0.4], [0.4, 0.4]))
    assert cont.ccc([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]) == pytest.approx(0.0)  # defined: no covariance
    assert reason_of(cont.mae([], [])).startswith("no items")
    assert cont.mae([0.1, np.nan], [0.3, 0.2]) == pytest.approx(0.2)  # missing values are dropped
    with pytest.raises(ValueError, match="differ in length"):
        cont.mae([0.1], [0.1, 0.2])


@st.composite
def distributions(draw):
    k = draw(st.integers(2, 7))
    shares = st.floats(0, 1, allow_subnormal=False)  # scipy itself overflows on subnormal shares
    p = draw(st.lists(shares, min_size=k, max_size=k))
    q = draw(st.lists(shares, min_size=k, max_size=k))
    assume(sum(p) > 1e-3 and sum(q) > 1e-3)
    labels = [f"l{i}" for i in range(k)]
    return dict(zip(labels, p)), dict(zip(labels, q))


@settings(max_examples=80, deadline=None)
@given(distributions())
def test_distribution_metrics_match_scipy(data):
    p, q = data
    pv = np.array(list(p.values())) / sum(p.values())
    qv = np.array(list(q.values())) / sum(q.values())
    smoothed = (qv + dist.EPS) / (1 + len(qv) * dist.EPS)
    assert dist.kl(p, q) == pytest.approx(stats.entropy(pv, smoothed), abs=1e-9)
    assert dist.js(p, q) == pytest.approx(distance.jensenshannon(pv, qv, base=2) ** 2, abs=1e-9)
    assert dist.cosine(p, q) == pytest.approx(1 - distance.cosine(pv, qv), abs=1e-9)
    assert 0 <= dist.js(p, q) <= 1


def test_distribution_textbook_values_and_degenerate():
    assert dist.js({"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 5e-324}) == 0.0  # a subnormal share is no mass
    assert dist.js({"a": 1.0}, {"b": 1.0}) == 1.0
    assert dist.kl({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == pytest.approx(0.0, abs=1e-9)
    assert dist.cosine({"a": 1.0}, {"a": 2.0}) == pytest.approx(1.0)
    assert "no positive mass" in reason_of(dist.kl({"a": 0.0}, {"a": 1.0}))
    p, _ = dist.as_matrix([{"a": 0.5, "b": 0.5, "c": 0.0}], ["a", "b", "c"])
    q, _ = dist.as_matrix([{"a": 0.1, "b": 0.7, "c": 0.2}], ["a", "b", "c"])
    assert dist.majority_agreement_items(p, q).tolist() == [1.0]  # b is one of the tied majority labels


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_calibration_matches_scikit_learn(data):
    n = data.draw(st.integers(1, 80))
    confidence = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    correct = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    bins = data.draw(st.sampled_from([5, 10, 15]))
    assert cal.brier(confidence, correct) == pytest.approx(skm.brier_score_loss(correct, confidence), abs=1e-12)
    diagram = cal.reliability_diagram(confidence, correct, bins)
    if correct.any() and not correct.all():  # scikit-learn needs both classes
        prob_true, prob_pred = skcal.calibration_curve(correct, confidence, n_bins=bins, strategy="uniform")
        assert np.allclose(diagram["accuracy"], prob_true) and np.allclose(diagram["mean_confidence"], prob_pred)
    # ECE from its definition: sum over bins of |B|/n * |acc(B) - conf(B)|
    expected = (diagram["count"] / n * (diagram["accuracy"] - diagram["mean_confidence"]).abs()).sum()
    assert cal.ece(confidence, correct, bins) == pytest.approx(expected, abs=1e-12)


def test_calibration_textbook_and_degenerate():
    # bins (0.8, 0.9] and (0.5, 0.6]: (|2 - 1.8| + |1 - 1.2|) / 4
    assert cal.ece([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0], n_bins=10) == pytest.approx(0.1)
    assert cal.ece([1.0, 1.0], [1, 1]) == 0.0
    assert reason_of(cal.ece([], [])) == "no items with a stated confidence"
    assert reason_of(cal.brier([np.nan], [1])) == "no items with a stated confidence"
    curve = cal.accuracy_coverage_curve([0.9, 0.2, 0.6], [1, 0, 0])
    assert curve["accuracy"].tolist() == [1.0, 0.5, pytest.approx(1 / 3)]
    assert curve["coverage"].tolist() == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
