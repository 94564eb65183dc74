"""The results matrix's mean win rate and LaTeX table (engine.metrics.matrix)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.metrics.matrix import latex_matrix, win_rates


def _cells(rows):
    return pd.DataFrame([{"model": m, "strategy": "zero-shot", "dataset": d, "value": v, "ci_low": v - 0.1,
                          "ci_high": v + 0.1, "n": 50, "coverage": 1.0, "eligible": e, "column": f"{d} · emotion"}
                         for m, d, v, e in rows])


def test_win_rate_counts_other_eligible_rows_beaten_ties_half_and_averages_over_datasets():
    cells = _cells([("a", "d1", 0.9, True), ("b", "d1", 0.5, True), ("c", "d1", 0.5, True),
                    ("a", "d2", 0.2, True), ("b", "d2", 0.8, True), ("c", "d2", 0.99, False)])
    rates = win_rates(cells, "accuracy_strict").set_index("model")
    # d1: a beats b and c (1.0); b ties c, loses to a (0.25); c the same. d2: c is below threshold: a vs b only.
    assert rates.loc["a", "mean_win_rate"] == pytest.approx((1.0 + 0.0) / 2)
    assert rates.loc["b", "mean_win_rate"] == pytest.approx((0.25 + 1.0) / 2)
    assert rates.loc["c", "mean_win_rate"] == pytest.approx(0.25)
    assert rates.loc["c", "datasets_compared"] == 1 and rates.loc["a", "datasets_compared"] == 2


def test_win_rate_follows_the_metric_direction_and_is_nan_without_rivals():
    cells = _cells([("a", "d1", 0.1, True), ("b", "d1", 0.4, True), ("a", "d2", 0.3, True)])
    rates = win_rates(cells, "mae").set_index("model")  # lower is better
    assert rates.loc["a", "mean_win_rate"] == 1.0 and rates.loc["b", "mean_win_rate"] == 0.0
    lone = win_rates(_cells([("a", "d1", 0.5, True)]), "accuracy_strict")
    assert math.isnan(lone["mean_win_rate"].iloc[0]) and lone["datasets_compared"].iloc[0] == 0


def test_latex_matrix_bolds_the_best_eligible_marks_the_rest_and_orders_by_win_rate():
    cells = _cells([("a", "d1", 0.9, True), ("b", "d1", 0.5, True), ("c", "d1", 0.95, False),
                    ("a", "d2", 0.2, True), ("b", "d2", 0.8, True)])
    text = latex_matrix(cells, "accuracy_strict", caption="50% of it")
    lines = [line for line in text.splitlines() if line.endswith(r"\\") and line[:2] in ("a ", "b ", "c ")]
    assert [line.split(" & ")[0] for line in lines] == ["a", "b", "c"]  # a and b at 0.5, a first by name; c none
    assert r"\textbf{0.900}" in lines[0] and r"0.950 $\pm$ 0.100$^\dagger$" in lines[2]
    assert r"\textbf{0.950}" not in text and "d1, emotion" in text and r"50\% of it" in text
    assert "below the ranking thresholds" in text
    assert lines[2].rstrip(r" \\").endswith("--")  # c has no win rate and no d2 cell
