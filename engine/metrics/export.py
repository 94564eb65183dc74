"""Export scores: CSV, Parquet, and a LaTeX table ready for a paper.

The LaTeX table uses booktabs rules (\\toprule, \\midrule, \\bottomrule: load `\\usepackage{booktabs}`),
one block per (dataset, evaluation set, dimension) -- rows over different evaluation sets are never in
one block -- one row per (model, strategy), one column per metric, then n and coverage. Each cell is
the value with the half-width of its 95% interval as ± ((high - low) / 2; percentile intervals can be
slightly asymmetric, the CSV keeps both ends). The best value of each column within a block is bold
(highest, or lowest for errors and divergences; for bias, the closest to 0) among the rows that may be
ranked on it (`engine.metrics.cells.eligible`: strict accuracy and coverage always; any other metric
only with coverage >= MIN_COVERAGE and n >= MIN_N). A value below those thresholds is marked with a
dagger and never bolded; a note under the table says so. Rows are ordered by the block's default
ranking metric (strict accuracy for categorical dimensions), eligible rows first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from engine.metrics.base import HIGHER_IS_BETTER
from engine.metrics.cells import DEFAULT_METRIC, MIN_COVERAGE, MIN_N, eligible, rank_frame

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


def _table_start(columns: str, caption: str | None, label: str | None) -> list[str]:
    """The opening lines of a booktabs table float: `table` and `centering`, the caption and label where
    given, the `tabular` with column spec `columns` (e.g. "llrr") and its top rule."""
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    return lines + [rf"\begin{{tabular}}{{{columns}}}", r"\toprule"]


def _default_metrics(scores: pd.DataFrame) -> list[str]:
    present = set(scores["metric"])
    wanted = CATEGORICAL_COLUMNS + CONTINUOUS_COLUMNS + DISTRIBUTION_COLUMNS
    return [m for m in wanted if m in present]


def _best(values: pd.Series, metric: str, digits: int, allowed: pd.Series) -> pd.Series:
    """Mask of the best displayed value(s) of a column among the `allowed` rows (ties at the shown precision
    all bold)."""
    shown = values.round(digits).where(allowed)
    if shown.notna().sum() < 2:
        return pd.Series(False, index=values.index)
    direction = HIGHER_IS_BETTER.get(metric, True)
    if direction is None:
        return shown.abs() == shown.abs().min()
    target = shown.max() if direction else shown.min()
    return shown == target


def _block_order(block: pd.DataFrame, keys: list[str], dimension: str) -> list[tuple]:
    """(model, strategy) rows of a block, best first on the block's default ranking metric."""
    metric = DEFAULT_METRIC.get(dimension, "accuracy_strict")
    rows = block[block["metric"] == metric][[*keys, "value", "n"]]
    coverage = block[block["metric"] == "coverage"].set_index(keys)["value"]
    if rows.empty:
        return sorted({tuple(k) for k in block[keys].itertuples(index=False)})
    rows = rows.assign(coverage=[coverage.get(tuple(k)) for k in rows[keys].itertuples(index=False)])
    ranked = rank_frame(rows, metric)
    order = [tuple(k) for k in ranked[keys].itertuples(index=False)]
    return order + sorted({tuple(k) for k in block[keys].itertuples(index=False)} - set(order))


def latex_table(scores: pd.DataFrame, metrics: list[str] | None = None, *, digits: int = 3, percent: bool = False,
                caption: str | None = None, label: str | None = None) -> str:
    """A booktabs LaTeX table of `scores` (the frame of `score_store` or `current_scores`)."""
    metrics = metrics or _default_metrics(scores)
    scale = 100.0 if percent else 1.0
    digits = max(0, digits - 2) if percent else digits
    scores = scores.assign(eval_set=scores["eval_set"].fillna("") if "eval_set" in scores else "")
    frame = scores[scores["metric"].isin(metrics)]
    show_dimension = frame["dimension"].nunique() > 1
    keys = ["model", "strategy"]
    head = ["Dataset", *(["Dimension"] if show_dimension else []), "Model", "Strategy"]
    arrows = {True: r" $\uparrow$", False: r" $\downarrow$", None: ""}
    head += [HEADERS.get(m, _escape(m)) + arrows[HIGHER_IS_BETTER.get(m, True)] for m in metrics] + ["$n$", "Cov."]
    lines = _table_start(f"{'l' * (len(head) - len(metrics) - 2)}{'r' * (len(metrics) + 2)}", caption, label)
    lines += [" & ".join(head) + r" \\", r"\midrule"]
    blocks = list(frame.groupby(["dataset", "eval_set", "dimension"], sort=True))
    marked = marked_derived = False
    for number, ((dataset, eval_set, dimension), block) in enumerate(blocks):
        whole = scores[(scores["dataset"] == dataset) & (scores["eval_set"] == eval_set)
                       & (scores["dimension"] == dimension)]
        coverage = whole[whole["metric"] == "coverage"].set_index(keys)["value"]
        totals = whole.groupby(keys)["n_total"].max() if "n_total" in whole else pd.Series(dtype=float)
        wide = {m: block[block["metric"] == m].set_index(keys) for m in metrics}
        allowed, bold = {}, {}
        for m in metrics:
            if not len(wide[m]):
                continue
            table = wide[m].assign(coverage=[coverage.get(k) for k in wide[m].index])
            allowed[m] = pd.Series(eligible(table, m).to_numpy(), index=wide[m].index)
            bold[m] = _best(wide[m]["value"] * scale, m, digits, allowed[m])
        lines.append(rf"\multicolumn{{{len(head)}}}{{l}}{{\textit{{{_escape(_set_name(whole))}}}}} \\")
        for row in _block_order(whole, keys, dimension):
            if not any(row in wide[m].index for m in metrics):
                continue
            derived = "derived" in whole and whole[(whole["model"] == row[0]) & (whole["strategy"] == row[1])][
                "derived"].map(lambda d: isinstance(d, str) and bool(d)).any()
            marked_derived = marked_derived or bool(derived)
            cells = [_escape(dataset), *([_escape(dimension)] if show_dimension else []), _escape(row[0]),
                     _escape(row[1]) + (r"$^\ddagger$" if derived else "")]
            for m in metrics:
                if row not in wide[m].index or not np.isfinite(wide[m].loc[row, "value"]):
                    cells.append("--")
                    continue
                record = wide[m].loc[row]
                text = f"{round(record['value'] * scale, digits) + 0.0:.{digits}f}"
                if m in bold and bool(bold[m].get(row, False)):
                    text = rf"\textbf{{{text}}}"
                if np.isfinite(record["ci_low"]) and np.isfinite(record["ci_high"]):
                    text += rf" $\pm$ {(record['ci_high'] - record['ci_low']) / 2 * scale:.{digits}f}"
                if m in allowed and not bool(allowed[m].get(row, True)):
                    text += r"$^\dagger$"
                    marked = True
                cells.append(text)
            n_total = totals.get(row)
            cov = coverage.get(row)
            cells.append(str(int(n_total)) if n_total is not None and pd.notna(n_total) else "--")
            cells.append(f"{cov:.2f}" if cov is not None and pd.notna(cov) else "--")
            lines.append(" & ".join(cells) + r" \\")
        if number < len(blocks) - 1:
            lines.append(r"\midrule")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if marked:
        lines.append(rf"\par\footnotesize $^\dagger$ below the ranking thresholds (coverage $<$ {MIN_COVERAGE:.2f} or "
                     rf"$n <$ {MIN_N}): not ranked or bolded.")
    if marked_derived:
        lines.append(r"\par\footnotesize $^\ddagger$ scored over values derived from the answer's emotion word "
                     r"(the answer stated no polarity).")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _set_name(block: pd.DataFrame) -> str:
    """The evaluation set a block is over, as printed beside the dataset."""
    if "eval_set_name" in block and block["eval_set_name"].notna().any():
        name = str(block["eval_set_name"].dropna().iloc[0])
        size = block["eval_set_size"].dropna().iloc[0] if "eval_set_size" in block and block[
            "eval_set_size"].notna().any() else block["n_total"].max()
        return f"{name} (n = {int(size)})"
    if "n_total" in block and block["n_total"].notna().any():
        return f"{block['dataset'].iloc[0]} (n = {int(block['n_total'].max())})"
    return str(block["dataset"].iloc[0])


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
