"""Writes into the store: runs, responses, predictions, traces.

Every write is one bulk statement per table (pandas frames registered with DuckDB).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import pandas as pd

from engine.store.db import transaction, upsert

RESPONSE_COLUMNS = (
    "response_id", "run_id", "dataset", "item_id", "sample_index", "stage", "request_hash", "status",
    "error_class", "error_message", "text", "raw_request", "raw_response", "model_id_resolved",
    "input_tokens", "output_tokens", "cost_usd", "latency_ms", "attempts", "cached", "created_at",
    "cached_input_tokens", "cache_write_tokens", "batch_id", "saving_usd",
)
PREDICTION_COLUMNS = (
    "run_id", "dataset", "item_id", "dimension", "label", "raw_label", "ranking", "value", "value_norm",
    "distribution", "confidence", "status", "span", "method", "parser_version", "response_id", "agreement",
    "parse_error",
)


def use_one_thread(con: duckdb.DuckDBPyConnection) -> None:
    """Run this connection's statements on one thread: small bulk inserts gain nothing from DuckDB's workers,
    and one thread leaves the cores to an event loop waiting for answers."""
    con.execute("SET threads TO 1")


def _typed(frame: pd.DataFrame, float_columns: Iterable[str]) -> pd.DataFrame:
    for column in float_columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def write_run(con: duckdb.DuckDBPyConnection, run: dict[str, Any]) -> None:
    """Insert or update one `runs` row (config and provenance as JSON), scrubbed of every secret."""
    from engine.secrets import scrub
    upsert(con, "runs", pd.DataFrame([scrub(run)]), json_columns=("config", "provenance"))


def write_responses(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert responses; an existing response_id is kept (a paid-for answer is never overwritten)."""
    if not rows:
        return 0
    frame = pd.DataFrame([{c: row.get(c) for c in RESPONSE_COLUMNS if c in row or c != "created_at"} for row in rows])
    frame = _typed(frame, ("cost_usd", "latency_ms", "saving_usd"))
    for column in ("input_tokens", "output_tokens", "attempts", "sample_index", "cached_input_tokens",
                   "cache_write_tokens"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    return upsert(con, "responses", frame, json_columns=("raw_request", "raw_response"), replace=False)


def write_predictions(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]] | pd.DataFrame) -> int:
    """Insert or replace parsed predictions (a re-parse replaces the earlier parse)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(
        [{c: row.get(c) for c in PREDICTION_COLUMNS} for row in rows])
    if len(frame) == 0:
        return 0
    frame = _typed(frame, ("value", "value_norm", "confidence", "agreement"))
    if "ranking" in frame:
        frame["ranking"] = frame["ranking"].map(lambda r: list(r) if isinstance(r, (list, tuple)) else None)
    return upsert(con, "predictions", frame, json_columns=("distribution",))


def write_traces(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    frame = pd.DataFrame([{k: row.get(k) for k in ("run_id", "item_id", "response_id", "steps", "scene",
                                                     "thinking")} for row in rows])
    return upsert(con, "traces", frame, json_columns=("scene",))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
