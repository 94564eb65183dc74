"""Seeded, paired, vectorised bootstrap (Efron & Tibshirani 1993, ch. 13: percentile intervals).

Every metric here has a batch form that takes an index matrix `idx` of shape (B, N): row b lists the
items of resample b. The point estimate uses the identity row `arange(N)[None]`. The resample matrix
depends only on (N, B, seed), so two models or strategies scored on the same evaluated item list
(items sorted by id) see exactly the same resamples: their CIs and differences are paired.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["DEFAULT_RESAMPLES", "DEFAULT_SEED", "identity", "resample_indices", "percentile_ci", "masked_mean",
           "masked_means", "resample_counts", "resample_count_matrix",
           "bootstrap_ci", "wilson_interval"]

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20240
DEFAULT_LEVEL = 0.95


def identity(n: int) -> np.ndarray:
    """The (1, n) index matrix of the original sample."""
    return np.arange(n, dtype=np.int64)[None, :]


@lru_cache(maxsize=16)
def _indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.integers(0, n, size=(n_resamples, n), dtype=np.int32 if n < 2**31 else np.int64)
    out.setflags(write=False)
    return out


def resample_indices(n: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(n_resamples, n) matrix of item indices drawn with replacement; the same for the same arguments.

    >>> resample_indices(5, 3, seed=1).shape
    (3, 5)
    """
    if n <= 0 or n_resamples <= 0:
        return np.zeros((0, max(n, 0)), dtype=np.int64)
    return _indices(int(n), int(n_resamples), int(seed))


def percentile_ci(values: np.ndarray, level: float = DEFAULT_LEVEL,
                  min_valid: float = 0.9) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates; (nan, nan) when fewer than `min_valid` are finite.

    Replicates where the statistic is undefined (e.g. one class in a resample) are dropped; when that
    is more than a tenth of them, the interval would describe a different population and is withheld.
    """
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if values.size == 0 or finite.size < min_valid * values.size or finite.size < 2:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


def wilson_interval(successes: float, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Wilson (1927) score interval of a proportion `successes / n`; never zero-width at 0 or 1.

    Used for proportions where the percentile bootstrap degenerates (every resample equal: all right,
    all wrong, or too few items). (nan, nan) for n = 0.

    >>> low, high = wilson_interval(10, 10)
    >>> round(low, 3), high
    (0.722, 1.0)
    """
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.stats import norm
    z = float(norm.ppf(1 - (1 - level) / 2))
    p = min(max(successes / n, 0.0), 1.0)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    return (0.0 if p == 0 else float(low)), (1.0 if p == 1 else float(high))


def bootstrap_ci(batch_statistic, n: int, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
    """(point, low, high) for `batch_statistic(idx) -> (B,) array` over n items.

    >>> x = np.array([1.0, 0.0, 1.0, 1.0])
    >>> point, low, high = bootstrap_ci(lambda idx: x[idx].mean(axis=1), len(x))
    >>> point
    0.75
    """
    point = float(np.asarray(batch_statistic(identity(n)))[0]) if n else float("nan")
    if n < 2 or n_resamples <= 0:
        return point, float("nan"), float("nan")
    low, high = percentile_ci(batch_statistic(resample_indices(n, n_resamples, seed)), level)
    return point, low, high


CACHED_CELLS = 4_000_000  # count matrices up to this size (32 MB) are kept for the next group


def resample_count_matrix(n: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """`resample_counts` of `resample_indices(n, n_resamples, seed)`, kept when small enough: every
    group with the same number of items reuses it."""
    if n * n_resamples <= CACHED_CELLS:
        return _count_matrix(int(n), int(n_resamples), int(seed))
    return resample_counts(resample_indices(n, n_resamples, seed), n)


@lru_cache(maxsize=4)
def _count_matrix(n: int, n_resamples: int, seed: int) -> np.ndarray:
    out = resample_counts(resample_indices(n, n_resamples, seed), n)
    out.setflags(write=False)
    return out


def resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(B, n) matrix: how often each item occurs in each resample row of `idx`."""
    rows = idx.shape[0]
    flat = (np.arange(rows, dtype=np.int64)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)


def masked_mean(values: np.ndarray, mask: np.ndarray | None, counts: np.ndarray) -> np.ndarray:
    """Mean of `values` over the items where `mask` holds, weighted by resample `counts` (B, n);
    NaN for a row without such items. The batch form of every "share of items" metric.
    """
    values = np.asarray(values, dtype=float)
    weight = np.ones(values.shape) if mask is None else np.asarray(mask, dtype=float)
    weight = np.where(np.isfinite(values), weight, 0.0)
    total = counts @ weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (counts @ (np.where(weight > 0, values, 0.0) * weight)) / total, np.nan)


def masked_means(specs: dict[str, tuple[np.ndarray, np.ndarray | None]], counts: np.ndarray) -> dict[str, np.ndarray]:
    """`masked_mean` for many (values, mask) pairs at once: two matrix products instead of 2 per pair."""
    if not specs:
        return {}
    names = list(specs)
    n = counts.shape[1]
    values = np.empty((n, len(names)))
    weights = np.empty((n, len(names)))
    for j, name in enumerate(names):
        v, mask = specs[name]
        v = np.asarray(v, dtype=float)
        w = np.ones(n) if mask is None else np.asarray(mask, dtype=float)
        w = np.where(np.isfinite(v), w, 0.0)
        values[:, j] = np.where(w > 0, v, 0.0) * w
        weights[:, j] = w
    total = counts @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, (counts @ values) / total, np.nan)
    return {name: out[:, j] for j, name in enumerate(names)}
