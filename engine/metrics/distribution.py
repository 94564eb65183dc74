"""Distribution metrics: a predicted probability distribution over the taxonomy against rater shares.

- KL(gold || prediction) in nats, Kullback & Leibler (1951). A zero predicted probability where raters
  put mass would make KL infinite, so predictions are smoothed: q' = (q + eps) / (1 + K eps), eps = 1e-6
  (equals scipy.stats.entropy(p, q') ).
- Jensen-Shannon divergence, Lin (1991), "Divergence measures based on the Shannon entropy", IEEE
  Trans. Inf. Theory 37(1), base 2 so it lies in [0, 1] (= scipy's `jensenshannon(p, q, base=2) ** 2`).
- Cosine similarity of the two probability vectors.
- Majority agreement: the prediction's most probable label (first in label order on ties) is one
  of the labels the most raters chose (ties among raters kept explicit).
- Rater share of a single answered label, and the human ceiling (the share of raters agreeing with the
  majority label: the expected accuracy of one random rater against the majority, self included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.metrics.base import nan

__all__ = ["EPS", "as_matrix", "kl_items", "js_items", "cosine_items", "majority_agreement_items",
           "rater_share_items", "ceiling_items", "kl", "js", "cosine"]

EPS = 1e-6


def as_matrix(distributions: Sequence[Mapping[str, float] | None], labels: Sequence[str]
              ) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) rows normalised to sum 1 over `labels`, and a mask of rows that had positive mass."""
    out = np.zeros((len(distributions), len(labels)))
    position = {label: j for j, label in enumerate(labels)}
    for i, dist in enumerate(distributions):
        for label, share in (dist or {}).items():
            j = position.get(label)
            if j is not None and share is not None and np.isfinite(share) and share > 0:
                out[i, j] += float(share)
    total = out.sum(axis=1)
    valid = total > 0
    out[valid] /= total[valid, None]
    return out, valid


def _smooth(q: np.ndarray) -> np.ndarray:
    return (q + EPS) / (1 + q.shape[-1] * EPS)


def kl_items(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row KL(p || smoothed q) in nats."""
    qs = _smooth(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / qs), 0.0)
    return terms.sum(axis=-1)


def js_items(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row Jensen-Shannon divergence, base 2."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # m can underflow to 0 beside a subnormal share; such a term is 0 in the limit
        a = np.where((p > 0) & (m > 0), p * np.log2(p / m), 0.0).sum(axis=-1)
        b = np.where((q > 0) & (m > 0), q * np.log2(q / m), 0.0).sum(axis=-1)
    return np.clip((a + b) / 2, 0.0, 1.0)


def cosine_items(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(p, axis=-1) * np.linalg.norm(q, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norm > 0, (p * q).sum(axis=-1) / norm, np.nan)


def majority_agreement_items(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    top = q.argmax(axis=-1)
    majority = p >= p.max(axis=-1, keepdims=True) - 1e-12
    return majority[np.arange(len(p)), top].astype(float)


def rater_share_items(p: np.ndarray, answer_index: np.ndarray) -> np.ndarray:
    """Share of raters who chose each item's answered label (index -1: an answer outside the labels, 0)."""
    safe = np.where(answer_index >= 0, answer_index, 0)
    return np.where(answer_index >= 0, p[np.arange(len(p)), safe], 0.0)


def ceiling_items(p: np.ndarray) -> np.ndarray:
    return p.max(axis=-1)


def _pair(p: Mapping[str, float], q: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray] | None:
    labels = sorted(set(p) | set(q))
    matrix, valid = as_matrix([p, q], labels)
    return (matrix[0], matrix[1]) if valid.all() else None


def kl(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """KL(p || q) in nats with q smoothed by eps = 1e-6.

    >>> round(kl({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}), 6)
    0.0
    """
    pair = _pair(p, q)
    return float(kl_items(*pair)) if pair else nan("a distribution has no positive mass")


def js(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Jensen-Shannon divergence, base 2, in [0, 1].

    >>> js({"a": 1.0}, {"b": 1.0})
    1.0
    """
    pair = _pair(p, q)
    return float(js_items(*pair)) if pair else nan("a distribution has no positive mass")


def cosine(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Cosine similarity of two distributions."""
    pair = _pair(p, q)
    return float(cosine_items(*pair)) if pair else nan("a distribution has no positive mass")
