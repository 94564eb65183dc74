"""Reading the store into per-item frames for scoring: runs x predictions x gold, in SQL.

A scoring group is (dataset, model, strategy, dimension). Its predictions come from the most recent
run (by `started_at`, then `run_id`) of that model and strategy on that dataset that has the
dimension; older runs of the same group are named in the note of its scores. The evaluated set of a
run is every item it has a prediction row for (the runner and the importer write a row for each item
they attempted, with status failed/refused/error where there is no answer); when `runs.n_items` is
larger, the items without a row are counted as unanswered too.

Polarity derived from an emotion answer: a run with emotion predictions but no polarity predictions
on a dataset with polarity gold also gets a polarity group, each emotion answer mapped to its polarity.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

__all__ = ["CATEGORICAL", "CONTINUOUS", "DISTRIBUTION", "GOLD_DIMENSION", "load_plan", "load_items",
           "load_item_meta"]

CATEGORICAL = ("polarity", "emotion", "ranking")
CONTINUOUS = ("valence", "arousal", "intensity")
DISTRIBUTION = ("distribution",)
# prediction dimension -> gold dimension it is scored against
GOLD_DIMENSION = {"polarity": "polarity", "emotion": "emotion", "ranking": "emotion", "valence": "valence",
                  "arousal": "arousal", "intensity": "intensity", "distribution": "distribution"}


def where_in(filters: dict[str, str | list[str] | None], alias: str | None = None) -> tuple[str, list]:
    """A parameterised SQL condition `column IN (?, ...) AND ...` for the filters set (None: any value)."""
    clauses, params = [], []
    prefix = f"{alias}." if alias else ""
    for column, value in filters.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        clauses.append(f"{prefix}{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    return (" AND ".join(clauses) or "TRUE"), params


def load_plan(con: duckdb.DuckDBPyConnection, *, dataset=None, model=None, strategy=None,
              dimension=None) -> pd.DataFrame:
    """One row per scoring group: run_id, dataset, model, strategy, dimension, pred_dimension,
    gold_dimension, run_taxonomy, n_items, derived (bool), shadowed (older run ids)."""
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy}, "r")
    frame = con.execute(f"""
        WITH dims AS (SELECT DISTINCT run_id, dimension FROM predictions),
        candidates AS (
            SELECT r.run_id, r.dataset, r.model, r.strategy, d.dimension, r.taxonomy AS run_taxonomy,
                   r.n_items, r.started_at
            FROM runs r JOIN dims d USING (run_id)
            WHERE {where} AND d.dimension IN ('polarity','emotion','ranking','valence','arousal',
                                              'intensity','distribution')
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY dataset, model, strategy, dimension
                                         ORDER BY started_at DESC NULLS LAST, run_id DESC) AS position,
                   list(run_id) OVER (PARTITION BY dataset, model, strategy, dimension) AS group_runs
            FROM candidates
        )
        SELECT run_id, dataset, model, strategy, dimension, run_taxonomy, n_items, group_runs
        FROM ranked WHERE position = 1
        ORDER BY dataset, model, strategy, dimension
    """, params).df()
    gold_dims = con.execute("SELECT DISTINCT dataset, dimension FROM gold").fetchall()
    has_gold = set(gold_dims)
    rows = []
    for row in frame.itertuples(index=False):
        gold_dimension = GOLD_DIMENSION[row.dimension]
        shadowed = [r for r in (row.group_runs if row.group_runs is not None else []) if r != row.run_id]
        base = {"run_id": row.run_id, "dataset": row.dataset, "model": row.model, "strategy": row.strategy,
                "run_taxonomy": row.run_taxonomy,
                "n_items": None if pd.isna(row.n_items) else int(row.n_items), "shadowed": shadowed}
        if (row.dataset, gold_dimension) in has_gold:
            rows.append({**base, "dimension": row.dimension, "pred_dimension": row.dimension,
                         "gold_dimension": gold_dimension, "derived": False})
        own_polarity = ((frame["run_id"] == row.run_id) & (frame["dimension"] == "polarity")).any()
        if row.dimension == "emotion" and not own_polarity and (row.dataset, "polarity") in has_gold:
            rows.append({**base, "dimension": "polarity", "pred_dimension": "emotion",
                         "gold_dimension": "polarity", "derived": True})
    plan = pd.DataFrame(rows, columns=["run_id", "dataset", "model", "strategy", "dimension", "pred_dimension",
                                       "gold_dimension", "run_taxonomy", "n_items", "derived", "shadowed"])
    if dimension is not None:
        wanted = [dimension] if isinstance(dimension, str) else list(dimension)
        plan = plan[plan["dimension"].isin(wanted)]
    if plan.empty:
        return plan.reset_index(drop=True)
    plan["derived"] = plan["derived"].astype(bool)
    # A derived polarity group never replaces the polarity group of another (newer) run of the same key.
    direct = plan[~plan["derived"]].set_index(["dataset", "model", "strategy", "dimension"]).index
    keep = ~plan["derived"] | ~plan.set_index(["dataset", "model", "strategy", "dimension"]).index.isin(direct)
    return plan[keep].reset_index(drop=True)


def load_items(con: duckdb.DuckDBPyConnection, plan: pd.DataFrame) -> pd.DataFrame:
    """Per (group, item): the answer, its status and confidence, the gold of the group's gold dimension
    and, where the dataset has one, the gold rater distribution. One query for every group."""
    if plan.empty:
        return pd.DataFrame()
    keys = plan[["run_id", "pred_dimension", "gold_dimension"]].copy()
    keys["group"] = range(len(keys))
    con.register("_plan", keys)
    try:
        frame = con.execute("""
            SELECT k."group", p.item_id, p.status, p.label, p.raw_label, p.ranking, p.value_norm,
                   p.distribution, coalesce(p.confidence, pc.confidence, pc.value_norm, pc.value) AS confidence,
                   g.label AS gold_label, g.labels AS gold_labels, g.value_norm AS gold_value,
                   g.distribution AS gold_distribution, g.taxonomy AS gold_taxonomy,
                   gd.distribution AS rater_distribution, (g.item_id IS NOT NULL) AS has_gold
            FROM _plan k
            JOIN predictions p ON p.run_id = k.run_id AND p.dimension = k.pred_dimension
            LEFT JOIN gold g ON g.dataset = p.dataset AND g.item_id = p.item_id AND g.dimension = k.gold_dimension
            LEFT JOIN gold gd ON gd.dataset = p.dataset AND gd.item_id = p.item_id
                              AND gd.dimension = 'distribution'
            LEFT JOIN predictions pc ON pc.run_id = p.run_id AND pc.item_id = p.item_id
                                     AND pc.dimension = 'confidence'
            ORDER BY k."group", p.item_id
        """).df()
    finally:
        con.unregister("_plan")
    for column in ("item_id", "status", "label", "raw_label", "gold_label", "gold_taxonomy"):
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
