"""Continuous metrics (valence, arousal, intensity) on the normalised scale, scalar and batch form.

Batch functions take per-item predictions `x`, gold `y`, a validity mask and an index matrix (B, N)
and return (B,) values computed over the valid items of each resample.

- Pearson's r and Spearman's rho (Pearson on average ranks): scipy.stats.pearsonr / spearmanr.
- CCC: Lin (1989), "A concordance correlation coefficient to evaluate reproducibility", Biometrics
  45(1): rho_c = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), moments with 1/n as Lin defines them.
- MAE, RMSE and bias (mean signed error, prediction - gold; positive means overestimation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from engine.metrics.base import finite_or_nan, nan
from engine.metrics.bootstrap import resample_counts

__all__ = ["CONTINUOUS_METRICS", "continuous_from_counts", "continuous_batch", "pearson_batch", "spearman_batch",
           "ccc_batch", "mae_batch", "rmse_batch", "bias_batch", "pearson", "spearman", "ccc", "mae", "rmse", "bias"]

CONTINUOUS_METRICS = ("pearson", "spearman", "ccc", "mae", "rmse", "bias")


def _weighted(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Row sums of counts * values for values of shape (n,) or (B, n)."""
    return counts @ values if values.ndim == 1 else (counts * values).sum(axis=1)


def _moments(X, Y, C):
    """n, means, variances and covariance (1/n) of each resample row; X, Y are (n,) or (B, n)."""
    n = C.sum(axis=1)
    if X.ndim == 1 and Y.ndim == 1 and C.shape[0] > 1:
        # Bootstrap replicates: item values are the same in every resample, so five matrix products give
        # every row's moments. Centring on the overall mean first limits the cancellation in
        # E[x^2] - E[x]^2 (relative error below 1e-6 even on near-constant resamples); the point
        # estimate (one row) takes the exact two-pass path below.
        weight = (C.sum(axis=0) > 0).astype(float)
        total = max(weight.sum(), 1.0)
        mean_x, mean_y = (X * weight).sum() / total, (Y * weight).sum() / total
        cx, cy = X - mean_x, Y - mean_y
        sums = C @ np.column_stack([cx, cy, cx * cx, cy * cy, cx * cy])
        with np.errstate(invalid="ignore", divide="ignore"):
            ex, ey, exx, eyy, exy = (sums / n[:, None]).T
        # E[x^2] - E[x]^2 of a constant row is rounding noise, not 0: find constant rows exactly
        sxx = np.where(_varies(X, C), np.maximum(exx - ex * ex, 0.0), 0.0)
        syy = np.where(_varies(Y, C), np.maximum(eyy - ey * ey, 0.0), 0.0)
        return n, ex + mean_x, ey + mean_y, sxx, syy, exy - ex * ey
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = _weighted(X, C) / n, _weighted(Y, C) / n
        # centred on the row means so the 1/n moments keep their precision
        dx, dy = X - mx[:, None], Y - my[:, None]
        sxx = (C * dx * dx).sum(axis=1) / n
        syy = (C * dy * dy).sum(axis=1) / n
        sxy = (C * dx * dy).sum(axis=1) / n
    return n, mx, my, sxx, syy, sxy


def _varies(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample row: do the drawn items take more than one value?"""
    drawn = counts > 0
    return np.where(drawn, values, -np.inf).max(axis=1) > np.where(drawn, values, np.inf).min(axis=1)


def _tiny(v: np.ndarray, scale: np.ndarray) -> np.ndarray:
    # A variance this small relative to the values is rounding noise of a constant series.
    return v <= 1e-24 + 1e-20 * scale


def _pearson(n, mx, my, sxx, syy, sxy) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
    return np.where((n < 2) | _tiny(sxx, mx**2) | _tiny(syy, my**2), np.nan, r)


def _ccc(n, mx, my, sxx, syy, sxy) -> np.ndarray:
    denom = sxx + syy + (mx - my) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 2 * sxy / denom
    return np.where((n < 2) | _tiny(denom, mx**2 + my**2), np.nan, value)


def _ranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(B, n) average rank of each item within each resample (items drawn c times tie with
    themselves; equal values tie), from the counts alone: one sort of the n values, no sort per row."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new_group = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.array([], dtype=bool)
    starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    per_group = np.add.reduceat(counts[:, order], starts, axis=1)
    average = np.cumsum(per_group, axis=1) - per_group + (per_group + 1) / 2
    ranks = np.empty(counts.shape)
    ranks[:, order] = average[:, group]
    return ranks


def continuous_from_counts(x, y, valid, counts: np.ndarray, metrics=CONTINUOUS_METRICS) -> dict[str, np.ndarray]:
    """Every continuous metric for each resample, given how often each item is drawn (`counts`, (B, n))."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    x, y = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    C = counts * ok
    out = {}
    if "pearson" in metrics or "ccc" in metrics:
        moments = _moments(x, y, C)
        out["pearson"], out["ccc"] = _pearson(*moments), _ccc(*moments)
    if "spearman" in metrics:
        out["spearman"] = _pearson(*_moments(_ranks(x, C), _ranks(y, C), C))
    n = C.sum(axis=1)
    d = x - y
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mae"] = np.where(n > 0, (C @ np.abs(d)) / n, np.nan)
        out["rmse"] = np.where(n > 0, np.sqrt((C @ (d * d)) / n), np.nan)
        out["bias"] = np.where(n > 0, (C @ d) / n, np.nan)
    return {name: out[name] for name in metrics}


def continuous_batch(x, y, valid, idx, metrics=CONTINUOUS_METRICS) -> dict[str, np.ndarray]:
    """Every continuous metric for each resample row of `idx`."""
    return continuous_from_counts(x, y, valid, resample_counts(idx, len(np.asarray(x))), metrics)


def _batch_form(name: str):
    """The batch form of one continuous metric: `continuous_batch` computing `name` alone."""
    def batch(x, y, valid, idx) -> np.ndarray:
        return continuous_batch(x, y, valid, idx, (name,))[name]
    batch.__name__ = batch.__qualname__ = f"{name}_batch"
    batch.__doc__ = f"{name} over the valid items of each resample row of `idx`: (B,) values."
    return batch


pearson_batch, spearman_batch, ccc_batch, mae_batch, rmse_batch, bias_batch = map(_batch_form, CONTINUOUS_METRICS)


def _scalar(batch, x: Sequence[float], y: Sequence[float], correlation: bool) -> float:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"predictions and gold differ in length ({len(x)} vs {len(y)})")
    valid = np.isfinite(x) & np.isfinite(y)
    n = int(valid.sum())
    if n == 0:
        return nan("no items with both a prediction and a gold value")
    if correlation and n < 2:
        return nan("fewer than two items")
    value = batch(x, y, valid, np.arange(len(x))[None, :])[0]
    if correlation and not np.isfinite(value):
        which = "predictions" if np.ptp(x[valid]) == 0 else "gold values" if np.ptp(y[valid]) == 0 else "input"
        return nan(f"constant {which}: correlation undefined")
    return finite_or_nan(value, "undefined for this input")


def _scalar_form(name: str, correlation: bool, doc: str):
    """The scalar form of metric `name` (predictions `x`, gold `y`; NaN items dropped), documented by `doc`.

    A correlation needs two items and values that vary; otherwise the result is a NaN with the reason.
    """
    batch = _batch_form(name)

    def metric(x: Sequence[float], y: Sequence[float]) -> float:
        return _scalar(batch, x, y, correlation)
    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = doc
    return metric


pearson = _scalar_form("pearson", True, """Pearson's r of predictions `x` and gold `y` (NaN items dropped).

    >>> pearson([1, 2, 3], [2, 4, 7])
    0.9933992677987828
    """)
spearman = _scalar_form("spearman", True, "Spearman's rho: Pearson's r on average ranks (Spearman 1904).")
ccc = _scalar_form("ccc", True, """Lin's (1989) concordance correlation coefficient.

    >>> ccc([1, 2, 3], [1, 2, 3])
    1.0
    """)
mae = _scalar_form("mae", False, "Mean absolute error.")
rmse = _scalar_form("rmse", False, "Root mean squared error.")
bias = _scalar_form("bias", False, "Mean signed error, prediction - gold (positive: the model overestimates).")
