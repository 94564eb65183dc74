"""Categorical metrics (polarity, emotion) from confusion matrices, in scalar and batch form.

Rows of a confusion matrix are gold classes, columns answers. Gold classes are indexed 0..K-1; index K
("other") collects answers outside the label set, which are given and wrong. Every batch function
takes a (B, K+1, K+1) stack of confusion matrices (one per bootstrap resample) and returns (B,)
values; the scalar functions build the single matrix of the sample and add the reason for a NaN.

Definitions: per-class precision, recall and F1 and their macro/weighted averages follow Sokolova &
Lapalme (2009), "A systematic analysis of performance measures for classification tasks", IPM 45(4);
averages run over the classes present in the gold, so they equal scikit-learn's
`f1_score(y_true, y_pred, labels=unique(y_true), average=...)`. UAR (unweighted average recall,
Schuller et al. 2009) is scikit-learn's `balanced_accuracy_score`. Cohen's kappa: Cohen (1960),
"A coefficient of agreement for nominal scales", Educ. Psychol. Meas. 20(1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from engine.metrics.base import finite_or_nan, nan

__all__ = ["OTHER", "encode", "confusion_batch", "confusion_from_counts", "accuracy_from_confusion", "macro_f1_from_confusion",
           "weighted_f1_from_confusion", "uar_from_confusion", "kappa_from_confusion", "accuracy",
           "accuracy_strict", "coverage", "macro_f1", "weighted_f1", "uar", "cohen_kappa", "per_class",
           "confusion_matrix", "top_k_hits", "top_k_accuracy", "kendall_tau", "kendall_tau_items"]

OTHER = "<other>"  # column of answers outside the label set (or unanswered, where counted)


def encode(y_true: Sequence, y_pred: Sequence, labels: Sequence[str] | None = None
           ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Integer codes: gold -> 0..K-1 over `labels` (default: sorted distinct gold), answers -> 0..K.

    An answer that is None or not among the labels gets code K (`OTHER`). A gold label outside
    `labels` is an error: gold defines the classes.
    """
    labels = list(labels) if labels is not None else sorted({str(y) for y in y_true})
    code = {label: i for i, label in enumerate(labels)}
    try:
        t = np.array([code[str(y)] for y in y_true], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"gold label {exc.args[0]!r} is not among the classes {labels}") from None
    p = np.array([code.get(str(y), len(labels)) if y is not None else len(labels) for y in y_pred], dtype=np.int64)
    if len(t) != len(p):
        raise ValueError(f"gold and answers differ in length ({len(t)} vs {len(p)})")
    return t, p, labels


def confusion_batch(t: np.ndarray, p: np.ndarray, n_classes: int, idx: np.ndarray,
                    mask: np.ndarray | None = None) -> np.ndarray:
    """(B, K+1, K+1) confusion counts of each resample row of `idx` (items where `mask` holds)."""
    k1 = n_classes + 1
    rows = idx.shape[0]
    flat = (np.arange(rows, dtype=np.int64)[:, None] * (k1 * k1) + t[idx] * k1 + p[idx]).ravel()
    weights = None if mask is None else np.asarray(mask, dtype=float)[idx].ravel()
    counts = np.bincount(flat, weights=weights, minlength=rows * k1 * k1)
    return counts.reshape(rows, k1, k1)


def confusion_from_counts(t: np.ndarray, p: np.ndarray, n_classes: int, counts: np.ndarray,
                          mask: np.ndarray | None = None) -> np.ndarray:
    """(B, K+1, K+1) confusion counts from how often each item is drawn (`counts`, (B, n)): one matrix
    product with the items' one-hot cells, so no (B, n) gather is needed."""
    k1 = n_classes + 1
    cells = np.zeros((len(t), k1 * k1))
    cells[np.arange(len(t)), t * k1 + p] = 1.0 if mask is None else np.asarray(mask, dtype=float)
    return (counts @ cells).reshape(counts.shape[0], k1, k1)


def _diag(conf: np.ndarray) -> np.ndarray:
    return np.diagonal(conf, axis1=1, axis2=2)


def accuracy_from_confusion(conf: np.ndarray) -> np.ndarray:
    total = conf.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, _diag(conf).sum(axis=1) / total, np.nan)


def _class_f1(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per gold class F1 = 2TP / (2TP + FP + FN) (0 where TP = 0) and gold support; the OTHER class excluded."""
    k = conf.shape[1] - 1
    tp = _diag(conf)[:, :k]
    support = conf.sum(axis=2)[:, :k]
    predicted = conf.sum(axis=1)[:, :k]
    denom = support + predicted
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0)
    return f1, support


def macro_f1_from_confusion(conf: np.ndarray) -> np.ndarray:
    f1, support = _class_f1(conf)
    present = support > 0
    n_present = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_present > 0, (f1 * present).sum(axis=1) / n_present, np.nan)


def weighted_f1_from_confusion(conf: np.ndarray) -> np.ndarray:
    f1, support = _class_f1(conf)
    total = support.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (f1 * support).sum(axis=1) / total, np.nan)


def uar_from_confusion(conf: np.ndarray) -> np.ndarray:
    k = conf.shape[1] - 1
    support = conf.sum(axis=2)[:, :k]
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(present, _diag(conf)[:, :k] / np.where(present, support, 1), 0.0)
        return np.where(present.any(axis=1), recall.sum(axis=1) / present.sum(axis=1), np.nan)


def kappa_from_confusion(conf: np.ndarray) -> np.ndarray:
    """kappa = (p_o - p_e) / (1 - p_e); NaN where p_e = 1 (both sides constant on one class)."""
    total = conf.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_o = _diag(conf).sum(axis=1) / total
        p_e = (conf.sum(axis=2) * conf.sum(axis=1)).sum(axis=1) / total**2
        out = (p_o - p_e) / (1 - p_e)
    return np.where((total > 0) & (np.abs(1 - p_e) > 1e-12), out, np.nan)


def _scalar(fn, y_true, y_pred, labels=None) -> float:
    if len(y_true) == 0:
        return nan("no items")
    t, p, labels = encode(y_true, y_pred, labels)
    conf = confusion_batch(t, p, len(labels), np.arange(len(t))[None, :])
    return finite_or_nan(fn(conf)[0], "undefined for this input")


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Share of items whose answer equals the gold label (an answer of None counts as wrong).

    >>> accuracy(["a", "b", "b"], ["a", "b", "a"])
    0.6666666666666666
    """
    return _scalar(accuracy_from_confusion, y_true, y_pred)


def accuracy_strict(y_true: Sequence, y_pred: Sequence, answered: Sequence[bool]) -> float:
    """Share of all items answered and correct: unanswered items count as wrong."""
    answered = np.asarray(answered, dtype=bool)
    if answered.size == 0:
        return nan("no items")
    hits = np.array([a and p is not None and str(p) == str(t) for t, p, a in zip(y_true, y_pred, answered)])
    return float(hits.mean())


def coverage(answered: Sequence[bool]) -> float:
    """Share of evaluated items that got an answer."""
    answered = np.asarray(answered, dtype=bool)
    return float(answered.mean()) if answered.size else nan("no items")


def macro_f1(y_true: Sequence, y_pred: Sequence) -> float:
    """Unweighted mean F1 over the gold classes (Sokolova & Lapalme 2009)."""
    return _scalar(macro_f1_from_confusion, y_true, y_pred)


def weighted_f1(y_true: Sequence, y_pred: Sequence) -> float:
    """Support-weighted mean F1 over the gold classes."""
    return _scalar(weighted_f1_from_confusion, y_true, y_pred)


def uar(y_true: Sequence, y_pred: Sequence) -> float:
    """Unweighted average recall over the gold classes (balanced accuracy)."""
    return _scalar(uar_from_confusion, y_true, y_pred)


def cohen_kappa(y_true: Sequence, y_pred: Sequence) -> float:
    """Cohen's (1960) kappa; NaN when chance agreement is 1 (both sides constant on one class).

    >>> cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    0.5
    """
    if len(y_true) == 0:
        return nan("no items")
    value = _scalar(kappa_from_confusion, y_true, y_pred)
    if np.isnan(value):
        return nan("chance agreement is 1: gold and answers are both one constant class")
    return value


def confusion_matrix(y_true: Sequence, y_pred: Sequence, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts, gold classes as rows and answers as columns; answers outside the label set under OTHER."""
    t, p, labels = encode(y_true, y_pred, labels)
    conf = confusion_batch(t, p, len(labels), np.arange(len(t))[None, :])[0][: len(labels)]
    frame = pd.DataFrame(conf.astype(int), index=pd.Index(labels, name="gold"),
                         columns=pd.Index([*labels, OTHER], name="answer"))
    return frame if frame[OTHER].any() else frame.drop(columns=OTHER)


def per_class(y_true: Sequence, y_pred: Sequence, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and support per gold class (precision 0 where the class is never answered)."""
    t, p, labels = encode(y_true, y_pred, labels)
    conf = confusion_batch(t, p, len(labels), np.arange(len(t))[None, :])[0]
    k = len(labels)
    tp = np.diag(conf)[:k]
    support, predicted = conf.sum(axis=1)[:k], conf.sum(axis=0)[:k]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
        f1 = np.where(support + predicted > 0, 2 * tp / np.maximum(support + predicted, 1), np.nan)
    return pd.DataFrame({"label": labels, "precision": precision, "recall": recall, "f1": f1,
                         "support": support.astype(int), "predicted": predicted.astype(int)})


def top_k_hits(gold: Sequence, rankings: Sequence[Sequence | None], k: int,
               gold_sets: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    """Per item: 1.0 where the gold label (or any of its tied majority labels) is among the first k."""
    hits = np.zeros(len(gold))
    for i, (label, ranking) in enumerate(zip(gold, rankings)):
        targets = set(gold_sets[i]) if gold_sets is not None and len(gold_sets[i]) else {label}
        top = [r for r in (list(ranking) if ranking is not None else [])[:k]]
        hits[i] = float(bool(targets.intersection(top)))
    return hits


def top_k_accuracy(gold: Sequence, rankings: Sequence[Sequence | None], k: int) -> float:
    """Share of items whose gold label is among the first `k` of the ranking (Manning et al. 2008)."""
    if len(gold) == 0:
        return nan("no items")
    return float(top_k_hits(gold, rankings, k).mean())


def kendall_tau(ranking: Sequence[str | None], gold_shares: dict[str, float]) -> float:
    """Kendall's tau-b between a ranking (best first) and gold rater shares over the gold's labels.

    Labels missing from the ranking tie for last place. NaN when either side is constant.
    Kendall (1945), "The treatment of ties in ranking problems", Biometrika 33(3).
    """
    labels = list(gold_shares)
    if len(labels) < 2:
        return nan("fewer than two labels")
    order = [r for r in ranking if r is not None]
    score = [len(order) - order.index(label) if label in order else 0 for label in labels]
    shares = [float(gold_shares[label]) for label in labels]
    if len(set(score)) < 2 or len(set(shares)) < 2:
        return nan("ranking or gold shares constant")
    return float(stats.kendalltau(score, shares).statistic)


def kendall_tau_items(rankings: Sequence[Sequence | None], distributions: Sequence[dict | None]) -> np.ndarray:
    """Per item tau-b (NaN where undefined), for averaging and bootstrapping."""
    return np.array([kendall_tau(r or [], d) if d else np.nan for r, d in zip(rankings, distributions)], dtype=float)
