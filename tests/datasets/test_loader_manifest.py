"""Manifest loader: CSV and JSONL with a column mapping, and every kind of bad row reported on its own."""

from __future__ import annotations

import json
import os

import pytest
from datasets_fixtures import images, write_csv, write_image

from engine.datasets import load_dataset
from engine.errors import DatasetError


def test_design_config_shape_three_rows(tmp_path):
    images(tmp_path, "img/a.jpg", "img/b.png", "img/c.jpg")
    write_csv(tmp_path / "my.csv", ["image", "sentiment", "label", "v", "photographer"], [
        ["img/a.jpg", "Positive", "Content", "7.5", "ann"],
        ["img/b.png", "neg", "sad.", "2", "bob"],
        ["img/c.jpg", "positive", "AWE", "", "ann"],
    ])
    ds = load_dataset({"name": "my-set", "format": "csv", "path": tmp_path / "my.csv", "image_col": "image",
                       "label_cols": {"polarity": "sentiment", "emotion": "label", "valence": "v"},
                       "scales": {"valence": [1, 9]}})
    assert ds.name == "my-set" and ds.loader == "manifest" and not ds.problems
    assert ds.taxonomy == "mikels8"  # inferred: Content and awe only exist there
    a, b, c = ds.items
    assert (a.item_id, a.gold["polarity"].label, a.gold["emotion"].label, a.gold["valence"].value) == \
        ("img/a.jpg", "positive", "contentment", 7.5)
    assert (b.gold["polarity"].label, b.gold["emotion"].label, b.gold["valence"].scale) == \
        ("negative", "sadness", (1.0, 9.0))
    assert "valence" not in c.gold  # an empty cell is no gold, not an error
    assert a.meta == {"photographer": "ann"}
    assert all(len(i.image_sha256) == 64 for i in ds.items)


def test_jsonl_with_ids_splits_codes_and_distribution(tmp_path):
    images(tmp_path, "x1.jpg", "x2.jpg", "x3.jpg")
    rows = [
        {"file": "x1.jpg", "key": "k1", "part": "train", "pol": 1, "probs": {"happy": 3, "sad": 1}},
        {"file": "x2.jpg", "key": "k2", "part": "test", "pol": 0, "probs": {"anger": 1}},
        {"file": "x3.jpg", "key": "k3", "part": "test", "pol": 0, "probs": {"Fear": 0.5, "disgust": 0.5}},
    ]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = load_dataset("m", format="jsonl", path=tmp_path / "m.jsonl", image_col="file", id_col="key",
                      split_col="part", label_cols={"polarity": "pol", "distribution": "probs"},
                      label_values={"polarity": {"1": "positive", "0": "negative"}}, taxonomy="ekman6")
    assert not ds.problems
    assert [(i.item_id, i.split, i.gold["polarity"].label) for i in ds.items] == [
        ("k1", "train", "positive"), ("k2", "test", "negative"), ("k3", "test", "negative")]
    assert ds.items[0].gold["distribution"].distribution == {"happiness": 0.75, "sadness": 0.25}
    assert [i.item_id for i in ds.subset(split="test").items] == ["k2", "k3"]


def test_bad_rows_each_give_one_clear_problem_and_the_rest_loads(tmp_path):
    root = tmp_path / "set"
    images(root, "ok1.jpg", "ok2.jpg", "ok3.jpg")
    (root / "notes.jpg").write_text("this is a text file, not a picture\n")
    outside = write_image(tmp_path / "outside.jpg")
    os.symlink(outside, root / "link.jpg")
    (root / "broken.jpg").write_bytes((root / "ok1.jpg").read_bytes()[:200])  # truncated JPEG
    manifest = root / "labels.csv"
    manifest.write_text(
        "image,sentiment\n"
        "ok1.jpg,positive\n"                    # line 2: fine
        "missing.jpg,positive\n"                # line 3: no such file
        "notes.jpg,negative\n"                  # line 4: not an image
        "../outside.jpg,negative\n"             # line 5: leaves the root
        "ok2.jpg,sorta happy\n"                 # line 6: unknown label
        "ok2.jpg,negative,extra,cells\n"        # line 7: malformed row
        "link.jpg,positive\n"                   # line 8: symlink out of the root
        f"{outside},positive\n"                 # line 9: absolute path
        "broken.jpg,negative\n"                 # line 10: truncated image
        "ok2.jpg,negative\n"                    # line 11: fine
        "ok3.jpg,positve\n"                     # line 12: misspelt label
    )
    ds = load_dataset("bad", format="csv", path=manifest, label_cols={"polarity": "sentiment"})
    assert [(i.item_id, i.gold["polarity"].label) for i in ds.items] == [("ok1.jpg", "positive"),
                                                                         ("ok2.jpg", "negative")]
    problems = {p.row: p.message for p in ds.problems}
    assert sorted(problems) == sorted(f"labels.csv line {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 12))
    assert "missing.jpg: file not found" in problems["labels.csv line 3"]
    assert "not an image" in problems["labels.csv line 4"]
    assert "'..'" in problems["labels.csv line 5"]
    assert "'sorta happy' is not a known label" in problems["labels.csv line 6"]
    assert "has 4 cells where the header has 2" in problems["labels.csv line 7"]
    assert "outside the dataset root" in problems["labels.csv line 8"]
    assert "is absolute" in problems["labels.csv line 9"]
    assert "truncated or corrupt" in problems["labels.csv line 10"]
    assert "nearest: positive" in problems["labels.csv line 12"]
    assert all(message.endswith("the row is skipped") for message in problems.values())


def test_unclosed_quote_costs_only_its_line(tmp_path):
    images(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    (tmp_path / "m.csv").write_text('image,label\na.jpg,joy\n"b.jpg,sadness\nc.jpg,fear\n')
    ds = load_dataset("q", format="csv", path=tmp_path / "m.csv", label_cols={"emotion": "label"},
                      taxonomy="ekman7")
    assert [i.item_id for i in ds.items] == ["a.jpg", "c.jpg"]
    assert [p.row for p in ds.problems] == ["m.csv line 3"]
    assert "quote" in ds.problems[0].message


def test_bad_json_line_costs_only_itself(tmp_path):
    images(tmp_path, "a.jpg", "b.jpg")
    (tmp_path / "m.jsonl").write_text('{"image": "a.jpg", "v": 3}\n{"image": "b.jpg", "v": \n')
    ds = load_dataset("j", format="jsonl", path=tmp_path / "m.jsonl", label_cols={"valence": "v"},
                      scales={"valence": [1, 7]})
    assert [i.item_id for i in ds.items] == ["a.jpg"]
    assert ds.problems[0].row == "m.jsonl line 2" and "not valid JSON" in ds.problems[0].message


def test_whole_file_failures_name_the_fix(tmp_path):
    images(tmp_path, "a.jpg")
    write_csv(tmp_path / "m.csv", ["image", "v"], [["a.jpg", 5]])
    with pytest.raises(DatasetError, match=r"add scales: \{valence: \[LOW, HIGH\]\}"):
        load_dataset("m", format="csv", path=tmp_path / "m.csv", label_cols={"valence": "v"})
    with pytest.raises(DatasetError, match=r"no column 'sentiment' \(from label_cols.polarity\).*image, v"):
        load_dataset("m", format="csv", path=tmp_path / "m.csv", label_cols={"polarity": "sentiment"})
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("m", format="csv", path=tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="unknown dimension"):
        load_dataset("m", format="csv", path=tmp_path / "m.csv", label_cols={"mood": "v"})


def test_out_of_scale_and_non_numeric_values(tmp_path):
    images(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    write_csv(tmp_path / "m.csv", ["image", "v"], [["a.jpg", 5], ["b.jpg", 12], ["c.jpg", "high"]])
    ds = load_dataset("m", format="csv", path=tmp_path / "m.csv", label_cols={"valence": "v"},
                      scales={"valence": [1, 9]})
    assert [i.item_id for i in ds.items] == ["a.jpg"]
    assert [str(p) for p in ds.problems] == [
        "m.csv line 3: valence 12.0 is outside its scale 1-9; fix the cell or the scales option; the row is skipped",
        "m.csv line 4: valence 'high' is not a number; the row is skipped"]
