"""Named queries over runs and their responses: listings, cached answers, finished items, resolved ids."""

from __future__ import annotations

import duckdb
import pandas as pd

__all__ = ["run_listing", "run_start_times", "run_combinations", "cacheable_answers", "finished_item_ids",
           "first_resolved_model_id", "first_answer_texts",
           "clear_predictions", "all_run_ids", "run_record", "run_responses", "parser_versions", "clear_item_rows",
           "set_parser_version"]


def run_listing(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every run, oldest first: run_id, purpose, dataset, eval_set, eval set name, model, strategy, status,
    n_items, started_at, finished_at, message."""
    return con.execute("""
        SELECT r.run_id, coalesce(r.purpose, 'benchmark'), r.dataset, r.eval_set, es.name, r.model, r.strategy,
               r.status, r.n_items, r.started_at, r.finished_at, r.message
        FROM runs r LEFT JOIN eval_sets es ON es.eval_set = r.eval_set ORDER BY r.started_at, r.run_id
    """).fetchall()


def run_start_times(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """run_id -> started_at of every stored run."""
    return {row[0]: row[1] for row in con.execute("SELECT run_id, started_at FROM runs").fetchall()}


def run_combinations(con: duckdb.DuckDBPyConnection):
    """The distinct (dataset, model, strategy) of the stored runs, as a DataFrame."""
    return con.execute("SELECT DISTINCT dataset, model, strategy FROM runs").fetchdf()


def cacheable_answers(con: duckdb.DuckDBPyConnection, adapter: str, model_id: str) -> list[tuple]:
    """Stored ok/refused answers of runs with this adapter and model id, originals first: request_hash,
    response_id, run_id, item_id, stage, sample_index, status, text, error_class, error_message,
    model_id_resolved, input_tokens, output_tokens."""
    return con.execute(
        """
        SELECT r.request_hash, r.response_id, r.run_id, r.item_id, r.stage, r.sample_index, r.status, r.text,
               r.error_class, r.error_message, r.model_id_resolved, r.input_tokens, r.output_tokens
        FROM responses r JOIN runs u USING (run_id)
        WHERE u.adapter = ? AND coalesce(nullif(u.model_id, ''), u.model) = ?
          AND r.status IN ('ok', 'refused') AND r.request_hash IS NOT NULL
        ORDER BY r.cached, r.created_at
        """, [adapter, model_id]).fetchall()


def finished_item_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> set[str]:
    """Items of a run with a prediction not caused by an error."""
    rows = con.execute("SELECT DISTINCT item_id FROM predictions WHERE run_id = ? AND status <> 'error'",
                       [run_id]).fetchall()
    return {row[0] for row in rows}


def first_resolved_model_id(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The model id the provider reported for any response of the run; None when none did."""
    found = con.execute("SELECT model_id_resolved FROM responses WHERE run_id = ? AND model_id_resolved "
                        "IS NOT NULL LIMIT 1", [run_id]).fetchall()
    return found[0][0] if found else None


def first_answer_texts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, str]:
    """item_id -> text of the run's first successful answer call per item."""
    rows = con.execute("SELECT item_id, text FROM responses WHERE run_id = ? AND stage = 'answer' "
                       "AND sample_index = 0 AND status = 'ok' AND text IS NOT NULL", [run_id]).fetchall()
    return dict(rows)


def clear_predictions(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Delete every prediction of a run (before it is written again)."""
    con.execute("DELETE FROM predictions WHERE run_id = ?", [run_id])


def all_run_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every stored run id, sorted."""
    return [row[0] for row in con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]


def run_record(con: duckdb.DuckDBPyConnection, run_id: str) -> dict | None:
    """The `runs` row of `run_id` as a dict; None when there is none."""
    found = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchdf()
    return None if found.empty else found.iloc[0].to_dict()


def run_responses(con: duckdb.DuckDBPyConnection, run_id: str, stages: list[str]):
    """The run's responses of `stages` (response_id, dataset, item_id, sample_index, stage, status, text,
    raw_request), by item and sample."""
    marks = ", ".join("?" for _ in stages)
    return con.execute(
        "SELECT response_id, dataset, item_id, sample_index, stage, status, text, raw_request FROM responses "
        f"WHERE run_id = ? AND stage IN ({marks}) ORDER BY item_id, sample_index", [run_id, *stages]).fetchdf()


def parser_versions(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The parser versions the run's stored predictions were read with, sorted."""
    return sorted({v for (v,) in con.execute(
        "SELECT DISTINCT parser_version FROM predictions WHERE run_id = ? AND parser_version IS NOT NULL",
        [run_id]).fetchall()})


def clear_item_rows(con: duckdb.DuckDBPyConnection, run_id: str, items: list[str]) -> None:
    """Delete the run's predictions and traces of `items` (before they are written again)."""
    con.register("_reparsed_items", pd.DataFrame({"item_id": items}))
    try:
        for table in ("predictions", "traces"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ? AND item_id IN (SELECT item_id FROM _reparsed_items)",
                        [run_id])
    finally:
        con.unregister("_reparsed_items")


def set_parser_version(con: duckdb.DuckDBPyConnection, run_id: str, version: str) -> None:
    """Record the parser version a run's predictions were last read with."""
    con.execute("UPDATE runs SET parser_version = ? WHERE run_id = ?", [version, run_id])
