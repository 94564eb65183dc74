"""Every query the dashboard pages use: parameterised SQL over the results store, cached with a TTL.

Pages call these typed functions and never write SQL. Each function takes the store path first and
returns a DataFrame (or a small dataclass of them). Values from the page (filters, labels, search text)
travel only as bound parameters, so a hostile value is just a value that matches nothing.

Caching: results are cached per (store file version, arguments) for `AFFECTLENS_CACHE_TTL` seconds;
the version is the store file's modification time and size, so a finished run shows up on the next
rerun without waiting for the TTL. When the engine holds the file longer than a page should wait, the
last good result of the same query is returned (or `StoreBusy` raised where there is none).

Definitions shared by all queries (categorical dimensions):
- answered: prediction status `ok` or `partial`; `failed` is unparsed, `refused` a refusal, `error` an API error;
- correct: answered and the predicted label equals the gold label (or one of the tied majority labels);
- polarity of a run that answered only the emotion dimension is read through the taxonomy's label polarity;
- paired comparisons use strict correctness (an unanswered item is wrong) over the items both runs were asked.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import inspect
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import analysis, settings
from dashboard.connection import StoreBusy, StoreMissing, reader
from engine.taxonomy import TAXONOMIES

__all__ = ["Filters", "GalleryQuery", "ItemDetail", "StoreBusy", "StoreMissing", "ERROR_TYPES", "set_caching"]

ERROR_TYPES = {"wrong": "answered, wrong label", "refused": "refused", "unparsed": "answer not parsed",
               "api_error": "API error"}
CATEGORICAL = ("polarity", "emotion")
CONTINUOUS = ("valence", "arousal", "intensity")
PRIMARY_METRIC = {"polarity": "accuracy", "emotion": "accuracy", "valence": "ccc", "arousal": "ccc",
                  "intensity": "ccc", "distribution": "js", "ranking": "accuracy"}


@dataclass(frozen=True)
class Filters:
    """Global sidebar filters; an empty tuple means no restriction."""

    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        return {"datasets": list(self.datasets) or None, "models": list(self.models) or None,
                "strategies": list(self.strategies) or None}

    def where(self, alias: str = "r") -> str:
        """SQL condition on `alias`'s dataset/model/strategy columns for the filters in use (values stay
        bound parameters; an unused filter adds no clause, so DuckDB plans the plain query)."""
        clauses = [f"list_contains(${name}, {alias}.{column})"
                   for name, column in (("datasets", "dataset"), ("models", "model"), ("strategies", "strategy"))
                   if getattr(self, name)]
        return " AND ".join(clauses) or "TRUE"


_CACHE = {"enabled": os.environ.get("AFFECTLENS_CACHE", "1") != "0"}
_last_good: collections.OrderedDict = collections.OrderedDict()
_last_good_lock = threading.Lock()


def set_caching(enabled: bool) -> None:
    """Turn result caching on or off (benchmarks measure the queries themselves)."""
    _CACHE["enabled"] = enabled


def store_version(db: str) -> tuple:
    """Changes whenever the engine writes: modification time and size of the file and its WAL."""
    out = []
    for path in (Path(db), Path(f"{db}.wal")):
        try:
            stat = path.stat()
            out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _remember(key: tuple, value: Any) -> None:
    with _last_good_lock:
        _last_good[key] = value
        _last_good.move_to_end(key)
        while len(_last_good) > 128:
            _last_good.popitem(last=False)


def query(fn):
    """Make `fn(con, *args)` a cached store query callable as `fn(db, *args)`."""
    def run(db: str, version: tuple, *args):
        with reader(db) as con:
            return fn(con, *args)

    # Streamlit keys a cache by qualified name and source; this wrapper's source is shared, so the
    # query's own name and source go into the name.
    run.__qualname__ = f"{fn.__qualname__}-{hashlib.sha1(inspect.getsource(fn).encode()).hexdigest()[:10]}"
    cached = st.cache_data(ttl=settings.cache_ttl_s(), show_spinner=False, max_entries=512)(run)

    @functools.wraps(fn)
    def wrapper(db: str | os.PathLike, *args):
        db = str(db)
        key = (fn.__name__, db, args)
        version = store_version(db)
        try:
            result = cached(db, version, *args) if _CACHE["enabled"] else run(db, version, *args)
        except StoreBusy:
            with _last_good_lock:
                if key in _last_good:
                    return _last_good[key]
            raise
        _remember(key, result)
        return result

    wrapper.clear = cached.clear
    return wrapper


def clear_caches() -> None:
    """Forget every cached result (after the sidebar finished an analysis)."""
    st.cache_data.clear()
    with _last_good_lock:
        _last_good.clear()


_PARAM = re.compile(r"\$(\w+)")


def _frame(con, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run `sql` with only the named parameters it uses (DuckDB rejects unused ones)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in used}).df()


def _label_polarity() -> pd.DataFrame:
    pairs = {label.name: label.polarity for taxonomy in TAXONOMIES.values() for label in taxonomy.labels}
    return pd.DataFrame({"label": list(pairs), "polarity": list(pairs.values())})


_LABEL_POLARITY = _label_polarity()

def _judged_cte(filters: Filters, dimension: str) -> str:
    """CTEs `sel` (the selected runs of $dataset) and `judged` (their answers on $dimension with gold)."""
    polarity_from_emotion = """
    UNION ALL
    SELECT p.run_id, p.item_id, m.polarity, p.status, p.confidence FROM predictions p
    LEFT JOIN label_polarity m ON m.label = p.label
    WHERE p.dataset = $dataset AND p.dimension = 'emotion'
      AND p.run_id NOT IN (SELECT DISTINCT run_id FROM predictions WHERE dataset = $dataset AND dimension = 'polarity')
    """ if dimension == "polarity" else ""
    return f"""
sel AS (SELECT r.run_id, r.model, r.strategy FROM runs r WHERE r.dataset = $dataset AND {filters.where()}),
pred AS (
    SELECT p.run_id, p.item_id, p.label, p.status, p.confidence FROM predictions p
    WHERE p.dataset = $dataset AND p.dimension = $dimension {polarity_from_emotion}
),
judged AS (
    SELECT s.model, s.strategy, pr.run_id, pr.item_id, pr.label, pr.status, pr.confidence,
           g.label AS gold_label,
           pr.status IN ('ok', 'partial') AS answered,
           coalesce(pr.status IN ('ok', 'partial') AND pr.label IS NOT NULL
                    AND (pr.label = g.label OR list_contains(g.labels, pr.label)), false) AS correct
    FROM pred pr JOIN sel s USING (run_id)
    JOIN gold g ON g.dataset = $dataset AND g.item_id = pr.item_id AND g.dimension = $dimension
)"""

# Calls, errors, tokens, spend and latency per run: one cheap GROUP BY run_id that the queries join to
# the selected runs (filtering 250,000 responses through a subquery first is several times slower).
_PER_RUN = """per_run AS (
    SELECT run_id, count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors,
           count(*) FILTER (WHERE status = 'refused') AS refusals,
           coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
           coalesce(sum(cost_usd), 0) AS spend_usd, sum(latency_ms) AS latency_sum, count(latency_ms) AS latency_n
    FROM responses GROUP BY run_id)"""


def _judged(con, sql: str, filters: Filters, **params) -> pd.DataFrame:
    """Run `sql` (which selects from the `judged` CTE) for one dataset and categorical dimension."""
    if params.get("dimension") == "polarity":
        con.register("label_polarity", _LABEL_POLARITY)
    return _frame(con, f"WITH {_judged_cte(filters, params.get('dimension'))} {sql}", {**filters.params(), **params})


# --- sidebar ---------------------------------------------------------------------------------------

@query
def filter_options(con) -> dict[str, list[str]]:
    """Datasets, models and strategies present in the store (sidebar filter choices)."""
    runs = _frame(con, "SELECT DISTINCT dataset, model, strategy FROM runs")
    datasets = _frame(con, "SELECT dataset FROM datasets")
    return {"datasets": sorted(set(runs["dataset"]) | set(datasets["dataset"])),
            "models": sorted(set(runs["model"])), "strategies": sorted(set(runs["strategy"]))}


@query
def analysis_datasets(con) -> pd.DataFrame:
    """Datasets the sidebar can draw a small analysis from (those loaded from files with a root)."""
    return _frame(con, """SELECT dataset, loader, root, taxonomy, dimensions, n_items, meta, scales FROM datasets
                          WHERE loader NOT IN ('import', 'upload') ORDER BY dataset""")


# --- overview --------------------------------------------------------------------------------------

@query
def store_summary(con, filters: Filters) -> dict[str, float]:
    """Counts and spend of everything the filters select."""
    row = _frame(con, f"""
        WITH sel AS (SELECT run_id, dataset, model, strategy FROM runs r WHERE {filters.where()}), {_PER_RUN},
        per_run_predictions AS (SELECT run_id, count(*) AS n FROM predictions GROUP BY run_id)
        SELECT count(DISTINCT s.dataset) AS datasets,
               (SELECT count(*) FROM items WHERE dataset IN (SELECT dataset FROM sel)) AS items,
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
def scored_pairs(con, filters: Filters) -> pd.DataFrame:
    """The (dataset, dimension) pairs with materialised scores and how many (model, strategy) each has,
    most first (the pages open on the richest one)."""
    return _frame(con, f"""
        SELECT dataset, dimension, count(DISTINCT (model, strategy)) AS runs FROM scores r WHERE {filters.where()}
        GROUP BY ALL ORDER BY runs DESC, dataset, dimension
    """, filters.params())


@query
def scores_long(con, filters: Filters, dataset: str, dimension: str) -> pd.DataFrame:
    """Every materialised metric of one dataset and dimension: model, strategy, metric, value, CI, n."""
    return _frame(con, f"""
        SELECT model, strategy, metric, value, ci_low, ci_high, n, n_total FROM scores r
        WHERE dataset = $dataset AND dimension = $dimension AND {filters.where()}
        ORDER BY model, strategy, metric
    """, {**filters.params(), "dataset": dataset, "dimension": dimension})


def leaderboard(db: str, filters: Filters, dataset: str, dimension: str) -> pd.DataFrame:
    """One row per (model, strategy): the dimension's primary metric with its 95% CI, coverage and n,
    then every other metric as a column; best primary metric first."""
    long = scores_long(db, filters, dataset, dimension)
    if long.empty:
        return pd.DataFrame(columns=["model", "strategy", "metric", "value", "ci_low", "ci_high", "n", "n_total"])
    primary = PRIMARY_METRIC.get(dimension, "accuracy")
    if primary not in set(long["metric"]):
        primary = sorted(long["metric"].unique())[0]
    head = long[long["metric"] == primary][["model", "strategy", "value", "ci_low", "ci_high", "n", "n_total"]]
    head = head.drop_duplicates(["model", "strategy"])
    wide = long[long["metric"] != primary].pivot_table(index=["model", "strategy"], columns="metric",
                                                       values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    out = head.merge(wide, on=["model", "strategy"], how="left")
    out.insert(2, "metric", primary)
    lower_is_better = primary in ("mae", "rmse", "kl", "js", "ece", "brier")
    return out.sort_values("value", ascending=lower_is_better, na_position="last").reset_index(drop=True)


@query
def spend_by_model(con, filters: Filters) -> pd.DataFrame:
    """Spend, tokens, calls and mean latency per model and strategy."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id, model, strategy FROM runs r WHERE {filters.where()}), {_PER_RUN}
        SELECT s.model, s.strategy, coalesce(sum(c.calls), 0) AS calls, coalesce(sum(c.spend_usd), 0) AS spend_usd,
               coalesce(sum(c.input_tokens), 0) AS input_tokens, coalesce(sum(c.output_tokens), 0) AS output_tokens,
               sum(c.latency_sum) / nullif(sum(c.latency_n), 0) AS mean_latency_ms
        FROM sel s LEFT JOIN per_run c USING (run_id)
        GROUP BY s.model, s.strategy ORDER BY spend_usd DESC, s.model, s.strategy
    """, filters.params())


@query
def judged_dimensions(con, filters: Filters) -> pd.DataFrame:
    """(dataset, dimension) pairs with categorical gold and predictions from the selected runs, with the
    number of those runs, most first."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id, dataset FROM runs r WHERE {filters.where()}),
        predicted AS (SELECT p.dataset, p.run_id, CASE WHEN p.dimension = 'emotion' THEN ['emotion', 'polarity']
                                                       ELSE [p.dimension] END AS dims
                      FROM (SELECT DISTINCT dataset, run_id, dimension FROM predictions
                            WHERE dimension IN ('polarity', 'emotion')) p JOIN sel USING (run_id))
        SELECT g.dataset, g.dimension, count(DISTINCT pr.run_id) AS runs
        FROM (SELECT DISTINCT dataset, dimension FROM gold WHERE dimension IN ('polarity', 'emotion')) g
        JOIN predicted pr ON pr.dataset = g.dataset AND list_contains(pr.dims, g.dimension)
        GROUP BY ALL ORDER BY runs DESC, g.dataset, g.dimension
    """, filters.params())


# --- model comparison ------------------------------------------------------------------------------

_ONE_PER_ITEM = """one AS (SELECT * FROM judged WHERE strategy = $strategy
                    QUALIFY row_number() OVER (PARTITION BY model, item_id ORDER BY answered DESC, run_id) = 1)"""


@query
def pairwise_significance(con, filters: Filters, dataset: str, dimension: str, strategy: str) -> pd.DataFrame:
    """Every pair of models under one strategy: strict accuracy of each on their common items, the
    discordant counts, exact McNemar p-value and Holm-adjusted p-value over all pairs; both orders listed."""
    pairs = _judged(con, f""", {_ONE_PER_ITEM}
        SELECT a.model AS model_a, b.model AS model_b, count(*) AS n_common,
               avg(a.correct::INT) AS accuracy_a, avg(b.correct::INT) AS accuracy_b,
               count(*) FILTER (WHERE a.correct AND NOT b.correct) AS only_a,
               count(*) FILTER (WHERE b.correct AND NOT a.correct) AS only_b
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        GROUP BY a.model, b.model ORDER BY a.model, b.model
    """, filters, dataset=dataset, dimension=dimension, strategy=strategy)
    if pairs.empty:
        return pairs.assign(p_value=[], p_holm=[], mark=[], difference=[])
    pairs["p_value"] = [_mcnemar(b, c) for b, c in zip(pairs["only_a"], pairs["only_b"])]
    pairs["p_holm"] = _holm(pairs["p_value"].tolist())
    swapped = pairs.rename(columns={"model_a": "model_b", "model_b": "model_a", "accuracy_a": "accuracy_b",
                                    "accuracy_b": "accuracy_a", "only_a": "only_b", "only_b": "only_a"})
    both = pd.concat([pairs, swapped[pairs.columns]], ignore_index=True)
    both["difference"] = both["accuracy_a"] - both["accuracy_b"]
    both["mark"] = both["p_holm"].map(analysis.significance_mark)
    return both.sort_values(["model_a", "model_b"]).reset_index(drop=True)


@query
def model_agreement(con, filters: Filters, dataset: str, dimension: str, strategy: str) -> pd.DataFrame:
    """Cohen's kappa and raw agreement of every pair of models on the items both answered."""
    cells = _judged(con, f""", {_ONE_PER_ITEM}
        SELECT a.model AS model_a, b.model AS model_b, a.label AS label_a, b.label AS label_b, count(*) AS n
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        WHERE a.answered AND b.answered AND a.label IS NOT NULL AND b.label IS NOT NULL
        GROUP BY ALL
    """, filters, dataset=dataset, dimension=dimension, strategy=strategy)
    rows = []
    for (model_a, model_b), group in cells.groupby(["model_a", "model_b"], sort=True):
        total = int(group["n"].sum())
        same = int(group.loc[group["label_a"] == group["label_b"], "n"].sum())
        row = {"n_common": total, "agreement": same / total if total else float("nan"),
               "kappa": analysis.cohen_kappa(group)}
        rows += [{"model_a": model_a, "model_b": model_b, **row}, {"model_a": model_b, "model_b": model_a, **row}]
    return pd.DataFrame(rows, columns=["model_a", "model_b", "n_common", "agreement", "kappa"])


@query
def group_agreement(con, filters: Filters, dataset: str, dimension: str, strategy: str) -> dict[str, float]:
    """Krippendorff's alpha (nominal) over every selected model's label per item, and the models and items
    it covers."""
    counts = _judged(con, f""", {_ONE_PER_ITEM}
        SELECT item_id AS unit, label, count(*) AS n FROM one WHERE answered AND label IS NOT NULL GROUP BY ALL
    """, filters, dataset=dataset, dimension=dimension, strategy=strategy)
    models = _judged(con, f", {_ONE_PER_ITEM} SELECT count(DISTINCT model) AS n FROM one", filters, dataset=dataset,
                     dimension=dimension, strategy=strategy)
    return {"alpha": analysis.krippendorff_alpha_nominal(counts), "models": int(models["n"].iloc[0]),
            "items": int(counts["unit"].nunique()) if len(counts) else 0}


@query
def cost_quality(con, filters: Filters, dataset: str, dimension: str) -> pd.DataFrame:
    """Per (model, strategy): accuracy (the materialised score where there is one), coverage, spend per item
    and mean latency per call, and whether it lies on the Pareto front against cost and latency."""
    frame = _judged(con, f""", {_PER_RUN},
        quality AS (SELECT model, strategy, count(*) AS n, avg(answered::INT) AS coverage,
                           sum(correct::INT) / nullif(sum(answered::INT), 0) AS accuracy_answered
                    FROM judged GROUP BY ALL),
        spend AS (SELECT s.model, s.strategy, sum(c.spend_usd) AS spend_usd,
                         sum(c.latency_sum) / nullif(sum(c.latency_n), 0) AS mean_latency_ms
                  FROM sel s JOIN per_run c USING (run_id) GROUP BY ALL),
        scored AS (SELECT model, strategy, any_value(value) AS accuracy FROM scores
                   WHERE dataset = $dataset AND dimension = $dimension AND metric = 'accuracy' GROUP BY ALL)
        SELECT q.model, q.strategy, coalesce(sc.accuracy, q.accuracy_answered) AS accuracy, q.coverage, q.n,
               coalesce(sp.spend_usd, 0) / nullif(q.n, 0) AS cost_per_item_usd, sp.mean_latency_ms
        FROM quality q LEFT JOIN spend sp USING (model, strategy) LEFT JOIN scored sc USING (model, strategy)
        ORDER BY q.model, q.strategy
    """, filters, dataset=dataset, dimension=dimension)
    frame["pareto_cost"] = analysis.pareto_front(frame, "cost_per_item_usd", "accuracy")
    frame["pareto_latency"] = analysis.pareto_front(frame, "mean_latency_ms", "accuracy")
    return frame


# --- dimensions ------------------------------------------------------------------------------------

@query
def confusion(con, filters: Filters, dataset: str, dimension: str, model: str, strategy: str) -> pd.DataFrame:
    """Counts of (gold, predicted) for one model and strategy; unanswered items appear as '(status)'."""
    return _judged(con, """
        SELECT coalesce(gold_label, '(tie)') AS gold,
               CASE WHEN NOT answered THEN '(' || CASE status WHEN 'failed' THEN 'unparsed' WHEN 'error'
                                                  THEN 'API error' ELSE status END || ')'
                    ELSE coalesce(label, '(no label)') END AS predicted,
               count(*) AS n
        FROM judged WHERE model = $model AND strategy = $strategy GROUP BY ALL ORDER BY gold, predicted
    """, filters, dataset=dataset, dimension=dimension, model=model, strategy=strategy)


def per_class(db: str, filters: Filters, dataset: str, dimension: str, model: str, strategy: str) -> pd.DataFrame:
    """Precision, recall and F1 per gold class for one model and strategy (from `confusion`)."""
    return analysis.per_class_scores(confusion(db, filters, dataset, dimension, model, strategy))


@query
def valence_arousal(con, filters: Filters, dataset: str, model: str, strategy: str, limit: int = 2000) -> pd.DataFrame:
    """Gold and predicted valence (in [-1, 1]) and arousal (in [0, 1]) per item, a stable sample of `limit`."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id FROM runs r WHERE r.dataset = $dataset AND r.model = $model
                     AND r.strategy = $strategy AND {filters.where()}),
        p AS (SELECT item_id, max(value_norm) FILTER (WHERE dimension = 'valence') AS predicted_valence,
                     max(value_norm) FILTER (WHERE dimension = 'arousal') AS predicted_arousal
              FROM predictions JOIN sel USING (run_id)
              WHERE dataset = $dataset AND dimension IN ('valence', 'arousal') AND status IN ('ok', 'partial')
              GROUP BY item_id),
        g AS (SELECT item_id, max(value_norm) FILTER (WHERE dimension = 'valence') AS gold_valence,
                     max(value_norm) FILTER (WHERE dimension = 'arousal') AS gold_arousal
              FROM gold WHERE dataset = $dataset AND dimension IN ('valence', 'arousal') GROUP BY item_id)
        SELECT item_id, gold_valence, gold_arousal, predicted_valence, predicted_arousal
        FROM g JOIN p USING (item_id)
        WHERE gold_valence IS NOT NULL AND predicted_valence IS NOT NULL
        ORDER BY hash(item_id), item_id LIMIT $limit
    """, {**filters.params(), "dataset": dataset, "model": model, "strategy": strategy, "limit": int(limit)})


@query
def continuous_bias(con, filters: Filters, dataset: str) -> pd.DataFrame:
    """Mean signed bias (predicted - gold) and MAE on the normalised scale per model, strategy and dimension."""
    return _frame(con, f"""
        SELECT r.model, r.strategy, p.dimension, count(*) AS n,
               avg(p.value_norm - g.value_norm) AS mean_bias, avg(abs(p.value_norm - g.value_norm)) AS mae,
               avg(p.value_norm) AS mean_predicted, avg(g.value_norm) AS mean_gold
        FROM predictions p JOIN runs r USING (run_id)
        JOIN gold g ON g.dataset = p.dataset AND g.item_id = p.item_id AND g.dimension = p.dimension
        WHERE p.dataset = $dataset AND r.dataset = $dataset AND {filters.where()}
          AND p.dimension IN ('valence', 'arousal', 'intensity') AND p.status IN ('ok', 'partial')
          AND p.value_norm IS NOT NULL AND g.value_norm IS NOT NULL
        GROUP BY ALL ORDER BY p.dimension, r.model, r.strategy
    """, {**filters.params(), "dataset": dataset})


@query
def intensity_levels(con, filters: Filters, dataset: str) -> pd.DataFrame:
    """How often each predicted intensity (source scale, rounded) occurs per model and strategy."""
    return _frame(con, f"""
        SELECT r.model, r.strategy, round(p.value) AS intensity, count(*) AS n
        FROM predictions p JOIN runs r USING (run_id)
        WHERE p.dataset = $dataset AND r.dataset = $dataset AND {filters.where()}
          AND p.dimension = 'intensity' AND p.status IN ('ok', 'partial') AND p.value IS NOT NULL
        GROUP BY ALL ORDER BY r.model, r.strategy, intensity
    """, {**filters.params(), "dataset": dataset})


@query
def calibration(con, filters: Filters, dataset: str, dimension: str, bins: int = 10) -> pd.DataFrame:
    """Reliability-diagram bins of stated confidence per model and strategy, with each one's ECE."""
    frame = _judged(con, """
        SELECT model, strategy, least(floor(confidence * $bins), $bins - 1)::INT AS bin,
               avg(confidence) AS mean_confidence, avg(correct::INT) AS accuracy, count(*) AS n
        FROM judged WHERE answered AND confidence IS NOT NULL AND confidence BETWEEN 0 AND 1
        GROUP BY ALL ORDER BY model, strategy, bin
    """, filters, dataset=dataset, dimension=dimension, bins=int(bins))
    ece = {key: analysis.expected_calibration_error(group) for key, group in frame.groupby(["model", "strategy"])}
    frame["ece"] = [ece[(m, s)] for m, s in zip(frame["model"], frame["strategy"])]
    return frame


def circumplex(taxonomy: str | None) -> pd.DataFrame:
    """Label positions on the valence-arousal circumplex (engine.taxonomy, after Russell 1980)."""
    labels = TAXONOMIES[taxonomy].labels if taxonomy in TAXONOMIES else ()
    return pd.DataFrame([{"label": label.name, "valence": label.valence, "arousal": label.arousal}
                         for label in labels if label.valence is not None],
                        columns=["label", "valence", "arousal"])


# --- prompt ablations ------------------------------------------------------------------------------

@query
def strategy_effects(con, filters: Filters, dataset: str, dimension: str, baseline: str = "zero-shot") -> pd.DataFrame:
    """Per (model, strategy): strict accuracy minus the same model's `baseline` accuracy on their common
    items, gains and losses, exact McNemar p-value and Holm-adjusted over the page's family of comparisons."""
    frame = _judged(con, """,
        one AS (SELECT * FROM judged
                QUALIFY row_number() OVER (PARTITION BY model, strategy, item_id ORDER BY answered DESC, run_id) = 1)
        SELECT s.model, s.strategy, count(*) AS n_common, avg(s.correct::INT) AS accuracy,
               avg(z.correct::INT) AS accuracy_baseline,
               count(*) FILTER (WHERE s.correct AND NOT z.correct) AS gains,
               count(*) FILTER (WHERE z.correct AND NOT s.correct) AS losses
        FROM one s JOIN one z ON z.model = s.model AND z.item_id = s.item_id AND z.strategy = $baseline
        WHERE s.strategy <> $baseline GROUP BY ALL ORDER BY s.model, s.strategy
    """, filters, dataset=dataset, dimension=dimension, baseline=baseline)
    frame["difference"] = frame["accuracy"] - frame["accuracy_baseline"]
    frame["p_value"] = [_mcnemar(g, l) for g, l in zip(frame["gains"], frame["losses"])]
    frame["p_holm"] = _holm(frame["p_value"].tolist()) if len(frame) else []
    frame["mark"] = frame["p_holm"].map(analysis.significance_mark) if len(frame) else []
    return frame


@query
def strategy_failures(con, filters: Filters, dataset: str) -> pd.DataFrame:
    """Per (model, strategy): shares of unparsed, refused, API-error and partial predictions, and calls,
    tokens and spend per item (items: the runs' evaluated item counts)."""
    return _frame(con, f"""
        WITH sel AS (SELECT run_id, model, strategy, n_items FROM runs r WHERE r.dataset = $dataset AND {filters.where()}),
        {_PER_RUN},
        pr AS (SELECT s.model, s.strategy, count(*) AS predictions,
                      avg((p.status = 'failed')::INT) AS unparsed, avg((p.status = 'refused')::INT) AS refused,
                      avg((p.status = 'error')::INT) AS api_error, avg((p.status = 'partial')::INT) AS partial
               FROM predictions p JOIN sel s USING (run_id) WHERE p.dataset = $dataset GROUP BY ALL),
        calls AS (SELECT s.model, s.strategy, sum(c.calls) AS calls, sum(s.n_items) AS items,
                         sum(c.input_tokens) AS input_tokens, sum(c.output_tokens) AS output_tokens,
                         sum(c.spend_usd) AS spend_usd
                  FROM sel s JOIN per_run c USING (run_id) GROUP BY ALL)
        SELECT pr.*, c.calls / nullif(c.items, 0) AS calls_per_item,
               c.input_tokens / nullif(c.items, 0) AS input_tokens_per_item,
               c.output_tokens / nullif(c.items, 0) AS output_tokens_per_item,
               c.spend_usd / nullif(c.items, 0) AS cost_per_item_usd
        FROM pr LEFT JOIN calls c USING (model, strategy) ORDER BY pr.strategy, pr.model
    """, {**filters.params(), "dataset": dataset})


@query
def position_bias(con, filters: Filters, dataset: str, dimension: str) -> pd.DataFrame:
    """Where candidate labels were shuffled per item (the `label_orders` table): per (model, strategy) and
    position, how many answers chose the label shown there, the share, the uniform share, and the
    accuracy on items whose gold label was shown there; `p_uniform` is a chi-square test of no preference."""
    if not _has_table(con, "label_orders"):
        return pd.DataFrame(columns=["model", "strategy", "position", "n", "share", "uniform", "accuracy_gold_here",
                                     "p_uniform"])
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
    """, filters, dataset=dataset, dimension=dimension)
    if frame.empty:
        return frame.assign(share=[], uniform=[], p_uniform=[])
    totals = frame.groupby(["model", "strategy"])["n"].transform("sum")
    frame["share"] = frame["n"] / totals.where(totals > 0)
    n_labels = frame.groupby(["model", "strategy"])["n_labels"].transform("max")
    frame["uniform"] = 1.0 / n_labels
    p_values = {}
    for key, group in frame.groupby(["model", "strategy"]):
        counts = dict(zip(group["position"], group["n"]))  # positions never chosen count as 0
        size = int(group["n_labels"].max()) if group["n_labels"].notna().any() else 0
        p_values[key] = analysis.position_bias_test([counts.get(i, 0) for i in range(1, size + 1)])
    frame["p_uniform"] = [p_values[(m, s)] for m, s in zip(frame["model"], frame["strategy"])]
    return frame.drop(columns=["n_labels"])


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])


def _mcnemar(b: int, c: int) -> float:
    return analysis.mcnemar_exact(b, c)


def _holm(p_values: list[float]) -> list[float]:
    return analysis.holm(p_values)


# --- error gallery ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GalleryQuery:
    """What the gallery shows: one dataset and categorical dimension, narrowed by the page's filters.

    `error_types` are keys of ERROR_TYPES; an item shows when at least one selected run's answer matches
    the predicted label, error type and confidence range together. Hardness (how many runs failed the
    item: wrong, refused, unparsed or API error) is counted over all selected runs.
    """

    dataset: str
    dimension: str
    gold: str | None = None
    predicted: str | None = None
    error_types: tuple[str, ...] = ()
    confidence: tuple[float, float] | None = None
    search: str = ""
    page: int = 1
    page_size: int = 24


_OUTCOME = """CASE WHEN status = 'refused' THEN 'refused' WHEN status = 'failed' THEN 'unparsed'
                   WHEN status = 'error' THEN 'api_error' WHEN NOT correct THEN 'wrong' ELSE 'correct' END"""


@dataclass
class GalleryPage:
    total: int
    items: pd.DataFrame
    root: str | None


@query
def gallery_labels(con, filters: Filters, dataset: str, dimension: str) -> dict[str, list[str]]:
    """Gold and predicted labels present, for the gallery's selectors."""
    frame = _judged(con, "SELECT DISTINCT gold_label, label FROM judged", filters, dataset=dataset, dimension=dimension)
    return {"gold": sorted(frame["gold_label"].dropna().unique().tolist()),
            "predicted": sorted(frame["label"].dropna().unique().tolist())}


@query
def gallery_page(con, filters: Filters, spec: GalleryQuery) -> GalleryPage:
    """One page of items, hardest first (most selected runs failed), with the total number matching."""
    page_size = max(1, int(spec.page_size))
    low, high = spec.confidence if spec.confidence else (None, None)
    params = dict(dataset=spec.dataset, dimension=spec.dimension, gold=spec.gold or None,
                  predicted=spec.predicted or None, types=list(spec.error_types) or None,
                  conf_low=low, conf_high=high, search=spec.search.strip() or None,
                  limit=page_size, offset=(max(1, int(spec.page)) - 1) * page_size)
    items = _judged(con, f""",
        typed AS (SELECT *, {_OUTCOME} AS outcome FROM judged),
        per_item AS (
            SELECT item_id, any_value(gold_label) AS gold_label, count(*) AS n_runs,
                   count(*) FILTER (WHERE outcome <> 'correct') AS n_failed,
                   list(DISTINCT model ORDER BY model) FILTER (WHERE outcome <> 'correct') AS failed_by,
                   bool_or(($predicted IS NULL OR label = $predicted)
                           AND ($types IS NULL OR list_contains($types, outcome))
                           AND ($conf_low IS NULL OR confidence BETWEEN $conf_low AND $conf_high)) AS matches
            FROM typed GROUP BY item_id)
        SELECT h.item_id, h.gold_label, h.n_runs, h.n_failed, h.failed_by, i.image_sha256, i.image_path,
               count(*) OVER () AS total
        FROM per_item h JOIN items i ON i.dataset = $dataset AND i.item_id = h.item_id
        WHERE h.matches AND ($gold IS NULL OR h.gold_label = $gold)
          AND ($search IS NULL OR contains(lower(h.item_id), lower($search)))
        ORDER BY h.n_failed DESC, h.n_failed / h.n_runs DESC, h.item_id
        LIMIT $limit OFFSET $offset
    """, filters, **params)
    total = int(items["total"].iloc[0]) if len(items) else 0
    root = _frame(con, "SELECT root FROM datasets WHERE dataset = $dataset", {"dataset": spec.dataset})
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
    """Everything stored about one item: the item and its image path, gold annotations, every selected run's
    parsed answers, reasoning traces and raw responses. None when the item does not exist."""
    params = {**filters.params(), "dataset": dataset, "item_id": item_id}
    item = _frame(con, """SELECT i.*, d.root, d.taxonomy FROM items i JOIN datasets d USING (dataset)
                          WHERE i.dataset = $dataset AND i.item_id = $item_id""", params)
    if item.empty:
        return None
    gold = _frame(con, """SELECT dimension, label, labels, value, value_norm, sd, n_raters, scale_low, scale_high,
                                 distribution, taxonomy FROM gold WHERE dataset = $dataset AND item_id = $item_id
                          ORDER BY dimension""", params)
    # The item's rows are picked first (MATERIALIZED), then joined to the selected runs: joining first
    # would read every response's text before filtering.
    sel = f"sel AS (SELECT run_id, model, strategy FROM runs r WHERE r.dataset = $dataset AND {filters.where()})"
    answers = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM predictions WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, p.dimension, p.label, p.value, p.status, p.confidence, p.raw_label,
               p.ranking, p.span, p.method, p.agreement, p.run_id
        FROM mine p JOIN sel s USING (run_id) ORDER BY s.model, s.strategy, p.dimension""", params)
    traces = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM traces WHERE item_id = $item_id)
        SELECT s.model, s.strategy, t.steps, t.scene, t.thinking, t.run_id
        FROM mine t JOIN sel s USING (run_id) ORDER BY s.model, s.strategy""", params)
    responses = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM responses WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, x.stage, x.sample_index, x.status, x.error_class, x.error_message, x.text,
               x.raw_response, x.model_id_resolved, x.input_tokens, x.output_tokens, x.cost_usd, x.latency_ms,
               x.attempts, x.run_id
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
    """One row per run: what it was, its status, duration, calls, errors, refusals, tokens and spend."""
    return _frame(con, f"""
        WITH sel AS (SELECT * FROM runs r WHERE {filters.where()}), {_PER_RUN}
        SELECT s.run_id, s.experiment, s.dataset, s.model, s.adapter,
               coalesce(s.model_id_resolved, s.model_id) AS model_id, s.strategy,
               array_to_string(s.dimensions, ', ') AS dimensions, s.status, s.n_items, s.started_at, s.finished_at,
               epoch(s.finished_at - s.started_at) AS duration_s, coalesce(c.calls, 0) AS calls,
               coalesce(c.errors, 0) AS errors, coalesce(c.refusals, 0) AS refusals,
               coalesce(c.input_tokens + c.output_tokens, 0) AS tokens, coalesce(c.spend_usd, 0) AS spend_usd,
               c.latency_sum / nullif(c.latency_n, 0) AS mean_latency_ms, s.parser_version, s.prompt_hash
        FROM sel s LEFT JOIN per_run c USING (run_id)
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
