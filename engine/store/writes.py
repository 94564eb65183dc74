"""Writes into the store: datasets with their items and gold, runs, responses, predictions, traces.

Every write is one bulk statement per table (pandas frames registered with DuckDB).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import pandas as pd

from engine.datasets.base import Dataset, normalise_value
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


def write_dataset(con: duckdb.DuckDBPyConnection, dataset: Dataset, *, image_rows: Sequence[dict] = ()) -> None:
    """Store a dataset's description, items and gold (replacing an earlier load of the same name)."""
    with transaction(con):
        for table in ("gold", "items"):
            con.execute(f"DELETE FROM {table} WHERE dataset = ?", [dataset.name])
        upsert(con, "datasets", pd.DataFrame([{
            "dataset": dataset.name,
            "loader": dataset.loader,
            "root": str(dataset.root) if dataset.root else None,
            "taxonomy": dataset.taxonomy,
            "dimensions": dataset.dimensions,
            "scales": {dim: list(scale) for dim, scale in dataset.scales.items()},
            "manifest_sha256": dataset.manifest_sha256(),
            "n_items": len(dataset.items),
            "meta": {**dataset.meta, "splits": {k: len(v) for k, v in dataset.splits.items()},
                     "problems": [str(p) for p in dataset.problems[:200]]},
        }]), json_columns=("scales", "meta"))
        members = {name: set(ids) for name, ids in dataset.splits.items()}
        upsert(con, "items", pd.DataFrame([{
            "dataset": dataset.name, "item_id": item.item_id, "image_sha256": item.image_sha256,
            "image_path": item.image_path, "split": item.split,
            "meta": {**item.meta, **{f"in_{name}": item.item_id in ids for name, ids in members.items()}},
        } for item in dataset.items]), json_columns=("meta",))
        gold_rows = []
        for item in dataset.items:
            for dimension, gold in item.gold.items():
                gold_rows.append({
                    "dataset": dataset.name, "item_id": item.item_id, "dimension": dimension,
                    "label": gold.label, "labels": list(gold.labels) or None,
                    "value": gold.value, "value_norm": normalise_value(dimension, gold.value, gold.scale),
                    "sd": gold.sd, "n_raters": gold.n_raters,
                    "scale_low": gold.scale[0] if gold.scale else None,
                    "scale_high": gold.scale[1] if gold.scale else None,
                    "distribution": gold.distribution, "taxonomy": gold.taxonomy,
                })
        if gold_rows:
            upsert(con, "gold", _typed(pd.DataFrame(gold_rows), ("value", "value_norm", "sd", "scale_low",
                                                                 "scale_high")), json_columns=("distribution",))
        if image_rows:
            upsert(con, "images", pd.DataFrame(list(image_rows)))


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
