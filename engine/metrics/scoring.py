"""Store -> evaluations -> scores: every metric for every (dataset, model, strategy, dimension).

`score_store(db)` computes the scores frame (columns `SCORE_COLUMNS`) with seeded bootstrap CIs;
`refresh_scores(db)` also materialises it into the `scores` table so the dashboard reads it in
milliseconds. Both take the same filters.

`n` is the number of items a metric used (answered items with gold for accuracy, every evaluated
item for accuracy_strict, coverage and the failure rates); `n_total` is the evaluated set (the
test list of an import, the items a run attempted).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, DEFAULT_SEED, percentile_ci, \
    resample_count_matrix, resample_indices
from engine.metrics.evaluation import CategoricalEvaluation, ContinuousEvaluation, DistributionEvaluation, \
    Evaluation
from engine.metrics.frames import CATEGORICAL, CONTINUOUS, load_items, load_plan, where_in
from engine.store import connect
from engine.taxonomy import infer_taxonomy

__all__ = ["SCORE_COLUMNS", "Group", "load_groups", "score_evaluation", "score_store", "refresh_scores"]

SCORE_COLUMNS = ["dataset", "model", "strategy", "dimension", "metric", "value", "n", "n_total", "ci_low",
                 "ci_high", "run_id", "note"]
# Planned items without a prediction row sort after every real id.
MISSING_PREFIX = "\uffff missing "
CHUNK_CELLS = 4_000_000  # resample rows x items computed at once


@dataclass
class Group:
    """One scoring group: its keys and its evaluation."""

    dataset: str
    model: str
    strategy: str
    dimension: str
    run_id: str
    taxonomy: str | None
    evaluation: Evaluation

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.dataset, self.model, self.strategy, self.dimension


def _gold_taxonomy(frame: pd.DataFrame, dimension: str) -> str | None:
    named = [t for t in frame["gold_taxonomy"] if isinstance(t, str) and t]
    if named:
        return Counter(named).most_common(1)[0][0]
    labels = [label for label in frame["gold_label"] if isinstance(label, str)]
    if dimension == "polarity":
        return "polarity3" if "neutral" in labels else "polarity2"
    return infer_taxonomy(labels)


def _pad(frame: pd.DataFrame, missing: int) -> tuple[pd.DataFrame, int]:
    if missing <= 0:
        return frame, 0
    template = frame.iloc[[0] * missing].copy() if len(frame) else pd.DataFrame(columns=frame.columns)
    for column in ("label", "raw_label", "ranking", "value_norm", "distribution", "confidence"):
        template[column] = None
    template["status"] = "missing"
    template["item_id"] = [f"{MISSING_PREFIX}{i:06d}" for i in range(missing)]
    return pd.concat([frame, template], ignore_index=True), missing


def _evaluation(plan_row, frame: pd.DataFrame) -> tuple[Evaluation, str | None]:
    notes = []
    planned_without_row = (plan_row.n_items or 0) - len(frame)
    without_gold = int((~frame["has_gold"].astype(bool)).sum())
    frame = frame[frame["has_gold"].astype(bool)].reset_index(drop=True)
    if without_gold:
        notes.append(f"{without_gold} predictions without gold ignored")
    frame, padded = _pad(frame, planned_without_row if len(frame) else 0)
    if padded:
        notes.append(f"{padded} planned items without a prediction row counted as unanswered")
    if plan_row.derived:
        notes.append("polarity derived from the emotion answer")
    if plan_row.shadowed:
        notes.append(f"latest of {len(plan_row.shadowed) + 1} runs; older: {', '.join(plan_row.shadowed[:3])}")
    taxonomy = _gold_taxonomy(frame, plan_row.gold_dimension) if len(frame) else None
    dimension = plan_row.dimension
    if dimension in CATEGORICAL:
        ev = CategoricalEvaluation.from_frame(frame, taxonomy=taxonomy, run_taxonomy=plan_row.run_taxonomy,
                                              derived=bool(plan_row.derived))
    elif dimension in CONTINUOUS:
        ev = ContinuousEvaluation.from_frame(frame)
    else:
        ev = DistributionEvaluation.from_frame(frame, taxonomy)
    ev.notes = notes
    return ev, taxonomy


def load_groups(con, *, dataset=None, model=None, strategy=None, dimension=None) -> list[Group]:
    """Every scoring group matching the filters, with its evaluation built from the store."""
    plan = load_plan(con, dataset=dataset, model=model, strategy=strategy, dimension=dimension)
    items = load_items(con, plan)
    groups = []
    by_group = dict(tuple(items.groupby("group", sort=False))) if len(items) else {}
    empty = items.iloc[0:0] if len(items) else None
    for number, row in enumerate(plan.itertuples(index=False)):
        frame = by_group.get(number, empty)
        if frame is None:
            continue
        ev, taxonomy = _evaluation(row, frame.drop(columns=["group"]).reset_index(drop=True))
        groups.append(Group(row.dataset, row.model, row.strategy, row.dimension, row.run_id, taxonomy, ev))
    return groups


def score_evaluation(ev: Evaluation, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                     level: float = DEFAULT_LEVEL, metrics: list[str] | None = None) -> list[dict]:
    """Rows (metric, value, n, n_total, ci_low, ci_high, note) of one evaluation."""
    n_total = ev.n_total
    if n_total == 0:
        return []
    point = ev.compute_counts(np.ones((1, n_total)))
    boot: dict[str, np.ndarray] = {}
    if n_total >= 2 and n_resamples > 0:
        if n_total * n_resamples <= CHUNK_CELLS:
            boot = ev.compute_counts(resample_count_matrix(n_total, n_resamples, seed))
        else:  # chunks of resample rows bound the memory for any n
            idx = resample_indices(n_total, n_resamples, seed)
            chunk = max(1, CHUNK_CELLS // n_total)
            parts = [ev.compute(idx[start:start + chunk]) for start in range(0, len(idx), chunk)]
            boot = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    used = ev.used()
    rows = []
    for metric, values in point.items():
        if metrics and metric not in metrics:
            continue
        value = float(values[0])
        low, high = percentile_ci(boot[metric], level) if metric in boot and np.isfinite(value) else (np.nan, np.nan)
        notes = list(ev.notes)
        if not np.isfinite(value):
            notes.insert(0, ev.reason(metric))
        rows.append({"metric": metric, "value": value if np.isfinite(value) else np.nan,
                     "n": used.get(metric, n_total), "n_total": n_total,
                     "ci_low": low, "ci_high": high, "note": "; ".join(notes) or None})
    return rows


def score_store(db_path: str | os.PathLike | None = None, *, dataset=None, model=None, strategy=None,
                dimension=None, metrics: list[str] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
                seed: int = DEFAULT_SEED, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Score every group in the store; filters take a name or a list of names."""
    with connect(db_path, read_only=True) as con:
        groups = load_groups(con, dataset=dataset, model=model, strategy=strategy, dimension=dimension)
    rows = []
    for group in groups:
        for row in score_evaluation(group.evaluation, n_resamples=n_resamples, seed=seed, level=level,
                                    metrics=metrics):
            rows.append({"dataset": group.dataset, "model": group.model, "strategy": group.strategy,
                         "dimension": group.dimension, "run_id": group.run_id, **row})
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    for column in ("n", "n_total"):
        frame[column] = frame[column].astype("int64")
    for column in ("value", "ci_low", "ci_high"):
        frame[column] = frame[column].astype("float64")
    return frame


def refresh_scores(db_path: str | os.PathLike | None = None, *, dataset=None, model=None, strategy=None,
                   dimension=None, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                   level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Recompute the scores matching the filters and replace them in the `scores` table."""
    with connect(db_path) as con:  # creates or migrates the store, so the read below finds it
        pass
    frame = score_store(db_path, dataset=dataset, model=model, strategy=strategy, dimension=dimension,
                        n_resamples=n_resamples, seed=seed, level=level)
    where, params = where_in({"dataset": dataset, "model": model, "strategy": strategy, "dimension": dimension})
    with connect(db_path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DELETE FROM scores WHERE {where}", params)
            if len(frame):  # scores has no key: a plain bulk insert after the delete
                con.register("_scores_frame", frame)
                columns = ", ".join(SCORE_COLUMNS)
                con.execute(f"INSERT INTO scores ({columns}) SELECT {columns} FROM _scores_frame")
                con.unregister("_scores_frame")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return frame
