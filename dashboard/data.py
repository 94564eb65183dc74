"""Every query the dashboard pages use: parameterised SQL over the results store, cached (`dashboard.cache`).

Pages call these typed functions and never write SQL. Each takes the store path first and returns a
DataFrame (or a small dataclass of them). Values from the page travel only as bound parameters.

Which answers a number is about: a page shows one **scope** -- a dataset, one of its evaluation sets
and a dimension -- and within it the run that stands for each (model, strategy) cell: the newest
complete benchmark run (`evaluations.current`, chosen by `engine.metrics.cells.pick_current`), or the
run the sidebar pinned for that cell. Correctness comes from the engine's per-item `outcomes` rows and
every statistic from `engine.metrics`, so a page and `affectlens scores` cannot disagree. Analyses,
probes and explanations never appear here as strategies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard import analysis
from dashboard.cache import clear_caches, frame as _frame, query, set_caching, store_version
from dashboard.connection import StoreBusy, StoreMissing
from engine.metrics import calibration as calib
from engine.metrics import categorical, compare
from engine.metrics.cells import DEFAULT_METRIC, rank_frame

__all__ = ["Filters", "Scope", "GalleryQuery", "ItemDetail", "StoreBusy", "StoreMissing", "ERROR_TYPES",
           "set_caching", "clear_caches", "store_version", "HOLM_FAMILY", "ResultsMatrix",
           "ContinuousGalleryQuery", "CONTINUOUS_SORTS"]

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


# --- sidebar ---------------------------------------------------------------------------------------

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


# --- scopes and overview ---------------------------------------------------------------------------

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


def matrix_metrics(db: str, filters: Filters) -> list[str]:
    """Metrics the results matrix can show: strict accuracy and CCC first, then the rest present."""
    present = set(scored_metrics(db, filters)["metric"])
    first = [m for m in ("accuracy_strict", "ccc", "macro_f1", "accuracy", "mae_scale") if m in present]
    return first + sorted(present - set(first))


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


# --- model comparison ------------------------------------------------------------------------------

@query
def pairwise_significance(con, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Every pair of models under one strategy: strict accuracy of each on the items of the set, the
    discordant counts, exact McNemar p-value and Holm-adjusted p-value over all pairs; both orders listed."""
    pairs = _judged(con, """
        , one AS (SELECT * FROM judged WHERE strategy = $strategy)
        SELECT a.model AS model_a, b.model AS model_b, count(*) AS n_common,
               avg(a.correct::INT) AS accuracy_a, avg(b.correct::INT) AS accuracy_b,
               count(*) FILTER (WHERE a.correct AND NOT b.correct) AS only_a,
               count(*) FILTER (WHERE b.correct AND NOT a.correct) AS only_b
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        GROUP BY a.model, b.model ORDER BY a.model, b.model
    """, filters, scope, strategy=strategy)
    if pairs.empty:
        return pairs.assign(p_value=[], p_holm=[], mark=[], difference=[])
    pairs["p_value"] = [compare.mcnemar_exact(int(b), int(c)) for b, c in zip(pairs["only_a"], pairs["only_b"])]
    pairs["p_holm"] = compare.holm(pairs["p_value"].to_numpy(dtype=float))
    pairs["difference"] = pairs["accuracy_a"] - pairs["accuracy_b"]
    pairs["mark"] = pairs["p_holm"].map(analysis.significance_mark)
    return pairs.sort_values(["model_a", "model_b"]).reset_index(drop=True)


@query
def model_agreement(con, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Cohen's kappa (engine.metrics.compare) and raw agreement of every pair of models on the items both
    answered; one row per pair."""
    cells = _judged(con, """
        , one AS (SELECT * FROM judged WHERE strategy = $strategy)
        SELECT a.model AS model_a, b.model AS model_b, a.label AS label_a, b.label AS label_b, count(*) AS n
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        WHERE a.answered AND b.answered AND a.label IS NOT NULL AND b.label IS NOT NULL
        GROUP BY ALL
    """, filters, scope, strategy=strategy)
    rows = []
    for (model_a, model_b), group in cells.groupby(["model_a", "model_b"], sort=True):
        total = int(group["n"].sum())
        same = int(group.loc[group["label_a"] == group["label_b"], "n"].sum())
        rows.append({"model_a": model_a, "model_b": model_b, "n_common": total,
                     "agreement": same / total if total else float("nan"),
                     "kappa": compare.kappa_from_pairs(group["label_a"], group["label_b"], group["n"])})
    return pd.DataFrame(rows, columns=["model_a", "model_b", "n_common", "agreement", "kappa"])


@query
def group_agreement(con, filters: Filters, scope: Scope, strategy: str) -> dict[str, float]:
    """Krippendorff's alpha (nominal, engine.metrics.compare) over every model's label per item."""
    labels = _judged(con, """
        SELECT model, item_id, label FROM judged WHERE strategy = $strategy AND answered AND label IS NOT NULL
    """, filters, scope, strategy=strategy)
    if labels.empty:
        return {"alpha": float("nan"), "models": 0, "items": 0}
    table = labels.pivot_table(index="model", columns="item_id", values="label", aggfunc="first")
    data = [[None if pd.isna(v) else v for v in row] for row in table.to_numpy(dtype=object)]
    return {"alpha": float(compare.krippendorff_alpha(data, "nominal")), "models": int(table.shape[0]),
            "items": int(table.notna().sum(axis=0).ge(2).sum())}


@query
def cost_quality(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Per (model, strategy): strict accuracy (the stored score), coverage, spend per item and mean latency
    per call, and whether it lies on the Pareto front against cost and latency."""
    frame = _frame(con, f"""
        WITH {_selected(filters)}, {_PER_RUN},
        quality AS (SELECT s.model, s.strategy, s.n_total AS n,
                           max(sc.value) FILTER (WHERE sc.metric = 'accuracy_strict') AS accuracy_strict,
                           max(sc.value) FILTER (WHERE sc.metric = 'coverage') AS coverage
                    FROM sel s JOIN scores sc ON sc.run_id = s.run_id AND sc.dimension = s.dimension GROUP BY ALL),
        spend AS (SELECT s.model, s.strategy, sum(c.spend_usd) AS spend_usd,
                         sum(c.latency_sum) / nullif(sum(c.latency_n), 0) AS mean_latency_ms
                  FROM sel s JOIN per_run c USING (run_id) GROUP BY ALL)
        SELECT q.model, q.strategy, q.accuracy_strict, q.coverage, q.n,
               coalesce(sp.spend_usd, 0) / nullif(q.n, 0) AS cost_per_item_usd, sp.mean_latency_ms
        FROM quality q LEFT JOIN spend sp USING (model, strategy)
        ORDER BY q.model, q.strategy
    """, {**filters.params(), **scope.params()})
    frame["pareto_cost"] = analysis.pareto_front(frame, "cost_per_item_usd", "accuracy_strict")
    frame["pareto_latency"] = analysis.pareto_front(frame, "mean_latency_ms", "accuracy_strict")
    return frame


# --- dimensions ------------------------------------------------------------------------------------

def cell_models(db: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    """(model, strategy) cells of a scope, for the per-model pickers."""
    long = scores_long(db, filters, scope)
    return long[["model", "strategy"]].drop_duplicates().reset_index(drop=True)


@query
def per_class(con, filters: Filters, scope: Scope, model: str, strategy: str) -> pd.DataFrame:
    """Precision, recall and F1 per gold class over the answered items (engine.metrics.categorical)."""
    frame = _judged(con, """
        SELECT gold_label, label, count(*) AS n FROM judged
        WHERE model = $model AND strategy = $strategy AND answered GROUP BY ALL
    """, filters, scope, model=model, strategy=strategy)
    if frame.empty:
        return pd.DataFrame(columns=["label", "precision", "recall", "f1", "support"])
    # a tied gold is scored as the answer where the answer is one of the tied labels (as in the engine)
    gold = [label if isinstance(label, str) and label in str(g).split(" | ") else str(g).split(" | ")[0]
            for g, label in zip(frame["gold_label"], frame["label"])]
    counts = frame["n"].to_numpy(dtype=int)
    y_true = np.repeat(np.array(gold, dtype=object), counts)
    y_pred = np.repeat(frame["label"].to_numpy(dtype=object), counts)
    out = categorical.per_class(list(y_true), [None if p is None else p for p in y_pred])
    return out[out["support"] + out["predicted"] > 0].reset_index(drop=True)


@query
def valence_arousal(con, filters: Filters, dataset: str, eval_set: str, model: str, strategy: str,
                    limit: int = 2000) -> pd.DataFrame:
    """Gold and predicted valence ([-1, 1]) and arousal ([0, 1]) per item, a stable sample of `limit`."""
    return _frame(con, f"""
        WITH {_selected(filters, dimension_clause="e.dimension IN ('valence', 'arousal')")},
        classes AS (SELECT item_id, any_value(label) AS gold_class FROM gold
                    WHERE dataset = $dataset AND dimension = 'emotion' AND label IS NOT NULL GROUP BY item_id),
        o AS (SELECT o.item_id, o.dimension, o.value, o.gold_value FROM outcomes o JOIN sel s
              ON o.run_id = s.run_id AND o.dimension = s.dimension
              WHERE s.model = $model AND s.strategy = $strategy AND o.answered)
        SELECT item_id, max(gold_value) FILTER (WHERE dimension = 'valence') AS gold_valence,
               max(gold_value) FILTER (WHERE dimension = 'arousal') AS gold_arousal,
               max(value) FILTER (WHERE dimension = 'valence') AS predicted_valence,
               max(value) FILTER (WHERE dimension = 'arousal') AS predicted_arousal,
               any_value(c.gold_class) AS gold_class
        FROM o LEFT JOIN classes c USING (item_id) GROUP BY item_id
        HAVING gold_valence IS NOT NULL AND predicted_valence IS NOT NULL
        ORDER BY hash(item_id), item_id LIMIT $limit
    """, {**filters.params(), "dataset": dataset, "eval_set": eval_set or "", "model": model, "strategy": strategy,
          "limit": int(limit)})


@query
def continuous_bias(con, filters: Filters, dataset: str, eval_set: str) -> pd.DataFrame:
    """Per model, strategy and continuous dimension: n, mean signed bias and MAE on the normalised scale and
    on the dataset's own scale (with its unit), from the engine's outcomes."""
    return _frame(con, f"""
        WITH {_selected(filters, dimension_clause="e.dimension IN ('valence', 'arousal', 'intensity')")}
        SELECT s.model, s.strategy, s.dimension, count(o.error) AS n, s.n_total,
               avg(o.error) AS mean_bias, avg(abs(o.error)) AS mae, stddev_samp(o.error) AS sd_bias,
               avg(o.error_scale) AS mean_bias_scale, avg(abs(o.error_scale)) AS mae_scale,
               stddev_samp(o.error_scale) AS sd_bias_scale,
               CASE WHEN s.scale_low IS NOT NULL THEN printf('%g–%g', s.scale_low, s.scale_high) END AS unit
        FROM sel s JOIN outcomes o ON o.run_id = s.run_id AND o.dimension = s.dimension
        GROUP BY ALL ORDER BY s.dimension, s.model, s.strategy
    """, {**filters.params(), "dataset": dataset, "eval_set": eval_set or ""})


def bias_scores(db: str, filters: Filters, dataset: str, eval_set: str) -> pd.DataFrame:
    """The engine's mean signed bias (`bias`, normalised scale) with its 95% CI and n per model, strategy and
    continuous dimension of the set: what `affectlens scores` stores."""
    frames = []
    every = scopes(db, filters, CONTINUOUS)
    for dimension in every.loc[(every["dataset"] == dataset) & (every["eval_set"] == (eval_set or "")), "dimension"]:
        long = scores_long(db, filters, Scope(dataset, eval_set, dimension))
        frames.append(long[long["metric"] == "bias"].assign(dimension=dimension))
    columns = ["model", "strategy", "dimension", "value", "ci_low", "ci_high", "n", "n_total"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


@query
def intensity_levels(con, filters: Filters, dataset: str, eval_set: str) -> pd.DataFrame:
    """How often each predicted intensity (source scale, rounded) occurs per model and strategy."""
    return _frame(con, f"""
        WITH {_selected(filters, dimension_clause="e.dimension = 'intensity'")}
        SELECT s.model, s.strategy, round(p.value) AS intensity, count(*) AS n
        FROM predictions p JOIN sel s ON p.run_id = s.run_id AND p.dimension = 'intensity'
        WHERE p.status IN ('ok', 'partial') AND p.value IS NOT NULL
        GROUP BY ALL ORDER BY s.model, s.strategy, intensity
    """, {**filters.params(), "dataset": dataset, "eval_set": eval_set or ""})


@query
def calibration(con, filters: Filters, scope: Scope, bins: int = 10) -> pd.DataFrame:
    """Reliability-diagram bins of stated confidence per model and strategy with each one's ECE, both from
    engine.metrics.calibration over the answered items that stated a confidence."""
    items = _judged(con, """
        SELECT model, strategy, confidence, correct FROM judged
        WHERE answered AND confidence IS NOT NULL AND confidence BETWEEN 0 AND 1
    """, filters, scope)
    frames = []
    for (model, strategy), group in items.groupby(["model", "strategy"], sort=True):
        confidence, correct = group["confidence"].to_numpy(float), group["correct"].to_numpy(bool)
        diagram = calib.reliability_diagram(confidence, correct, bins).rename(columns={"count": "n"})
        frames.append(diagram.assign(model=model, strategy=strategy, ece=calib.ece(confidence, correct, bins)))
    if not frames:
        return pd.DataFrame(columns=["model", "strategy", "bin", "mean_confidence", "accuracy", "n", "ece"])
    out = pd.concat(frames, ignore_index=True)
    return out[["model", "strategy", "bin", "mean_confidence", "accuracy", "n", "ece"]]


def circumplex(taxonomy: str | None) -> pd.DataFrame:
    """Label positions on the valence-arousal circumplex (engine.taxonomy, after Russell 1980)."""
    from engine.taxonomy import TAXONOMIES
    labels = TAXONOMIES[taxonomy].labels if taxonomy in TAXONOMIES else ()
    return pd.DataFrame([{"label": label.name, "valence": label.valence, "arousal": label.arousal}
                         for label in labels if label.valence is not None],
                        columns=["label", "valence", "arousal"])


# --- prompt ablations ------------------------------------------------------------------------------

@query
def strategy_effects(con, filters: Filters, scope: Scope, baseline: str = "zero-shot") -> pd.DataFrame:
    """Per (model, strategy): strict accuracy minus the same model's `baseline` accuracy on the set, gains and
    losses, exact McNemar p-value and Holm-adjusted over the page's family (`HOLM_FAMILY["ablation"]`)."""
    frame = _judged(con, """
        SELECT s.model, s.strategy, count(*) AS n_common, avg(s.correct::INT) AS accuracy,
               avg(z.correct::INT) AS accuracy_baseline,
               count(*) FILTER (WHERE s.correct AND NOT z.correct) AS gains,
               count(*) FILTER (WHERE z.correct AND NOT s.correct) AS losses
        FROM judged s JOIN judged z ON z.model = s.model AND z.item_id = s.item_id AND z.strategy = $baseline
        WHERE s.strategy <> $baseline GROUP BY ALL ORDER BY s.model, s.strategy
    """, filters, scope, baseline=baseline)
    frame["difference"] = frame["accuracy"] - frame["accuracy_baseline"]
    frame["p_value"] = [compare.mcnemar_exact(int(g), int(l)) for g, l in zip(frame["gains"], frame["losses"])]
    frame["p_holm"] = compare.holm(frame["p_value"].to_numpy(dtype=float)) if len(frame) else []
    frame["mark"] = frame["p_holm"].map(analysis.significance_mark) if len(frame) else []
    return frame


@query
def strategy_failures(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Per (model, strategy) of the scope: shares of unparsed, refused, API-error, abstained and missing items
    of the set, and calls, tokens and spend per item."""
    return _frame(con, f"""
        WITH {_selected(filters)}, {_PER_RUN},
        pr AS (SELECT s.model, s.strategy, count(*) AS items,
                      avg((o.status = 'failed')::INT) AS unparsed, avg((o.status = 'refused')::INT) AS refused,
                      avg((o.status = 'error')::INT) AS api_error, avg((o.status = 'partial')::INT) AS partial,
                      avg((o.status = 'abstained')::INT) AS abstained, avg((o.status = 'missing')::INT) AS missing
               FROM outcomes o JOIN sel s ON o.run_id = s.run_id AND o.dimension = s.dimension GROUP BY ALL),
        calls AS (SELECT s.model, s.strategy, sum(c.calls) AS calls, sum(s.n_total) AS n_items,
                         sum(c.input_tokens) AS input_tokens, sum(c.output_tokens) AS output_tokens,
                         sum(c.spend_usd) AS spend_usd
                  FROM sel s JOIN per_run c USING (run_id) GROUP BY ALL)
        SELECT pr.*, c.calls / nullif(c.n_items, 0) AS calls_per_item,
               c.input_tokens / nullif(c.n_items, 0) AS input_tokens_per_item,
               c.output_tokens / nullif(c.n_items, 0) AS output_tokens_per_item,
               c.spend_usd / nullif(c.n_items, 0) AS cost_per_item_usd
        FROM pr LEFT JOIN calls c USING (model, strategy) ORDER BY pr.strategy, pr.model
    """, {**filters.params(), **scope.params()})


@query
def position_bias(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Where candidate labels were shuffled per item (`label_orders`): per (model, strategy) and position, how
    many answers chose the label shown there, the share, the uniform share, the accuracy on items whose gold
    label was shown there, and `p_uniform` (chi-square test of no preference, engine.metrics.compare)."""
    columns = ["model", "strategy", "position", "n", "share", "uniform", "accuracy_gold_here", "p_uniform"]
    if not _has_table(con, "label_orders"):
        return pd.DataFrame(columns=columns)
    frame = _judged(con, """,
        shown AS (SELECT run_id, item_id, labels FROM label_orders
                  WHERE dataset = $dataset AND shuffled
                    AND label_set = CASE WHEN $dimension = 'polarity' THEN 'polarity' ELSE 'emotion' END),
        placed AS (SELECT j.model, j.strategy, j.correct, len(s.labels) AS n_labels,
                          CASE WHEN j.answered THEN list_position(s.labels, j.label) END AS answer_position,
                          list_position(s.labels, j.gold_label) AS gold_position
                   FROM judged j JOIN shown s USING (run_id, item_id)),
        answers AS (SELECT model, strategy, answer_position AS position, count(*) AS n, max(n_labels) AS n_labels
                    FROM placed WHERE answer_position IS NOT NULL GROUP BY ALL),
        golds AS (SELECT model, strategy, gold_position AS position, avg(correct::INT) AS accuracy_gold_here
                  FROM placed WHERE gold_position IS NOT NULL GROUP BY ALL)
        SELECT model, strategy, position, coalesce(a.n, 0) AS n, a.n_labels, g.accuracy_gold_here
        FROM answers a FULL JOIN golds g USING (model, strategy, position)
        ORDER BY model, strategy, position
    """, filters, scope)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    totals = frame.groupby(["model", "strategy"])["n"].transform("sum")
    frame["share"] = frame["n"] / totals.where(totals > 0)
    n_labels = frame.groupby(["model", "strategy"])["n_labels"].transform("max")
    frame["uniform"] = 1.0 / n_labels
    p_values = {}
    for key, group in frame.groupby(["model", "strategy"]):
        counts = dict(zip(group["position"], group["n"]))  # positions never chosen count as 0
        size = int(group["n_labels"].max()) if group["n_labels"].notna().any() else 0
        p_values[key] = compare.uniform_preference_test([counts.get(i, 0) for i in range(1, size + 1)])
    frame["p_uniform"] = [p_values[(m, s)] for m, s in zip(frame["model"], frame["strategy"])]
    return frame.drop(columns=["n_labels"])


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchall()[0][0])


# --- error gallery ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GalleryQuery:
    """What the gallery shows: one scope, narrowed by the page's filters.

    `items` (when not None) keeps only those item ids (a slice opened from the Slices page).
    `error_types` are keys of ERROR_TYPES; an item shows when at least one chosen run's answer matches
    the predicted label, error type and confidence range together. Hardness (how many of the scope's
    cells failed the item: wrong, refused, unparsed or API error) counts one run per cell. `sort` is a key
    of GALLERY_SORTS.
    """

    scope: Scope
    sort: str = "hardness"
    gold: str | None = None
    predicted: str | None = None
    error_types: tuple[str, ...] = ()
    confidence: tuple[float, float] | None = None
    search: str = ""
    items: tuple[str, ...] | None = None
    page: int = 1
    page_size: int = 24

    @property
    def dataset(self) -> str:
        return self.scope.dataset


#: How the categorical gallery orders items (`GalleryQuery.sort`); ties go to the other order, then the item id.
GALLERY_SORTS = {"hardness": "hardness (cells that failed it)",
                 "confidence": "stated confidence of its wrong answers"}
_GALLERY_ORDER = {"hardness": "h.n_failed DESC, h.n_failed / h.n_runs DESC, h.wrong_confidence DESC NULLS LAST",
                  "confidence": "h.wrong_confidence DESC NULLS LAST, h.n_failed DESC"}

_OUTCOME = """CASE WHEN status = 'refused' THEN 'refused' WHEN status IN ('failed', 'missing') THEN 'unparsed'
                   WHEN status = 'error' THEN 'api_error' WHEN NOT answered THEN 'unparsed'
                   WHEN NOT correct THEN 'wrong' ELSE 'correct' END"""


@dataclass
class GalleryPage:
    total: int
    items: pd.DataFrame
    root: str | None


@query
def gallery_labels(con, filters: Filters, scope: Scope) -> dict[str, list[str]]:
    """Gold and predicted labels present, for the gallery's selectors."""
    frame = _judged(con, "SELECT DISTINCT gold_label, label FROM judged", filters, scope)
    return {"gold": sorted(frame["gold_label"].dropna().unique().tolist()),
            "predicted": sorted(frame["label"].dropna().unique().tolist())}


@query
def gallery_page(con, filters: Filters, spec: GalleryQuery) -> GalleryPage:
    """One page of items in `spec.sort` order (hardest first: most cells failed; or most confidently wrong
    first: the highest confidence a failing answer stated), with the total number matching."""
    if spec.sort not in GALLERY_SORTS:
        raise ValueError(f"unknown gallery order {spec.sort!r}; use one of {', '.join(GALLERY_SORTS)}")
    page_size = max(1, int(spec.page_size))
    low, high = spec.confidence if spec.confidence else (None, None)
    params = dict(gold=spec.gold or None, predicted=spec.predicted or None, types=list(spec.error_types) or None,
                  conf_low=low, conf_high=high, search=spec.search.strip() or None,
                  only=None if spec.items is None else list(spec.items) or [""],
                  limit=page_size, offset=(max(1, int(spec.page)) - 1) * page_size)
    items = _judged(con, f""",
        typed AS (SELECT *, {_OUTCOME} AS kind FROM judged),
        per_item AS (
            SELECT item_id, any_value(gold_label) AS gold_label, count(*) AS n_runs,
                   count(*) FILTER (WHERE kind <> 'correct') AS n_failed,
                   list(DISTINCT model ORDER BY model) FILTER (WHERE kind <> 'correct') AS failed_by,
                   max(confidence) FILTER (WHERE kind <> 'correct') AS wrong_confidence,
                   bool_or(($predicted IS NULL OR label = $predicted)
                           AND ($types IS NULL OR list_contains($types, kind))
                           AND ($conf_low IS NULL OR confidence BETWEEN $conf_low AND $conf_high)) AS matches
            FROM typed GROUP BY item_id)
        SELECT h.item_id, h.gold_label, h.n_runs, h.n_failed, h.failed_by, h.wrong_confidence, i.image_sha256,
               i.image_path,
               count(*) OVER () AS total
        FROM per_item h JOIN items i ON i.dataset = $dataset AND i.item_id = h.item_id
        WHERE h.matches AND ($gold IS NULL OR h.gold_label = $gold)
          AND ($search IS NULL OR contains(lower(h.item_id), lower($search)))
          AND ($only IS NULL OR list_contains($only, h.item_id))
        ORDER BY {_GALLERY_ORDER[spec.sort]}, h.item_id
        LIMIT $limit OFFSET $offset
    """, filters, spec.scope, **params)
    total = int(items["total"].iloc[0]) if len(items) else 0
    root = _frame(con, "SELECT root FROM datasets WHERE dataset = $dataset", {"dataset": spec.dataset})
    return GalleryPage(total, items.drop(columns=["total"]), root["root"].iloc[0] if len(root) else None)


#: How the continuous gallery orders items (`ContinuousGalleryQuery.sort`).
CONTINUOUS_SORTS = {"error": "absolute error", "disagreement": "disagreement between models",
                    "hardness": "hardness (cells off by more than the tolerance)",
                    "confidence": "stated confidence of the worst answer"}
#: Width of each continuous dimension's normalised scale (valence [-1, 1]; arousal and intensity [0, 1]).
NORMALISED_RANGE = {"valence": 2.0}


@dataclass(frozen=True)
class ContinuousGalleryQuery:
    """The gallery of a continuous dimension (valence, arousal, intensity): one scope, ordered by `sort`
    (a key of CONTINUOUS_SORTS), optionally narrowed to one `model`'s answers; `search` on the item id. An answer
    fails the item (hardness) when unanswered or off by more than `tolerance` of the normalised scale's width."""

    scope: Scope
    sort: str = "error"
    tolerance: float = 0.1
    model: str | None = None
    search: str = ""
    items: tuple[str, ...] | None = None
    page: int = 1
    page_size: int = 24


@query
def continuous_gallery_page(con, filters: Filters, spec: ContinuousGalleryQuery) -> GalleryPage:
    """One page of items of a continuous scope with, per item: gold (normalised and on the dataset's scale),
    the largest absolute error of the chosen runs (normalised, `worst_error`, and on the dataset's scale,
    `worst_error_scale`, from the engine's `outcomes.error_scale`), the disagreement between them (standard
    deviation of their answers, normalised) and every run's answer (`answers`: model, strategy, value, error,
    error_scale, answered)."""
    if spec.sort not in CONTINUOUS_SORTS:
        raise ValueError(f"unknown gallery order {spec.sort!r}; use one of {', '.join(CONTINUOUS_SORTS)}")
    order = {"error": "worst_error DESC NULLS LAST, disagreement DESC NULLS LAST",
             "disagreement": "disagreement DESC NULLS LAST, worst_error DESC NULLS LAST",
             "hardness": "n_failed DESC, worst_error DESC NULLS LAST",
             "confidence": "worst_confidence DESC NULLS LAST, worst_error DESC NULLS LAST"}[spec.sort]
    page_size = max(1, int(spec.page_size))
    items = _frame(con, f"""
        WITH {_selected(filters)},
        scored AS (
            SELECT s.model, s.strategy, o.run_id, o.item_id, o.value, o.gold_value, o.error, o.error_scale,
                   o.confidence, o.answered AND o.value IS NOT NULL AS answered
            FROM outcomes o JOIN sel s ON o.run_id = s.run_id AND o.dimension = s.dimension
            WHERE $model IS NULL OR s.model = $model),
        per_item AS (
            SELECT item_id, any_value(gold_value) AS gold_value, count(*) AS n_runs,
                   count(*) FILTER (WHERE answered) AS n_answered, max(abs(error)) AS worst_error,
                   max(abs(error_scale)) AS worst_error_scale, stddev_samp(value) AS disagreement,
                   count(*) FILTER (WHERE NOT answered OR abs(error) > $tolerance) AS n_failed,
                   arg_max(confidence, abs(error)) AS worst_confidence,
                   list({{'model': model, 'strategy': strategy, 'value': value, 'error': error,
                          'confidence': confidence,
                          'error_scale': error_scale, 'answered': answered, 'run_id': run_id}}
                        ORDER BY model, strategy) AS answers
            FROM scored GROUP BY item_id)
        SELECT h.*, g.value AS gold_on_scale, g.scale_low, g.scale_high, i.image_sha256, i.image_path,
               count(*) OVER () AS total
        FROM per_item h JOIN items i ON i.dataset = $dataset AND i.item_id = h.item_id
        LEFT JOIN gold g ON g.dataset = $dataset AND g.item_id = h.item_id AND g.dimension = $dimension
        WHERE ($search IS NULL OR contains(lower(h.item_id), lower($search)))
          AND ($only IS NULL OR list_contains($only, h.item_id))
        ORDER BY {order}, h.item_id
        LIMIT $limit OFFSET $offset
    """, {**filters.params(), **spec.scope.params(), "model": spec.model or None,
          "search": spec.search.strip() or None, "limit": page_size,
          "tolerance": spec.tolerance * NORMALISED_RANGE.get(spec.scope.dimension, 1.0),
          "only": None if spec.items is None else list(spec.items) or [""],
          "offset": (max(1, int(spec.page)) - 1) * page_size})
    total = int(items["total"].iloc[0]) if len(items) else 0
    root = _frame(con, "SELECT root FROM datasets WHERE dataset = $dataset", {"dataset": spec.scope.dataset})
    return GalleryPage(total, items.drop(columns=["total"]), root["root"].iloc[0] if len(root) else None)


@dataclass
class ItemDetail:
    item: dict[str, Any]
    gold: pd.DataFrame
    answers: pd.DataFrame
    traces: pd.DataFrame
    responses: pd.DataFrame = field(default_factory=pd.DataFrame)


@query
def item_detail(con, filters: Filters, dataset: str, item_id: str) -> ItemDetail | None:
    """Everything stored about one item: the item and its image path, gold annotations, and the parsed
    answers, reasoning traces and raw responses of the runs that stand for the dataset's benchmark cells
    (or are pinned). None when the item does not exist."""
    params = {**filters.params(), "dataset": dataset, "item_id": item_id}
    item = _frame(con, """SELECT i.*, d.root, d.taxonomy FROM items i JOIN datasets d USING (dataset)
                          WHERE i.dataset = $dataset AND i.item_id = $item_id""", params)
    if item.empty:
        return None
    gold = _frame(con, """SELECT dimension, label, labels, value, value_norm, sd, n_raters, scale_low, scale_high,
                                 distribution, taxonomy FROM gold WHERE dataset = $dataset AND item_id = $item_id
                          ORDER BY dimension""", params)
    sel = f"""sel AS (SELECT DISTINCT e.run_id, e.model, e.strategy FROM evaluations e
                      WHERE e.dataset = $dataset AND e.purpose = 'benchmark' AND {filters.where('e')}
                        AND (e.current OR list_contains($pinned, e.run_id)))"""
    answers = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM predictions WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, p.dimension, p.label, p.value, p.status, p.confidence, p.raw_label,
               p.ranking, p.span, p.method, p.agreement, p.run_id, p.response_id
        FROM mine p JOIN sel s USING (run_id) ORDER BY s.model, s.strategy, p.dimension""", params)
    traces = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM traces WHERE item_id = $item_id)
        SELECT s.model, s.strategy, t.steps, t.scene, t.thinking, t.run_id
        FROM mine t JOIN sel s USING (run_id) ORDER BY s.model, s.strategy""", params)
    responses = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM responses WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, x.stage, x.sample_index, x.status, x.error_class, x.error_message, x.text,
               x.raw_request, x.raw_response, x.response_id, x.model_id_resolved, x.input_tokens, x.output_tokens,
               x.cost_usd, x.latency_ms, x.attempts, x.run_id
        FROM mine x JOIN sel s USING (run_id) ORDER BY s.model, s.strategy, x.stage, x.sample_index""", params)
    record = item.iloc[0].to_dict()
    record["meta"] = _json(record.get("meta"))
    return ItemDetail(record, gold, answers, traces, responses)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- runs ------------------------------------------------------------------------------------------

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
