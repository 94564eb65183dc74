"""Small statistics on query results: paired tests, Holm correction, agreement, per-class scores, Pareto fronts.

Pure functions over counts and DataFrames (no I/O), so they are checked directly against scipy and
scikit-learn. Where `engine.metrics` provides the same statistic it is used instead, so the dashboard
and `affectlens scores` never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

try:  # the engine's own tests, so the dashboard and `affectlens scores` agree
    from engine.metrics import compare as _engine_compare
except Exception:  # an engine build without the metrics package
    _engine_compare = None


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c.

    Under H0 the b + c discordant pairs split as Binomial(b + c, 1/2) (McNemar 1947; the exact form as in
    Fagerland, Lydersen & Laake 2013, BMC Med. Res. Methodol. 13:91). No discordant pairs gives 1.
    """
    b, c = int(b), int(c)
    if b + c == 0:
        return 1.0
    if _engine_compare is not None:
        return float(_engine_compare.mcnemar_exact(b, c))
    return float(stats.binomtest(min(b, c), b + c, 0.5, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, monotone and capped at 1; NaN stays NaN."""
    values = np.asarray(list(p_values), dtype=float)
    adjusted = np.full(values.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(values))
    m = len(finite)
    running = 0.0
    for rank, index in enumerate(finite[np.argsort(values[finite], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def significance_mark(p: float | None) -> str:
    """Conventional stars for a (corrected) p-value: *** < .001, ** < .01, * < .05."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def cohen_kappa(pairs: pd.DataFrame) -> float:
    """Cohen's (1960) kappa from a table of label pairs with columns `label_a`, `label_b`, `n`.

    kappa = (p_o - p_e) / (1 - p_e), p_o the observed agreement and p_e the agreement expected from
    the two marginal distributions; NaN when there is nothing to compare or p_e = 1.
    """
    total = float(pairs["n"].sum()) if len(pairs) else 0.0
    if total == 0:
        return float("nan")
    observed = float(pairs.loc[pairs["label_a"] == pairs["label_b"], "n"].sum()) / total
    share_a = pairs.groupby("label_a")["n"].sum() / total
    share_b = pairs.groupby("label_b")["n"].sum() / total
    expected = float(sum(share_a.get(label, 0.0) * share_b.get(label, 0.0) for label in set(share_a.index) | set(share_b.index)))
    if expected >= 1.0:
        return float("nan")
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha_nominal(unit_counts: pd.DataFrame) -> float:
    """Krippendorff's alpha for nominal labels from counts per unit (`unit`, `label`, `n`: how many raters
    gave `label` to `unit`); units with fewer than two values are not pairable (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability"): alpha = 1 - D_o / D_e over the coincidence matrix.
    """
    if unit_counts.empty:
        return float("nan")
    table = unit_counts.pivot_table(index="unit", columns="label", values="n", aggfunc="sum", fill_value=0)
    counts = table.to_numpy(dtype=float)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if not len(counts):
        return float("nan")
    # o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)
    coincidence = np.einsum("uc,uk->ck", counts / (m - 1)[:, None], counts) - np.diag((counts / (m - 1)[:, None]).sum(0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    observed = (coincidence.sum() - np.trace(coincidence)) / n
    expected = (n * n - (n_c ** 2).sum()) / (n * (n - 1))
    return float("nan") if expected <= 0 else float(1 - observed / expected)


def per_class_scores(confusion: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per gold class from long confusion counts (`gold`, `predicted`, `n`).

    Unanswered items count against recall (their gold class loses a hit) and never as a prediction.
    Precision or recall without support is NaN, as is F1 then (scikit-learn's zero_division=nan).
    """
    if confusion.empty:
        return pd.DataFrame(columns=["label", "precision", "recall", "f1", "support"])
    golds = sorted(confusion["gold"].dropna().unique())
    rows = []
    for label in golds:
        true_pos = confusion.loc[(confusion["gold"] == label) & (confusion["predicted"] == label), "n"].sum()
        support = confusion.loc[confusion["gold"] == label, "n"].sum()
        predicted = confusion.loc[confusion["predicted"] == label, "n"].sum()
        precision = true_pos / predicted if predicted else float("nan")
        recall = true_pos / support if support else float("nan")
        f1 = (2 * precision * recall / (precision + recall)
              if precision == precision and recall == recall and precision + recall > 0 else
              (0.0 if precision == precision and recall == recall else float("nan")))
        rows.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": int(support)})
    return pd.DataFrame(rows)


def pareto_front(frame: pd.DataFrame, cost: str, quality: str) -> pd.Series:
    """True for rows no other row beats: lower-or-equal `cost` and higher-or-equal `quality`, one strictly."""
    values = frame[[cost, quality]].to_numpy(dtype=float)
    front = []
    for i, (c_i, q_i) in enumerate(values):
        if np.isnan(c_i) or np.isnan(q_i):
            front.append(False)
            continue
        dominated = any((c_j <= c_i and q_j >= q_i and (c_j < c_i or q_j > q_i))
                        for j, (c_j, q_j) in enumerate(values) if j != i and not np.isnan(c_j) and not np.isnan(q_j))
        front.append(not dominated)
    return pd.Series(front, index=frame.index)


def expected_calibration_error(bins: pd.DataFrame) -> float:
    """ECE = sum_b n_b / N * |accuracy_b - confidence_b| (Naeini et al. 2015; Guo et al. 2017)."""
    total = bins["n"].sum()
    if not total:
        return float("nan")
    return float((bins["n"] / total * (bins["accuracy"] - bins["mean_confidence"]).abs()).sum())


def position_bias_test(counts: Sequence[int]) -> float:
    """Chi-square goodness-of-fit p-value of answer positions against uniform (no position preference)."""
    observed = np.asarray(counts, dtype=float)
    if observed.sum() == 0 or len(observed) < 2:
        return float("nan")
    return float(stats.chisquare(observed).pvalue)
