"""Importing the published GPT-4V predictions through the real CLI reproduces the paper's figures.

Expected values are the ones printed in ../shared/external/gpt4v-emotion/README.md (Lian et al. 2023,
Tables 3 and 4, and the coverage / strict accuracy over each labels.csv).
"""

from __future__ import annotations

import contextlib
import io
import json

import duckdb
import pytest

from engine.cli.main import main
from tests.conftest import shared_path

# folder -> (dimension, answered, test list, published accuracy, strict correct)
PUBLISHED = {
    "abstract": ("polarity", 227, 229, 0.7181, 163),
    "twitter2": ("polarity", 589, 603, 0.8795, 518),
    "rafdb": ("emotion", 3067, 3068, 0.7581, 2325),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    db = tmp_path_factory.mktemp("gpt4v") / "results.duckdb"
    root = shared_path("external", "gpt4v-emotion")
    for folder, (dimension, *_rest) in PUBLISHED.items():
        code = main(["import-predictions", str(root / folder / "predictions.csv"), "--dataset", folder,
                     "--model", "gpt-4v", "--dimension", dimension, "--test-list",
                     str(root / folder / "labels.csv"), "--db", str(db), "--no-score"])
        assert code == 0
    return db


@pytest.fixture(scope="module")
def scores(imported):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scores", "--db", str(imported), "--json"]) == 0
    return json.loads(out.getvalue())


def _score(scores, dataset, metric):
    found = [s for s in scores if s["dataset"] == dataset and s["metric"] == metric and s["model"] == "gpt-4v"]
    assert len(found) == 1, (dataset, metric, found)
    return found[0]


@pytest.mark.parametrize("dataset", list(PUBLISHED))
def test_published_accuracy_reproduced(scores, dataset):
    dimension, answered, total, published, _ = PUBLISHED[dataset]
    accuracy = _score(scores, dataset, "accuracy")
    assert accuracy["dimension"] == dimension
    assert accuracy["strategy"] == "imported"
    assert round(accuracy["value"], 4) == published
    assert (accuracy["n"], accuracy["n_total"]) == (answered, total)
    assert accuracy["ci_low"] < accuracy["value"] < accuracy["ci_high"]
    assert 0 <= accuracy["ci_low"] and accuracy["ci_high"] <= 1


@pytest.mark.parametrize("dataset", list(PUBLISHED))
def test_coverage_and_strict_accuracy_over_the_test_list(scores, dataset):
    _, answered, total, _, strict_correct = PUBLISHED[dataset]
    coverage = _score(scores, dataset, "coverage")
    strict = _score(scores, dataset, "accuracy_strict")
    assert coverage["value"] == pytest.approx(answered / total, abs=1e-12)
    assert strict["value"] == pytest.approx(strict_correct / total, abs=1e-12)
    assert round(coverage["value"], 4) == {"abstract": 0.9913, "twitter2": 0.9768, "rafdb": 0.9997}[dataset]
    assert round(strict["value"], 4) == {"abstract": 0.7118, "twitter2": 0.8590, "rafdb": 0.7578}[dataset]
    assert strict["n"] == total == strict["n_total"]


def test_every_contract_metric_present_with_fractions(scores):
    for dataset in PUBLISHED:
        for metric in ("accuracy", "accuracy_strict", "coverage", "macro_f1", "weighted_f1", "uar", "cohen_kappa"):
            record = _score(scores, dataset, metric)
            assert set(record) >= {"dataset", "model", "strategy", "dimension", "metric", "value", "n", "n_total",
                                   "ci_low", "ci_high"}
            assert record["value"] is not None and -1 <= record["value"] <= 1


def test_rows_in_the_store(imported):
    con = duckdb.connect(str(imported), read_only=True)
    try:
        runs = con.execute("SELECT dataset, adapter, strategy, dimensions, n_items, provenance FROM runs "
                           "ORDER BY dataset").fetchall()
        assert [(r[0], r[1], r[2], list(r[3]), r[4]) for r in runs] == [
            ("abstract", "import", "imported", ["polarity"], 229),
            ("rafdb", "import", "imported", ["emotion"], 3068),
            ("twitter2", "import", "imported", ["polarity"], 603)]
        provenance = json.loads(runs[0][5])
        assert len(provenance["source_sha256"]) == 64 and provenance["answer_taxonomy"] == "mikels8"
        counts = dict(con.execute("SELECT dataset, count(*) FROM predictions GROUP BY dataset").fetchall())
        assert counts == {"abstract": 229, "twitter2": 603, "rafdb": 3068}
        status = dict(con.execute("SELECT status, count(*) FROM predictions WHERE dataset = 'rafdb' "
                                  "GROUP BY status").fetchall())
        assert status == {"ok": 3066, "partial": 1, "failed": 1}
        # The out-of-set answer is kept as the model's words, with no label.
        row = con.execute("SELECT label, raw_label, ranking[2] FROM predictions WHERE item_id = 'test_2615.jpg'"
                          ).fetchone()
        assert row == (None, "Concentration", "neutral")
        # Abstract: the Mikels answer becomes a polarity; its ranking stays in Mikels labels.
        row = con.execute("SELECT label, raw_label, ranking FROM predictions WHERE item_id = 'abstract_0208.jpg'"
                          ).fetchone()
        assert row[0] == "positive" and row[1] == "Amusement" and list(row[2])[:2] == ["amusement", "contentment"]
        # Gold of abstract: polarity from the Mikels labels of labels.csv, the Mikels label kept as emotion gold.
        gold = dict(con.execute("SELECT dimension, label FROM gold WHERE item_id = 'abstract_0004.jpg'").fetchall())
        assert gold == {"polarity": "negative", "emotion": "sadness"}
        assert con.execute("SELECT count(*) FROM items WHERE dataset = 'rafdb' AND image_sha256 IS NULL"
                           ).fetchone()[0] == 3068
        stored = con.execute("SELECT count(*) FROM scores WHERE metric = 'accuracy'").fetchone()[0]
        assert stored == 3
    finally:
        con.close()


def test_reimport_replaces_instead_of_duplicating(imported, tmp_path):
    root = shared_path("external", "gpt4v-emotion", "twitter2")
    args = ["import-predictions", str(root / "predictions.csv"), "--dataset", "twitter2", "--model", "gpt-4v",
            "--dimension", "polarity", "--test-list", str(root / "labels.csv"), "--db", str(imported)]
    assert main(args) == 0
    con = duckdb.connect(str(imported), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM predictions WHERE dataset = 'twitter2'").fetchone()[0] == 603
        assert con.execute("SELECT count(*) FROM runs WHERE dataset = 'twitter2'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM gold WHERE dataset = 'twitter2'").fetchone()[0] == 603
    finally:
        con.close()


def test_table_view_for_people(imported, capsys):
    assert main(["scores", "--db", str(imported), "--no-store", "--resamples", "0"]) == 0
    out = capsys.readouterr().out
    assert "0.7181" in out and "0.8795" in out and "0.7581" in out and "3067/3068" in out
