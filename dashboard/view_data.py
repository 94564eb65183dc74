"""Queries of the chart views that need more than `dashboard.data` gives: which models of a scope ignore the
prompt (for the prompt ablations) and the confusion counts with out-of-set answers and tied gold labels told
apart. Cached like every dashboard query (`dashboard.cache.query`); statistics stay in the engine."""

from __future__ import annotations

import pandas as pd

from dashboard import analysis
from dashboard.cache import frame as _frame, query
from dashboard.data import Filters, Scope, _judged, _selected
from engine.metrics import compare
from engine.models import reads_prompt

__all__ = ["prompt_blind_models", "without_models", "confusion", "OUT_OF_SET", "UNPARSED"]

#: The answer named a label, but not one of the dimension's label set (e.g. "Concentration" for Ekman's seven).
OUT_OF_SET = "(out of set)"
#: No label could be read from the answer at all.
UNPARSED = "(unparsed)"


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


@query
def confusion(con, filters: Filters, scope: Scope, model: str, strategy: str) -> pd.DataFrame:
    """Counts of (gold, predicted) for one model and strategy.

    A tied gold (Emotion6: several majority labels, stored as "a | b") counts under the answer when the answer is
    one of the tied labels and under the first tied label otherwise -- the engine's rule for accuracy and per-class
    scores (`engine.metrics.evaluation`); `tied` says how many of a cell's items had a tied gold. Unanswered
    items appear as columns: `OUT_OF_SET` where the answer named a word outside the label set (whether the parser
    kept it as answered or not), `UNPARSED` where nothing could be read, "(refused)", "(API error)" and the like.
    """
    return _judged(con, f""",
        raw AS (SELECT p.run_id, p.item_id, p.raw_label FROM predictions p JOIN sel s
                ON p.run_id = s.run_id AND p.dimension = s.dimension
                WHERE s.model = $model AND s.strategy = $strategy),
        cells AS (
            SELECT j.*, r.raw_label, string_split(j.gold_label, ' | ') AS golds FROM judged j
            LEFT JOIN raw r USING (run_id, item_id) WHERE j.model = $model AND j.strategy = $strategy)
        SELECT CASE WHEN len(golds) > 1 AND list_contains(golds, label) THEN label ELSE golds[1] END AS gold,
               CASE WHEN answered AND label IS NOT NULL THEN label
                    WHEN (answered OR status = 'failed') AND nullif(trim(raw_label), '') IS NOT NULL
                         THEN '{OUT_OF_SET}'
                    WHEN answered OR status = 'failed' THEN '{UNPARSED}'
                    WHEN status = 'error' THEN '(API error)'
                    ELSE '(' || status || ')' END AS predicted,
               count(*) AS n, count(*) FILTER (WHERE len(golds) > 1) AS tied
        FROM cells WHERE gold_label IS NOT NULL GROUP BY ALL ORDER BY gold, predicted
    """, filters, scope, model=model, strategy=strategy)
