"""Store -> evaluations -> scores and per-item outcomes, for every run; `cells` picks who stands for a cell.

`score_store(db)` computes the scores frame (columns `SCORE_COLUMNS`) with seeded bootstrap CIs of the
runs that stand for their cells (or of every run, `current=False`); `refresh_scores(db)` scores every
matching run and materialises three tables the dashboard and exports read in milliseconds:
`scores` (one row per run, dimension and metric), `evaluations` (one row per run and dimension, with
`current` set by `engine.metrics.cells.pick_current`) and `outcomes` (one row per run, dimension and
item: correct / wrong / unanswered, error size): correctness is decided once, here.

`n` is the number of items a metric used (answered items with gold for accuracy, every item of the
evaluation set for accuracy_strict, coverage and the failure rates); `n_total` is the evaluation set.
Intervals: percentile bootstrap; for proportions whose bootstrap degenerates (all right, all wrong,
fewer than two items) the Wilson score interval instead (`ci_method`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, DEFAULT_SEED, percentile_ci, \
    resample_count_matrix, resample_counts, resample_indices, wilson_interval
from engine.metrics.cells import CELL_KEYS, DERIVED_GROUP, mark_current, pick_current
from engine.metrics.evaluation import CategoricalEvaluation, ContinuousEvaluation, DistributionEvaluation, \
    Evaluation
from engine.metrics.frames import CATEGORICAL, CONTINUOUS, load_items, load_plan
from engine.store import connect
from engine.store.db import transaction
from engine.store.scoring import current_benchmark_cells, replace_scored_rows, run_ids
from engine.taxonomy import infer_taxonomy

__all__ = ["SCORE_COLUMNS", "Group", "load_groups", "score_evaluation", "score_store", "refresh_scores",
           "PROPORTIONS"]

SCORE_COLUMNS = ["dataset", "model", "strategy", "dimension", "metric", "value", "n", "n_total", "ci_low", "ci_high",
                 "run_id", "note", "eval_set", "ci_method", "unit", "derived", "purpose"]
CHUNK_CELLS = 4_000_000  # resample rows x items computed at once
#: Metrics that are proportions of items: a degenerate bootstrap interval is replaced by Wilson's.
PROPORTIONS = frozenset({"accuracy", "accuracy_strict", "accuracy_fractional", "accuracy_mapped", "coverage",
                         "top2_accuracy", "top3_accuracy", "parse_failure_rate", "refusal_rate", "error_rate",
                         "out_of_set_rate", "majority_agreement", "positive_rate"})
EVALUATION_COLUMNS = ["run_id", "dimension", "dataset", "eval_set", "model", "strategy", "purpose", "derived",
                      "n_derived", "taxonomy", "n_total", "n_answered", "scale_low", "scale_high", "notes"]
OUTCOME_COLUMNS = ["run_id", "dimension", "item_id", "dataset", "status", "outcome", "answered", "correct", "credit",
                   "answer", "gold", "confidence", "value", "gold_value", "error", "error_scale", "derived"]


@dataclass
class Group:
    """One scoring group (a run's answers on one dimension over its evaluation set) and its evaluation."""

    dataset: str
    model: str
    strategy: str
    dimension: str
    run_id: str
    taxonomy: str | None
    evaluation: Evaluation
    eval_set: str | None = None
    purpose: str = "benchmark"
    derived: str | None = None  # "polarity from emotion" | "some values" | None
    n_derived: int = 0
    run_status: str | None = None
    started_at: object = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.dataset, self.model, self.strategy, self.dimension

    def evaluation_row(self) -> dict:
        ev = self.evaluation
        scale = getattr(ev, "scale", None)
        used = ev.valid if isinstance(ev, ContinuousEvaluation) else ev.answered
        return {"run_id": self.run_id, "dimension": self.dimension, "dataset": self.dataset,
                "eval_set": self.eval_set, "model": self.model, "strategy": self.strategy, "purpose": self.purpose,
                "derived": self.derived, "n_derived": self.n_derived, "taxonomy": self.taxonomy,
                "n_total": ev.n_total, "n_answered": int(np.asarray(used).sum()),
                "scale_low": scale[0] if scale else None, "scale_high": scale[1] if scale else None,
                "notes": "; ".join(ev.notes) or None}

    def outcome_rows(self) -> pd.DataFrame:
        frame = self.evaluation.outcomes()
        frame.insert(0, "run_id", self.run_id)
        frame.insert(1, "dimension", self.dimension)
        frame.insert(3, "dataset", self.dataset)
        return frame.reindex(columns=OUTCOME_COLUMNS)


def _gold_taxonomy(frame: pd.DataFrame, dimension: str) -> str | None:
    named = [t for t in frame["gold_taxonomy"] if isinstance(t, str) and t]
    if named:
        return Counter(named).most_common(1)[0][0]
    labels = [label for label in frame["gold_label"] if isinstance(label, str)]
    if dimension == "polarity":
        return "polarity3" if "neutral" in labels else "polarity2"
    return infer_taxonomy(labels)


def _scale(frame: pd.DataFrame) -> tuple[float, float] | None:
    low, high = frame.get("gold_scale_low"), frame.get("gold_scale_high")
    if low is None or high is None:
        return None
    pairs = [(float(a), float(b)) for a, b in zip(low, high) if pd.notna(a) and pd.notna(b)]
    return Counter(pairs).most_common(1)[0][0] if pairs else None


def _evaluation(plan_row, frame: pd.DataFrame) -> tuple[Evaluation, str | None]:
    notes = []
    without_gold = int((~frame["has_gold"].astype(bool)).sum())
    frame = frame[frame["has_gold"].astype(bool)].reset_index(drop=True)
    if without_gold:
        notes.append(f"{without_gold} items of the set without gold ignored")
    missing = int((frame["status"] == "missing").sum()) if len(frame) else 0
    if missing:
        notes.append(f"{missing} items of the set without an answer row counted as unanswered")
    if plan_row.derived:
        notes.append("polarity derived from the emotion answer")
    taxonomy = _gold_taxonomy(frame, plan_row.gold_dimension) if len(frame) else None
    dimension = plan_row.dimension
    if dimension in CATEGORICAL:
        ev = CategoricalEvaluation.from_frame(frame, taxonomy=taxonomy, run_taxonomy=plan_row.run_taxonomy,
                                              derived=bool(plan_row.derived))
        abstained = int((ev.status == "abstained").sum())
        if abstained:
            notes.append(f"{abstained} answers of 'neutral' on a two-way polarity counted as abstentions")
    elif dimension in CONTINUOUS:
        ev = ContinuousEvaluation.from_frame(frame, dimension=dimension, scale=_scale(frame))
        assumed = int((ev.assumed_scale & ev.answered).sum())
        unit = ev.unit or "the requested scale"
        if assumed:
            notes.append(f"{assumed} values given without a scale, read on the requested one")
        outside = int((ev.answered & ~np.isfinite(ev.x)).sum())
        if outside:
            notes.append(f"{outside} answers outside the requested scale ({unit}) not scored")
    else:
        ev = DistributionEvaluation.from_frame(frame, taxonomy)
    ev.notes = notes
    return ev, taxonomy


def load_groups(con, *, dataset=None, model=None, strategy=None, dimension=None, run_id=None,
                purpose: str | list[str] | None = "benchmark", current: bool = True) -> list[Group]:
    """The scoring groups matching the filters, with their evaluations built from the store.

    By default only the run that stands for each benchmark cell (`cells.pick_current`); `current=False`
    gives every run (history), `purpose=None` every purpose; `run_id` picks runs by id.
    """
    plan = load_plan(con, dataset=dataset, model=model, strategy=strategy, dimension=dimension, run_id=run_id,
                     purpose=purpose)
    history: dict[int, list[str]] = {}
    if current and run_id is None and len(plan):
        chosen = pick_current(plan).to_numpy()
        cell = plan[CELL_KEYS].astype(str).agg("\x1f".join, axis=1)
        members = plan.groupby(cell, sort=False)["run_id"].agg(list).to_dict()
        plan, cell = plan[chosen].reset_index(drop=True), cell[chosen].reset_index(drop=True)
        for number in range(len(plan)):
            others = [r for r in members.get(cell[number], []) if r != plan.at[number, "run_id"]]
            if others:
                history[number] = others
    items = load_items(con, plan)
    groups = []
    by_group = dict(tuple(items.groupby("group", sort=False))) if len(items) else {}
    empty = items.iloc[0:0] if len(items) else None
    for number, row in enumerate(plan.itertuples(index=False)):
        frame = by_group.get(number, empty)
        if frame is None:
            continue
        ev, taxonomy = _evaluation(row, frame.drop(columns=["group"]).reset_index(drop=True))
        if number in history:
            older = history[number]
            ev.notes.append(f"stands for its cell: newest complete of {len(older) + 1} runs; others: "
                            f"{', '.join(older[:3])}{' ...' if len(older) > 3 else ''}")
        n_derived = int(ev.derived_values.sum()) if getattr(ev, "derived_values", None) is not None else 0
        derived = DERIVED_GROUP if row.derived else ("some values" if n_derived else None)
        if derived == "some values":
            ev.notes.append(f"{n_derived} of {int(ev.answered.sum())} answered values derived from an emotion word")
        groups.append(Group(row.dataset, row.model, row.strategy, row.dimension, row.run_id, taxonomy, ev,
                            eval_set=row.eval_set, purpose=row.purpose, derived=derived, n_derived=n_derived,
                            run_status=row.run_status, started_at=row.started_at))
    return groups


def _compute(ev: Evaluation, counts: np.ndarray, extra: list) -> dict[str, np.ndarray]:
    """The evaluation's own metrics and the registered metrics `extra` (engine.metrics.registry) for `counts`."""
    out = ev.compute_counts(counts)
    for metric in extra:
        if metric.name not in out:
            out[metric.name] = np.asarray(metric.compute(ev, counts), dtype=float).reshape(len(counts))
    return out


def score_evaluation(ev: Evaluation, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                     level: float = DEFAULT_LEVEL, metrics: list[str] | None = None,
                     dimension: str | None = None) -> list[dict]:
    """Rows (metric, value, n, n_total, ci_low, ci_high, note) of one evaluation; with `dimension`, installed
    every registered metric with its own compute function for it too (`engine.metrics.registry`: decorated
    ones and installed plugins'), on the same paired resamples."""
    n_total = ev.n_total
    if n_total == 0:
        return []
    from engine.metrics.registry import computed_metrics
    extra = computed_metrics(dimension)
    point = _compute(ev, np.ones((1, n_total)), extra)
    boot: dict[str, np.ndarray] = {}
    if n_total >= 2 and n_resamples > 0:
        if n_total * n_resamples <= CHUNK_CELLS:
            boot = _compute(ev, resample_count_matrix(n_total, n_resamples, seed), extra)
        else:  # chunks of resample rows bound the memory for any n
            idx = resample_indices(n_total, n_resamples, seed)
            chunk = max(1, CHUNK_CELLS // n_total)
            parts = [_compute(ev, resample_counts(idx[start:start + chunk], n_total), extra)
                     for start in range(0, len(idx), chunk)]
            boot = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    used = ev.used()
    unit = getattr(ev, "unit", None)
    rows = []
    for metric, values in point.items():
        if metrics and metric not in metrics:
            continue
        value = float(values[0])
        low, high = percentile_ci(boot[metric], level) if metric in boot and np.isfinite(value) else (np.nan, np.nan)
        n = used.get(metric, n_total)
        method = "bootstrap" if np.isfinite(low) else None
        if metric in PROPORTIONS and np.isfinite(value) and n > 0 and (not np.isfinite(low) or high - low < 1e-12):
            low, high = wilson_interval(value * n, n, level)
            method = "wilson"
        notes = list(ev.notes)
        if not np.isfinite(value):
            notes.insert(0, ev.reason(metric))
        rows.append({"metric": metric, "value": value if np.isfinite(value) else np.nan,
                     "n": n, "n_total": n_total, "ci_low": low, "ci_high": high, "ci_method": method,
                     "unit": unit if metric.endswith("_scale") else None, "note": "; ".join(notes) or None})
    return rows


def _score_groups(groups: list[Group], metrics, n_resamples, seed, level) -> pd.DataFrame:
    rows = []
    for group in groups:
        for row in score_evaluation(group.evaluation, n_resamples=n_resamples, seed=seed, level=level,
                                    metrics=metrics, dimension=group.dimension):
            rows.append({"dataset": group.dataset, "eval_set": group.eval_set, "model": group.model,
                         "strategy": group.strategy, "dimension": group.dimension, "derived": group.derived,
                         "purpose": group.purpose, "run_id": group.run_id, **row})
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    for column in ("n", "n_total"):
        frame[column] = frame[column].astype("int64")
    for column in ("value", "ci_low", "ci_high"):
        frame[column] = frame[column].astype("float64")
    return frame


def score_store(db_path: str | os.PathLike | None = None, *, dataset=None, model=None, strategy=None,
                dimension=None, run_id=None, purpose: str | None = "benchmark", current: bool = True,
                metrics: list[str] | None = None, n_resamples: int = DEFAULT_RESAMPLES,
                seed: int = DEFAULT_SEED, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Score the groups matching the filters (by default the runs that stand for benchmark cells; filters take
    a name or a list of names) without writing anything."""
    with connect(db_path, read_only=True) as con:
        groups = load_groups(con, dataset=dataset, model=model, strategy=strategy, dimension=dimension,
                             run_id=run_id, purpose=purpose, current=current)
    return _score_groups(groups, metrics, n_resamples, seed, level)


def refresh_scores(db_path: str | os.PathLike | None = None, *, dataset=None, model=None, strategy=None,
                   dimension=None, run_id=None, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                   level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Score every run matching the filters (every purpose, history included), replace their rows in
    `scores`, `evaluations` and `outcomes`, and mark which run stands for each cell. Returns the scores of
    the runs that stand for benchmark cells among them."""
    with connect(db_path) as con:  # creates or migrates the store, so the read below finds it
        groups = load_groups(con, dataset=dataset, model=model, strategy=strategy, dimension=dimension,
                             run_id=run_id, purpose=None, current=False)
        runs = run_ids(con, dataset=dataset, model=model, strategy=strategy, run_id=run_id)
    frame = _score_groups(groups, None, n_resamples, seed, level)
    evaluations = pd.DataFrame([g.evaluation_row() for g in groups], columns=EVALUATION_COLUMNS)
    outcomes = pd.concat([g.outcome_rows() for g in groups], ignore_index=True) if groups else pd.DataFrame(
        columns=OUTCOME_COLUMNS)
    wanted_dims = None if dimension is None else ([dimension] if isinstance(dimension, str) else list(dimension))
    with connect(db_path) as con:
        with transaction(con):
            replace_scored_rows(con, runs, wanted_dims, {
                "scores": (frame, SCORE_COLUMNS), "evaluations": (evaluations, EVALUATION_COLUMNS),
                "outcomes": (_typed_outcomes(outcomes), OUTCOME_COLUMNS)})
            mark_current(con)
    chosen = {(g.run_id, g.dimension) for g in groups}
    if len(frame):
        with connect(db_path, read_only=True) as con:
            current = current_benchmark_cells(con)
        keep = [(r, d) in current and (r, d) in chosen for r, d in zip(frame["run_id"], frame["dimension"])]
        frame = frame[keep].reset_index(drop=True)
    return frame


def _typed_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in ("credit", "confidence", "value", "gold_value", "error", "error_scale"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("answered", "correct", "derived"):
        frame[column] = frame[column].astype("boolean")
    for column in ("answer", "gold", "status", "outcome", "item_id"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame
