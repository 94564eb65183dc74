"""Named read queries over the results store that several parts of AffectLens share.

`current_scores` is the one store view of the scores: by default the rows of the runs that stand
for their benchmark cells (`evaluations.current`, set by `engine.metrics.cells.pick_current`), with
the evaluation set's name and size beside each row. `affectlens scores`, the exports, the Python API
and the dashboard all read it, so two views of one cell cannot disagree.
"""

from __future__ import annotations

import duckdb
import pandas as pd

__all__ = ["current_scores", "where_in"]


def where_in(filters: dict[str, str | list[str] | None], alias: str | None = None) -> tuple[str, list]:
    """A parameterised SQL condition `column IN (?, ...) AND ...` for the filters set (None: any value)."""
    clauses, params = [], []
    prefix = f"{alias}." if alias else ""
    for column, value in filters.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        clauses.append(f"{prefix}{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    return (" AND ".join(clauses) or "TRUE"), params


def current_scores(con: duckdb.DuckDBPyConnection, *, dataset=None, model=None, strategy=None, dimension=None,
                   metric=None, run_id=None, purpose: str | None = "benchmark", all_runs: bool = False) -> pd.DataFrame:
    """Stored scores of the runs that stand for their cells (every run with `all_runs`, or the runs named by
    `run_id`), with `eval_set_name`, `eval_set_size`, `current` and `run_status`; filters take a name or a list."""
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy, "dimension": dimension,
                              "metric": metric, "run_id": run_id}, "s")
    if purpose is not None:
        where += " AND e.purpose = ?"
        params.append(purpose)
    if not all_runs and run_id is None:
        where += " AND e.current"
    return con.execute(f"""
        SELECT s.*, es.name AS eval_set_name, es.n_items AS eval_set_size, e.current, r.status AS run_status
        FROM scores s
        JOIN evaluations e ON e.run_id = s.run_id AND e.dimension = s.dimension
        LEFT JOIN eval_sets es ON es.eval_set = s.eval_set
        LEFT JOIN runs r ON r.run_id = s.run_id
        WHERE {where}
        ORDER BY s.dataset, s.eval_set, s.model, s.strategy, s.dimension, s.metric
    """, params).df()
