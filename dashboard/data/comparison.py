"""Model comparison: per-pair counts from the store, with McNemar/Holm, Cohen's kappa, Krippendorff's alpha
and the Pareto front computed by `engine.metrics.compare` and `dashboard.analysis`."""

from __future__ import annotations

import pandas as pd

from dashboard import analysis
from dashboard.cache import derived, frame as _frame, query
from dashboard.data.scope import _PER_RUN, Filters, Scope, _judged, _selected
from engine.metrics import compare

@query
def pair_counts(con, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Every pair of models under one strategy: items in common, strict accuracy of each, discordant counts."""
    return _judged(con, """
        , one AS (SELECT * FROM judged WHERE strategy = $strategy)
        SELECT a.model AS model_a, b.model AS model_b, count(*) AS n_common,
               avg(a.correct::INT) AS accuracy_a, avg(b.correct::INT) AS accuracy_b,
               count(*) FILTER (WHERE a.correct AND NOT b.correct) AS only_a,
               count(*) FILTER (WHERE b.correct AND NOT a.correct) AS only_b
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        GROUP BY a.model, b.model ORDER BY a.model, b.model
    """, filters, scope, strategy=strategy)


@derived
def pairwise_significance(db: str, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Every pair of models under one strategy: strict accuracy of each on the items of the set, the
    discordant counts, exact McNemar p-value and Holm-adjusted p-value over all pairs; both orders listed."""
    pairs = pair_counts(db, filters, scope, strategy)
    if pairs.empty:
        return pairs.assign(p_value=[], p_holm=[], mark=[], difference=[])
    pairs["p_value"] = [compare.mcnemar_exact(int(b), int(c)) for b, c in zip(pairs["only_a"], pairs["only_b"])]
    pairs["p_holm"] = compare.holm(pairs["p_value"].to_numpy(dtype=float))
    pairs["difference"] = pairs["accuracy_a"] - pairs["accuracy_b"]
    pairs["mark"] = pairs["p_holm"].map(analysis.significance_mark)
    return pairs.sort_values(["model_a", "model_b"]).reset_index(drop=True)


@query
def pair_labels(con, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Every pair of models under one strategy: how often each (label a, label b) occurs on items both answered."""
    return _judged(con, """
        , one AS (SELECT * FROM judged WHERE strategy = $strategy)
        SELECT a.model AS model_a, b.model AS model_b, a.label AS label_a, b.label AS label_b, count(*) AS n
        FROM one a JOIN one b ON a.item_id = b.item_id AND a.model < b.model
        WHERE a.answered AND b.answered AND a.label IS NOT NULL AND b.label IS NOT NULL
        GROUP BY ALL
    """, filters, scope, strategy=strategy)


@derived
def model_agreement(db: str, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Cohen's kappa (engine.metrics.compare) and raw agreement of every pair of models on the items both
    answered; one row per pair."""
    cells = pair_labels(db, filters, scope, strategy)
    rows = []
    for (model_a, model_b), group in cells.groupby(["model_a", "model_b"], sort=True):
        total = int(group["n"].sum())
        same = int(group.loc[group["label_a"] == group["label_b"], "n"].sum())
        rows.append({"model_a": model_a, "model_b": model_b, "n_common": total,
                     "agreement": same / total if total else float("nan"),
                     "kappa": compare.kappa_from_pairs(group["label_a"], group["label_b"], group["n"])})
    return pd.DataFrame(rows, columns=["model_a", "model_b", "n_common", "agreement", "kappa"])


@query
def answered_labels(con, filters: Filters, scope: Scope, strategy: str) -> pd.DataFrame:
    """Every model's answered label per item under one strategy."""
    return _judged(con, """
        SELECT model, item_id, label FROM judged WHERE strategy = $strategy AND answered AND label IS NOT NULL
    """, filters, scope, strategy=strategy)


@derived
def group_agreement(db: str, filters: Filters, scope: Scope, strategy: str) -> dict[str, float]:
    """Krippendorff's alpha (nominal, engine.metrics.compare) over every model's label per item."""
    labels = answered_labels(db, filters, scope, strategy)
    if labels.empty:
        return {"alpha": float("nan"), "models": 0, "items": 0}
    # items as rows and models as columns (a few wide columns, not one per item), then raters x units
    table = labels.drop_duplicates(["item_id", "model"]).pivot(index="item_id", columns="model", values="label")
    data = [[None if pd.isna(v) else v for v in column] for column in table.to_numpy(dtype=object).T]
    return {"alpha": float(compare.krippendorff_alpha(data, "nominal")), "models": int(table.shape[1]),
            "items": int(table.notna().sum(axis=1).ge(2).sum())}


@query
def quality_and_cost(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Per (model, strategy): strict accuracy (the stored score), coverage, spend per item, mean latency per call."""
    return _frame(con, f"""
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


@derived
def cost_quality(db: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Per (model, strategy): strict accuracy (the stored score), coverage, spend per item and mean latency
    per call, and whether it lies on the Pareto front against cost and latency."""
    frame = quality_and_cost(db, filters, scope)
    frame["pareto_cost"] = analysis.pareto_front(frame, "cost_per_item_usd", "accuracy_strict")
    frame["pareto_latency"] = analysis.pareto_front(frame, "mean_latency_ms", "accuracy_strict")
    return frame
