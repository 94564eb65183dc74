"""What every dashboard query is about: the sidebar's `Filters`, a page's `Scope` (dataset, evaluation set,
dimension), and the SQL building blocks that pick the run standing for each (model, strategy) cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.cache import frame as _frame
from engine.metrics.cells import DEFAULT_METRIC

ERROR_TYPES = {"wrong": "answered, wrong label", "refused": "refused", "unparsed": "answer not parsed",
               "api_error": "API error"}
CATEGORICAL = ("polarity", "emotion")
CONTINUOUS = ("valence", "arousal", "intensity")
PRIMARY_METRIC = DEFAULT_METRIC
#: What the Holm correction of each page corrects over, stated beside its p-values.
HOLM_FAMILY = {"pairwise": "every pair of models under the chosen strategy, in this scope",
               "ablation": "every (model, strategy) cell compared with the baseline strategy, in this scope"}


@dataclass(frozen=True)
class Filters:
    """Global sidebar filters; an empty tuple means no restriction. `pinned` run ids stand for their cells
    instead of the newest complete run (the sidebar's run-set picker)."""

    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    pinned: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        return {"datasets": list(self.datasets) or None, "models": list(self.models) or None,
                "strategies": list(self.strategies) or None, "pinned": list(self.pinned) or [""]}

    def where(self, alias: str = "r") -> str:
        """SQL condition on `alias`'s dataset/model/strategy columns for the filters in use."""
        clauses = [f"list_contains(${name}, {alias}.{column})"
                   for name, column in (("datasets", "dataset"), ("models", "model"), ("strategies", "strategy"))
                   if getattr(self, name)]
        return " AND ".join(clauses) or "TRUE"


@dataclass(frozen=True)
class Scope:
    """What a page shows: one dataset, one of its evaluation sets, one dimension."""

    dataset: str
    eval_set: str | None
    dimension: str

    def params(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "eval_set": self.eval_set or "", "dimension": self.dimension}


# The pickers' defaults, one rule for the pages (components.layout) and start-up warming (dashboard.warm).
def sets_by_size(scopes: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The evaluation sets of `dataset` among `data.scopes` rows, one row each, largest first (the default)."""
    in_dataset = scopes[scopes["dataset"] == dataset]
    return in_dataset.drop_duplicates("eval_set").sort_values("eval_set_size", ascending=False)


def default_dimension(dims) -> str:
    """The dimension a page opens on: emotion when there is one, else the first in sorted order."""
    return "emotion" if "emotion" in dims else sorted(dims)[0]


def default_scope(scopes: pd.DataFrame) -> Scope | None:
    """The scope a page shows before any picker is touched: the first (richest) dataset, its largest set, and
    its default dimension; None for a store with no scored scope."""
    if scopes.empty:
        return None
    dataset = scopes.iloc[0]["dataset"]
    eval_set = sets_by_size(scopes, dataset)["eval_set"].iloc[0]
    dims = scopes.loc[(scopes["dataset"] == dataset) & (scopes["eval_set"] == eval_set), "dimension"]
    return Scope(dataset, eval_set, default_dimension(list(dims)))


def _selected(filters: Filters, *, dimension_clause: str = "e.dimension = $dimension") -> str:
    """CTE `sel`: per (model, strategy) of the scope, the run that stands for the cell (or the pinned one)."""
    return f"""sel AS (
        SELECT e.run_id, e.model, e.strategy, e.dimension, e.dataset, e.eval_set, e.n_total, e.n_answered,
               e.derived, e.n_derived, e.scale_low, e.scale_high
        FROM evaluations e
        WHERE e.purpose = 'benchmark' AND e.dataset = $dataset AND coalesce(e.eval_set, '') = $eval_set
          AND {dimension_clause} AND {filters.where('e')}
        QUALIFY CASE WHEN bool_or(list_contains($pinned, e.run_id))
                          OVER (PARTITION BY e.model, e.strategy, e.dimension)
                     THEN list_contains($pinned, e.run_id) ELSE e.current END)"""


def _judged_cte(filters: Filters) -> str:
    """CTEs `sel` and `judged`: the scope's chosen runs and their per-item outcomes (from the engine)."""
    return f"""{_selected(filters)},
judged AS (
    SELECT s.model, s.strategy, o.run_id, o.item_id, o.answer AS label, o.status, o.confidence,
           o.gold AS gold_label, o.answered, coalesce(o.correct, false) AS correct, o.outcome
    FROM outcomes o JOIN sel s ON o.run_id = s.run_id AND o.dimension = s.dimension
)"""


def _judged(con, sql: str, filters: Filters, scope: Scope, **params) -> pd.DataFrame:
    return _frame(con, f"WITH {_judged_cte(filters)} {sql}", {**filters.params(), **scope.params(), **params})


# Calls, errors, tokens, spend and latency per run.
_PER_RUN = """per_run AS (
    SELECT run_id, count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors,
           count(*) FILTER (WHERE status = 'refused') AS refusals,
           coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
           coalesce(sum(cost_usd), 0) AS spend_usd, sum(latency_ms) AS latency_sum, count(latency_ms) AS latency_n,
           epoch(max(created_at) - min(created_at)) AS calls_span_s
    FROM responses GROUP BY run_id)"""
