"""The Slices page's queries: a scope's metric per slice of item metadata, image property or gold class, per
(model, strategy) cell, and the worst slices -- computed by `engine.metrics.slices` on the runs that stand
for the scope's cells (or the pinned ones), cached like every dashboard query (`dashboard.cache.query`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.cache import frame as _frame, query
from dashboard.data import CATEGORICAL, Filters, Scope, _selected
from engine.metrics.frames import load_item_meta
from engine.metrics.scoring import load_groups
from engine.metrics.slices import slice_columns, slice_scores, slice_values, worst_slices

__all__ = ["GOLD_KEY", "SliceReport", "slice_keys", "slice_report", "slice_items", "RESAMPLES", "DEFAULT_MIN_N"]

#: The slice key of the item's gold class (categorical) or gold value tertile (continuous).
GOLD_KEY = "gold"
#: Bootstrap resamples per slice interval (stated on the page).
RESAMPLES = 200
#: The page's default for "Worst slices: at least n items".
DEFAULT_MIN_N = 20
COLUMNS = ["model", "strategy", "key", "slice", "value", "ci_low", "ci_high", "n", "n_total"]
WORST = ["model", "strategy", "key", "slice", "value", "ci_low", "ci_high", "n", "n_total", "overall", "gap"]


@dataclass
class SliceReport:
    """`table`: the metric per (model, strategy, slice of `key`); `worst`: over every key, the slices furthest
    below each cell's overall value (gap < 0 is worse), worst first."""

    key: str
    metric: str
    table: pd.DataFrame
    worst: pd.DataFrame


def _meta(con, scope: Scope) -> pd.DataFrame:
    """Item metadata, image properties and the gold class (or value) of the scope's dimension."""
    meta = load_item_meta(con, scope.dataset)
    gold = _frame(con, """SELECT item_id, CASE WHEN $categorical THEN label END AS label, value FROM gold
                          WHERE dataset = $dataset AND dimension = $dimension""",
                  {"dataset": scope.dataset, "dimension": scope.dimension,
                   "categorical": scope.dimension in CATEGORICAL})
    column = gold["label"] if scope.dimension in CATEGORICAL else gold["value"]
    meta = meta.drop(columns=[GOLD_KEY], errors="ignore")
    return meta.merge(pd.DataFrame({"item_id": gold["item_id"], GOLD_KEY: column}), on="item_id", how="left")


def _groups(con, filters: Filters, scope: Scope):
    runs = _frame(con, f"WITH {_selected(filters)} SELECT run_id FROM sel",
                  {**filters.params(), **scope.params()})["run_id"].tolist()
    if not runs:
        return []
    return [g for g in load_groups(con, run_id=runs, dimension=scope.dimension, purpose=None, current=False)
            if g.run_id in runs]


@query
def slice_keys(con, filters: Filters, scope: Scope) -> list[str]:
    """The keys the scope's items can be sliced by (gold first), as `engine.metrics.slices.slice_columns`."""
    meta = _meta(con, scope)
    keys = slice_columns(meta)
    return ([GOLD_KEY] if GOLD_KEY in keys else []) + [k for k in keys if k != GOLD_KEY]


@query
def slice_report(con, filters: Filters, scope: Scope, key: str, metric: str, min_n: int) -> SliceReport:
    """`metric` per slice of `key` for every cell of the scope, and the worst slices over every key (slices
    with fewer than `min_n` items are left out of the worst list)."""
    meta = _meta(con, scope)
    tables, worst = [], []
    for group in _groups(con, filters, scope):
        ev = group.evaluation
        frame = slice_scores(ev, meta, key, metrics=[metric], n_resamples=RESAMPLES)
        tables.append(frame.assign(model=group.model, strategy=group.strategy))
        # the chosen key's slices are scored once, for the table and the worst list alike
        found = worst_slices(ev, meta, metric=metric, min_n=min_n, n_resamples=RESAMPLES, scored={key: frame})
        if len(found):
            worst.append(found.assign(model=group.model, strategy=group.strategy))
    table = pd.concat(tables, ignore_index=True)[COLUMNS] if tables else pd.DataFrame(columns=COLUMNS)
    table = table.sort_values(["model", "strategy", "slice"], kind="mergesort").reset_index(drop=True)
    worst_frame = (pd.concat(worst, ignore_index=True)[WORST].sort_values("gap", na_position="last")
                   .reset_index(drop=True) if worst else pd.DataFrame(columns=WORST))
    return SliceReport(key, metric, table, worst_frame)


@query
def slice_items(con, scope: Scope, key: str, value: str) -> tuple[str, ...]:
    """The item ids of one slice (`key` = `value`, as the Slices page names it), for the gallery's filter."""
    meta = _meta(con, scope)
    if key not in meta.columns:
        return ()
    labels = slice_values(meta, key)
    return tuple(sorted(labels[labels == value].index))
