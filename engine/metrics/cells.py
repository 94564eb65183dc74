"""Comparison cells: which run a number is about, and which rows may be ranked.

A **cell** is (dataset, evaluation set, model, strategy, dimension) within one run purpose. Several
runs can fall in one cell (a changed temperature, another replay file, a rerun after a fix); the run
that **stands for** the cell is the newest complete one (`pick_current`); the others stay as
history, selectable by id. Only `benchmark` runs make benchmark cells: an `analysis` (the dashboard
sidebar), a `probe` (perturbed images) or an `explain` run (occlusion) never replaces one and never
appears as a prompt strategy. `scores`, the exports and every dashboard page read the same choice,
stored in `evaluations.current` by the scorer.

**Ranking rule** (`eligible`, `rank_frame`): the default ranking metric of a categorical dimension is
strict accuracy (an unanswered item counts as wrong), which cannot reward silence. Any other metric
ranks and bolds only rows with coverage >= `MIN_COVERAGE` and n >= `MIN_N`; rows below are shown
greyed and marked, never bolded, and never ranked above an eligible row. Rows over different
evaluation sets are never ranked in one table.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from engine.metrics.base import HIGHER_IS_BETTER
from engine.store.scoring import evaluation_cells, set_current

__all__ = ["CELL_KEYS", "PURPOSES", "MIN_COVERAGE", "MIN_N", "pick_current", "mark_current", "eligible",
           "rank_frame", "DEFAULT_METRIC", "STRICT_METRICS"]

CELL_KEYS = ["dataset", "eval_set", "model", "strategy", "dimension", "purpose"]
PURPOSES = ("benchmark", "analysis", "probe", "explain")
#: A row ranks on a metric over answered items only when at least this share of the set was answered...
MIN_COVERAGE = float(os.environ.get("AFFECTLENS_MIN_COVERAGE", "0.8"))
#: ...and the metric used at least this many items.
MIN_N = int(os.environ.get("AFFECTLENS_MIN_N", "30"))
#: Metrics that count unanswered items against the model: ranked without the coverage threshold.
STRICT_METRICS = frozenset({"accuracy_strict", "coverage"})
#: The default ranking metric per dimension.
DEFAULT_METRIC = {"polarity": "accuracy_strict", "emotion": "accuracy_strict", "ranking": "accuracy_strict",
                  "valence": "ccc", "arousal": "ccc", "intensity": "ccc", "distribution": "js"}


def pick_current(frame: pd.DataFrame) -> pd.Series:
    """True for the one row per cell that stands for it: complete runs first, then a directly answered
    dimension before a derived one, then the newest (`started_at`), then the larger run id (a stable tie
    break). `frame` needs the `CELL_KEYS` and run_id, run_status, started_at, derived."""
    if frame.empty:
        return pd.Series([], dtype=bool, index=frame.index)
    order = pd.DataFrame({
        "incomplete": (frame["run_status"].fillna("") != "complete").astype(int),
        "derived": frame["derived"].map(_whole_group_derived).astype(int),
        "started": pd.to_datetime(frame["started_at"], errors="coerce").fillna(pd.Timestamp.min),
        "run_id": frame["run_id"].astype(str)}, index=frame.index)
    keys = frame[CELL_KEYS].astype(str).fillna("")
    ranked = pd.concat([keys, order], axis=1).sort_values(
        ["incomplete", "derived", "started", "run_id"], ascending=[True, True, False, False], kind="mergesort")
    first = ranked.drop_duplicates(CELL_KEYS, keep="first").index
    return pd.Series(frame.index.isin(first), index=frame.index)


def _whole_group_derived(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return value == DERIVED_GROUP


#: `evaluations.derived` of a polarity group read through the emotion answers' polarity.
DERIVED_GROUP = "polarity from emotion"


def mark_current(con) -> int:
    """Recompute `evaluations.current` over the whole store with `pick_current`; returns the cells."""
    frame = evaluation_cells(con)
    if frame.empty:
        return 0
    frame["current"] = pick_current(frame).to_numpy()
    set_current(con, frame)
    return int(frame["current"].sum())


def eligible(frame: pd.DataFrame, metric: str, *, min_coverage: float = None, min_n: int = None) -> pd.Series:
    """May each row be ranked and bolded on `metric`? Strict metrics always; others need coverage >=
    `min_coverage` and n >= `min_n` (columns `coverage` and `n`)."""
    min_coverage = MIN_COVERAGE if min_coverage is None else min_coverage
    min_n = MIN_N if min_n is None else min_n
    def column(name: str) -> pd.Series:
        return pd.to_numeric(frame[name], errors="coerce") if name in frame else pd.Series(np.nan, index=frame.index)

    value_ok = column("value").notna()
    if metric in STRICT_METRICS:
        return value_ok & ~(column("n") <= 0)
    # without a known coverage and n a row cannot show that it answered enough: it is not ranked
    return (value_ok & (column("coverage") >= min_coverage) & (column("n") >= min_n)).fillna(False)


def rank_frame(frame: pd.DataFrame, metric: str, *, min_coverage: float = None, min_n: int = None) -> pd.DataFrame:
    """`frame` (one row per model and strategy, columns value, n, coverage) sorted best first with columns
    `eligible`, `rank` (1 = best; NaN for rows below the thresholds) and `best` (bold)."""
    out = frame.copy()
    out["eligible"] = eligible(out, metric, min_coverage=min_coverage, min_n=min_n).to_numpy()
    direction = HIGHER_IS_BETTER.get(metric, True)
    value = pd.to_numeric(out["value"], errors="coerce")
    key = -value.abs() if direction is None else (value if direction else -value)
    out["_key"] = key.where(out["eligible"])
    out["_below"] = ~out["eligible"]
    out = out.sort_values(["_below", "_key", "model" if "model" in out else "_below"],
                          ascending=[True, False, True], na_position="last", kind="mergesort")
    ranks = out["_key"].rank(ascending=False, method="min")
    out["rank"] = ranks.where(out["eligible"])
    out["best"] = out["eligible"] & (out["_key"] == out["_key"].max())  # NaN (no eligible row) equals nothing
    return out.drop(columns=["_key", "_below"]).reset_index(drop=True)
