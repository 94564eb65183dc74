"""Slices: every metric by item metadata or image property, and a search for the worst slices.

Slice keys are the keys of `items.meta` (OASIS category, Twitter agreement level, Emotion6 keyword
folder, `in_<split>` flags, ...), the item's split, and the image properties of the `images` table
(brightness, saturation, colorfulness), which are binned into tertiles (low / mid / high, edges in
the slice name). A key with one value or more than `max_levels` values is not a slicing key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.metrics.base import HIGHER_IS_BETTER
from engine.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from engine.metrics.evaluation import Evaluation

__all__ = ["IMAGE_PROPERTIES", "slice_columns", "slice_values", "slice_scores", "worst_slices"]

IMAGE_PROPERTIES = ("brightness", "saturation", "colorfulness")
MAX_LEVELS = 20


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def slice_columns(meta: pd.DataFrame, max_levels: int = MAX_LEVELS) -> list[str]:
    """Columns of an item-metadata frame that make sensible slices."""
    keys = []
    for column in meta.columns:
        if column == "item_id":
            continue
        values = meta[column].dropna()
        if values.map(lambda v: isinstance(v, (list, dict))).any():
            continue
        distinct = values.astype(str).nunique()
        if distinct < 2:
            continue
        if (_numeric(values) and distinct > 3) or distinct <= max_levels:
            keys.append(column)
    return keys


def slice_values(meta: pd.DataFrame, key: str) -> pd.Series:
    """The slice of each item (index: item_id) for `key`; numeric keys with many values as tertiles."""
    values = meta.set_index("item_id")[key]
    present = values.dropna()
    if _numeric(present) and present.nunique() > 3:
        bins = pd.qcut(present.astype(float), 3, duplicates="drop")
        names = ["low", "mid", "high"] if len(bins.cat.categories) == 3 else [
            f"bin{i + 1}" for i in range(len(bins.cat.categories))]
        # qcut widens the first edge a little below the minimum; show the minimum itself, closed
        labels = {interval: (f"{name} [{present.min():.3g}–{interval.right:.3g}]" if i == 0
                             else f"{name} ({interval.left:.3g}–{interval.right:.3g}]")
                  for i, (name, interval) in enumerate(zip(names, bins.cat.categories))}
        return bins.map(labels).astype(object).reindex(values.index)
    return values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def slice_scores(ev: Evaluation, meta: pd.DataFrame, key: str, *, metrics: list[str] | None = None,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, min_n: int = 1) -> pd.DataFrame:
    """Every metric (or `metrics`) of `ev` on each slice of `key`, with bootstrap CIs within the slice."""
    from engine.metrics.scoring import score_evaluation

    labels = slice_values(meta, key).reindex(ev.items)
    rows = []
    for value in sorted({v for v in labels if v is not None}, key=str):
        mask = (labels == value).to_numpy()
        if mask.sum() < min_n:
            continue
        for row in score_evaluation(ev.subset(mask), n_resamples=n_resamples, seed=seed, metrics=metrics):
            rows.append({"key": key, "slice": value, **row})
    return pd.DataFrame(rows, columns=["key", "slice", "metric", "value", "n", "n_total", "ci_low", "ci_high",
                                       "note"])


def worst_slices(ev: Evaluation, meta: pd.DataFrame, *, metric: str = "accuracy", min_n: int = 20,
                 keys: list[str] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, scored: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Slices ordered from the most below the overall score (for `metric`'s direction) upwards.

    Columns: key, slice, value, ci_low, ci_high, n, overall, gap (slice - overall, signed so that
    negative is worse), plus the CI of the slice value. Slices with fewer than `min_n` items are left out.
    `scored`: `slice_scores` frames of `ev` already computed for some keys (with `metric`, the same `n_resamples`
    and `seed`, any `min_n` up to this one), used instead of scoring those keys again.
    """
    from engine.metrics.scoring import score_evaluation

    overall_rows = score_evaluation(ev, n_resamples=0, metrics=[metric])
    if not overall_rows or not np.isfinite(overall_rows[0]["value"]):
        return pd.DataFrame(columns=["key", "slice", "value", "ci_low", "ci_high", "n", "n_total", "overall", "gap"])
    overall = overall_rows[0]["value"]
    sign = -1.0 if HIGHER_IS_BETTER.get(metric) is False else 1.0
    scored = scored or {}
    frames = [scored[key] if key in scored else
              slice_scores(ev, meta, key, metrics=[metric], n_resamples=n_resamples, seed=seed, min_n=min_n)
              for key in (keys or slice_columns(meta[meta["item_id"].isin(ev.items)]))]
    frames = [f[f["metric"] == metric] if "metric" in f.columns else f for f in frames]
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else \
        pd.DataFrame(columns=["key", "slice", "value", "ci_low", "ci_high", "n", "n_total"])
    frame = frame[frame["n_total"] >= min_n].copy() if len(frame) else frame
    frame["overall"] = overall
    frame["gap"] = sign * (frame["value"].astype(float) - overall)
    columns = ["key", "slice", "value", "ci_low", "ci_high", "n", "n_total", "overall", "gap"]
    return frame.sort_values(["gap", "key", "slice"], na_position="last")[columns].reset_index(drop=True)
