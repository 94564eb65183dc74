"""Twitter I loader: the shared subset (splits from its files and SOURCE.md) and a three-row fixture."""

from __future__ import annotations

import csv
import shutil
from collections import Counter

import pytest
from tests.support import shared_path
from datasets_fixtures import images, write_csv

from engine.datasets import load_dataset

HEADER = ["image", "label", "sentiment", "agreement", "in_five_agree", "in_at_least_four_agree",
          "in_at_least_three_agree"]


@pytest.fixture(scope="module")
def real():
    return load_dataset("twitter1", path=shared_path("datasets", "twitter1"))


def test_real_splits_match_source_md_and_the_flags(real):
    assert len(real.items) == 636 and not real.problems
    assert {name: len(ids) for name, ids in real.splits.items()} == {
        "five_agree": 442, "at_least_four_agree": 559, "at_least_three_agree": 636}
    with shared_path("datasets", "twitter1", "labels.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    for name in real.splits:
        flagged = {r["image"].split("/")[-1] for r in records if r[f"in_{name}"] == "1"}
        assert set(real.splits[name]) == flagged
    five = real.subset(split="five_agree")
    assert Counter(i.gold["polarity"].label for i in five.items) == {"positive": 291, "negative": 151}
    assert Counter(i.gold["polarity"].label for i in real.items) == {"positive": 385, "negative": 251}
    # three pairs of byte-identical retweets: 636 items, 633 distinct images
    assert len({i.image_sha256 for i in real.items}) == 633


def test_real_first_row(real):
    with shared_path("datasets", "twitter1", "labels.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    item = next(i for i in real.items if i.image_path == first["image"])
    assert item.item_id == first["image"].split("/")[-1]
    assert item.gold["polarity"].label == first["sentiment"]
    assert item.meta["agreement"] == int(first["agreement"])


def test_original_ground_truth_lists_give_the_same_gold(real, tmp_path):
    shutil.copytree(shared_path("datasets", "twitter1", "ground_truth"), tmp_path / "ground_truth")
    original = load_dataset("twitter1", path=tmp_path, check_images=False)
    assert not original.problems
    ours = {i.item_id: i for i in real.items}
    assert {i.item_id: (i.gold["polarity"].label, i.meta["agreement"]) for i in original.items} == \
        {k: (i.gold["polarity"].label, i.meta["agreement"]) for k, i in ours.items()}
    assert {k: len(v) for k, v in original.splits.items()} == {k: len(v) for k, v in real.splits.items()}


def test_three_row_fixture_and_split_selection(tmp_path):
    images(tmp_path, "images/1_a.jpg", "images/2_b.jpg", "images/3_c.jpg")
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/1_a.jpg", 1, "positive", 5, 1, 1, 1],
        ["images/2_b.jpg", 0, "negative", 4, 0, 1, 1],
        ["images/3_c.jpg", 0, "negative", 3, 0, 0, 1],
    ])
    ds = load_dataset("twitter1", path=tmp_path)
    assert [(i.item_id, i.gold["polarity"].label, i.meta["agreement"]) for i in ds.items] == [
        ("1_a.jpg", "positive", 5), ("2_b.jpg", "negative", 4), ("3_c.jpg", "negative", 3)]
    assert ds.splits == {"five_agree": ["1_a.jpg"], "at_least_four_agree": ["1_a.jpg", "2_b.jpg"],
                         "at_least_three_agree": ["1_a.jpg", "2_b.jpg", "3_c.jpg"]}
    four = load_dataset({"name": "twitter1", "path": tmp_path, "split": "at_least_four_agree"})
    assert [i.item_id for i in four.items] == ["1_a.jpg", "2_b.jpg"]
    assert four.splits["five_agree"] == ["1_a.jpg"]
    with pytest.raises(ValueError, match="no split 'six_agree'"):
        load_dataset("twitter1", path=tmp_path, split="six_agree")


def test_contradicting_label_is_one_problem(tmp_path):
    images(tmp_path, "images/1_a.jpg", "images/2_b.jpg")
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/1_a.jpg", 1, "negative", 5, 1, 1, 1],
        ["images/2_b.jpg", 0, "negative", 5, 1, 1, 1],
    ])
    ds = load_dataset("twitter1", path=tmp_path)
    assert [i.item_id for i in ds.items] == ["2_b.jpg"]
    assert [str(p) for p in ds.problems] == [
        "labels.csv line 2: label '1' (positive) contradicts sentiment 'negative'; the row is skipped"]
