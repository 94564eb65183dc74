"""Exports: the LaTeX table (booktabs, best per column in bold, CI as ±), CSV and Parquet via the CLI."""

from __future__ import annotations

import contextlib
import io

import pandas as pd
import pytest

from engine.cli.main import main
from engine.metrics.export import latex_table

SCORES = pd.DataFrame([
    # dataset, model, strategy, dimension, metric, value, ci_low, ci_high
    ("twitter_2", "gpt-4o", "zero-shot", "polarity", "accuracy", 0.812, 0.78, 0.84),
    ("twitter_2", "qwen_vl", "cot", "polarity", "accuracy", 0.845, 0.815, 0.875),
    ("twitter_2", "gpt-4o", "zero-shot", "polarity", "macro_f1", 0.80, 0.77, 0.83),
    ("twitter_2", "qwen_vl", "cot", "polarity", "macro_f1", 0.70, float("nan"), float("nan")),
    ("oasis", "gpt-4o", "zero-shot", "valence", "mae", 0.21, 0.19, 0.23),
    ("oasis", "qwen_vl", "cot", "valence", "mae", 0.35, 0.31, 0.39),
], columns=["dataset", "model", "strategy", "dimension", "metric", "value", "ci_low", "ci_high"]).assign(n=200, n_total=200)
COVERAGE = pd.DataFrame([(d, m, s, dim, "coverage", 1.0, 0.98, 1.0) for d, m, s, dim in
                         SCORES[["dataset", "model", "strategy", "dimension"]].drop_duplicates().itertuples(index=False)],
                        columns=SCORES.columns[:8]).assign(n=200, n_total=200)
SCORES = pd.concat([SCORES, COVERAGE], ignore_index=True)


def test_latex_booktabs_bold_best_and_plus_minus():
    text = latex_table(SCORES, caption="GPT & friends", label="tab:main")
    assert text.count(r"\toprule") == text.count(r"\bottomrule") == 1 and r"\midrule" in text
    assert r"\caption{GPT \& friends}" in text and r"\label{tab:main}" in text
    lines = {line.split(" & ")[2]: line for line in text.splitlines() if line.startswith("twitter")}
    # accuracy: higher is better -> qwen bold; macro F1 -> gpt-4o bold; half-width of the CI after ±
    assert r"\textbf{0.845} $\pm$ 0.030" in lines[r"qwen\_vl"]
    assert r"\textbf{0.800} $\pm$ 0.030" in lines["gpt-4o"]
    assert r"0.812 $\pm$ 0.030" in lines["gpt-4o"] and r"\textbf{0.812}" not in lines["gpt-4o"]
    assert " 0.700 " in lines[r"qwen\_vl"] and r"0.700 $\pm$" not in lines[r"qwen\_vl"]  # no CI, no ±
    oasis = [line for line in text.splitlines() if line.startswith("oasis")]
    assert r"\textbf{0.210} $\pm$ 0.020" in oasis[0]  # MAE: lower is better
    assert r"twitter\_2" in text and "twitter_2" not in text  # escaped
    header = next(line for line in text.splitlines() if line.startswith("Dataset"))
    assert "Acc. $\\uparrow$" in header and "MAE $\\downarrow$" in header
    assert r"\begin{tabular}{llllrrrrrr}" in text  # dataset, dimension, model, strategy; four metrics, n, coverage
    assert r"\multicolumn{10}{l}{\textit{twitter\_2 (n = 200)}}" in text  # which items each block is over


def test_a_sparse_model_is_neither_ranked_first_nor_bold():
    """8 answers out of 810, all right: accuracy 1.000 over answered items, but below the coverage and n
    thresholds, so it is marked and not bold; strict accuracy ranks it last."""
    rows = []
    for model, accuracy, coverage, strict, n in (("silent", 1.0, 8 / 810, 8 / 810, 8), ("full", 0.71, 1.0, 0.71, 810)):
        rows += [("fi", model, "zero-shot", "emotion", "accuracy", accuracy, accuracy - 0.03, min(1, accuracy + 0.03), n),
                 ("fi", model, "zero-shot", "emotion", "coverage", coverage, coverage, coverage, 810),
                 ("fi", model, "zero-shot", "emotion", "accuracy_strict", strict, strict - 0.01, strict + 0.01, 810)]
    frame = pd.DataFrame(rows, columns=["dataset", "model", "strategy", "dimension", "metric", "value", "ci_low",
                                        "ci_high", "n"]).assign(n_total=810)
    text = latex_table(frame, ["accuracy", "accuracy_strict"])
    body = [line for line in text.splitlines() if line.startswith("fi &")]
    assert body[0].split(" & ")[1] == "full"  # ordered by strict accuracy: the full model first
    silent = next(line for line in body if " silent " in f" {line} ")
    assert r"\textbf" not in silent.split(" & ")[3] and r"1.000 $\pm$ 0.015$^\dagger$" in silent
    full = next(line for line in body if " full " in f" {line} ")
    assert r"\textbf{0.710}" in full and "810" in full and "0.01" in silent
    assert "below the ranking thresholds" in text


def test_latex_percent_and_ties():
    tied = SCORES.copy()
    tied.loc[1, "value"] = 0.812
    text = latex_table(tied[tied["metric"].isin(["accuracy", "coverage"])], ["accuracy"], percent=True)
    assert text.count(r"\textbf{81.2}") == 2 and r"$\pm$ 3.0" in text


@pytest.fixture
def store(tmp_path):
    csv = tmp_path / "preds.csv"
    csv.write_text("name,gt,pred\n" + "".join(
        f"i{i},{'positive' if i % 3 else 'negative'},{'positive' if i % 4 else 'negative'}\n" for i in range(40)))
    db = tmp_path / "r.duckdb"
    assert main(["import-predictions", str(csv), "--dataset", "demo", "--model", "m1", "--db", str(db)]) == 0
    csv2 = tmp_path / "preds2.csv"
    csv2.write_text("name,gt,pred\n" + "".join(
        f"i{i},{'positive' if i % 3 else 'negative'},{'positive' if i % 3 else 'negative'}\n" for i in range(40)))
    assert main(["import-predictions", str(csv2), "--dataset", "demo", "--model", "m2", "--db", str(db)]) == 0
    return db


def _run(args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(args) == 0
    return out.getvalue()


def test_cli_exports(store, tmp_path):
    text = _run(["export", "--db", str(store), "--format", "latex", "--resamples", "200"])
    m2 = next(line for line in text.splitlines() if " m2 " in f" {line} ")
    assert r"\textbf{1.000}" in m2 and r"\toprule" in text
    csv_text = _run(["export", "--db", str(store), "--format", "csv", "--metric", "accuracy"])
    frame = pd.read_csv(io.StringIO(csv_text))
    assert set(frame["model"]) == {"m1", "m2"} and set(frame["metric"]) == {"accuracy"}
    assert frame.loc[frame["model"] == "m2", "value"].iloc[0] == 1.0
    out = tmp_path / "scores.parquet"
    assert main(["export", "--db", str(store), "--format", "parquet", "--out", str(out)]) == 0
    parquet = pd.read_parquet(out)
    assert {"dataset", "model", "metric", "value", "ci_low", "ci_high", "n", "n_total"} <= set(parquet.columns)
    assert main(["export", "--db", str(store), "--format", "parquet"]) == 2  # needs --out: a clear error


def test_scores_filters(store):
    import json

    records = json.loads(_run(["scores", "--db", str(store), "--json", "--model", "m1", "--metric", "accuracy",
                               "coverage"]))
    assert {(r["model"], r["metric"]) for r in records} == {("m1", "accuracy"), ("m1", "coverage")}
    expected = sum((i % 3 != 0) == (i % 4 != 0) for i in range(40)) / 40
    assert next(r for r in records if r["metric"] == "accuracy")["value"] == pytest.approx(expected)


def test_rank_frame_ranks_eligible_rows_only_and_marks_derived_scores():
    from engine.metrics.cells import rank_frame

    frame = pd.DataFrame({"model": ["silent", "full", "half"], "strategy": ["z"] * 3, "value": [1.0, 0.7, 0.9],
                          "n": [8, 810, 400], "coverage": [0.01, 1.0, 0.5]})
    ranked = rank_frame(frame, "accuracy").set_index("model")
    assert ranked.loc["full", "rank"] == 1 and bool(ranked.loc["full", "best"])
    assert ranked.loc[["silent", "half"], "rank"].isna().all() and not ranked.loc[["silent", "half"], "best"].any()
    strict = rank_frame(frame.assign(value=[8 / 810 * 1.0, 0.7, 0.45]), "accuracy_strict").set_index("model")
    assert list(strict.sort_values("rank").index) == ["full", "half", "silent"]  # strict: every row ranked
    derived = SCORES.assign(derived=[None, "polarity from emotion", None, "polarity from emotion", None, None,
                                     None, None, None, None])
    text = latex_table(derived)
    assert r"cot$^\ddagger$" in text and "derived from the answer's emotion word" in text

