"""Bootstrap coverage, pairing, McNemar, Holm, effect sizes and Krippendorff's alpha (textbook values)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from engine.metrics import compare as cmp
from engine.metrics.bootstrap import bootstrap_ci, percentile_ci, resample_counts, resample_indices
from engine.metrics.base import reason_of
from engine.metrics.continuous import mae_batch


def test_bootstrap_ci_covers_the_true_accuracy_about_95_percent_of_the_time():
    """1000 simulated test sets of 150 items with true accuracy 0.7; the percentile CI of the
    library's resample matrix (1000 resamples) must cover 0.7 in 93-97% of them."""
    rng = np.random.default_rng(11)
    n, true_accuracy, simulations = 150, 0.7, 1000
    correct = (rng.random((simulations, n)) < true_accuracy).astype(float)
    counts = resample_counts(resample_indices(n, 1000, seed=3), n)  # one matrix, as for paired models
    replicates = correct @ counts.T / n  # (simulations, resamples) accuracies
    covered = [low <= true_accuracy <= high for low, high in (percentile_ci(row) for row in replicates)]
    assert 0.93 <= np.mean(covered) <= 0.97


def test_bootstrap_ci_covers_the_true_mae_about_95_percent_of_the_time():
    """Errors ~ Normal(0.1, 0.2): E|e| = s*sqrt(2/pi)*exp(-m^2 / 2s^2) + m*(1 - 2*Phi(-m/s))."""
    m, s, n, simulations = 0.1, 0.2, 120, 400
    true_mae = s * math.sqrt(2 / math.pi) * math.exp(-m**2 / (2 * s**2)) + m * (1 - 2 * stats.norm.cdf(-m / s))
    rng = np.random.default_rng(5)
    covered = 0
    valid = np.ones(n, dtype=bool)
    for sim in range(simulations):
        gold = rng.uniform(-1, 1, n)
        prediction = gold + rng.normal(m, s, n)
        _, low, high = bootstrap_ci(lambda idx: mae_batch(prediction, gold, valid, idx), n, seed=sim % 7)
        covered += low <= true_mae <= high
    assert 0.93 <= covered / simulations <= 0.97


def test_resamples_are_seeded_and_shared_for_the_same_items():
    a = resample_indices(50, 200, seed=1)
    assert a is resample_indices(50, 200, seed=1)  # the same matrix object: every model sees it
    assert not np.array_equal(a, resample_indices(50, 200, seed=2))
    assert a.shape == (200, 50) and a.min() >= 0 and a.max() < 50
    point, low, high = bootstrap_ci(lambda idx: np.ones(idx.shape[0]), 1)
    assert point == 1.0 and math.isnan(low) and math.isnan(high)  # n < 2: no interval


def test_mcnemar_exact_textbook_and_against_the_binomial():
    assert cmp.mcnemar_exact(1, 5) == pytest.approx(14 / 64)  # 2 * (C(6,0) + C(6,1)) / 2^6
    assert cmp.mcnemar_exact(0, 0) == 1.0
    assert cmp.mcnemar_exact(3, 3) == 1.0
    for b, c in [(10, 2), (150, 86), (0, 7), (25, 25)]:
        assert cmp.mcnemar_exact(b, c) == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)


def test_holm_textbook_example():
    # Holm (1979) as in the standard worked example: p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05
    adjusted = cmp.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert (adjusted <= 0.05).tolist() == [True, False, False, True]
    assert cmp.holm([0.5, np.nan]).tolist()[0] == 0.5 and math.isnan(cmp.holm([0.5, np.nan])[1])
    assert cmp.holm([0.9, 0.8]).tolist() == [1.0, 1.0]  # capped at 1, monotone


def test_krippendorff_alpha_textbook_example():
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', 4 coders x 12 units with gaps."""
    n = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]
    assert cmp.krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert cmp.krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)
    assert "no variation" in reason_of(cmp.krippendorff_alpha([["a", "a"], ["a", "a"]]))
    assert "two or more" in reason_of(cmp.krippendorff_alpha([["a", None], [None, "b"]]))


def test_effect_sizes():
    assert cmp.cohen_h(0.5, 0.5) == 0.0
    assert cmp.cohen_h(0.65, 0.45) == pytest.approx(2 * math.asin(math.sqrt(0.65)) - 2 * math.asin(math.sqrt(0.45)))
    odds, low, high = cmp.discordant_odds_ratio(10, 5)
    ci = stats.binomtest(10, 15).proportion_ci(method="exact")
    assert odds == 2.0 and low == pytest.approx(ci.low / (1 - ci.low)) and high == pytest.approx(ci.high / (1 - ci.high))
    assert "no discordant" in reason_of(cmp.discordant_odds_ratio(0, 0)[0])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=4, max_size=9))
def test_permutation_test_close_to_exact_enumeration(differences):
    d = np.array(differences)
    observed = abs(d.mean())
    flips = np.array(list(itertools.product([-1, 1], repeat=len(d))))
    exact = np.mean(np.abs(flips @ d) / len(d) >= observed - 1e-12)
    assert cmp.permutation_test(d, n_permutations=20000) == pytest.approx(exact, abs=0.02)


def test_compare_correct_on_paired_items():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1, 0, 1], dtype=bool)
    b = np.array([1, 0, 0, 1, 0, 1, 0, 1, 0, 0], dtype=bool)
    result = cmp.compare_correct(a, b, n_resamples=500)
    assert (result["only_a"], result["only_b"]) == (4, 1)
    assert result["accuracy_a"] == 0.7 and result["accuracy_b"] == 0.4
    assert result["difference"] == pytest.approx(0.3)
    assert result["ci_low"] <= 0.3 <= result["ci_high"]
    assert result["p_mcnemar"] == pytest.approx(stats.binomtest(1, 5, 0.5).pvalue)
    with pytest.raises(ValueError, match="same items"):
        cmp.compare_correct(a, b[:5])
    assert reason_of(cmp.permutation_test([])) == "no paired items"
