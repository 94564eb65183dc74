"""The Overview's results matrix: (model, strategy) rows x dataset columns, greyed below the ranking thresholds,
every row shown, with CSV and LaTeX downloads of exactly what is drawn."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components import export, layout, tables
from engine.metrics import cells as ranking
from engine.metrics.matrix import latex_matrix

EVERY_STRATEGY = "(every strategy)"


def wide(matrix: data.ResultsMatrix) -> pd.DataFrame:
    """One row per (model, strategy): the mean win rate, then per dataset column its value and a detail text
    ('[low, high] · n · coverage', '† below threshold' where it may not be ranked)."""
    cells = matrix.cells
    out = matrix.wins.copy()
    for column in matrix.columns["column"]:
        block = cells[cells["column"] == column].set_index(["model", "strategy"])
        keys = list(zip(out["model"], out["strategy"]))
        out[column] = [float(block.loc[k, "value"]) if k in block.index else float("nan") for k in keys]
        out[f"{column} ·"] = [_detail(block.loc[k]) if k in block.index else "" for k in keys]
    return out.sort_values(["mean_win_rate", "model", "strategy"], ascending=[False, True, True],
                           na_position="last", kind="mergesort").reset_index(drop=True)


def _detail(row: pd.Series) -> str:
    known = pd.notna(row["ci_low"]) and pd.notna(row["ci_high"])
    ci = f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]" if known else "no CI"
    n = f"n {int(row['n'])}" if pd.notna(row["n"]) else "n –"
    coverage = f"cov {row['coverage']:.0%}" if pd.notna(row["coverage"]) else "cov –"
    mark = "" if bool(row["eligible"]) else " · † below threshold"
    return f"{ci} · {n} · {coverage}{mark}"


def _muted(table: pd.DataFrame, matrix: data.ResultsMatrix) -> pd.DataFrame:
    """True on the value and detail of every cell below the ranking thresholds (drawn grey)."""
    below = matrix.cells[~matrix.cells["eligible"]]
    marks = {(r.model, r.strategy, r.column) for r in below.itertuples()}
    return pd.DataFrame([[(row.model, row.strategy, name.removesuffix(" ·")) in marks for name in table.columns]
                         for row in table.itertuples()], columns=table.columns, index=table.index)


def render(view) -> None:
    """Metric and strategy pickers, the matrix, which set stands for each dataset, and the downloads."""
    metrics = data.matrix_metrics(view.db, view.filters)
    if not metrics:
        st.info(layout.NO_SCORES)
        return
    options = data.filter_options(view.db)["strategies"]
    if view.filters.strategies:
        options = [s for s in options if s in view.filters.strategies]
    left, right = st.columns(2)
    metric = layout.pick("Metric", metrics, "matrix-metric", param="matrix_metric", default="accuracy_strict",
                         container=left, help="Strict accuracy counts an unanswered item as wrong.")
    strategy = layout.pick("Strategy", [EVERY_STRATEGY, *options], "matrix-strategy", param="matrix_strategy",
                           container=right)
    matrix = data.results_matrix(view.db, view.filters, metric, None if strategy == EVERY_STRATEGY else strategy)
    if matrix.cells.empty:
        st.info(f"No standing benchmark run has {metric} under these filters.")
        return
    sets = "; ".join(f"**{r.dataset}**: {r.eval_set_name} (n = {r.eval_set_size}), {r.dimension}"
                     for r in matrix.columns.itertuples())
    st.caption(f"Each cell: {metric} of the run that stands for its model and strategy, its 95% CI, n and coverage, "
               f"over the evaluation set that stands for the dataset (its richest set) — {sets}. Grey, †: below "
               "the "
               f"ranking thresholds (coverage < {ranking.MIN_COVERAGE:.0%} or n < {ranking.MIN_N} on a metric over "
               "answered items): not ranked and not counted in the mean win rate (the share of other rows a row beats "
               "on a dataset, ties half, averaged over the datasets where it was compared). Click a header to sort.")
    table = wide(matrix)
    tables.sortable(table, key="table-matrix", max_rows=None, muted=_muted(table, matrix),
                    formats={"mean_win_rate": "{:.2f}", **{c: "{:.3f}" for c in matrix.columns["column"]}},
                    labels={"mean_win_rate": "mean win rate", "datasets_compared": "datasets compared"})
    name = f"results-matrix-{metric}" + ("" if strategy == EVERY_STRATEGY else f"-{strategy}")
    long = matrix.cells.merge(matrix.columns[["dataset", "eval_set_name", "eval_set_size", "dimension"]], on="dataset")
    row = st.container(horizontal=True, gap="small")
    row.download_button("CSV", lambda: export.table_csv(long.assign(metric=metric)),
                        file_name=f"{export._slug(name)}.csv",
                        mime="text/csv", key="csv-matrix", icon=":material/download:", on_click="ignore",
                        type="tertiary")
    caption = (f"{metric} per model and strategy; each dataset over its standing evaluation set "
               + "; ".join(f"{r.dataset}: {r.eval_set_name} (n = {r.eval_set_size}), {r.dimension}"
                           for r in matrix.columns.itertuples()) + ".")
    row.download_button("LaTeX", lambda: latex_matrix(matrix.cells, metric, caption=caption).encode(),
                        file_name=f"{export._slug(name)}.tex", mime="text/x-tex", key="tex-matrix",
                        icon=":material/description:", on_click="ignore", type="tertiary")
