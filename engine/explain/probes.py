"""Perturbation probes for visual grounding: how much each model's answers move when the image changes.

A probe run (`BASE+PROBE`, e.g. `zero-shot+grayscale`) is compared with its base run (`zero-shot`)
of the same model on the same dataset, over the items both answered or were asked; the caption-only
control (`describe-then-judge`) is compared with each base strategy the model ran. Per dataset ×
model × base strategy × probe × dimension:

* `change_rate` — among items both runs answered, the share whose answer differs (categorical
  dimensions), or `mean_abs_change`, the mean |difference| of the normalised values (continuous);
* accuracy of both runs with strict correctness (an unanswered item is wrong) and their difference
  with a paired bootstrap CI, tested with McNemar's exact test (`engine.metrics.compare.compare_correct`);
  continuous dimensions: MAE of both and the paired sign-flip permutation test on the absolute errors;
* `p_holm` — Holm's (1979) step-down adjustment over the probe family: all probes of one dataset,
  model, base strategy and dimension.

The runs compared are those that stand for their cells (`engine.metrics.cells`), a base run and its
probe run over the same evaluation set.
Groups need gold labels (the scoring groups of `engine.metrics.scoring`); datasets without gold give
no rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.explain.experiments import CAPTION_STRATEGY
from engine.perturb import CAPTION_ONLY, PROBES
from engine.metrics import compare as cmp
from engine.metrics.evaluation import CategoricalEvaluation, ContinuousEvaluation
from engine.metrics.scoring import load_groups
from engine.store import connect
from engine.store.runs import run_combinations

COLUMNS = ["dataset", "model", "base_strategy", "probe", "strategy", "dimension", "n_common", "n_both_answered",
           "n_changed", "change_rate", "mean_abs_change", "accuracy_base", "accuracy_probe", "difference",
           "ci_low", "ci_high", "only_base", "only_probe", "mae_base", "mae_probe", "test", "p_value", "p_holm"]


def probe_pairs(strategies: list[str]) -> list[tuple[str, str, str]]:
    """(base label, probe label, probe name) for every probe strategy whose base is also present.

    >>> probe_pairs(["zero-shot", "zero-shot+grayscale", "cot+blur", "describe-then-judge"])
    [('zero-shot', 'zero-shot+grayscale', 'grayscale'), ('zero-shot', 'describe-then-judge', 'caption-only')]
    """
    present = set(strategies)
    pairs = []
    for label in strategies:
        if "+" in label:
            base, probe = label.rsplit("+", 1)
            if probe in PROBES and base in present:
                pairs.append((base, label, probe))
    if CAPTION_STRATEGY in present:
        for base in strategies:
            if "+" not in base and base != CAPTION_STRATEGY:
                pairs.append((base, CAPTION_STRATEGY, CAPTION_ONLY))
    return pairs


def _aligned(a, b):
    """Both evaluations restricted to their common items (each is sorted by item id, so they line up)."""
    common = np.intersect1d(a.items.astype(str), b.items.astype(str))
    a = a.subset(np.isin(a.items.astype(str), common))
    b = b.subset(np.isin(b.items.astype(str), common))
    if not np.array_equal(a.items.astype(str), b.items.astype(str)):
        raise RuntimeError("probe comparison: the two runs' items are not in the same order")
    return a, b


def compare_runs(base, probe) -> dict:
    """The comparison of one probe group with its base group (both `engine.metrics.scoring.Group`)."""
    a, b = _aligned(base.evaluation, probe.evaluation)
    row = {"n_common": int(a.n_total)}
    if a.n_total == 0:
        return row
    both = a.answered & b.answered
    row["n_both_answered"] = int(both.sum())
    if isinstance(a, CategoricalEvaluation) and isinstance(b, CategoricalEvaluation):
        changed = both & np.array([x != y for x, y in zip(a.answers, b.answers)])
        row["n_changed"] = int(changed.sum())
        row["change_rate"] = float(changed.sum() / both.sum()) if both.any() else float("nan")
        test = cmp.compare_correct(a.correct, b.correct)
        row.update(accuracy_base=test["accuracy_a"], accuracy_probe=test["accuracy_b"],
                   difference=0.0 - test["difference"], ci_low=0.0 - test["ci_high"], ci_high=0.0 - test["ci_low"],
                   only_base=test["only_a"], only_probe=test["only_b"], test="mcnemar_exact",
                   p_value=test["p_mcnemar"])
    elif isinstance(a, ContinuousEvaluation) and isinstance(b, ContinuousEvaluation):
        valid = a.valid & b.valid
        delta = np.abs(a.x - b.x)[a.answered & b.answered & np.isfinite(a.x) & np.isfinite(b.x)]
        row["mean_abs_change"] = float(delta.mean()) if delta.size else float("nan")
        errors_a, errors_b = np.abs(a.x - a.y)[valid], np.abs(b.x - b.y)[valid]
        row.update(mae_base=float(errors_a.mean()) if valid.any() else float("nan"),
                   mae_probe=float(errors_b.mean()) if valid.any() else float("nan"), test="permutation",
                   p_value=cmp.permutation_test(errors_b - errors_a) if valid.any() else float("nan"))
    return row


def probe_report(db_path=None, *, dataset: str | None = None, models: list[str] | None = None,
                 dimensions: list[str] | None = None, timeout_s: float | None = None) -> pd.DataFrame:
    """Every probe comparison in the store (columns `COLUMNS`), Holm-adjusted per probe family."""
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        runs = run_combinations(con)
        if dataset:
            runs = runs[runs["dataset"] == dataset]
        if models:
            runs = runs[runs["model"].isin(models)]
        rows = []
        for (ds, model), group in runs.groupby(["dataset", "model"], sort=True):
            pairs = probe_pairs(sorted(group["strategy"]))
            if not pairs:
                continue
            wanted = sorted({s for base, label, _ in pairs for s in (base, label)})
            # the base run that stands for its cell (benchmark) and the probe run, over the same evaluation set
            found = {(g.strategy, g.dimension, g.eval_set): g
                     for g in load_groups(con, dataset=ds, model=model, strategy=wanted, purpose=None)}
            for base, label, probe in pairs:
                for (strategy, dimension, eval_set), group_base in found.items():
                    if strategy != base or (dimensions and dimension not in dimensions):
                        continue
                    group_probe = found.get((label, dimension, eval_set))
                    if group_probe is None:
                        continue
                    rows.append({"dataset": ds, "model": model, "base_strategy": base, "probe": probe,
                                 "strategy": label, "dimension": dimension,
                                 **compare_runs(group_base, group_probe)})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame.empty:
        return frame
    frame["p_holm"] = np.nan
    for _, family in frame.groupby(["dataset", "model", "base_strategy", "dimension"]):
        frame.loc[family.index, "p_holm"] = cmp.holm(family["p_value"].to_numpy(dtype=float))
    return frame.sort_values(["dataset", "dimension", "model", "base_strategy", "probe"]).reset_index(drop=True)
