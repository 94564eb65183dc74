"""Row-level failures stay row-level: a path that is too long, holds a NUL byte, runs through a file or
cannot be read becomes that row's problem naming its line; every other row loads. One test per loader."""

from __future__ import annotations

import json
import os

import pytest
from datasets_fixtures import images, write_csv, write_image

from engine.datasets import load_dataset

LONG = "images/" + "x" * 5000 + ".jpg"  # a 5,000-character path: ENAMETOOLONG from the file system
LONG_NAME = "images/" + "y" * 300 + ".jpg"  # one name past NAME_MAX (255)
NUL = "images/bad\x00name.jpg"
THROUGH_FILE = "images/good.jpg/inner.jpg"  # ENOTDIR: a file used as a folder
BAD = (LONG, LONG_NAME, NUL, THROUGH_FILE)


def check(ds, good_ids: list[str], file_name: str, bad_lines: list[int]):
    assert sorted(item.item_id for item in ds.items) == sorted(good_ids)
    problems = {p.row: p.message for p in ds.problems}
    assert sorted(problems) == sorted(f"{file_name} line {n}" for n in bad_lines), problems
    for message in problems.values():
        assert "the row is skipped" in message and len(message) < 600  # never the whole 5,000 characters
    messages = " ".join(problems.values())
    assert "NUL byte" in messages and "File name too long" in messages and "(5,0" in messages
    return problems


def test_manifest_csv(tmp_path):
    write_image(tmp_path / "images" / "good.jpg")
    write_image(tmp_path / "images" / "also.jpg", (10, 200, 10))
    rows = [["images/good.jpg", "sad"], *[[path, "sad"] for path in BAD], ["images/also.jpg", "happy"]]
    write_csv(tmp_path / "m.csv", ["image", "emotion"], rows)
    ds = load_dataset({"name": "m", "format": "csv", "path": tmp_path / "m.csv", "image_col": "image",
                       "label_cols": {"emotion": "emotion"}, "taxonomy": "ekman7"})
    check(ds, ["images/good.jpg", "images/also.jpg"], "m.csv", [3, 4, 5, 6])


def test_manifest_csv_without_image_checks(tmp_path):
    write_image(tmp_path / "images" / "good.jpg")
    write_csv(tmp_path / "m.csv", ["image", "emotion"], [["images/good.jpg", "sad"], *[[p, "sad"] for p in BAD]])
    ds = load_dataset({"name": "m", "format": "csv", "path": tmp_path / "m.csv", "image_col": "image",
                       "label_cols": {"emotion": "emotion"}, "taxonomy": "ekman7", "check_images": False})
    problems = {p.row: p.message for p in ds.problems}
    assert [item.item_id for item in ds.items] == ["images/good.jpg", THROUGH_FILE]  # not opened: not checked
    assert sorted(problems) == ["m.csv line 3", "m.csv line 4", "m.csv line 5"]


def test_manifest_jsonl(tmp_path):
    write_image(tmp_path / "images" / "good.jpg")
    lines = [{"image": "images/good.jpg", "emotion": "sad"}] + [{"image": p, "emotion": "fear"} for p in BAD]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    ds = load_dataset({"name": "m", "format": "jsonl", "path": tmp_path / "m.jsonl", "image_col": "image",
                       "label_cols": {"emotion": "emotion"}, "taxonomy": "ekman7"})
    check(ds, ["images/good.jpg"], "m.jsonl", [2, 3, 4, 5])


def test_emotion6(tmp_path):
    images(tmp_path, "images/joy/1.jpg")
    probs = [0, 0, 0, 0.8, 0, 0.1, 0.1]
    rows = [["images/joy/1.jpg", "joy", 7.5, 5.0, *probs]] + [[p.replace("images/", "images/joy/"), "joy", 7.0, 5.0,
                                                                *probs] for p in BAD]
    header = ["image", "keyword_folder", "valence", "arousal",
              *(f"p_{c}" for c in ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"))]
    write_csv(tmp_path / "labels.csv", header, rows)
    ds = load_dataset("emotion6", path=tmp_path)
    check(ds, ["joy/1.jpg"], "labels.csv", [3, 4, 5, 6])


def test_oasis(tmp_path):
    write_image(tmp_path / "images" / "good.jpg")
    header = ["image", "id", "theme", "category", "source", "valence_mean", "valence_sd", "valence_n",
              "arousal_mean", "arousal_sd", "arousal_n"]
    rows = [["images/good.jpg", "I1", "Dog 1", "Animal", "Pixabay", 5.9, 1.1, 100, 3.2, 1.6, 99]] + [
        [p, f"I{n + 2}", f"T {n}", "Object", "Pixabay", 4.0, 1.0, 100, 3.0, 1.0, 100] for n, p in enumerate(BAD)]
    write_csv(tmp_path / "labels.csv", header, rows)
    ds = load_dataset("oasis", path=tmp_path)
    check(ds, ["I1"], "labels.csv", [3, 4, 5, 6])


def test_twitter1(tmp_path):
    images(tmp_path, "images/good.jpg")
    header = ["image", "label", "sentiment", "agreement", "in_five_agree", "in_at_least_four_agree",
              "in_at_least_three_agree"]
    write_csv(tmp_path / "labels.csv", header, [["images/good.jpg", 1, "positive", 5, 1, 1, 1]] +
              [[p, 0, "negative", 5, 1, 1, 1] for p in BAD])
    ds = load_dataset("twitter1", path=tmp_path)
    check(ds, ["good.jpg"], "labels.csv", [3, 4, 5, 6])


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads every file and folder")
def test_unreadable_image_and_folder_are_row_problems(tmp_path):
    write_image(tmp_path / "happy" / "1.jpg")
    locked_file = write_image(tmp_path / "happy" / "2.jpg")
    write_image(tmp_path / "sad" / "1.jpg")
    locked_file.chmod(0)
    (tmp_path / "sad").chmod(0)
    try:
        ds = load_dataset({"name": "f", "format": "folder", "path": tmp_path, "taxonomy": "ekman7"})
    finally:
        locked_file.chmod(0o644)
        (tmp_path / "sad").chmod(0o755)
    assert [item.item_id for item in ds.items] == ["happy/1.jpg"]
    messages = {p.row: p.message for p in ds.problems}
    assert "Permission denied" in messages["sad/"] and "Permission denied" in messages["happy/2.jpg"]
