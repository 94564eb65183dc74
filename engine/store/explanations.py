"""Named queries over the stored explanations (saliency maps) and reasoning traces.

Each takes an open connection and returns rows as the store holds them; `engine.explain.queries`
shapes them (grids as arrays, parsed JSON) for the CLI and the dashboard.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from engine.store.db import transaction, upsert

__all__ = ["has_table", "explanation_counts", "explained_item_counts", "item_map_rows", "map_rows",
           "reasoning_dataset_names", "occlusion_responses", "replace_maps",
           "latest_traces"]


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table `name` (an older store may lack a later migration's table)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(found[0])


def explanation_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per dataset, model, strategy, method and measure: how many items have a map."""
    return con.execute("""SELECT dataset, model, strategy, method, measure, count(*) AS n_items
                          FROM explanations GROUP BY ALL ORDER BY ALL""").fetchdf()


def explained_item_counts(con: duckdb.DuckDBPyConnection, dataset: str) -> pd.DataFrame:
    """Items of `dataset` with at least one map: item id, number of maps, the models that have one."""
    return con.execute("""SELECT item_id, count(*) AS n_maps, list(DISTINCT model ORDER BY model) AS models
                          FROM explanations WHERE dataset = ? GROUP BY item_id ORDER BY item_id""",
                       [dataset]).fetchdf()


def item_map_rows(con: duckdb.DuckDBPyConnection, dataset: str, item_id: str) -> pd.DataFrame:
    """Every stored map of one item with the item's image location (`cell_values` as stored)."""
    return con.execute("""
        SELECT e.model, e.strategy, e.method, e.measure, e.grid_rows, e.grid_cols, e.cell_values, e.meta,
               e.run_id, e.created_at, d.root, i.image_path, i.image_sha256
        FROM explanations e
        LEFT JOIN items i ON i.dataset = e.dataset AND i.item_id = e.item_id
        LEFT JOIN datasets d ON d.dataset = e.dataset
        WHERE e.dataset = ? AND e.item_id = ?
        ORDER BY e.method DESC, e.measure, e.model, e.strategy""", [dataset, item_id]).fetchdf()


def map_rows(con: duckdb.DuckDBPyConnection, *, dataset: str | None = None, models: list[str] | None = None,
             method: str | None = None) -> pd.DataFrame:
    """Every stored map matching the filters (None: any), with image locations."""
    return con.execute("""
        SELECT e.dataset, e.item_id, e.model, e.strategy, e.method, e.measure, e.grid_rows, e.grid_cols,
               e.cell_values, e.meta, e.run_id, d.root, i.image_path, i.image_sha256
        FROM explanations e
        LEFT JOIN items i ON i.dataset = e.dataset AND i.item_id = e.item_id
        LEFT JOIN datasets d ON d.dataset = e.dataset
        WHERE ($dataset IS NULL OR e.dataset = $dataset) AND ($models IS NULL OR list_contains($models, e.model))
          AND ($method IS NULL OR e.method = $method)
        ORDER BY ALL""", {"dataset": dataset, "models": list(models) if models else None,
                          "method": method}).fetchdf()


def reasoning_dataset_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Datasets with at least one reasoning trace."""
    return [r[0] for r in con.execute("""SELECT DISTINCT r.dataset FROM traces t JOIN runs r USING (run_id)
                                         ORDER BY 1""").fetchall()]


def occlusion_responses(con: duckdb.DuckDBPyConnection, run_id: str, item_ids: list[str] | None = None) -> pd.DataFrame:
    """The run's answers and masked-cell answers (stages `occlude:ROW:COL`, answer, judge), of `item_ids` only
    when given: item_id, stage, sample_index, text, status."""
    sql = ("SELECT item_id, stage, sample_index, text, status FROM responses WHERE run_id = ? "
           "AND (stage LIKE 'occlude:%' OR stage IN ('answer', 'judge'))")
    params: list = [run_id]
    if item_ids:
        sql += " AND list_contains(?, item_id)"
        params.append(list(item_ids))
    return con.execute(sql, params).fetchdf()


def replace_maps(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Write `explanations` rows in one transaction: an item's occlusion map per model and strategy replaces
    the stored one whatever its measure; other maps are upserted by their key. Returns rows written."""
    with transaction(con):
        keys = frame.loc[frame["method"] == "occlusion", ["dataset", "item_id", "model", "strategy"]]
        if len(keys):
            con.register("_replaced_maps", keys)
            con.execute("""DELETE FROM explanations e USING _replaced_maps k
                           WHERE e.method = 'occlusion' AND e.dataset = k.dataset AND e.item_id = k.item_id
                             AND e.model = k.model AND e.strategy = k.strategy""")
            con.unregister("_replaced_maps")
        return upsert(con, "explanations", frame, json_columns=("meta",))


_TRACES_SQL = """
WITH latest AS (
    SELECT run_id, dataset, model, strategy, taxonomy FROM (
        SELECT *, row_number() OVER (PARTITION BY dataset, model, strategy
                                     ORDER BY started_at DESC NULLS LAST, run_id DESC) AS position
        FROM runs WHERE ($dataset IS NULL OR dataset = $dataset)
                    AND ($models IS NULL OR list_contains($models, model))
                    AND ($strategies IS NULL OR list_contains($strategies, strategy))
    ) WHERE position = 1
)
SELECT l.dataset, l.model, l.strategy, l.run_id, l.taxonomy, t.item_id, t.steps, t.thinking, r.text AS response_text,
       pe.label AS emotion, pp.label AS polarity_label
FROM latest l
JOIN traces t ON t.run_id = l.run_id
LEFT JOIN responses r ON r.response_id = t.response_id
LEFT JOIN predictions pe ON pe.run_id = l.run_id AND pe.item_id = t.item_id AND pe.dimension = 'emotion'
                         AND pe.status IN ('ok', 'partial')
LEFT JOIN predictions pp ON pp.run_id = l.run_id AND pp.item_id = t.item_id AND pp.dimension = 'polarity'
                         AND pp.status IN ('ok', 'partial')
ORDER BY l.dataset, l.model, l.strategy, t.item_id
"""


def latest_traces(con: duckdb.DuckDBPyConnection, *, dataset: str | None = None, models: list[str] | None = None,
                  strategies: list[str] | None = None) -> pd.DataFrame:
    """The reasoning traces of the latest run per dataset x model x strategy (filters: None = any), with the
    response text and the emotion and polarity labels read from the same answer."""
    return con.execute(_TRACES_SQL, {"dataset": dataset, "models": list(models) if models else None,
                                     "strategies": list(strategies) if strategies else None}).fetchdf()
