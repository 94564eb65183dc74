"""Python API over the results store; every function returns a pandas DataFrame.

    from engine.metrics import api
    api.scores("results.duckdb", dataset="rafdb")
    api.confusion("results.duckdb", dataset="rafdb", model="gpt-4v")
    api.compare("results.duckdb", dataset="rafdb", model_a="gpt-4v", model_b="qwen-local")
    api.worst_slices("results.duckdb", dataset="oasis", model="gpt-4o", dimension="valence", metric="mae")

Groups are picked by dataset, model, strategy and dimension; where only one strategy or dimension
exists it may be left out. Every read opens a short-lived read-only connection.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd

from engine.metrics import calibration, categorical, compare as cmp
from engine.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, identity, resample_count_matrix
from engine.metrics.evaluation import CategoricalEvaluation, ContinuousEvaluation, Evaluation
from engine.metrics.frames import load_item_meta
from engine.metrics.scoring import Group, load_groups, score_store
from engine.metrics.slices import slice_scores, worst_slices as _worst_slices
from engine.store import connect
from engine.store.queries import current_scores

__all__ = ["scores", "stored_scores", "groups", "items", "confusion", "per_class", "reliability",
           "accuracy_coverage", "compare", "compare_all", "agreement", "slices", "worst_slices"]

Db = str | os.PathLike | None


def scores(db: Db = None, **filters) -> pd.DataFrame:
    """Every metric of every group matching the filters, computed now (see `scoring.score_store`)."""
    return score_store(db, **filters)


def stored_scores(db: Db = None, *, all_runs: bool = False, purpose: str | None = "benchmark",
                  **filters) -> pd.DataFrame:
    """The materialised scores as last refreshed (milliseconds; what the dashboard reads): by default the runs
    that stand for their benchmark cells (`engine.store.queries.current_scores`)."""
    with connect(db, read_only=True) as con:
        return current_scores(con, all_runs=all_runs, purpose=purpose, **filters)


def _load(db: Db, **filters) -> list[Group]:
    with connect(db, read_only=True) as con:
        return load_groups(con, **filters)


def groups(db: Db = None, **filters) -> pd.DataFrame:
    """The scoring groups: dataset, model, strategy, dimension, run_id, taxonomy, n_total."""
    return pd.DataFrame([{"dataset": g.dataset, "model": g.model, "strategy": g.strategy, "dimension": g.dimension,
                          "run_id": g.run_id, "taxonomy": g.taxonomy, "n_total": g.evaluation.n_total}
                         for g in _load(db, **filters)])


def _one(db: Db, dataset: str, model: str, strategy: str | None, dimension: str | None) -> Group:
    found = _load(db, dataset=dataset, model=model, strategy=strategy, dimension=dimension)
    if len(found) == 1:
        return found[0]
    if not found:
        raise KeyError(f"no scored predictions for model {model!r} on dataset {dataset!r}"
                       f"{f' with strategy {strategy!r}' if strategy else ''}"
                       f"{f' on dimension {dimension!r}' if dimension else ''}; list them with `affectlens scores`")
    options = ", ".join(f"{g.strategy}/{g.dimension}" for g in found)
    raise KeyError(f"model {model!r} on {dataset!r} has several groups ({options}); pass strategy= and dimension=")


def items(db: Db = None, *, dataset: str, model: str, strategy: str | None = None,
          dimension: str | None = None) -> pd.DataFrame:
    """One row per evaluated item: status, answered, correct (categorical) or error (continuous)."""
    ev = _one(db, dataset, model, strategy, dimension).evaluation
    frame = pd.DataFrame({"item_id": ev.items, "status": ev.status, "answered": ev.answered})
    if isinstance(ev, CategoricalEvaluation):
        frame["gold"] = [ev.classes[i] for i in ev.t]
        frame["answer"] = [label if a else None for label, a in zip(ev.answers, ev.answered)]
        frame["correct"] = ev.correct
        frame["confidence"] = ev.confidence
    elif isinstance(ev, ContinuousEvaluation):
        frame["prediction"], frame["gold"] = ev.x, ev.y
        frame["error"] = ev.x - ev.y
    return frame


def _categorical(db, dataset, model, strategy, dimension) -> CategoricalEvaluation:
    ev = _one(db, dataset, model, strategy, dimension).evaluation
    if not isinstance(ev, CategoricalEvaluation):
        raise ValueError(f"{dataset}/{model} dimension {dimension!r} is not categorical; pass dimension='emotion' "
                         "or 'polarity'")
    return ev


def confusion(db: Db = None, *, dataset: str, model: str, strategy: str | None = None,
              dimension: str | None = None) -> pd.DataFrame:
    """Confusion counts over the answered items: gold classes as rows, answers as columns."""
    ev = _categorical(db, dataset, model, strategy, dimension)
    gold, answers = ev.labels()
    return categorical.confusion_matrix(gold, answers, ev.classes)


def per_class(db: Db = None, *, dataset: str, model: str, strategy: str | None = None,
              dimension: str | None = None) -> pd.DataFrame:
    """Precision, recall, F1, support per gold class over the answered items."""
    ev = _categorical(db, dataset, model, strategy, dimension)
    gold, answers = ev.labels()
    frame = categorical.per_class(gold, answers, ev.classes)
    return frame[frame["support"] + frame["predicted"] > 0].reset_index(drop=True)


def reliability(db: Db = None, *, dataset: str, model: str, strategy: str | None = None,
                dimension: str | None = None, n_bins: int = calibration.DEFAULT_BINS) -> pd.DataFrame:
    """Reliability-diagram data of stated confidence (answered items with a confidence)."""
    ev = _categorical(db, dataset, model, strategy, dimension)
    keep = ev.answered & np.isfinite(ev.confidence)
    return calibration.reliability_diagram(ev.confidence[keep], ev.correct[keep], n_bins)


def accuracy_coverage(db: Db = None, *, dataset: str, model: str, strategy: str | None = None,
                      dimension: str | None = None) -> pd.DataFrame:
    """Accuracy of the most confident answers against the share answered."""
    ev = _categorical(db, dataset, model, strategy, dimension)
    keep = ev.answered & np.isfinite(ev.confidence)
    return calibration.accuracy_coverage_curve(ev.confidence[keep], ev.correct[keep])


def _aligned(a: Evaluation, b: Evaluation) -> tuple[Evaluation, Evaluation]:
    common = np.intersect1d(a.items.astype(str), b.items.astype(str))
    return a.subset(np.isin(a.items.astype(str), common)), b.subset(np.isin(b.items.astype(str), common))


def _compare_groups(ga: Group, gb: Group, metrics: list[str] | None, n_resamples: int, seed: int) -> pd.DataFrame:
    a, b = _aligned(ga.evaluation, gb.evaluation)
    n = a.n_total
    if n == 0:
        raise ValueError(f"{ga.model} and {gb.model} share no evaluated items on {ga.dataset}")
    point_a, point_b = a.compute(identity(n)), b.compute(identity(n))
    counts = resample_count_matrix(n, n_resamples, seed) if n >= 2 and n_resamples > 0 else None
    boot_a, boot_b = (a.compute_counts(counts), b.compute_counts(counts)) if counts is not None else ({}, {})
    names = [m for m in (metrics or point_a) if m in point_a and m in point_b]
    rows = []
    for metric in names:  # the same resample rows for both: a paired bootstrap
        replicates = boot_a[metric] - boot_b[metric] if counts is not None else np.array([])
        diff = cmp.summarise_difference(float(point_a[metric][0] - point_b[metric][0]), replicates)
        rows.append({"metric": metric, "value_a": float(point_a[metric][0]), "value_b": float(point_b[metric][0]),
                     "n": n, **diff})
    frame = pd.DataFrame(rows)
    if isinstance(a, CategoricalEvaluation) and isinstance(b, CategoricalEvaluation):
        test = cmp.compare_correct(a.correct, b.correct, n_resamples=n_resamples, seed=seed)
        extra = {key: test[key] for key in ("only_a", "only_b", "p_mcnemar", "p_permutation", "cohen_h",
                                            "odds_ratio", "odds_ratio_low", "odds_ratio_high")}
        for key, value in extra.items():
            frame.loc[frame["metric"] == "accuracy_strict", key] = value
    elif isinstance(a, ContinuousEvaluation) and isinstance(b, ContinuousEvaluation):
        both = a.valid & b.valid
        p = cmp.permutation_test(np.abs(a.x - a.y)[both] - np.abs(b.x - b.y)[both], seed=seed)
        frame.loc[frame["metric"] == "mae", "p_permutation"] = p
    for position, (column, value) in enumerate((("dataset", ga.dataset), ("dimension", ga.dimension),
                                                 ("model_a", ga.model), ("strategy_a", ga.strategy),
                                                 ("model_b", gb.model), ("strategy_b", gb.strategy))):
        frame.insert(position, column, value)
    return frame


def compare(db: Db = None, *, dataset: str, model_a: str, model_b: str | None = None, strategy_a: str | None = None,
            strategy_b: str | None = None, dimension: str | None = None, metrics: list[str] | None = None,
            n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Paired comparison of two models (or two strategies of one model) on their common items.

    Per metric: both values, the difference a - b with its paired bootstrap CI and p-value. On the
    accuracy_strict row of categorical dimensions (unanswered = wrong, the same items for both):
    McNemar's exact p, the permutation p, Cohen's h and the discordant odds ratio; on the mae row of
    continuous ones, the permutation p of the absolute errors.
    """
    ga = _one(db, dataset, model_a, strategy_a, dimension)
    gb = _one(db, dataset, model_b or model_a, strategy_b, dimension or ga.dimension)
    return _compare_groups(ga, gb, metrics, n_resamples, seed)


def compare_all(db: Db = None, *, dataset: str, dimension: str, metric: str = "accuracy_strict",
                n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Every pair of (model, strategy) groups on a dataset and dimension, Holm-adjusted within the family.

    The p-value adjusted is McNemar's for accuracy_strict, else the paired bootstrap p.
    """
    found = _load(db, dataset=dataset, dimension=dimension)
    frames = [_compare_groups(a, b, [metric], n_resamples, seed) for a, b in itertools.combinations(found, 2)]
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    p = frame["p_mcnemar"] if "p_mcnemar" in frame and frame["p_mcnemar"].notna().any() else frame["p_bootstrap"]
    frame["p"] = p
    frame["p_holm"] = cmp.holm(p.to_numpy(dtype=float))
    return frame


def agreement(db: Db = None, *, dataset: str, dimension: str, strategy: str | None = None) -> pd.DataFrame:
    """Agreement between models: Cohen's kappa per pair (categorical) and Krippendorff's alpha over all.

    Nominal alpha for categorical dimensions, interval alpha on the normalised values for continuous ones;
    unanswered items are missing values. A row "gold" per model gives its kappa against the gold.
    """
    found = _load(db, dataset=dataset, dimension=dimension, strategy=strategy)
    if not found:
        raise KeyError(f"no scored predictions on {dataset!r} for dimension {dimension!r}")
    answers: dict[str, pd.Series] = {}
    for g in found:
        ev = g.evaluation
        name = f"{g.model}/{g.strategy}"
        if isinstance(ev, CategoricalEvaluation):
            answers[name] = pd.Series([(label or "<other>") if a else None for label, a in zip(ev.answers, ev.answered)],
                                      index=ev.items)
        elif isinstance(ev, ContinuousEvaluation):
            answers[name] = pd.Series(np.where(ev.valid, ev.x, np.nan), index=ev.items)
    table = pd.DataFrame(answers)
    rows = []
    categorical_dim = all(isinstance(g.evaluation, CategoricalEvaluation) for g in found)
    if categorical_dim:
        for a, b in itertools.combinations(table.columns, 2):
            both = table[[a, b]].dropna()
            rows.append({"rater_a": a, "rater_b": b, "statistic": "cohen_kappa", "n": len(both),
                         "value": categorical.cohen_kappa(list(both[a]), list(both[b]))})
    level = "nominal" if categorical_dim else "interval"
    data = [[None if pd.isna(v) else v for v in table[c]] for c in table.columns]
    rows.append({"rater_a": "all models", "rater_b": "", "statistic": f"krippendorff_alpha_{level}",
                 "n": int(table.notna().sum(axis=1).ge(2).sum()), "value": cmp.krippendorff_alpha(data, level)})
    return pd.DataFrame(rows)


def slices(db: Db = None, *, dataset: str, model: str, strategy: str | None = None, dimension: str | None = None,
           by: str | list[str] | None = None, metrics: list[str] | None = None,
           n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, min_n: int = 1) -> pd.DataFrame:
    """Metrics per slice of item metadata or image property (`by`: one key, several, or every usable key)."""
    from engine.metrics.slices import slice_columns

    group = _one(db, dataset, model, strategy, dimension)
    with connect(db, read_only=True) as con:
        meta = load_item_meta(con, dataset)
    keys = [by] if isinstance(by, str) else (by or slice_columns(meta))
    missing = [k for k in keys if k not in meta.columns]
    if missing:
        raise KeyError(f"no item metadata key {', '.join(missing)} in {dataset!r}; "
                       f"known: {', '.join(c for c in meta.columns if c != 'item_id')}")
    frames = [slice_scores(group.evaluation, meta, key, metrics=metrics, n_resamples=n_resamples, seed=seed,
                           min_n=min_n) for key in keys]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def worst_slices(db: Db = None, *, dataset: str | None = None, model: str | None = None, strategy: str | None = None,
                 dimension: str | None = None, metric: str = "accuracy", min_n: int = 20, top: int = 20,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The slices where each matching group is furthest below its overall `metric`, worst first."""
    found = _load(db, dataset=dataset, model=model, strategy=strategy, dimension=dimension)
    frames, metas = [], {}
    for g in found:
        if g.dataset not in metas:
            with connect(db, read_only=True) as con:
                metas[g.dataset] = load_item_meta(con, g.dataset)
        frame = _worst_slices(g.evaluation, metas[g.dataset], metric=metric, min_n=min_n, n_resamples=n_resamples,
                              seed=seed)
        if len(frame):
            frame.insert(0, "dimension", g.dimension)
            frame.insert(0, "strategy", g.strategy)
            frame.insert(0, "model", g.model)
            frame.insert(0, "dataset", g.dataset)
            frames.append(frame)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True).sort_values("gap", na_position="last")
    return out.head(top).reset_index(drop=True)
