"""Named queries over the stored explanations (saliency maps) and reasoning traces.

Each takes an open connection and returns rows as the store holds them; `engine.explain.queries`
shapes them (grids as arrays, parsed JSON) for the CLI and the dashboard.
"""

from __future__ import annotations

import duckdb
import pandas as pd

__all__ = ["has_table", "explanation_counts", "explained_item_counts", "item_map_rows", "map_rows",
           "reasoning_dataset_names"]


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
