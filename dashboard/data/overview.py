"""The Overview's queries and shaping: what the store holds, the scopes with scores, each scope's leaderboard
(ranked by `engine.metrics.cells`), the results matrix (win rates from `engine.metrics.matrix`) and spend."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.cache import derived, frame as _frame, query
from dashboard.data.scope import _PER_RUN, CATEGORICAL, Filters, Scope, _selected
from engine.metrics.cells import DEFAULT_METRIC, rank_frame

@query
def scopes(con, filters: Filters, kinds: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every (dataset, evaluation set, dimension) with benchmark cells: the set's name and size and how many
    (model, strategy) cells it has, richest first. `kinds` narrows to some dimensions."""
    frame = _frame(con, f"""
        SELECT e.dataset, coalesce(e.eval_set, '') AS eval_set, coalesce(any_value(es.name), e.dataset) AS eval_set_name,
               coalesce(any_value(es.n_items), max(e.n_total)) AS eval_set_size, e.dimension, count(*) AS runs
        FROM evaluations e LEFT JOIN eval_sets es ON es.eval_set = e.eval_set
        WHERE e.purpose = 'benchmark' AND e.current AND {filters.where('e')}
        GROUP BY e.dataset, e.eval_set, e.dimension ORDER BY runs DESC, eval_set_size DESC, e.dataset, e.dimension
    """, filters.params())
    if kinds:
        frame = frame[frame["dimension"].isin(kinds)].reset_index(drop=True)
    return frame


def scored_pairs(db: str, filters: Filters) -> pd.DataFrame:
    """The scopes with scores (every dimension)."""
    return scopes(db, filters)


def judged_dimensions(db: str, filters: Filters) -> pd.DataFrame:
    """The scopes of categorical dimensions."""
    return scopes(db, filters, CATEGORICAL)


@query
def store_summary(con, filters: Filters) -> dict[str, float]:
    """Counts and spend of everything the filters select (benchmark runs; evaluated items)."""
    row = _frame(con, f"""
        WITH sel AS (SELECT run_id, dataset, model, strategy, eval_set FROM runs r
                     WHERE {filters.where()} AND coalesce(r.purpose, 'benchmark') = 'benchmark'), {_PER_RUN},
        per_run_predictions AS (SELECT run_id, count(*) AS n FROM predictions GROUP BY run_id)
        SELECT count(DISTINCT s.dataset) AS datasets,
               (SELECT count(DISTINCT (i.eval_set, i.item_id)) FROM eval_set_items i
                WHERE i.eval_set IN (SELECT eval_set FROM sel)) AS items,
               count(DISTINCT s.model) AS models, count(DISTINCT s.strategy) AS strategies, count(*) AS runs,
               coalesce(sum(c.calls), 0) AS responses, coalesce(sum(p.n), 0) AS predictions,
               coalesce(sum(c.spend_usd), 0) AS spend_usd,
               coalesce(sum(c.input_tokens + c.output_tokens), 0) AS tokens
        FROM sel s LEFT JOIN per_run c USING (run_id) LEFT JOIN per_run_predictions p USING (run_id)
    """, filters.params()).iloc[0]
    return {k: float(v) for k, v in row.items()}


@query
def datasets_table(con, filters: Filters) -> pd.DataFrame:
    """One row per dataset: loader, taxonomy, gold dimensions, items, runs and spend."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id, dataset FROM runs r WHERE {filters.where()}), {_PER_RUN},
        spend AS (SELECT s.dataset, count(*) AS runs, sum(c.spend_usd) AS spend_usd
                  FROM sel s LEFT JOIN per_run c USING (run_id) GROUP BY s.dataset)
        SELECT d.dataset, d.loader, d.taxonomy, array_to_string(d.dimensions, ', ') AS dimensions,
               d.n_items AS items, coalesce(spend.runs, 0) AS runs, coalesce(spend.spend_usd, 0) AS spend_usd
        FROM datasets d LEFT JOIN spend USING (dataset)
        WHERE {"list_contains($datasets, d.dataset)" if filters.datasets else "TRUE"}
        ORDER BY d.dataset
    """, filters.params())


@query
def scores_long(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Every stored metric of the scope's chosen runs: model, strategy, metric, value, CI, n, run."""
    return _frame(con, f"""
        WITH {_selected(filters)}
        SELECT s.model, s.strategy, s.metric, s.value, s.ci_low, s.ci_high, s.ci_method, s.n, s.n_total, s.unit,
               s.derived, s.run_id
        FROM scores s JOIN sel USING (run_id, dimension)
        ORDER BY s.model, s.strategy, s.metric
    """, {**filters.params(), **scope.params()})


@derived
def leaderboard(db: str, filters: Filters, scope: Scope, metric: str | None = None) -> pd.DataFrame:
    """One row per (model, strategy) of the scope: `metric` (default: strict accuracy, or CCC / JS) with its
    95% CI, coverage, n, whether it may be ranked (`eligible`), its `rank` and `best`; every other metric as
    a column; best first, rows below the ranking thresholds last."""
    long = scores_long(db, filters, scope)
    columns = ["model", "strategy", "metric", "value", "ci_low", "ci_high", "ci_method", "n", "n_total", "coverage",
               "eligible", "rank", "best", "derived", "run_id"]
    if long.empty:
        return pd.DataFrame(columns=columns)
    metric = metric or DEFAULT_METRIC.get(scope.dimension, "accuracy_strict")
    if metric not in set(long["metric"]):
        metric = sorted(long["metric"].unique())[0]
    head = long[long["metric"] == metric][["model", "strategy", "value", "ci_low", "ci_high", "ci_method", "n",
                                           "n_total", "derived", "run_id"]]
    coverage = long[long["metric"] == "coverage"][["model", "strategy", "value"]].rename(columns={"value": "coverage"})
    head = head.merge(coverage, on=["model", "strategy"], how="left")
    ranked = rank_frame(head, metric)
    wide = long[~long["metric"].isin([metric, "coverage"])].pivot_table(
        index=["model", "strategy"], columns="metric", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    out = ranked.merge(wide, on=["model", "strategy"], how="left")
    out.insert(2, "metric", metric)
    return out


@query
def scored_metrics(con, filters: Filters) -> pd.DataFrame:
    """Which metrics each scope's standing runs have: dataset, eval_set, dimension, metric."""
    return _frame(con, f"""
        SELECT DISTINCT e.dataset, coalesce(e.eval_set, '') AS eval_set, e.dimension, s.metric
        FROM evaluations e JOIN scores s USING (run_id, dimension)
        WHERE e.purpose = 'benchmark' AND e.current AND {filters.where('e')}
        ORDER BY e.dataset, e.dimension, s.metric
    """, filters.params())


#: Which dimension of a dataset stands for it in the results matrix, first present wins.
MATRIX_DIMENSIONS = ("emotion", "polarity", "valence", "arousal", "intensity", "distribution", "ranking")


@dataclass
class ResultsMatrix:
    """The results matrix (`engine.metrics.matrix`): `cells` has one row per (model, strategy, dataset) with
    value, ci_low, ci_high, n, n_total, coverage, eligible, run_id and `column` (dataset · set · dimension);
    `columns` says which evaluation set and dimension stand for each dataset; `wins` the mean win rate."""

    metric: str
    cells: pd.DataFrame
    columns: pd.DataFrame
    wins: pd.DataFrame


@derived
def matrix_metrics(db: str, filters: Filters) -> list[str]:
    """Metrics the results matrix can show: strict accuracy and CCC first, then the rest present."""
    present = set(scored_metrics(db, filters)["metric"])
    first = [m for m in ("accuracy_strict", "ccc", "macro_f1", "accuracy", "mae_scale") if m in present]
    return first + sorted(present - set(first))


@derived
def results_matrix(db: str, filters: Filters, metric: str = "accuracy_strict",
                   strategy: str | None = None) -> ResultsMatrix:
    """Models x datasets on one `metric`. Per dataset the standing scope is its first dimension in
    `MATRIX_DIMENSIONS` that has the metric, over its richest evaluation set (most cells, then largest);
    each cell is that scope's leaderboard row (so it equals `scores`), narrowed to `strategy` when given."""
    from engine.metrics.matrix import win_rates

    every = scopes(db, filters)
    have = scored_metrics(db, filters)
    have = have[have["metric"] == metric][["dataset", "eval_set", "dimension"]]
    candidates = every.merge(have, on=["dataset", "eval_set", "dimension"])
    rank = {d: i for i, d in enumerate(MATRIX_DIMENSIONS)}
    candidates = candidates.assign(_pref=candidates["dimension"].map(lambda d: rank.get(d, len(rank))),
                                   _order=range(len(candidates)))
    standing = candidates.sort_values(["dataset", "_pref", "_order"]).drop_duplicates("dataset")
    blocks, described = [], []
    for row in standing.itertuples():
        board = leaderboard(db, filters, Scope(row.dataset, row.eval_set, row.dimension), metric)
        board = board[board["metric"] == metric]
        if strategy:
            board = board[board["strategy"] == strategy]
        if board.empty:
            continue
        column = f"{row.dataset} · {row.dimension}"
        described.append({"dataset": row.dataset, "eval_set": row.eval_set, "eval_set_name": row.eval_set_name,
                          "eval_set_size": int(row.eval_set_size), "dimension": row.dimension, "column": column})
        blocks.append(board[["model", "strategy", "value", "ci_low", "ci_high", "n", "n_total", "coverage", "eligible",
                             "run_id"]].assign(dataset=row.dataset, column=column))
    columns = pd.DataFrame(described, columns=["dataset", "eval_set", "eval_set_name", "eval_set_size", "dimension",
                                               "column"])
    if not blocks:
        empty = pd.DataFrame(columns=["model", "strategy", "dataset", "column", "value", "ci_low", "ci_high", "n",
                                      "n_total", "coverage", "eligible", "run_id"])
        return ResultsMatrix(metric, empty, columns, pd.DataFrame(columns=["model", "strategy", "mean_win_rate",
                                                                            "datasets_compared"]))
    cells = pd.concat(blocks, ignore_index=True)
    cells["eligible"] = cells["eligible"].astype(bool)
    return ResultsMatrix(metric, cells, columns, win_rates(cells, metric))


@query
def spend_by_model(con, filters: Filters) -> pd.DataFrame:
    """Spend, tokens, calls and mean latency per model and strategy (every run, analyses and probes included:
    they were paid for too), with the run purpose."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id, model, strategy, coalesce(purpose, 'benchmark') AS purpose FROM runs r
                     WHERE {filters.where()}), {_PER_RUN}
        SELECT s.model, s.strategy, s.purpose, coalesce(sum(c.calls), 0) AS calls,
               coalesce(sum(c.spend_usd), 0) AS spend_usd,
               coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
               sum(c.latency_sum) / nullif(sum(c.latency_n), 0) AS mean_latency_ms
        FROM sel s LEFT JOIN per_run c USING (run_id)
        GROUP BY ALL ORDER BY spend_usd DESC, s.model, s.strategy
    """, filters.params())
