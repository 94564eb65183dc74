"""Display helpers for comparisons: significance stars and the cost/quality Pareto front.

No statistic lives here: McNemar, Holm, kappa, alpha, ECE and per-class scores come from
`engine.metrics` (through `dashboard.data`), the same code `affectlens scores` uses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["significance_mark", "p_text", "pareto_front"]


def significance_mark(p: float | None) -> str:
    """Conventional stars for a (corrected) p-value: *** < .001, ** < .01, * < .05."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def p_text(p: float | None) -> str:
    """A p-value as printed in a paper: "< 0.001", or three significant digits.

    >>> p_text(3e-12), p_text(0.0412), p_text(float("nan"))
    ('< 0.001', '0.0412', '–')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


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
