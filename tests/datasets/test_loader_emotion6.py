"""Emotion6 loader: the shared subset (counts and values from its files and SOURCE.md) and a three-row fixture."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter

import pytest
from tests.support import shared_path
from datasets_fixtures import images, write_csv

from engine.datasets import load_dataset
from engine.datasets.emotion6 import CATEGORIES, _ground_truth_rows, item_from_record

HEADER = ["image", "keyword_folder", "valence", "arousal", *(f"p_{c}" for c in CATEGORIES)]


@pytest.fixture(scope="module")
def real():
    # header check only (hashes every file, parses every header): full decoding is covered by the other
    # loaders' real-data tests and by the fixtures, and would triple this module's time
    return load_dataset({"name": "emotion6", "path": shared_path("datasets", "emotion6"),
                         "check_images": "header"})


def test_real_counts_match_source_md(real):
    assert len(real.items) == 810 and not real.problems
    argmax = Counter(item.gold["emotion"].label or "tie" for item in real.items)
    # SOURCE.md: "joy 255, neutral 135, fear 127, sadness 119, disgust 96, surprise 36, anger 8, tie 34"
    assert argmax == {"joy": 255, "neutral": 135, "fear": 127, "sadness": 119, "disgust": 96, "surprise": 36,
                      "anger": 8, "tie": 34}
    # "The human distribution's argmax agrees with the folder for only 403 of the 810 images."
    assert sum(item.gold["emotion"].label == item.meta["keyword_folder"] for item in real.items) == 403
    assert Counter(item.meta["keyword_folder"] for item in real.items) == {k: 135 for k in
                                                                          ("anger", "disgust", "fear", "joy",
                                                                           "sadness", "surprise")}
    valence = [item.gold["valence"].value for item in real.items]
    assert (min(valence), max(valence)) == (1.0, 8.6)
    assert real.scales == {"valence": (1.0, 9.0), "arousal": (1.0, 9.0)}


def test_real_first_row_and_hashes_match_the_files(real):
    root = shared_path("datasets", "emotion6")
    with (root / "labels.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    item = next(i for i in real.items if f"images/{i.item_id}" == first["image"])
    assert item.gold["valence"].value == float(first["valence"])
    assert item.gold["arousal"].value == float(first["arousal"])
    assert item.gold["distribution"].distribution == {c: float(first[f"p_{c}"]) for c in CATEGORIES}
    assert item.meta["keyword_folder"] == first["keyword_folder"]
    sums = dict(line.split("  ", 1)[::-1] for line in (root / "checksums.sha256").read_text().splitlines())
    assert item.image_sha256 == sums[first["image"]]
    assert item.image_sha256 == hashlib.sha256((root / first["image"]).read_bytes()).hexdigest()


def test_real_ties_and_polarity_rule(real):
    for item in real.items:
        emotion = item.gold["emotion"]
        shares = item.gold["distribution"].distribution
        top = max(shares.values())
        assert set(emotion.labels) == {c for c, p in shares.items() if abs(p - top) < 1e-4}
        assert (emotion.label is None) == (len(emotion.labels) > 1)
        polarity = item.gold.get("polarity")
        if "neutral" in emotion.labels:
            assert polarity is None
        elif set(emotion.labels) <= {"anger", "disgust", "fear", "sadness"}:
            assert polarity.label == "negative"
        elif set(emotion.labels) <= {"joy", "surprise"}:
            assert polarity.label == "positive"
        else:
            assert polarity is None  # a tie across polarities


def test_original_ground_truth_txt_reads_like_labels_csv():
    root = shared_path("datasets", "emotion6")
    rows, problems = _ground_truth_rows(root / "ground_truth.txt")
    with (root / "labels.csv").open(newline="") as handle:
        records = {r["image"]: r for r in csv.DictReader(handle)}
    assert not problems and len(rows) == len(records) == 810
    for _, record in rows:
        a, b = item_from_record(record), item_from_record(records[record["image"]])
        assert a.gold == b.gold and a.item_id == b.item_id and a.meta == b.meta


def test_three_row_fixture(tmp_path):
    images(tmp_path, "images/joy/1.jpg", "images/fear/2.jpg", "images/sadness/3.jpg")
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/joy/1.jpg", "joy", 7.5, 5.0, 0, 0, 0, 0.8, 0, 0.1, 0.1],
        ["images/fear/2.jpg", "fear", 3.0, 6.0, 0, 0, 0.4, 0, 0.4, 0, 0.2],
        ["images/sadness/3.jpg", "sadness", 4.0, 3.0, 0, 0, 0, 0.1, 0, 0.45, 0.45],
    ])
    ds = load_dataset("emotion6", path=tmp_path)
    by_id = {item.item_id: item for item in ds.items}
    assert list(by_id) == ["joy/1.jpg", "fear/2.jpg", "sadness/3.jpg"] and not ds.problems
    assert by_id["joy/1.jpg"].gold["emotion"].label == "joy"
    assert by_id["joy/1.jpg"].gold["polarity"].label == "positive"
    tied = by_id["fear/2.jpg"].gold["emotion"]
    assert tied.label is None and tied.labels == ("fear", "sadness")
    assert by_id["fear/2.jpg"].gold["polarity"].label == "negative"  # both tied labels are negative
    assert by_id["sadness/3.jpg"].gold["emotion"].labels == ("surprise", "neutral")
    assert "polarity" not in by_id["sadness/3.jpg"].gold  # a tie including neutral has no polarity
    assert by_id["sadness/3.jpg"].meta == {"keyword_folder": "sadness"}

    keyword = load_dataset("emotion6", path=tmp_path, emotion_gold="keyword")
    assert [i.gold["emotion"].label for i in keyword.items] == ["joy", "fear", "sadness"]


def test_bad_row_is_reported_and_the_rest_loads(tmp_path):
    images(tmp_path, "images/joy/1.jpg", "images/fear/2.jpg")
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/joy/1.jpg", "joy", 7.5, 5.0, 0, 0, 0, 0.8, 0, 0.1, 0.1],
        ["images/fear/2.jpg", "fear", "high", 6.0, 0, 0, 0.4, 0, 0.4, 0, 0.2],
    ])
    ds = load_dataset("emotion6", path=tmp_path)
    assert [i.item_id for i in ds.items] == ["joy/1.jpg"]
    assert [str(p) for p in ds.problems] == [
        "labels.csv line 3: column 'valence' holds 'high', not a number; the row is skipped"]
