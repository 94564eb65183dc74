"""`affectlens datasets list | show | load` through the real entry point, asserting on output and store rows."""

from __future__ import annotations

import json

import duckdb
from tests.support import shared_path
from datasets_fixtures import images, write_csv

from engine.cli.main import main


def test_load_then_list_and_show_from_the_store(tmp_path, db_path, capsys):
    images(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    write_csv(tmp_path / "my.csv", ["file", "sentiment"], [["a.jpg", "positive"], ["b.jpg", "negative"],
                                                          ["c.jpg", "meh"]])
    code = main(["datasets", "load", "my-set", "--path", str(tmp_path / "my.csv"), "--format", "csv",
                 "-o", "image_col=file", "-o", "label_cols.polarity=sentiment", "--db", str(db_path)])
    out = capsys.readouterr()
    assert code == 0 and "stored 2 items of 'my-set'" in out.out and "1 row(s) skipped" in out.out
    assert "my.csv line 4" in out.err and "'meh' is not a known label" in out.err
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM items WHERE dataset = 'my-set'").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM images").fetchone()[0] == 2
    finally:
        con.close()

    assert main(["datasets", "list", "--db", str(db_path)]) == 0
    listing = capsys.readouterr().out
    assert "emotion6" in listing and "twitter1" in listing and "folder" in listing
    assert "my-set" in listing and "polarity2" in listing

    assert main(["datasets", "show", "my-set", "--db", str(db_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_items"] == 2 and summary["label_balance"] == {"polarity": {"positive": 1, "negative": 1}}
    assert summary["n_problems"] == 1 and "my.csv line 4" in summary["problems"][0]


def test_show_a_built_in_dataset_from_disk(capsys):
    root = shared_path("datasets", "twitter1")
    assert main(["datasets", "show", "twitter1", "--path", str(root), "--split", "five_agree",
                 "-o", "check_images=header"]) == 0
    out = capsys.readouterr().out
    assert "442 items" in out and "positive 291 (65.8%), negative 151 (34.2%)" in out
    assert "five_agree 442" in out and "at_least_four_agree 442" in out  # named splits counted within the subset


def test_clear_errors(tmp_path, db_path, capsys):
    assert main(["datasets", "show", "emotion6", "--db", str(db_path)]) == 2
    assert "give its folder with --path" in capsys.readouterr().err
    assert main(["datasets", "show", "nothing-here", "--db", str(db_path)]) == 2
    assert "no dataset 'nothing-here'" in capsys.readouterr().err
    assert main(["datasets", "show", "oasis", "--path", str(tmp_path)]) == 2
    assert "neither labels.csv nor OASIS.csv" in capsys.readouterr().err
    assert main(["datasets", "show", "x", "--path", str(tmp_path), "-o", "novalue"]) == 2
    assert "is not KEY=VALUE" in capsys.readouterr().err
