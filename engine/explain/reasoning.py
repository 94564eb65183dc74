"""Reasoning-chain analysis over the store: cues cited per model, strategy and emotion; reasoning that
contradicts its own answer; how a strategy changes the cues cited.

The method (lexicon, folding, sentiment rule) is documented in `engine.explain.cues`. Here:

* One row per answered item of the latest run of each (dataset, model, strategy), as in the scores:
  its reasoning steps (`traces.steps`) and thinking block, the full response text (`responses.text`,
  for reading), the predicted emotion (`predictions`, emotion dimension) and the final polarity (the
  polarity answer, or the emotion answer's polarity through `engine.taxonomy.polarity_of`).
* Cue shares are over *every* answered item of a group, so a strategy that gives no reasoning cites
  nothing (share 0) rather than dropping out; `n_with_reasoning` says how many items had any.
* The inconsistency rate is over the decidable items (clearly signed reasoning, positive or negative
  final polarity), with an exact Clopper-Pearson 95% interval.
* Strategy shift: per model and cue category, the share under a strategy minus the share under the
  baseline strategy (zero-shot) on their common items, tested with McNemar's exact test on the paired
  cites/does-not-cite outcomes and Holm-adjusted over the categories and strategies of each model.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from engine.explain.cues import CUE_CATEGORIES, analyse_reasoning, is_inconsistent
from engine.metrics import compare as cmp
from engine.store import connect
from engine.store.explanations import latest_traces
from engine.taxonomy import polarity_of


def _polarity(row) -> str | None:
    if isinstance(row.polarity_label, str):
        return row.polarity_label
    if isinstance(row.emotion, str) and isinstance(row.taxonomy, str):
        try:
            return polarity_of(row.emotion, row.taxonomy)
        except (KeyError, ValueError):
            return None
    return None


def reasoning_text(steps, thinking) -> str:
    """The reasoning of one answer: its steps, one per line, then its thinking block."""
    parts = [str(s) for s in (list(steps) if steps is not None else []) if str(s).strip()]
    if isinstance(thinking, str) and thinking.strip():
        parts.append(thinking)
    return "\n".join(parts)


def load_traces(db_path=None, *, dataset: str | None = None, models: list[str] | None = None,
                strategies: list[str] | None = None, con=None) -> pd.DataFrame:
    """One row per answered item with its reasoning analysed: sentiment, inconsistency, `cue_<category>`
    flags and the matched terms (`cue_terms`). `con`: an open connection to read through instead of `db_path`."""
    if con is None:
        with connect(db_path, read_only=True) as own:
            frame = latest_traces(own, dataset=dataset, models=models, strategies=strategies)
    else:
        frame = latest_traces(con, dataset=dataset, models=models, strategies=strategies)
    frame["emotion"] = frame["emotion"].astype(object).where(frame["emotion"].notna(), None)
    frame["polarity"] = [_polarity(row) for row in frame.itertuples(index=False)]
    texts = [reasoning_text(s, t) for s, t in zip(frame["steps"], frame["thinking"])]
    reports = [analyse_reasoning(text) for text in texts]
    frame["reasoning"] = texts
    frame["has_reasoning"] = [bool(text.strip()) for text in texts]
    frame["sentiment"] = [r.sentiment for r in reports]
    frame["positive_words"] = [r.positive_words for r in reports]
    frame["negative_words"] = [r.negative_words for r in reports]
    frame["inconsistent"] = pd.array([is_inconsistent(r.sentiment, p) for r, p in zip(reports, frame["polarity"])],
                                     dtype="boolean")
    for category in CUE_CATEGORIES:
        frame[f"cue_{category}"] = [bool(r.cues.get(category)) for r in reports]
    frame["cue_terms"] = [{c: terms for c, terms in r.cues.items()} for r in reports]
    return frame.drop(columns=["steps", "polarity_label"])


def cue_table(traces: pd.DataFrame, by: tuple[str, ...] = ("dataset", "model", "strategy", "emotion")) -> pd.DataFrame:
    """Share of answers citing each cue category per group (long form: one row per group and category)."""
    columns = [*by, "category", "n", "n_with_reasoning", "n_citing", "share"]
    if traces.empty:
        return pd.DataFrame(columns=columns)
    frame = traces.assign(emotion=traces["emotion"].fillna("(no emotion answer)")) if "emotion" in by else traces
    rows = []
    for keys, group in frame.groupby(list(by), sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        n, with_reasoning = len(group), int(group["has_reasoning"].sum())
        for category in CUE_CATEGORIES:
            citing = int(group[f"cue_{category}"].sum())
            rows.append({**dict(zip(by, keys)), "category": category, "n": n, "n_with_reasoning": with_reasoning,
                         "n_citing": citing, "share": citing / n if n else float("nan")})
    return pd.DataFrame(rows, columns=columns)


def cue_overview(traces: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x model x strategy: n, n_with_reasoning and the share of answers citing each cue
    category (all emotions together), one column per category."""
    keys = ["dataset", "model", "strategy"]
    overall = cue_table(traces, by=tuple(keys))
    wide = overall.pivot_table(index=keys, columns="category", values="share").reset_index()
    wide.columns.name = None
    counts = overall.groupby(keys)[["n", "n_with_reasoning"]].first().reset_index()
    return wide.merge(counts, on=keys)


def inconsistency_table(traces: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, model and strategy: how often a clearly signed reasoning contradicts the final polarity."""
    columns = ["dataset", "model", "strategy", "n", "n_with_reasoning", "n_decidable", "n_inconsistent", "rate",
               "ci_low", "ci_high"]
    rows = []
    for (dataset, model, strategy), group in traces.groupby(["dataset", "model", "strategy"], sort=True):
        decided = group["inconsistent"].dropna()
        k, n = int(decided.sum()), len(decided)
        if n:
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            low, high = float(ci.low), float(ci.high)
        else:
            low = high = float("nan")
        rows.append({"dataset": dataset, "model": model, "strategy": strategy, "n": len(group),
                     "n_with_reasoning": int(group["has_reasoning"].sum()), "n_decidable": n, "n_inconsistent": k,
                     "rate": k / n if n else float("nan"), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=columns)


def strategy_cue_shift(traces: pd.DataFrame, baseline: str = "zero-shot") -> pd.DataFrame:
    """Per dataset, model, strategy and cue category: share cited minus the baseline strategy's share,
    on their common items, with McNemar's exact p and Holm's adjustment per model."""
    columns = ["dataset", "model", "strategy", "category", "n_common", "share", "share_baseline", "difference",
               "only_strategy", "only_baseline", "p_value", "p_holm"]
    rows = []
    for (dataset, model), group in traces.groupby(["dataset", "model"], sort=True):
        base = group[group["strategy"] == baseline].set_index("item_id")
        if base.empty:
            continue
        for strategy, other in group[group["strategy"] != baseline].groupby("strategy", sort=True):
            other = other.set_index("item_id")
            common = base.index.intersection(other.index)
            if common.empty:
                continue
            for category in CUE_CATEGORIES:
                a = other.loc[common, f"cue_{category}"].to_numpy(dtype=bool)
                b = base.loc[common, f"cue_{category}"].to_numpy(dtype=bool)
                only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
                rows.append({"dataset": dataset, "model": model, "strategy": strategy, "category": category,
                             "n_common": len(common), "share": float(a.mean()), "share_baseline": float(b.mean()),
                             "difference": float(a.mean() - b.mean()), "only_strategy": only_a,
                             "only_baseline": only_b, "p_value": cmp.mcnemar_exact(only_a, only_b)})
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    for _, family in frame.groupby(["dataset", "model"]):
        frame.loc[family.index, "p_holm"] = cmp.holm(family["p_value"].to_numpy(dtype=float))
    return frame


def reasoning_summary(db_path=None, **filters) -> dict[str, pd.DataFrame]:
    """The three tables at once (`cues`, `inconsistency`, `shift`) from one read of the store."""
    traces = load_traces(db_path, **filters)
    return {"cues": cue_table(traces), "inconsistency": inconsistency_table(traces),
            "shift": strategy_cue_shift(traces)}


__all__ = ["load_traces", "cue_table", "cue_overview", "inconsistency_table", "strategy_cue_shift", "reasoning_summary",
           "reasoning_text"]
