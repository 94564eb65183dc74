"""Prompt ablations: each strategy against a baseline (McNemar/Holm from `engine.metrics.compare`), failure
shares and tokens per strategy, label-order position bias."""

from __future__ import annotations

import pandas as pd

from dashboard import analysis
from dashboard.cache import derived, frame as _frame, query
from dashboard.data.scope import _PER_RUN, Filters, Scope, _judged, _selected
from engine.metrics import compare
from engine.models import reads_prompt

@query
def paired_with_baseline(con, filters: Filters, scope: Scope, baseline: str) -> pd.DataFrame:
    """Per (model, strategy): items in common with the same model's `baseline`, both accuracies, gains, losses."""
    return _judged(con, """
        SELECT s.model, s.strategy, count(*) AS n_common, avg(s.correct::INT) AS accuracy,
               avg(z.correct::INT) AS accuracy_baseline,
               count(*) FILTER (WHERE s.correct AND NOT z.correct) AS gains,
               count(*) FILTER (WHERE z.correct AND NOT s.correct) AS losses
        FROM judged s JOIN judged z ON z.model = s.model AND z.item_id = s.item_id AND z.strategy = $baseline
        WHERE s.strategy <> $baseline GROUP BY ALL ORDER BY s.model, s.strategy
    """, filters, scope, baseline=baseline)


@derived
def strategy_effects(db: str, filters: Filters, scope: Scope, baseline: str = "zero-shot") -> pd.DataFrame:
    """Per (model, strategy): strict accuracy minus the same model's `baseline` accuracy on the set, gains and
    losses, exact McNemar p-value and Holm-adjusted over the page's family (`HOLM_FAMILY["ablation"]`)."""
    frame = paired_with_baseline(db, filters, scope, baseline)
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


#: The columns of `position_bias`.
POSITION_COLUMNS = ["model", "strategy", "position", "n", "share", "uniform", "accuracy_gold_here", "p_uniform"]


@query
def label_positions(con, filters: Filters, scope: Scope) -> pd.DataFrame | None:
    """Where candidate labels were shuffled per item: per (model, strategy) and position, how many answers chose
    the label shown there and the accuracy on items whose gold was shown there; None without `label_orders`."""
    if not _has_table(con, "label_orders"):
        return None
    return _judged(con, """,
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


@derived
def position_bias(db: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Where candidate labels were shuffled per item (`label_orders`): per (model, strategy) and position, how
    many answers chose the label shown there, the share, the uniform share, the accuracy on items whose gold
    label was shown there, and `p_uniform` (chi-square test of no preference, engine.metrics.compare)."""
    columns = POSITION_COLUMNS
    frame = label_positions(db, filters, scope)
    if frame is None or frame.empty:
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


@query
def prompt_blind_models(con, filters: Filters, scope: Scope) -> dict[str, str]:
    """Models of the scope whose adapter never reads the prompt (registered `prompt_blind`, e.g. the
    majority, uniform, color-affect and features baselines), each with its adapter name."""
    runs = _frame(con, f"""
        WITH {_selected(filters)}
        SELECT DISTINCT s.model, r.adapter FROM sel s JOIN runs r USING (run_id) ORDER BY s.model
    """, {**filters.params(), **scope.params()})
    blind: dict[str, list[str]] = {}
    for model, adapter in zip(runs["model"], runs["adapter"]):
        blind.setdefault(model, []).append(adapter)
    return {model: ", ".join(sorted(set(adapters))) for model, adapters in blind.items()
            if not any(reads_prompt(a) for a in adapters)}


def without_models(effects: pd.DataFrame, models) -> pd.DataFrame:
    """`data.strategy_effects` rows of every model but `models`, Holm-adjusted again over the rows kept (the
    family shrinks with them; engine.metrics.compare.holm)."""
    kept = effects[~effects["model"].isin(list(models))].reset_index(drop=True)
    if len(kept) and len(kept) < len(effects):
        kept["p_holm"] = compare.holm(kept["p_value"].to_numpy(dtype=float))
        kept["mark"] = kept["p_holm"].map(analysis.significance_mark)
    return kept
