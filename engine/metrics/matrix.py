"""The results matrix: (model, strategy) rows x dataset columns, one metric, and the mean win rate across datasets.

Each column is one dataset over the evaluation set that stands for it; a cell is the metric of the run
that stands for its (model, strategy) cell there, with its 95% interval, n and coverage, and whether it
may be ranked (`engine.metrics.cells.eligible`).

**Mean win rate** (Liang et al. 2022, *Holistic Evaluation of Language Models*, section 4.2: "the
probability that the model obtains a better score than a random other model, averaged over
scenarios"): within each dataset, a row's win rate is the share of the *other* eligible rows it beats
(a tie counts half); the mean is over the datasets where the row is eligible and has at least one
eligible rival. Rows below the ranking thresholds neither win nor lose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.metrics.base import HIGHER_IS_BETTER
from engine.metrics.cells import MIN_COVERAGE, MIN_N

__all__ = ["ROW_KEYS", "win_rates", "latex_matrix"]

ROW_KEYS = ["model", "strategy"]


def win_rates(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per row (`ROW_KEYS`): `mean_win_rate` and `datasets_compared` (how many datasets it was compared in).

    `cells` has one row per (model, strategy, dataset) with columns value and eligible."""
    direction = HIGHER_IS_BETTER.get(metric, True)
    rows = cells[ROW_KEYS].drop_duplicates().reset_index(drop=True)
    per_dataset = []
    for dataset, block in cells.groupby("dataset", sort=True):
        block = block[block["eligible"].astype(bool) & pd.to_numeric(block["value"], errors="coerce").notna()]
        if len(block) < 2:
            continue
        value = pd.to_numeric(block["value"]).to_numpy(dtype=float)
        key = -np.abs(value) if direction is None else (value if direction else -value)
        better = (key[:, None] > key[None, :]).sum(axis=1)
        ties = (key[:, None] == key[None, :]).sum(axis=1) - 1
        per_dataset.append(block[ROW_KEYS].assign(win_rate=(better + 0.5 * ties) / (len(block) - 1), dataset=dataset))
    if not per_dataset:
        return rows.assign(mean_win_rate=np.nan, datasets_compared=0)
    wins = pd.concat(per_dataset).groupby(ROW_KEYS, as_index=False).agg(
        mean_win_rate=("win_rate", "mean"), datasets_compared=("dataset", "nunique"))
    out = rows.merge(wins, on=ROW_KEYS, how="left")
    out["datasets_compared"] = out["datasets_compared"].fillna(0).astype(int)
    return out


def latex_matrix(cells: pd.DataFrame, metric: str, *, digits: int = 3, caption: str | None = None,
                 label: str | None = None) -> str:
    """A booktabs LaTeX table: one row per (model, strategy), one column per dataset (value ± half its 95%
    interval; dagger below the ranking thresholds; best eligible value of a column bold), then the mean
    win rate. `cells` as for `win_rates`, plus ci_low, ci_high and `column` (the dataset's header text)."""
    from engine.metrics.export import HEADERS, _best, _escape, _table_start

    columns = list(dict.fromkeys(cells["dataset"]))
    headers = dict(zip(cells["dataset"], cells.get("column", cells["dataset"])))
    wins = win_rates(cells, metric).set_index(ROW_KEYS)
    order = wins.sort_values("mean_win_rate", ascending=False, na_position="last", kind="mergesort").index
    by_dataset = {d: cells[cells["dataset"] == d].set_index(ROW_KEYS) for d in columns}
    bold = {d: _best(pd.to_numeric(block["value"]), metric, digits, block["eligible"].astype(bool))
            for d, block in by_dataset.items()}
    head = ["Model", "Strategy", *(_escape(str(headers[d]).replace(" · ", ", ")) for d in columns), "Mean win rate"]
    lines = _table_start(f"ll{'r' * (len(columns) + 1)}", caption, label)
    lines += [rf"\multicolumn{{{len(head)}}}{{l}}{{{HEADERS.get(metric, _escape(metric))}}} \\", r"\midrule",
              " & ".join(head) + r" \\", r"\midrule"]
    marked = False
    for row in order:
        out = [_escape(row[0]), _escape(row[1])]
        for d in columns:
            block = by_dataset[d]
            if row not in block.index or not np.isfinite(float(block.loc[row, "value"])):
                out.append("--")
                continue
            record = block.loc[row]
            text = f"{round(float(record['value']), digits) + 0.0:.{digits}f}"
            if bool(bold[d].get(row, False)):
                text = rf"\textbf{{{text}}}"
            if np.isfinite(float(record["ci_low"])) and np.isfinite(float(record["ci_high"])):
                text += rf" $\pm$ {(float(record['ci_high']) - float(record['ci_low'])) / 2:.{digits}f}"
            if not bool(record["eligible"]):
                text += r"$^\dagger$"
                marked = True
            out.append(text)
        rate = wins.loc[row, "mean_win_rate"]
        out.append(f"{rate:.2f}" if pd.notna(rate) else "--")
        lines.append(" & ".join(out) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if marked:
        lines.append(rf"\par\footnotesize $^\dagger$ below the ranking thresholds (coverage $<$ {MIN_COVERAGE:.2f} or "
                     rf"$n <$ {MIN_N}): not ranked, bolded or counted in the win rate.")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
