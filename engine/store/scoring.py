"""Named queries behind scoring: what to score, the answers beside their gold, and the derived tables
(`scores`, `evaluations`, `outcomes`) written back. `engine.metrics` computes; this module reads and writes."""

from __future__ import annotations

import duckdb
import pandas as pd

from engine.store.queries import where_in

__all__ = ["SCORED_DIMENSIONS", "scoring_runs", "gold_dimensions", "group_items", "item_meta_rows", "run_ids",
           "evaluation_cells", "set_current", "current_benchmark_cells", "replace_scored_rows"]

SCORED_DIMENSIONS = ("polarity", "emotion", "ranking", "valence", "arousal", "intensity", "distribution")


def scoring_runs(con: duckdb.DuckDBPyConnection, *, dataset=None, model=None, strategy=None, run_id=None,
                 purpose=None) -> pd.DataFrame:
    """One row per (matching run, scored dimension it has predictions for): run_id, dataset, eval_set, model,
    strategy, purpose, run_status, started_at, dimension, run_taxonomy, n_items."""
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy, "run_id": run_id}, "r")
    if purpose is not None:
        purposes = [purpose] if isinstance(purpose, str) else list(purpose)
        where += f" AND coalesce(r.purpose, 'benchmark') IN ({', '.join('?' for _ in purposes)})"
        params += purposes
    dims = ", ".join(f"'{d}'" for d in SCORED_DIMENSIONS)
    return con.execute(f"""
        WITH dims AS (SELECT DISTINCT run_id, dimension FROM predictions
                      UNION  -- a run that stored no answer at all still stands for the dimensions it asked for
                      SELECT run_id, unnest(dimensions) AS dimension FROM runs
                      WHERE dimensions IS NOT NULL AND run_id NOT IN (SELECT run_id FROM predictions))
        SELECT r.run_id, r.dataset, r.eval_set, r.model, r.strategy, coalesce(r.purpose, 'benchmark') AS purpose,
               r.status AS run_status, r.started_at, d.dimension, r.taxonomy AS run_taxonomy, r.n_items
        FROM runs r JOIN dims d USING (run_id)
        WHERE {where} AND d.dimension IN ({dims})
        ORDER BY r.dataset, r.model, r.strategy, d.dimension, r.run_id
    """, params).df()


def gold_dimensions(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """The (dataset, dimension) pairs with stored gold."""
    return set(con.execute("SELECT DISTINCT dataset, dimension FROM gold").fetchall())


def group_items(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> pd.DataFrame:
    """Per (group, item of its evaluation set, or of its predictions without one): the answer, its status
    (`missing` without a prediction row), method and confidence, and the gold of the group's gold dimension
    with its scale and rater distribution. `keys`: group, run_id, dataset, eval_set, pred_dimension,
    gold_dimension. One query for every group."""
    con.register("_plan", keys)
    try:
        return con.execute("""
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


def item_meta_rows(con: duckdb.DuckDBPyConnection, dataset: str) -> pd.DataFrame:
    """Items of a dataset: item_id, split, meta (JSON) and the image properties where stored."""
    return con.execute("""
        SELECT i.item_id, i.split, i.meta, im.brightness, im.saturation, im.colorfulness
        FROM items i LEFT JOIN images im ON im.image_sha256 = i.image_sha256
        WHERE i.dataset = ? ORDER BY i.item_id
    """, [dataset]).df()


def run_ids(con: duckdb.DuckDBPyConnection, *, dataset=None, model=None, strategy=None, run_id=None) -> list[str]:
    """Ids of the runs matching the filters (a name or a list each; None: any)."""
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy, "run_id": run_id})
    return [row[0] for row in con.execute(f"SELECT run_id FROM runs WHERE {where}", params).fetchall()]


def evaluation_cells(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every stored evaluation with its cell keys and its run's status and start."""
    return con.execute("""
        SELECT e.run_id, e.dimension, e.dataset, e.eval_set, e.model, e.strategy, e.purpose, e.derived,
               r.status AS run_status, r.started_at
        FROM evaluations e LEFT JOIN runs r USING (run_id)
    """).df()


def set_current(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Write `evaluations.current` from `frame` (run_id, dimension, current)."""
    con.register("_current", frame[["run_id", "dimension", "current"]])
    try:
        con.execute("""UPDATE evaluations SET current = c.current FROM _current c
                       WHERE evaluations.run_id = c.run_id AND evaluations.dimension = c.dimension""")
    finally:
        con.unregister("_current")


def current_benchmark_cells(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(run_id, dimension) of the evaluations that stand for benchmark cells."""
    return set(con.execute("SELECT run_id, dimension FROM evaluations WHERE current AND "
                           "purpose = 'benchmark'").fetchall())


def replace_scored_rows(con: duckdb.DuckDBPyConnection, runs: list[str], dimensions: list[str] | None,
                        tables: dict[str, tuple[pd.DataFrame, list[str]]]) -> None:
    """Delete the `scores`/`evaluations`/`outcomes` rows of `runs` (in `dimensions`, None: all), then insert
    each table's new rows (`tables`: name -> (frame, columns)). Call inside a transaction."""
    con.register("_runs", pd.DataFrame({"run_id": runs or [""]}))
    dim_clause, dim_params = where_in({"dimension": dimensions})
    for table in ("scores", "evaluations", "outcomes"):
        con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT run_id FROM _runs) AND {dim_clause}", dim_params)
    con.unregister("_runs")
    for table, (frame, columns) in tables.items():
        _insert(con, table, frame, columns)


def _insert(con, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """One bulk insert (tables without conflicting rows: the matching rows were deleted first)."""
    if frame is None or len(frame) == 0:
        return
    con.register("_insert_frame", frame[columns])
    try:
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _insert_frame")
    finally:
        con.unregister("_insert_frame")
