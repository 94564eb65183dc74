"""Export scores: CSV, Parquet, and a LaTeX table ready for a paper.

The LaTeX table uses booktabs rules (\\toprule, \\midrule, \\bottomrule: load `\\usepackage{booktabs}`),
one block per (dataset, dimension), one row per (model, strategy), one column per metric. Each cell is
the value with the half-width of its 95% bootstrap interval as ± ((high - low) / 2; percentile
intervals can be slightly asymmetric, the CSV keeps both ends). The best value of each column within
a block is bold (highest, or lowest for errors and divergences; for bias, the closest to 0).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from engine.metrics.base import HIGHER_IS_BETTER

__all__ = ["CATEGORICAL_COLUMNS", "CONTINUOUS_COLUMNS", "latex_table", "write_export"]

CATEGORICAL_COLUMNS = ["accuracy", "accuracy_strict", "coverage", "macro_f1", "uar", "cohen_kappa"]
CONTINUOUS_COLUMNS = ["pearson", "spearman", "ccc", "mae", "rmse"]
DISTRIBUTION_COLUMNS = ["kl", "js", "cosine", "majority_agreement"]
HEADERS = {"accuracy": "Acc.", "accuracy_strict": "Strict acc.", "coverage": "Coverage", "macro_f1": "Macro-F1",
           "weighted_f1": "Weighted F1", "uar": "UAR", "cohen_kappa": r"$\kappa$", "pearson": r"Pearson $r$",
           "spearman": r"Spearman $\rho$", "ccc": "CCC", "mae": "MAE", "rmse": "RMSE", "bias": "Bias",
           "kl": "KL", "js": "JS", "cosine": "Cosine", "ece": "ECE", "brier": "Brier",
           "accuracy_mapped": "Acc. (mapped)", "majority_agreement": "Majority agr."}
_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape(text) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in str(text))


def _default_metrics(scores: pd.DataFrame) -> list[str]:
    present = set(scores["metric"])
    wanted = CATEGORICAL_COLUMNS + CONTINUOUS_COLUMNS + DISTRIBUTION_COLUMNS
    return [m for m in wanted if m in present]


def _best(values: pd.Series, metric: str, digits: int) -> pd.Series:
    """Mask of the best displayed value(s) of a column (ties at the shown precision all bold)."""
    shown = values.round(digits)
    if shown.notna().sum() < 2:
        return pd.Series(False, index=values.index)
    direction = HIGHER_IS_BETTER.get(metric, True)
    if direction is None:
        target = shown.abs().min()
        return shown.abs() == target
    target = shown.max() if direction else shown.min()
    return shown == target


def latex_table(scores: pd.DataFrame, metrics: list[str] | None = None, *, digits: int = 3, percent: bool = False,
                caption: str | None = None, label: str | None = None) -> str:
    """A booktabs LaTeX table of `scores` (the frame of `score_store`)."""
    metrics = metrics or _default_metrics(scores)
    scale = 100.0 if percent else 1.0
    digits = max(0, digits - 2) if percent else digits
    frame = scores[scores["metric"].isin(metrics)]
    show_dimension = frame["dimension"].nunique() > 1
    keys = ["model", "strategy"]
    head = ["Dataset", *(["Dimension"] if show_dimension else []), "Model", "Strategy"]
    arrows = {True: r" $\uparrow$", False: r" $\downarrow$", None: ""}
    head += [HEADERS.get(m, _escape(m)) + arrows[HIGHER_IS_BETTER.get(m, True)] for m in metrics]
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{'l' * (len(head) - len(metrics))}{'r' * len(metrics)}}}", r"\toprule",
              " & ".join(head) + r" \\", r"\midrule"]
    blocks = list(frame.groupby(["dataset", "dimension"], sort=True))
    for number, ((dataset, dimension), block) in enumerate(blocks):
        wide = {m: block[block["metric"] == m].set_index(keys) for m in metrics}
        rows = sorted({tuple(k) for k in block[keys].itertuples(index=False)})
        bold = {m: _best(wide[m]["value"] * scale, m, digits) for m in metrics if len(wide[m])}
        for row in rows:
            cells = [_escape(dataset), *([_escape(dimension)] if show_dimension else []),
                     _escape(row[0]), _escape(row[1])]
            for m in metrics:
                if row not in wide[m].index or not np.isfinite(wide[m].loc[row, "value"]):
                    cells.append("--")
                    continue
                record = wide[m].loc[row]
                text = f"{round(record['value'] * scale, digits) + 0.0:.{digits}f}"
                if bold.get(m) is not None and bool(bold[m].get(row, False)):
                    text = rf"\textbf{{{text}}}"
                if np.isfinite(record["ci_low"]) and np.isfinite(record["ci_high"]):
                    text += rf" $\pm$ {(record['ci_high'] - record['ci_low']) / 2 * scale:.{digits}f}"
                cells.append(text)
            lines.append(" & ".join(cells) + r" \\")
        if number < len(blocks) - 1:
            lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_export(scores: pd.DataFrame, fmt: str, out: str | os.PathLike | None = None, **latex_options) -> str | None:
    """Write `scores` as csv, parquet or latex to `out`; returns the text when `out` is None (csv, latex)."""
    if fmt == "parquet":
        if out is None:
            raise ValueError("Parquet is binary: pass --out FILE.parquet")
        scores.to_parquet(Path(out), index=False)
        return None
    if fmt == "csv":
        text = scores.to_csv(index=False)
    elif fmt == "latex":
        text = latex_table(scores, **latex_options)
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose csv, parquet or latex")
    if out is None:
        return text
    Path(out).write_text(text, encoding="utf-8")
    return None
