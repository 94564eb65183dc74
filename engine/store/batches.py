"""Named queries over provider batch jobs (the `batches` table) that the runner submits and collects."""

from __future__ import annotations

import duckdb
import pandas as pd

from engine.store.explanations import has_table

__all__ = ["open_batches", "open_batch_summaries", "PENDING_COLUMNS"]

PENDING_COLUMNS = ("model", "provider_batch_id", "state", "vendor_status", "n_requests", "n_succeeded", "n_errored",
                   "n_expired", "worst_cost_usd", "run_ids", "created_at", "updated_at")


def open_batches(con: duckdb.DuckDBPyConnection, model: str, adapter: str, model_id: str,
                 states: tuple[str, ...]) -> pd.DataFrame:
    """Every `batches` row of this model in one of `states`, oldest first."""
    return con.execute(f"SELECT * FROM batches WHERE model = ? AND adapter = ? AND model_id = ? AND state "
                       f"IN ({', '.join('?' * len(states))}) ORDER BY created_at",
                       [model, adapter, model_id, *states]).fetch_df()


def open_batch_summaries(con: duckdb.DuckDBPyConnection, states: tuple[str, ...]) -> list[dict]:
    """One dict (`PENDING_COLUMNS`) per batch in one of `states`, oldest first; [] in a store without batches."""
    if not has_table(con, "batches"):
        return []
    rows = con.execute(f"SELECT {', '.join(PENDING_COLUMNS)} FROM batches WHERE state IN "
                       f"({', '.join('?' * len(states))}) ORDER BY created_at", list(states)).fetchall()
    return [dict(zip(PENDING_COLUMNS, row)) for row in rows]
