"""`affectlens import-predictions` on small written files: each path of the importer, each bad input."""

from __future__ import annotations

import duckdb
import pytest

from engine.cli.main import main
from engine.datasets.base import Dataset, Gold, Item
from engine.metrics.scoring import score_store
from engine.store import connect
from engine.datasets.stored import write_dataset


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def _rows(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _value(frame, metric, model=None):
    rows = frame[(frame["metric"] == metric) & ((frame["model"] == model) if model else True)]
    assert len(rows) == 1, metric
    return rows.iloc[0]


def test_labels_rankings_out_of_set_and_a_test_list(tmp_path, db_path, capsys):
    preds = _write(tmp_path / "p.csv", "file,truth,answer,conf\n"
                   "a.jpg,Happy,\"happiness, surprise\",0.9\n"
                   "b.jpg,sad,Pain,80\n"  # outside the label set: answered and wrong
                   "c.jpg,Angry,anger,0.7\n"
                   "d.jpg,scared,,0.5\n")  # empty cell: unanswered
    listing = _write(tmp_path / "test.txt", "a.jpg\nb.jpg\nc.jpg\nd.jpg\ne.jpg\n")
    assert main(["import-predictions", preds, "--dataset", "faces-listed", "--model", "m", "--id-col", "file",
                 "--gold-col", "truth", "--pred-col", "answer", "--confidence-col", "conf",
                 "--test-list", listing, "--db", str(db_path)]) == 0
    assert "1 evaluated items have no gold" in capsys.readouterr().err  # e.jpg: named, the rest imported
    assert dict(_rows(db_path, "SELECT item_id, status FROM predictions WHERE item_id IN ('d.jpg', 'e.jpg')")) == {
        "d.jpg": "failed", "e.jpg": "failed"}
    assert main(["import-predictions", preds, "--dataset", "faces", "--model", "m", "--id-col", "file",
                 "--gold-col", "truth", "--pred-col", "answer", "--confidence-col", "conf",
                 "--db", str(db_path)]) == 0
    rows = dict((r[0], r[1:]) for r in _rows(db_path, "SELECT item_id, status, label, raw_label, ranking, confidence "
                                                     "FROM predictions WHERE dataset = 'faces' ORDER BY item_id"))
    assert rows["a.jpg"][:2] == ("ok", "happiness") and list(rows["a.jpg"][3]) == ["happiness", "surprise"]
    assert rows["b.jpg"][:3] == ("partial", None, "Pain") and rows["b.jpg"][4] == pytest.approx(0.8)
    assert rows["d.jpg"][0] == "failed"
    gold = dict(_rows(db_path, "SELECT item_id, label FROM gold WHERE dataset = 'faces'"))
    assert gold == {"a.jpg": "happiness", "b.jpg": "sadness", "c.jpg": "anger", "d.jpg": "fear"}
    scores = score_store(db_path, dataset="faces", n_resamples=0)
    assert _value(scores, "accuracy")["value"] == pytest.approx(2 / 3)
    assert _value(scores, "coverage")["value"] == pytest.approx(3 / 4)
    assert _value(scores, "out_of_set_rate")["value"] == pytest.approx(1 / 4)
    assert _value(scores, "brier")["value"] == pytest.approx(((0.9 - 1) ** 2 + 0.8**2 + (0.7 - 1) ** 2) / 3)


def test_unknown_gold_labels_name_the_items_and_candidates(tmp_path, db_path, capsys):
    preds = _write(tmp_path / "p.csv", "name,gt,pred\nx1,anger,anger\nx2,Angre,fear\nx3,fear,fear\n")
    assert main(["import-predictions", preds, "--dataset", "d", "--model", "m", "--dimension", "emotion",
                 "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert "item x2" in err and "'Angre'" in err and "nearest: anger" in err and "--taxonomy" in err
    assert not db_path.exists()  # checked before anything is written


def test_bad_files_give_one_clear_line(tmp_path, db_path, capsys):
    preds = _write(tmp_path / "p.csv", "id,gold,score\nx1,5.5,6\nx2,3.0,oops\nx3,7.0,12\n")
    assert main(["import-predictions", preds, "--dataset", "d", "--model", "m", "--dimension", "valence",
                 "--db", str(db_path)]) == 2
    assert "--scale" in capsys.readouterr().err
    assert main(["import-predictions", preds, "--dataset", "d", "--model", "m", "--pred-col", "answer",
                 "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert "no column 'answer'" in err and "its columns: id, gold, score" in err
    assert main(["import-predictions", str(tmp_path / "missing.csv"), "--dataset", "d", "--model", "m",
                 "--db", str(db_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["import-predictions", preds, "--dataset", "d", "--model", "m", "--dimension", "valence",
                 "--scale", "9-1", "--db", str(db_path)]) == 2
    assert "high end" in capsys.readouterr().err
    # the same file with a scale: a non-number is unanswered, a number off the scale answered without a value
    assert main(["import-predictions", preds, "--dataset", "d", "--model", "m", "--dimension", "valence",
                 "--scale", "1-9", "--db", str(db_path)]) == 0
    status = dict(_rows(db_path, "SELECT item_id, status FROM predictions"))
    assert status == {"x1": "ok", "x2": "failed", "x3": "partial"}
    norm = _rows(db_path, "SELECT value_norm FROM gold WHERE item_id = 'x1'")[0][0]
    assert norm == pytest.approx((5.5 - 1) / 8 * 2 - 1)


def test_existing_dataset_is_reused_and_ids_matched_by_file_name(tmp_path, db_path, capsys):
    items = [Item(f"img{i}", f"photos/img{i}.jpg", {"valence": Gold(value=float(v), scale=(1.0, 7.0))})
             for i, v in enumerate([1, 2, 3, 5, 6, 7])]
    with connect(db_path) as con:
        write_dataset(con, Dataset("oasis-mini", "manifest", tmp_path, items, scales={"valence": (1.0, 7.0)}))
    preds = _write(tmp_path / "v.csv", "name,valence\n" + "".join(
        f"img{i}.jpg,{p}\n" for i, p in enumerate([10, 30, 35, 70, 80, 95])) + "ghost.jpg,50\n")
    assert main(["import-predictions", preds, "--dataset", "oasis-mini", "--model", "m", "--dimension", "valence",
                 "--scale", "0-100", "--gold-col", "none", "--pred-col", "valence", "--db", str(db_path)]) == 0
    assert "ghost.jpg" in capsys.readouterr().err  # reported, the rest imported
    assert _rows(db_path, "SELECT count(*) FROM items WHERE dataset = 'oasis-mini'")[0][0] == 6
    scores = score_store(db_path, n_resamples=0)
    x = [(p / 100) * 2 - 1 for p in (10, 30, 35, 70, 80, 95)]
    y = [(v - 1) / 6 * 2 - 1 for v in (1, 2, 3, 5, 6, 7)]
    assert _value(scores, "mae")["value"] == pytest.approx(sum(abs(a - b) for a, b in zip(x, y)) / 6)
    assert _value(scores, "pearson")["n"] == 6


def test_gold_conflicts_between_file_and_test_list_are_reported(tmp_path, db_path, capsys):
    preds = _write(tmp_path / "p.csv", "name,gt,gpt4v\nq1,positive,Awe\nq2,positive,Sad\nq3,negative,Fear\n")
    listing = _write(tmp_path / "labels.csv", "name,gt,gpt4v\nq1,Content,\nq2,Anger,\nq3,Fear,\nq4,Sad,\n")
    assert main(["import-predictions", preds, "--dataset", "abs", "--model", "m", "--dimension", "polarity",
                 "--test-list", listing, "--db", str(db_path)]) == 0
    err = capsys.readouterr().err
    assert "1 items have different gold" in err and "q2" in err
    gold = dict(_rows(db_path, "SELECT item_id, label FROM gold WHERE dimension = 'polarity'"))
    assert gold == {"q1": "positive", "q2": "negative", "q3": "negative", "q4": "negative"}
    scores = score_store(db_path, n_resamples=0)
    assert _value(scores, "accuracy")["value"] == 1.0 and _value(scores, "accuracy_strict")["value"] == 0.75


def test_prediction_cells_are_read_by_the_answer_parser(tmp_path, db_path):
    """A cell holding a short sentence is read as the parser reads an answer slot, not only as a bare label."""
    preds = _write(tmp_path / "p.csv", "id,gold,pred\n"
                   "a,sadness,The emotion is fear\n"
                   "b,anger,**Anger**.\n"
                   "c,fear,no idea\n")
    assert main(["import-predictions", preds, "--dataset", "sentences", "--model", "m", "--id-col", "id",
                 "--gold-col", "gold", "--pred-col", "pred", "--taxonomy", "ekman7", "--db", str(db_path)]) == 0
    rows = dict((r[0], r[1:]) for r in _rows(db_path, "SELECT item_id, status, label FROM predictions "
                                                     "WHERE dataset = 'sentences'"))
    assert rows == {"a": ("ok", "fear"), "b": ("ok", "anger"), "c": ("partial", None)}
