"""`affectlens demo` end to end into a temporary store: offline baselines plus the tiny untrained local model."""

from __future__ import annotations

import csv

import duckdb

from engine.cli.main import main
from engine.sample import SCENE_KINDS
from tests.conftest import shared_path


def test_demo_runs_offline_and_stores_labels_fixed_by_construction(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AFFECTLENS_SAMPLE_DIR", str(tmp_path / "sample"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what the demo sets; restored after the test
    db = tmp_path / "results.duckdb"
    assert main(["demo", "--db", str(db), "--limit", "18", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Scores" in out and "streamlit run" in out and "tiny-llava-untrained" in out
    manifest = list(csv.DictReader((tmp_path / "sample" / "manifest.csv").open()))
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = dict(con.execute("SELECT model, status FROM runs").fetchall())
        assert runs == {m: "complete" for m in ("color-affect", "features", "majority", "uniform",
                                                "tiny-llava-untrained")}
        n_test = 18  # --limit: the first 18 test items
        counts = con.execute("SELECT model, count(DISTINCT item_id), count(*) FROM predictions JOIN runs "
                             "USING (run_id) GROUP BY model").fetchall()
        assert sorted(counts) == sorted((m, n_test, 2 * n_test) for m in runs)
        gold = {(item, dim): label for item, dim, label in con.execute(
            "SELECT item_id, dimension, label FROM gold WHERE dataset = 'affectlens-sample'").fetchall()}
        for row in manifest:  # gold is what was drawn: the face's expression, the scene's kind
            kind, drawn = row["kind"], row["drawn"]
            assert row["item_id"].startswith(f"{kind}-{drawn}-")
            if kind == "face":
                assert gold[(row["item_id"], "emotion")] == drawn
            else:
                assert gold[(row["item_id"], "polarity")] == SCENE_KINDS[drawn]
                assert (row["item_id"], "emotion") not in gold
        resolved = con.execute("SELECT model_id_resolved FROM runs WHERE model = 'tiny-llava-untrained'").fetchall()
        assert "untrained" in resolved[0][0]
        assert con.execute("SELECT count(*) FROM scores").fetchall()[0][0] > 0
    finally:
        con.close()


def test_demo_over_a_real_dataset(tmp_path, monkeypatch, capsys):
    emotion6 = shared_path("datasets", "emotion6")
    monkeypatch.setenv("AFFECTLENS_SAMPLE_DIR", str(tmp_path / "sample"))
    db = tmp_path / "results.duckdb"
    assert main(["demo", "--db", str(db), "--dataset", str(emotion6), "--limit", "12", "--no-local-model",
                 "--quiet"]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT dataset, model, status, dimensions FROM runs ORDER BY model").fetchall()
        assert [r[1] for r in runs] == ["color-affect", "majority", "uniform"]  # no train split: no features
        assert all(r[0] == "emotion6" and r[2] == "complete" for r in runs)
        assert {"valence", "arousal"} <= set(runs[0][3])
        assert con.execute("SELECT count(DISTINCT item_id) FROM predictions").fetchall() == [(12,)]
    finally:
        con.close()
