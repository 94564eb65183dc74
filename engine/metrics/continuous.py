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

__all__ = ["pearson_batch", "spearman_batch", "ccc_batch", "mae_batch", "rmse_batch", "bias_batch",
           "pearson", "spearman", "ccc", "mae", "rmse", "bias"]


def _gather(x, y, valid, idx):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    valid = np.ones(len(x), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    valid = valid & np.isfinite(x) & np.isfinite(y)
    w = valid[idx].astype(float)
    return np.where(w > 0, x[idx], 0.0), np.where(w > 0, y[idx], 0.0), w


def _moments(X, Y, W):
    n = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (X * W).sum(axis=1) / n
        my = (Y * W).sum(axis=1) / n
        dx = (X - mx[:, None]) * W
        dy = (Y - my[:, None]) * W
        sxx = (dx * dx).sum(axis=1) / n
        syy = (dy * dy).sum(axis=1) / n
        sxy = (dx * dy).sum(axis=1) / n
    return n, mx, my, sxx, syy, sxy


def _tiny(v: np.ndarray, scale: np.ndarray) -> np.ndarray:
    # A variance this small relative to the values is rounding noise of a constant series.
    return v <= 1e-24 + 1e-20 * scale


def pearson_batch(x, y, valid, idx) -> np.ndarray:
    X, Y, W = _gather(x, y, valid, idx)
    n, mx, my, sxx, syy, sxy = _moments(X, Y, W)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
    bad = (n < 2) | _tiny(sxx, mx**2) | _tiny(syy, my**2)
    return np.where(bad, np.nan, r)


def spearman_batch(x, y, valid, idx) -> np.ndarray:
    X, Y, W = _gather(x, y, valid, idx)
    rx = stats.rankdata(np.where(W > 0, X, np.nan), axis=1, nan_policy="omit")
    ry = stats.rankdata(np.where(W > 0, Y, np.nan), axis=1, nan_policy="omit")
    rows = np.arange(idx.shape[1])[None, :].repeat(idx.shape[0], axis=0)
    return pearson_batch(np.nan_to_num(rx).ravel(), np.nan_to_num(ry).ravel(), (W > 0).ravel(),
                         rows + np.arange(idx.shape[0])[:, None] * idx.shape[1])


def ccc_batch(x, y, valid, idx) -> np.ndarray:
    X, Y, W = _gather(x, y, valid, idx)
    n, mx, my, sxx, syy, sxy = _moments(X, Y, W)
    denom = sxx + syy + (mx - my) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 2 * sxy / denom
    return np.where((n < 2) | _tiny(denom, mx**2 + my**2), np.nan, value)


def _error_mean(x, y, valid, idx, transform) -> np.ndarray:
    X, Y, W = _gather(x, y, valid, idx)
    n = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (transform(X - Y) * W).sum(axis=1) / n, np.nan)


def mae_batch(x, y, valid, idx) -> np.ndarray:
    return _error_mean(x, y, valid, idx, np.abs)


def rmse_batch(x, y, valid, idx) -> np.ndarray:
    return np.sqrt(_error_mean(x, y, valid, idx, np.square))


def bias_batch(x, y, valid, idx) -> np.ndarray:
    return _error_mean(x, y, valid, idx, lambda d: d)


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


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r of predictions `x` and gold `y` (NaN items dropped).

    >>> pearson([1, 2, 3], [2, 4, 7])
    0.9933992677987828
    """
    return _scalar(pearson_batch, x, y, True)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson's r on average ranks (Spearman 1904)."""
    return _scalar(spearman_batch, x, y, True)


def ccc(x: Sequence[float], y: Sequence[float]) -> float:
    """Lin's (1989) concordance correlation coefficient.

    >>> ccc([1, 2, 3], [1, 2, 3])
    1.0
    """
    return _scalar(ccc_batch, x, y, True)


def mae(x: Sequence[float], y: Sequence[float]) -> float:
    """Mean absolute error."""
    return _scalar(mae_batch, x, y, False)


def rmse(x: Sequence[float], y: Sequence[float]) -> float:
    """Root mean squared error."""
    return _scalar(rmse_batch, x, y, False)


def bias(x: Sequence[float], y: Sequence[float]) -> float:
    """Mean signed error, prediction - gold (positive: the model overestimates)."""
    return _scalar(bias_batch, x, y, False)
