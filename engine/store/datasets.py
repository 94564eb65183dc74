"""Named queries over the stored datasets: the `datasets`, `items`, `gold` and `images` tables.

The rows are built by `engine.datasets.stored` from a `Dataset`; this module only reads and writes them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from engine.store.db import transaction, upsert
from engine.store.writes import _typed

__all__ = ["replace_dataset", "list_datasets", "dataset_names", "dataset_tables", "stored_manifest", "item_ids",
           "item_locations", "gold_values", "add_gold"]

GOLD_FLOAT_COLUMNS = ("value", "value_norm", "sd", "scale_low", "scale_high")


def replace_dataset(con: duckdb.DuckDBPyConnection, dataset_row: dict, item_rows: list[dict], gold_rows: list[dict],
                    image_rows: list[dict]) -> None:
    """Store one dataset's description, items, gold and images in one transaction, replacing an earlier load."""
    name = dataset_row["dataset"]
    with transaction(con):
        for table in ("gold", "items"):
            con.execute(f"DELETE FROM {table} WHERE dataset = ?", [name])
        upsert(con, "datasets", pd.DataFrame([dataset_row]), json_columns=("scales", "meta"))
        upsert(con, "items", pd.DataFrame(item_rows), json_columns=("meta",))
        if gold_rows:
            upsert(con, "gold", _typed(pd.DataFrame(gold_rows), GOLD_FLOAT_COLUMNS), json_columns=("distribution",))
        if image_rows:
            upsert(con, "images", pd.DataFrame(image_rows))


def list_datasets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per stored dataset: dataset, loader, n_items, taxonomy, dimensions, root, created_at."""
    return con.execute("SELECT dataset, loader, n_items, taxonomy, dimensions, root, created_at "
                       "FROM datasets ORDER BY dataset").fetch_df()


def dataset_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The stored datasets' names, sorted."""
    return [r[0] for r in con.execute("SELECT dataset FROM datasets ORDER BY 1").fetchall()]


def dataset_tables(con: duckdb.DuckDBPyConnection, name: str) -> tuple[tuple, pd.DataFrame, pd.DataFrame] | None:
    """(loader, root, taxonomy, scales, meta), the items frame and the gold frame of `name`; None if not stored."""
    row = con.execute("SELECT loader, root, taxonomy, scales, meta FROM datasets WHERE dataset = ?",
                      [name]).fetchone()
    if row is None:
        return None
    items = con.execute("SELECT item_id, image_sha256, image_path, split, meta FROM items "
                        "WHERE dataset = ? ORDER BY item_id", [name]).fetch_df()
    gold = con.execute("SELECT item_id, dimension, label, labels, value, sd, n_raters, scale_low, "
                       "scale_high, distribution, taxonomy FROM gold WHERE dataset = ?", [name]).fetch_df()
    return row, items, gold


def stored_manifest(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The manifest hash of stored dataset `name`; None when it is not stored."""
    row = con.execute("SELECT manifest_sha256 FROM datasets WHERE dataset = ?", [name]).fetchone()
    return row[0] if row else None


def item_ids(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The stored item ids of dataset `name`, sorted."""
    return sorted(row[0] for row in con.execute("SELECT item_id FROM items WHERE dataset = ?", [name]).fetchall())


def item_locations(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """item_id and image_path of every stored item of dataset `name`."""
    return con.execute("SELECT item_id, image_path FROM items WHERE dataset = ?", [name]).df()


def gold_values(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """item_id, dimension, label and value of every stored gold row of dataset `name`."""
    return con.execute("SELECT item_id, dimension, label, value FROM gold WHERE dataset = ?", [name]).df()


def add_gold(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Insert new gold rows of dataset `name` (existing keys kept) and add their dimensions to the dataset's."""
    upsert(con, "gold", pd.DataFrame(rows), replace=False)
    con.execute("UPDATE datasets SET dimensions = list_distinct(list_concat(coalesce(dimensions, []), ?)) "
                "WHERE dataset = ?", [sorted({r["dimension"] for r in rows}), name])
