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

from engine.store.queries import where_in

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
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy, "run_id": run_id}, "r")
    if purpose is not None:
        purposes = [purpose] if isinstance(purpose, str) else list(purpose)
        where += f" AND coalesce(r.purpose, 'benchmark') IN ({', '.join('?' for _ in purposes)})"
        params += purposes
    frame = con.execute(f"""
        WITH dims AS (SELECT DISTINCT run_id, dimension FROM predictions
                      UNION  -- a run that stored no answer at all still stands for the dimensions it asked for
                      SELECT run_id, unnest(dimensions) AS dimension FROM runs
                      WHERE dimensions IS NOT NULL AND run_id NOT IN (SELECT run_id FROM predictions))
        SELECT r.run_id, r.dataset, r.eval_set, r.model, r.strategy, coalesce(r.purpose, 'benchmark') AS purpose,
               r.status AS run_status, r.started_at, d.dimension, r.taxonomy AS run_taxonomy, r.n_items
        FROM runs r JOIN dims d USING (run_id)
        WHERE {where} AND d.dimension IN ('polarity','emotion','ranking','valence','arousal','intensity','distribution')
        ORDER BY r.dataset, r.model, r.strategy, d.dimension, r.run_id
    """, params).df()
    has_gold = set(con.execute("SELECT DISTINCT dataset, dimension FROM gold").fetchall())
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
    con.register("_plan", keys)
    try:
        frame = con.execute("""
            WITH universe AS (
                SELECT k."group", k.run_id, k.dataset, k.pred_dimension, k.gold_dimension, s.item_id
                FROM _plan k JOIN eval_set_items s ON s.eval_set = k.eval_set
                UNION ALL
                SELECT k."group", k.run_id, k.dataset, k.pred_dimension, k.gold_dimension, p.item_id
                FROM _plan k JOIN (SELECT DISTINCT run_id, dimension, item_id FROM predictions) p
                     ON p.run_id = k.run_id AND p.dimension = k.pred_dimension
                WHERE k.eval_set IS NULL
            )
            SELECT u."group", u.item_id, coalesce(p.status, 'missing') AS status, p.label, p.raw_label, p.ranking,
                   p.value_norm, p.method, p.distribution,
                   coalesce(p.confidence, pc.confidence, pc.value_norm, pc.value) AS confidence,
                   g.label AS gold_label, g.labels AS gold_labels, g.value_norm AS gold_value,
                   g.scale_low AS gold_scale_low, g.scale_high AS gold_scale_high,
                   g.distribution AS gold_distribution, g.taxonomy AS gold_taxonomy,
                   gd.distribution AS rater_distribution, (g.item_id IS NOT NULL) AS has_gold
            FROM universe u
            LEFT JOIN predictions p ON p.run_id = u.run_id AND p.dimension = u.pred_dimension AND p.item_id = u.item_id
            LEFT JOIN gold g ON g.dataset = u.dataset AND g.item_id = u.item_id AND g.dimension = u.gold_dimension
            LEFT JOIN gold gd ON gd.dataset = u.dataset AND gd.item_id = u.item_id AND gd.dimension = 'distribution'
            LEFT JOIN predictions pc ON pc.run_id = u.run_id AND pc.item_id = u.item_id
                                     AND pc.dimension = 'confidence'
            ORDER BY u."group", u.item_id
        """).df()
    finally:
        con.unregister("_plan")
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
    frame = con.execute("""
        SELECT i.item_id, i.split, i.meta, im.brightness, im.saturation, im.colorfulness
        FROM items i LEFT JOIN images im ON im.image_sha256 = i.image_sha256
        WHERE i.dataset = ? ORDER BY i.item_id
    """, [dataset]).df()
    meta = pd.DataFrame([_json(m) or {} for m in frame["meta"]], index=frame.index)
    meta = meta.drop(columns=[c for c in meta.columns if c in frame.columns], errors="ignore")
    return pd.concat([frame.drop(columns=["meta"]), meta], axis=1)
