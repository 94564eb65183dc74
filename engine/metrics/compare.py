"""Comparing two models or strategies on the same items, and agreement among raters or models.

- McNemar's exact test (McNemar 1947; exact binomial form, e.g. Agresti 2013, Categorical Data
  Analysis, sec. 11.1): on the discordant pairs b (only A right) and c (only B right),
  p = min(1, 2 * P[Binomial(b + c, 1/2) <= min(b, c)]).
- Paired permutation (sign-flip) test of the mean per-item difference (Good 2005, Permutation Tests).
- Paired bootstrap CI of a difference: both metrics are computed on the same resample rows.
- Holm (1979) step-down correction, "A simple sequentially rejective multiple test procedure",
  Scand. J. Stat. 6(2).
- Effect sizes: Cohen's (1988) h = 2 asin(sqrt(p_a)) - 2 asin(sqrt(p_b)); the conditional odds ratio
  b / c of the discordant pairs with an exact (Clopper-Pearson) interval.
- Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability") for nominal
  and interval data with missing values: alpha = 1 - D_o / D_e from the coincidence matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from engine.metrics.base import nan
from engine.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, identity, percentile_ci, resample_indices

__all__ = ["mcnemar_exact", "permutation_test", "paired_difference", "summarise_difference", "holm", "cohen_h", "discordant_odds_ratio",
           "krippendorff_alpha", "compare_correct", "uniform_preference_test", "kappa_from_pairs"]


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts.

    >>> round(mcnemar_exact(1, 5), 5)  # 2 * (1 + 6) / 2**6
    0.21875
    """
    n = int(only_a) + int(only_b)
    if n == 0:
        return 1.0
    return float(min(1.0, 2 * stats.binom.cdf(min(only_a, only_b), n, 0.5)))


def permutation_test(differences: Sequence[float], n_permutations: int = 10000, seed: int = DEFAULT_SEED) -> float:
    """Two-sided p-value of mean(differences) = 0 by random sign flips (paired items exchangeable).

    p = (1 + #{|mean(s * d)| >= |mean(d)|}) / (1 + n_permutations), never 0.
    """
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return nan("no paired items")
    if not np.any(d):
        return 1.0
    rng = np.random.default_rng(seed)
    observed = abs(d.mean())
    extreme = 0
    for start in range(0, n_permutations, 2000):  # chunks keep memory flat for large n
        rows = min(2000, n_permutations - start)
        signs = rng.integers(0, 2, size=(rows, d.size), dtype=np.int8) * 2 - 1
        extreme += int((np.abs(signs @ d) / d.size >= observed - 1e-12).sum())
    return (1 + extreme) / (1 + n_permutations)


def paired_difference(batch_a, batch_b, n: int, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      level: float = 0.95) -> dict[str, float]:
    """Point difference a - b and its paired percentile CI; `batch_x(idx) -> (B,)` over the same n items.

    Also a bootstrap two-sided p-value: 2 * min over the tails of (1 + #differences beyond 0) / (1 + B).
    """
    point = float(batch_a(identity(n))[0] - batch_b(identity(n))[0]) if n else float("nan")
    if n < 2 or n_resamples <= 0:
        return summarise_difference(point, np.array([]), level)
    idx = resample_indices(n, n_resamples, seed)
    return summarise_difference(point, batch_a(idx) - batch_b(idx), level)


def summarise_difference(point: float, replicates: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Difference, percentile CI of the paired replicates, and the bootstrap two-sided p-value."""
    low, high = percentile_ci(replicates, level) if len(replicates) else (float("nan"), float("nan"))
    finite = replicates[np.isfinite(replicates)]
    # (1 + k) / (1 + B) per tail, so a finite number of resamples never claims p = 0
    tails = [(1 + (finite <= 0).sum()) / (1 + finite.size), (1 + (finite >= 0).sum()) / (1 + finite.size)]
    p = float(min(1.0, 2 * min(tails))) if finite.size else float("nan")
    return {"difference": point, "ci_low": low, "ci_high": high, "p_bootstrap": p}


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values, in the input order (NaN stays NaN and does not count in m).

    >>> holm([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


def cohen_h(p_a: float, p_b: float) -> float:
    """Cohen's h between two proportions (0.2 small, 0.5 medium, 0.8 large)."""
    if not (0 <= p_a <= 1 and 0 <= p_b <= 1):
        return nan("proportions must lie in [0, 1]")
    return float(2 * np.arcsin(np.sqrt(p_a)) - 2 * np.arcsin(np.sqrt(p_b)))


def discordant_odds_ratio(only_a: int, only_b: int, level: float = 0.95) -> tuple[float, float, float]:
    """(b / c, low, high): McNemar's conditional odds ratio with an exact interval from b ~ Bin(b + c, pi)."""
    n = only_a + only_b
    if n == 0:
        reason = "no discordant pairs"
        return nan(reason), nan(reason), nan(reason)
    ci = stats.binomtest(only_a, n).proportion_ci(confidence_level=level, method="exact")
    odds = [p / (1 - p) if p < 1 else np.inf for p in (ci.low, ci.high)]
    return (only_a / only_b if only_b else float("inf")), float(odds[0]), float(odds[1])


def krippendorff_alpha(reliability_data, level: str = "nominal") -> float:
    """Krippendorff's alpha; `reliability_data` is raters x units, None/NaN for missing values.

    `level` is "nominal" (any labels) or "interval" (numbers). Units with fewer than two values are not
    pairable and are ignored. NaN when there is no variation at all (D_e = 0).
    """
    rows = [list(r) for r in reliability_data]
    if not rows:
        return nan("no raters")
    missing = lambda v: v is None or (isinstance(v, float) and np.isnan(v))  # noqa: E731
    values = sorted({v for r in rows for v in r if not missing(v)}, key=lambda v: (str(type(v)), v))
    if level not in ("nominal", "interval"):
        raise ValueError(f"level {level!r} not supported; use 'nominal' or 'interval'")
    code = {v: i for i, v in enumerate(values)}
    n_units = max(len(r) for r in rows)
    counts = np.zeros((n_units, len(values)))
    for r in rows:
        for u, v in enumerate(r):
            if not missing(v):
                counts[u, code[v]] += 1
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return nan("no unit has two or more values")
    c = counts[pairable]
    coincidence = (c[:, :, None] * c[:, None, :]
                   - np.einsum("uk,kl->ukl", c, np.eye(len(values)))) / (m[pairable] - 1)[:, None, None]
    o = coincidence.sum(axis=0)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if level == "nominal":
        delta = 1.0 - np.eye(len(values))
    else:
        numeric = np.asarray(values, dtype=float)
        delta = (numeric[:, None] - numeric[None, :]) ** 2
    d_o = (o * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    if d_e <= 0:
        return nan("no variation among the values: expected disagreement is 0")
    return float(1 - d_o / d_e)


def compare_correct(correct_a: Sequence[bool], correct_b: Sequence[bool], *, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = DEFAULT_SEED) -> dict[str, float]:
    """Everything to say about two sets of per-item correctness on the same items.

    Returns accuracies, the paired difference with CI, McNemar's exact p, the permutation p, Cohen's h
    and the discordant odds ratio with its exact CI.
    """
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"the two models cover different items ({len(a)} vs {len(b)}); pass the same items")
    n = len(a)
    only_a = int(((a == 1) & (b == 0)).sum())
    only_b = int(((a == 0) & (b == 1)).sum())
    diff = paired_difference(lambda idx: a[idx].mean(axis=1), lambda idx: b[idx].mean(axis=1), n,
                             n_resamples=n_resamples, seed=seed)
    odds, odds_low, odds_high = discordant_odds_ratio(only_a, only_b)
    acc_a = float(a.mean()) if n else nan("no items")
    acc_b = float(b.mean()) if n else nan("no items")
    return {"n": n, "accuracy_a": acc_a, "accuracy_b": acc_b, **diff, "only_a": only_a, "only_b": only_b,
            "p_mcnemar": mcnemar_exact(only_a, only_b), "p_permutation": permutation_test(a - b, seed=seed),
            "cohen_h": cohen_h(acc_a, acc_b) if n else nan("no items"),
            "odds_ratio": odds, "odds_ratio_low": odds_low, "odds_ratio_high": odds_high}


def uniform_preference_test(counts: Sequence[int]) -> float:
    """Chi-square goodness-of-fit p-value (Pearson 1900) of counts against equal shares: e.g. how often the
    label shown at each position was chosen, against no position preference. NaN with fewer than two
    positions or no counts.

    >>> round(uniform_preference_test([10, 10, 10]), 3)
    1.0
    """
    from scipy import stats
    observed = np.asarray(counts, dtype=float)
    if observed.sum() == 0 or len(observed) < 2:
        return float("nan")
    return float(stats.chisquare(observed).pvalue)


def kappa_from_pairs(label_a: Sequence, label_b: Sequence, n: Sequence[int]) -> float:
    """Cohen's (1960) kappa from counted label pairs (what two raters said, and how often), through the same
    confusion-matrix code as every other kappa here; NaN when undefined."""
    from engine.metrics.categorical import kappa_from_confusion
    labels = sorted({*label_a, *label_b}, key=str)
    if not labels:
        return float("nan")
    code = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((1, len(labels), len(labels)))
    for a, b, count in zip(label_a, label_b, n):
        matrix[0, code[a], code[b]] += count
    return float(kappa_from_confusion(matrix)[0])

