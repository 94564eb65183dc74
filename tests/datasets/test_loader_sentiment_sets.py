"""Image-emotion releases: FI, EmoSet-118K, Abstract, ArtPhoto, Twitter II and UnBiasedEmo.

Fixtures follow each release's documented layout, bad rows included; Twitter II and EmoSet are also
read with the real files in ../shared/layouts.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from datasets_fixtures import images, write_image
from tests.support import shared_path

from engine.datasets import load_dataset
from engine.errors import DatasetError


# ---------------------------------------------------------------- Twitter II

def test_twitter2_real_label_file_images_from_partitions(tmp_path):
    root = tmp_path / "twitter"
    root.mkdir()
    shutil.copy(shared_path("layouts", "twitter2", "groundTruthLabel.txt"), root / "groundTruthLabel.txt")
    images(root, "partition1/1.jpg", "partition1/2.jpg", "partition2/148.jpg", "partition5/810.jpg",
           "partition5/9999.jpg")
    ds = load_dataset("twitter2", path=tmp_path)  # finds twitter/ below the path
    labels = dict(line.split("\t") for line in
                  (root / "groundTruthLabel.txt").read_text().splitlines()[1:])  # CRLF read as text
    assert [(i.item_id, i.split) for i in ds.items] == [("1.jpg", "partition1"), ("2.jpg", "partition1"),
                                                        ("148.jpg", "partition2"), ("810.jpg", "partition5")]
    assert all(i.gold["polarity"].label == labels[i.item_id] for i in ds.items)
    assert ds.meta["labels_without_image"] == 810 - 4
    assert [p.row for p in ds.problems] == ["partition5/9999.jpg"] and "no row" in ds.problems[0].message
    gpt4v = shared_path("external", "gpt4v-emotion", "twitter2", "labels.csv").read_text().splitlines()[1:]
    assert all(labels[name] == gold for name, gold, _ in (line.split(",") for line in gpt4v))


def test_twitter2_bad_rows_and_flat_copy(tmp_path):
    (tmp_path / "groundTruthLabel.txt").write_bytes(
        b"Image\tSentiment\r\n1.jpg\tpositive\r\n2.jpg\tangry\r\n3.jpg\tnegative\r\n1.jpg\tnegative\r\n")
    images(tmp_path / "images", "1.jpg", "3.jpg")
    ds = load_dataset("twitter2", path=tmp_path)
    assert [(i.item_id, i.gold["polarity"].label, i.split) for i in ds.items] == [("1.jpg", "positive", None),
                                                                                ("3.jpg", "negative", None)]
    assert [p.row for p in ds.problems] == ["groundTruthLabel.txt line 3", "groundTruthLabel.txt line 5"]
    (tmp_path / "groundTruthLabel.txt").write_text("name,label\n")
    with pytest.raises(DatasetError, match="not the header Image<TAB>Sentiment"):
        load_dataset("twitter2", path=tmp_path)


# ---------------------------------------------------------------- Abstract

def test_abstract_single_quoted_votes_ties_polarity_and_unique_majority(tmp_path):
    root = tmp_path / "testImages_abstract"
    header = "'','Amusement','Anger','Awe','Content','Disgust','Excitement','Fear','Sad'"
    rows = ["'abstract_0001.jpg','1','0','2','8','0','1','1','1'",   # Content
            "'abstract_0002.jpg','0','5','0','0','5','0','2','2'",   # anger/disgust tie: negative
            "'abstract_0004.jpg','4','0','0','0','0','0','0','4'",   # amusement/sad tie: no polarity
            "'abstract_0005.jpg','0','0','0','0','0','0','0','0'",   # no votes
            "'abstract_0006.jpg','2','x','0','0','0','0','0','0'"]   # not a number
    root.mkdir()
    (root / "ABSTRACT_groundTruth.csv").write_text("\n".join([header, *rows]) + "\n")
    images(root, "abstract_0001.jpg", "abstract_0002.jpg", "abstract_0004.jpg")
    ds = load_dataset("abstract", path=tmp_path)
    by_id = {i.item_id: i for i in ds.items}
    assert list(by_id) == ["abstract_0001.jpg", "abstract_0002.jpg", "abstract_0004.jpg"]
    first = by_id["abstract_0001.jpg"]
    assert first.gold["emotion"].label == "contentment" and first.gold["polarity"].label == "positive"
    assert first.gold["distribution"].distribution["contentment"] == pytest.approx(8 / 14)
    assert first.gold["distribution"].n_raters == 14
    assert by_id["abstract_0002.jpg"].gold["emotion"].labels == ("anger", "disgust")
    assert by_id["abstract_0002.jpg"].gold["polarity"].label == "negative"
    assert "polarity" not in by_id["abstract_0004.jpg"].gold
    assert ds.splits == {"unique_majority": ["abstract_0001.jpg"]}
    assert [p.row for p in ds.problems] == ["ABSTRACT_groundTruth.csv line 5", "ABSTRACT_groundTruth.csv line 6"]
    assert "no votes" in ds.problems[0].message and "'x'" in ds.problems[1].message
    assert [i.item_id for i in load_dataset("abstract", path=root, split="unique_majority").items] == \
        ["abstract_0001.jpg"]


def test_abstract_gold_counts_of_the_published_test_list():
    """The GPT-4V benchmark's 229 unique-majority items: their Mikels labels normalise as the loader's do."""
    lines = shared_path("external", "gpt4v-emotion", "abstract", "labels.csv").read_text().splitlines()[1:]
    from engine.taxonomy import normalize_label
    counts = Counter(normalize_label(line.split(",")[1], "mikels8").label for line in lines)
    assert counts == {"contentment": 64, "excitement": 36, "fear": 36, "sadness": 32, "amusement": 25,
                      "disgust": 18, "awe": 15, "anger": 3}


# ---------------------------------------------------------------- ArtPhoto

def test_artphoto_prefixes_sad_and_bad_names(tmp_path):
    images(tmp_path / "testImages_artphoto", "amusement_1.jpg", "sad_2.jpg", "contentment_3.jpg", "joy_4.jpg",
           "noprefix.jpg", "fear_5.png")
    ds = load_dataset("artphoto", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label, i.gold["polarity"].label) for i in ds.items] == [
        ("amusement_1.jpg", "amusement", "positive"), ("contentment_3.jpg", "contentment", "positive"),
        ("sad_2.jpg", "sadness", "negative")]
    assert [p.row for p in ds.problems] == ["joy_4.jpg", "noprefix.jpg"]  # .png is not globbed, as in loaders


# ---------------------------------------------------------------- FI

def test_fi_folders_placeholders_and_unknown_folder(tmp_path):
    root = tmp_path / "emotion_dataset"
    images(root, "amusement/amusement_1.jpg", "sadness/sadness_2.jpg", "awe/awe_3.jpg", "happy/happy_4.jpg")
    placeholder = write_image(tmp_path / "ph.png", (128, 128, 128), fmt="PNG").read_bytes()
    for name in ("fear/fear_5.jpg", "anger/anger_6.jpg", "awe/awe_7.jpg"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(placeholder)
    ds = load_dataset("fi", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label, i.gold["polarity"].label) for i in ds.items] == [
        ("amusement/amusement_1.jpg", "amusement", "positive"), ("awe/awe_3.jpg", "awe", "positive"),
        ("sadness/sadness_2.jpg", "sadness", "negative")]
    assert ds.meta["placeholders"] == 3
    messages = {p.row: p.message for p in ds.problems}
    assert "happy/happy_4.jpg" in messages and "1 file(s) skipped" in messages["happy/happy_4.jpg"]
    assert "3 file(s) are byte-identical placeholders" in messages["emotion_dataset/"]
    kept = load_dataset("fi", path=root, placeholder_repeats=0)
    assert len(kept.items) == 6


def test_fi_flat_folder_by_prefix(tmp_path):
    images(tmp_path, "excitement_1.jpg", "disgust_2.jpg")
    ds = load_dataset("fi", path=tmp_path)
    assert {i.item_id: i.gold["emotion"].label for i in ds.items} == {"excitement_1.jpg": "excitement",
                                                                      "disgust_2.jpg": "disgust"}


# ---------------------------------------------------------------- UnBiasedEmo

def test_unbiasedemo_emotion_object_love_and_repeated_file_names(tmp_path):
    root = tmp_path / "UnBiasedEmo" / "images"
    images(root, "love/dog/1.jpg", "anger/dog/1.jpg", "joy/child/2.jpg", "surprise/crowd/3.jpg", "bored/dog/4.jpg")
    ds = load_dataset("unbiasedemo", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label, i.gold["polarity"].label, i.meta["object"]) for i in ds.items] == [
        ("anger/dog/1.jpg", "anger", "negative", "dog"), ("joy/child/2.jpg", "joy", "positive", "child"),
        ("love/dog/1.jpg", "love", "positive", "dog"), ("surprise/crowd/3.jpg", "surprise", "positive", "crowd")]
    assert ds.taxonomy == "unbiasedemo6" and [p.row for p in ds.problems] == ["bored/"]


# ---------------------------------------------------------------- EmoSet-118K

def _emoset(root: Path) -> None:
    shutil.copy(shared_path("layouts", "emoset", "info.json"), root / "info.json")
    entries = {
        "train": [["amusement", "amusement_00001", "image/amusement/amusement_00001.jpg",
                   "annotation/amusement/amusement_00001.json"],
                  ["sadness", "image/sadness/sadness_00002.jpg", "annotation/sadness/sadness_00002.json"],
                  ["joy", "joy_1", "image/joy/joy_1.jpg", "annotation/joy/joy_1.json"],
                  {"not": "a list"}],
        "val": [["awe", "awe_00003", "image/awe/awe_00003.jpg", "annotation/awe/awe_00003.json"]],
        "test": [["fear", "fear_00004", "image/fear/fear_00004.jpg", "annotation/fear/fear_00004.json"],
                 ["amusement", "amusement_00001", "image/amusement/amusement_00001.jpg",
                  "annotation/amusement/amusement_00001.json"]],
    }
    for split, listed in entries.items():
        (root / f"{split}.json").write_text(json.dumps(listed))
    images(root, "image/amusement/amusement_00001.jpg", "image/sadness/sadness_00002.jpg",
           "image/awe/awe_00003.jpg", "image/fear/fear_00004.jpg")
    notes = {"amusement/amusement_00001": {"brightness": 0.6, "colorfulness": 0.3, "scene": "amusement_park",
                                           "object": ["Balloon", "Sunflower"], "facial_expression": "happy",
                                           "human_action": "dancing ballet"},
             "sadness/sadness_00002": {"scene": "cemetery", "object": ["Flower"], "colorfulness": "0.1"},
             "fear/fear_00004": {"scene": "not-a-place", "brightness": 0.2}}
    for name, note in notes.items():
        (root / "annotation" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "annotation" / f"{name}.json").write_text(json.dumps(note))


def test_emoset_splits_attributes_and_bad_entries(tmp_path):
    _emoset(tmp_path)
    ds = load_dataset("emoset", path=tmp_path)
    by_id = {i.item_id: i for i in ds.items}
    assert {k: (i.gold["emotion"].label, i.gold["polarity"].label, i.split) for k, i in by_id.items()} == {
        "amusement_00001": ("amusement", "positive", "train"), "sadness_00002": ("sadness", "negative", "train"),
        "awe_00003": ("awe", "positive", "val"), "fear_00004": ("fear", "negative", "test")}
    assert by_id["amusement_00001"].meta == {"brightness": 0.6, "colorfulness": 0.3, "scene": "amusement_park",
                                             "object": ["Balloon", "Sunflower"], "facial_expression": "happy",
                                             "human_action": "dancing ballet"}
    assert by_id["sadness_00002"].meta == {"colorfulness": 0.1, "scene": "cemetery", "object": ["Flower"]}
    assert by_id["awe_00003"].meta == {}
    assert ds.meta["unknown_attribute_values"] == {"scene": 1}
    rows = {p.row: p.message for p in ds.problems}
    assert "not in info.json" in rows["train.json entry 2"]
    assert "not [emotion, id, image path" in rows["train.json entry 3"]
    assert "kept without attributes" in rows["val.json entry 0"]
    assert "repeats train.json entry 0" in rows["test.json entry 1"]
    assert [i.item_id for i in load_dataset("emoset", path=tmp_path, split="test").items] == ["fear_00004"]


def test_emoset_without_split_files_walks_the_image_folders(tmp_path):
    _emoset(tmp_path)
    for split in ("train", "val", "test"):
        (tmp_path / f"{split}.json").unlink()
    ds = load_dataset("emoset", path=tmp_path)
    assert sorted(i.item_id for i in ds.items) == ["amusement_00001", "awe_00003", "fear_00004", "sadness_00002"]
    assert {i.split for i in ds.items} == {None}
