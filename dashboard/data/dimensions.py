"""Dimensions: confusion counts, per-class F1 and calibration bins (`engine.metrics`), the valence-arousal
sample, continuous bias and intensity levels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.cache import derived, frame as _frame, query
from dashboard.data.overview import scopes, scores_long
from dashboard.data.scope import CONTINUOUS, Filters, Scope, _judged, _selected
from engine.metrics import calibration as calib
from engine.metrics import categorical

#: The answer named a label, but not one of the dimension's label set (e.g. "Concentration" for Ekman's seven).
OUT_OF_SET = "(out of set)"
#: No label could be read from the answer at all.
UNPARSED = "(unparsed)"


def cell_models(db: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    """(model, strategy) cells of a scope, for the per-model pickers."""
    long = scores_long(db, filters, scope)
    return long[["model", "strategy"]].drop_duplicates().reset_index(drop=True)


@query
def class_pairs(con, filters: Filters, scope: Scope, model: str, strategy: str) -> pd.DataFrame:
    """How often each (gold, answered label) occurs for one model and strategy, over the answered items."""
    return _judged(con, """
        SELECT gold_label, label, count(*) AS n FROM judged
        WHERE model = $model AND strategy = $strategy AND answered GROUP BY ALL
    """, filters, scope, model=model, strategy=strategy)


@derived
def per_class(db: str, filters: Filters, scope: Scope, model: str, strategy: str) -> pd.DataFrame:
    """Precision, recall and F1 per gold class over the answered items (engine.metrics.categorical)."""
    frame = class_pairs(db, filters, scope, model, strategy)
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


@derived
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
def stated_confidence(con, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Model, strategy, stated confidence and correctness of every answered item that stated a confidence, in
    (model, strategy) order; `cell` numbers the (model, strategy) pairs."""
    return _judged(con, """
        SELECT model, strategy, confidence, correct, dense_rank() OVER (ORDER BY model, strategy) AS cell FROM judged
        WHERE answered AND confidence IS NOT NULL AND confidence BETWEEN 0 AND 1
        ORDER BY cell
    """, filters, scope)


@derived
def calibration(db: str, filters: Filters, scope: Scope, bins: int = 10) -> pd.DataFrame:
    """Reliability-diagram bins of stated confidence per model and strategy with each one's ECE, both from
    engine.metrics.calibration over the answered items that stated a confidence."""
    items = stated_confidence(db, filters, scope)
    frames, names, eces = [], [], []
    confidences, corrects = items["confidence"].to_numpy(float), items["correct"].to_numpy(bool)
    models, strategies = items["model"].to_numpy(object), items["strategy"].to_numpy(object)
    starts = np.flatnonzero(np.diff(items["cell"].to_numpy(), prepend=-1))  # rows come in cell order
    for start, end in zip(starts, [*starts[1:], len(items)]):
        confidence, correct = confidences[start:end], corrects[start:end]
        frames.append(calib.reliability_diagram(confidence, correct, bins))
        names.append((models[start], strategies[start]))
        eces.append(calib.ece(confidence, correct, bins))
    if not frames:
        return pd.DataFrame(columns=["model", "strategy", "bin", "mean_confidence", "accuracy", "n", "ece"])
    sizes = [len(frame) for frame in frames]
    out = pd.concat(frames, ignore_index=True).rename(columns={"count": "n"})
    out["model"] = np.repeat([m for m, _ in names], sizes)
    out["strategy"] = np.repeat([s for _, s in names], sizes)
    out["ece"] = np.repeat(eces, sizes)
    return out[["model", "strategy", "bin", "mean_confidence", "accuracy", "n", "ece"]]


def circumplex(taxonomy: str | None) -> pd.DataFrame:
    """Label positions on the valence-arousal circumplex (engine.taxonomy, after Russell 1980)."""
    from engine.taxonomy import TAXONOMIES
    labels = TAXONOMIES[taxonomy].labels if taxonomy in TAXONOMIES else ()
    return pd.DataFrame([{"label": label.name, "valence": label.valence, "arousal": label.arousal}
                         for label in labels if label.valence is not None],
                        columns=["label", "valence", "arousal"])


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
