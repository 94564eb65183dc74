"""Calibration of stated confidence against the correctness of the categorical answer.

- ECE: expected calibration error with M equal-width bins (m-1)/M < c <= m/M (0 in the first bin),
  ECE = sum_m |B_m|/n * |acc(B_m) - conf(B_m)|; Naeini, Cooper & Hauskrecht (2015), AAAI; Guo et al.
  (2017), "On calibration of modern neural networks", ICML. The bins are those of scikit-learn's
  `calibration_curve(strategy="uniform")`, so the reliability data equals its output.
- Brier score: mean (confidence - correct)^2, Brier (1950), Monthly Weather Review 78(1).
- Accuracy-coverage curve: answers sorted by confidence, accuracy of the most confident share
  (selective prediction; El-Yaniv & Wiener 2010).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine.metrics.base import nan
from engine.metrics.bootstrap import resample_counts

__all__ = ["DEFAULT_BINS", "bin_index", "ece_from_counts", "ece_batch", "brier_batch", "ece", "brier", "reliability_diagram",
           "accuracy_coverage_curve"]

DEFAULT_BINS = 10


def bin_index(confidence: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Bin of each confidence: right-closed equal-width bins over [0, 1]."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], np.clip(confidence, 0.0, 1.0), side="left")


def _valid(confidence, correct) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.shape != correct.shape:
        raise ValueError(f"confidence and correctness differ in length ({len(confidence)} vs {len(correct)})")
    valid = np.isfinite(confidence) & np.isfinite(correct)
    return np.where(valid, confidence, 0.0), np.where(valid, correct, 0.0), valid


def ece_from_counts(confidence, correct, valid, counts: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """(B,) ECE of each resample, given how often each item is drawn (`counts`, (B, n))."""
    conf, hit, ok = _valid(confidence, correct)
    if valid is not None:
        ok = ok & np.asarray(valid, dtype=bool)
    onehot = np.zeros((len(conf), n_bins))
    onehot[np.arange(len(conf)), bin_index(conf, n_bins)] = ok
    per_bin = counts @ np.hstack([onehot, onehot * conf[:, None], onehot * hit[:, None]])
    count, conf_sum, hit_sum = per_bin[:, :n_bins], per_bin[:, n_bins:2 * n_bins], per_bin[:, 2 * n_bins:]
    total = count.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.abs(hit_sum - conf_sum).sum(axis=1) / total, np.nan)


def ece_batch(confidence, correct, valid, idx: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """(B,) ECE of each resample row of `idx` over items where `valid` holds."""
    return ece_from_counts(confidence, correct, valid, resample_counts(idx, len(np.asarray(confidence))), n_bins)


def brier_batch(confidence, correct, valid, idx: np.ndarray) -> np.ndarray:
    conf, hit, ok = _valid(confidence, correct)
    if valid is not None:
        ok = ok & np.asarray(valid, dtype=bool)
    w = ok[idx].astype(float)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (((conf - hit) ** 2)[idx] * w).sum(axis=1) / total, np.nan)


def ece(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = DEFAULT_BINS) -> float:
    """Expected calibration error with `n_bins` equal-width bins; NaN without confidences.

    >>> ece([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0], n_bins=10)
    0.1
    """
    conf, hit, ok = _valid(confidence, correct)
    if not ok.any():
        return nan("no items with a stated confidence")
    return float(ece_batch(conf, hit, ok, np.arange(len(conf))[None, :], n_bins)[0])


def brier(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """Brier score of confidence against correctness (0 is perfect)."""
    conf, hit, ok = _valid(confidence, correct)
    if not ok.any():
        return nan("no items with a stated confidence")
    return float(brier_batch(conf, hit, ok, np.arange(len(conf))[None, :])[0])


def reliability_diagram(confidence: Sequence[float], correct: Sequence[bool],
                        n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """One row per non-empty bin: bin edges, mean confidence, accuracy and count."""
    conf, hit, ok = _valid(confidence, correct)
    conf, hit = conf[ok], hit[ok]
    bins = bin_index(conf, n_bins)
    frame = pd.DataFrame({"bin": bins, "confidence": conf, "correct": hit})
    out = frame.groupby("bin").agg(mean_confidence=("confidence", "mean"), accuracy=("correct", "mean"),
                                   count=("correct", "size")).reset_index()
    out["bin_low"] = out["bin"] / n_bins
    out["bin_high"] = (out["bin"] + 1) / n_bins
    out["gap"] = out["accuracy"] - out["mean_confidence"]
    return out[["bin", "bin_low", "bin_high", "mean_confidence", "accuracy", "count", "gap"]]


def accuracy_coverage_curve(confidence: Sequence[float], correct: Sequence[bool]) -> pd.DataFrame:
    """Accuracy of the k most confident answers against coverage k/n, for k = 1..n (ties kept in order)."""
    conf, hit, ok = _valid(confidence, correct)
    conf, hit = conf[ok], hit[ok]
    order = np.argsort(-conf, kind="stable")
    k = np.arange(1, len(order) + 1)
    return pd.DataFrame({"coverage": k / max(len(order), 1), "accuracy": np.cumsum(hit[order]) / k,
                         "threshold": conf[order]})
