"""Reading the store into per-item frames for scoring: runs x evaluation sets x predictions x gold, in SQL.

A scoring group is one run's answers on one dimension. Every run is scored (history included); which
run stands for a comparison cell is decided afterwards by `engine.metrics.cells.pick_current`. The
items of a group are the run's evaluation set (`eval_set_items`): an item of the set without a
prediction row is scored as `missing` (unanswered), a prediction for an item outside the set is not
scored. A run without a stored set (none should remain after migration 100) is scored over the items
it has predictions for.

Polarity derived from an emotion answer: a run with emotion predictions but no polarity predictions
on a dataset with polarity gold also gets a polarity group, each emotion answer mapped to its polarity
(marked `derived` in every table).
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from engine.store.scoring import gold_dimensions, group_items, item_meta_rows, scoring_runs

__all__ = ["CATEGORICAL", "CONTINUOUS", "DISTRIBUTION", "GOLD_DIMENSION", "load_plan", "load_items",
           "load_item_meta"]

CATEGORICAL = ("polarity", "emotion", "ranking")
CONTINUOUS = ("valence", "arousal", "intensity")
DISTRIBUTION = ("distribution",)
# prediction dimension -> gold dimension it is scored against
GOLD_DIMENSION = {"polarity": "polarity", "emotion": "emotion", "ranking": "emotion", "valence": "valence",
                  "arousal": "arousal", "intensity": "intensity", "distribution": "distribution"}


def load_plan(con: duckdb.DuckDBPyConnection, *, dataset=None, model=None, strategy=None, dimension=None,
              run_id=None, purpose=None) -> pd.DataFrame:
    """One row per scoring group of every matching run: run_id, dataset, eval_set, model, strategy, purpose,
    run_status, started_at, dimension, pred_dimension, gold_dimension, run_taxonomy, n_items, derived."""
    frame = scoring_runs(con, dataset=dataset, model=model, strategy=strategy, run_id=run_id, purpose=purpose)
    has_gold = gold_dimensions(con)
    own_polarity = set(frame.loc[frame["dimension"] == "polarity", "run_id"])
    rows = []
    for row in frame.itertuples(index=False):
        base = {"run_id": row.run_id, "dataset": row.dataset, "eval_set": _text(row.eval_set), "model": row.model,
                "strategy": row.strategy, "purpose": row.purpose, "run_status": _text(row.run_status),
                "started_at": row.started_at, "run_taxonomy": _text(row.run_taxonomy),
                "n_items": None if pd.isna(row.n_items) else int(row.n_items)}
        gold_dimension = GOLD_DIMENSION[row.dimension]
        if (row.dataset, gold_dimension) in has_gold:
            rows.append({**base, "dimension": row.dimension, "pred_dimension": row.dimension,
                         "gold_dimension": gold_dimension, "derived": False})
        if row.dimension == "emotion" and row.run_id not in own_polarity and (row.dataset, "polarity") in has_gold:
            rows.append({**base, "dimension": "polarity", "pred_dimension": "emotion",
                         "gold_dimension": "polarity", "derived": True})
    plan = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    if dimension is not None:
        wanted = [dimension] if isinstance(dimension, str) else list(dimension)
        plan = plan[plan["dimension"].isin(wanted)]
    plan["derived"] = plan["derived"].astype(bool)
    return plan.reset_index(drop=True)


PLAN_COLUMNS = ["run_id", "dataset", "eval_set", "model", "strategy", "purpose", "run_status", "started_at",
                "dimension", "pred_dimension", "gold_dimension", "run_taxonomy", "n_items", "derived"]


def _text(value):
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def load_items(con: duckdb.DuckDBPyConnection, plan: pd.DataFrame) -> pd.DataFrame:
    """Per (group, item of its evaluation set): the answer, its status (`missing` without a prediction row),
    method and confidence, the gold of the group's gold dimension with its scale and, where the dataset has
    one, the gold rater distribution. One query for every group."""
    if plan.empty:
        return pd.DataFrame()
    keys = plan[["run_id", "dataset", "eval_set", "pred_dimension", "gold_dimension"]].copy()
    keys["group"] = range(len(keys))
    frame = group_items(con, keys)
    for column in ("item_id", "status", "label", "raw_label", "method", "gold_label", "gold_taxonomy"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    for column in ("ranking", "gold_labels"):
        frame[column] = pd.Series([list(v) if _is_list(v) else None for v in frame[column]], index=frame.index,
                                  dtype=object)
    for column in ("distribution", "gold_distribution", "rater_distribution"):
        frame[column] = frame[column].map(_json)
    return frame


def _is_list(value) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, (str, dict))


def _json(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def load_item_meta(con: duckdb.DuckDBPyConnection, dataset: str) -> pd.DataFrame:
    """Items of a dataset with their metadata keys as columns and image properties (brightness,
    saturation, colorfulness) where the images table has them."""
    frame = item_meta_rows(con, dataset)
    meta = pd.DataFrame([_json(m) or {} for m in frame["meta"]], index=frame.index)
    meta = meta.drop(columns=[c for c in meta.columns if c in frame.columns], errors="ignore")
    return pd.concat([frame.drop(columns=["meta"]), meta], axis=1)
