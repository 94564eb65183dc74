"""The sidebar's queries: filter choices, the run-set picker's older runs, the analysis panel's datasets and
results."""

from __future__ import annotations

import pandas as pd

from dashboard.cache import frame as _frame, query
from dashboard.data.scope import Filters

@query
def filter_options(con) -> dict[str, list[str]]:
    """Datasets, models and benchmark strategies present in the store (sidebar filter choices)."""
    runs = _frame(con, "SELECT DISTINCT dataset, model, strategy, coalesce(purpose, 'benchmark') AS purpose FROM runs")
    datasets = _frame(con, "SELECT dataset FROM datasets")
    bench = runs[runs["purpose"] == "benchmark"]
    return {"datasets": sorted(set(runs["dataset"]) | set(datasets["dataset"])),
            "models": sorted(set(runs["model"])), "strategies": sorted(set(bench["strategy"]))}


@query
def run_history(con, filters: Filters) -> pd.DataFrame:
    """Runs that do not stand for their cell (older or incomplete), for the sidebar's run-set picker."""
    return _frame(con, f"""
        SELECT DISTINCT e.run_id, e.dataset, e.model, e.strategy, r.status, r.started_at,
               coalesce(es.name, e.dataset) AS eval_set_name
        FROM evaluations e JOIN runs r USING (run_id) LEFT JOIN eval_sets es ON es.eval_set = e.eval_set
        WHERE e.purpose = 'benchmark' AND NOT e.current AND {filters.where('e')}
        ORDER BY r.started_at DESC NULLS LAST, e.run_id
    """, filters.params())


@query
def analysis_datasets(con) -> pd.DataFrame:
    """Datasets the sidebar can draw a small analysis from (those loaded from files with a root)."""
    return _frame(con, """SELECT dataset, loader, root, taxonomy, dimensions, n_items, meta, scales FROM datasets
                          WHERE loader NOT IN ('import', 'upload') ORDER BY dataset""")


@query
def analysis_results(con, run_ids: tuple[str, ...]) -> pd.DataFrame:
    """Scores of the given analysis runs (the sidebar shows its own result; analyses stand for no cell)."""
    return _frame(con, """
        SELECT s.model, s.strategy, s.dimension, s.metric, s.value, s.ci_low, s.ci_high, s.n, s.n_total,
               coalesce(es.name, s.dataset) AS eval_set_name, s.run_id
        FROM scores s LEFT JOIN eval_sets es ON es.eval_set = s.eval_set
        WHERE list_contains($runs, s.run_id) AND s.metric IN ('accuracy_strict', 'coverage', 'ccc', 'mae_scale')
        ORDER BY s.model, s.dimension, s.metric
    """, {"runs": list(run_ids) or [""]})
