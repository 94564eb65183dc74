"""The Runs page's queries: one row per run, a run's config, errors and parse outcomes, its vendor batches and
prompt-cache savings."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.cache import frame as _frame, query
from dashboard.data.gallery import _json
from dashboard.data.scope import _PER_RUN, Filters

@query
def runs_table(con, filters: Filters) -> pd.DataFrame:
    """One row per run: purpose, evaluation set, status and its message, this run's own duration (first to last
    stored call, `run_duration_s`), the summed call latency (`call_time_s`), the invocation's wall time
    (`invocation_s`: started to finished, shared by the runs of one command), calls, errors, tokens, spend."""
    return _frame(con, f"""
        WITH sel AS (SELECT * FROM runs r WHERE {filters.where()}), {_PER_RUN},
        stands AS (SELECT run_id, bool_or(current) AS current FROM evaluations GROUP BY run_id)
        SELECT s.run_id, coalesce(s.purpose, 'benchmark') AS purpose, s.status, s.message, s.experiment, s.dataset,
               coalesce(es.name, s.dataset) AS eval_set_name, es.n_items AS eval_set_size, s.model, s.adapter,
               coalesce(s.model_id_resolved, s.model_id) AS model_id, s.strategy,
               array_to_string(s.dimensions, ', ') AS dimensions, coalesce(st.current, false) AS stands_for_cell,
               s.n_items, s.started_at, s.finished_at,
               c.calls_span_s AS run_duration_s, c.latency_sum / 1000 AS call_time_s,
               epoch(s.finished_at - s.started_at) AS invocation_s, coalesce(c.calls, 0) AS calls,
               coalesce(c.errors, 0) AS errors, coalesce(c.refusals, 0) AS refusals,
               coalesce(c.input_tokens + c.output_tokens, 0) AS tokens, coalesce(c.spend_usd, 0) AS spend_usd,
               c.latency_sum / nullif(c.latency_n, 0) AS mean_latency_ms, s.parser_version, s.prompt_hash, s.eval_set
        FROM sel s LEFT JOIN per_run c USING (run_id) LEFT JOIN eval_sets es ON es.eval_set = s.eval_set
        LEFT JOIN stands st USING (run_id)
        ORDER BY s.started_at DESC NULLS LAST, s.run_id
    """, filters.params())


@query
def run_detail(con, run_id: str) -> dict[str, Any] | None:
    """One run's config and provenance (parsed JSON), its errors by class and its parse outcomes."""
    run = _frame(con, "SELECT config, provenance FROM runs WHERE run_id = $run_id", {"run_id": run_id})
    if run.empty:
        return None
    errors = _frame(con, """
        SELECT status, coalesce(error_class, '') AS error_class, count(*) AS n, any_value(error_message) AS example
        FROM responses WHERE run_id = $run_id AND status <> 'ok' GROUP BY ALL ORDER BY n DESC""", {"run_id": run_id})
    parses = _frame(con, """
        SELECT dimension, status, count(*) AS n FROM predictions WHERE run_id = $run_id
        GROUP BY ALL ORDER BY dimension, status""", {"run_id": run_id})
    return {"config": _json(run["config"].iloc[0]), "provenance": _json(run["provenance"].iloc[0]),
            "errors": errors, "parses": parses}


def _has_columns(con, table: str, *columns: str) -> bool:
    found = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                       [table]).fetchall()}
    return set(columns) <= found


@query
def run_batches(con, run_id: str) -> pd.DataFrame:
    """The vendor batches (batch mode) that carried a run's requests, newest first; empty for older stores."""
    if not _has_columns(con, "batches", "run_ids"):
        return pd.DataFrame()
    return _frame(con, """
        SELECT provider_batch_id AS batch, state, vendor_status, n_requests AS requests, n_succeeded AS succeeded,
               n_errored AS failed, n_expired AS expired, worst_cost_usd, cost_usd, created_at, collected_at
        FROM batches WHERE list_contains(run_ids, $run_id) ORDER BY created_at DESC""", {"run_id": run_id})


@query
def cache_savings(con, run_id: str) -> pd.DataFrame:
    """A run's prompt-cache tokens and what caching and batch pricing saved; empty for older stores."""
    if not _has_columns(con, "responses", "cached_input_tokens", "saving_usd"):
        return pd.DataFrame()
    return _frame(con, """
        SELECT count(*) FILTER (WHERE batch_id IS NOT NULL) AS batch_calls,
               coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(cached_input_tokens), 0) AS cached_tokens,
               coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens, coalesce(sum(cost_usd), 0) AS spend_usd,
               coalesce(sum(saving_usd), 0) AS saving_usd
        FROM responses WHERE run_id = $run_id AND NOT cached""", {"run_id": run_id})
