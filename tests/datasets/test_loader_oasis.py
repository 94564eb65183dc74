"""OASIS loader: the shared subset (counts and values from its files) and a three-row fixture."""

from __future__ import annotations

import csv
import shutil
from collections import Counter

import pytest
from tests.support import shared_path
from datasets_fixtures import write_csv, write_image

from engine.datasets import image_rows, load_dataset
from engine.errors import DatasetError

HEADER = ["image", "id", "theme", "category", "source", "valence_mean", "valence_sd", "valence_n",
          "arousal_mean", "arousal_sd", "arousal_n"]


@pytest.fixture(scope="module")
def real():
    return load_dataset("oasis", path=shared_path("datasets", "oasis"))


def test_real_counts_scales_and_categories(real):
    root = shared_path("datasets", "oasis")
    with (root / "labels.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(real.items) == len(records) == 423 and not real.problems
    # SOURCE.md: "Person 145, Scenery 110, Object 100, Animal 68"
    assert Counter(i.meta["category"] for i in real.items) == {"Person": 145, "Scenery": 110, "Object": 100,
                                                              "Animal": 68}
    assert real.scales == {"valence": (1.0, 7.0), "arousal": (1.0, 7.0)}
    for dim in ("valence", "arousal"):
        values = sorted(i.gold[dim].value for i in real.items)
        expected = sorted(float(r[f"{dim}_mean"]) for r in records)
        assert values == expected
    assert round(min(i.gold["valence"].value for i in real.items), 2) == 1.11  # SOURCE.md: 1.11 to 6.49
    assert round(max(i.gold["valence"].value for i in real.items), 2) == 6.49


def test_real_first_row_and_the_png_named_jpg(real):
    root = shared_path("datasets", "oasis")
    with (root / "labels.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    item = next(i for i in real.items if i.item_id == first["id"])
    assert item.image_path == first["image"] and " " in item.image_path
    assert item.gold["valence"].value == float(first["valence_mean"])
    assert item.gold["valence"].sd == float(first["valence_sd"])
    assert item.gold["arousal"].n_raters == int(first["arousal_n"])
    assert item.meta["category"] == first["category"] and item.meta["theme"] == first["theme"]
    monkey = real.subset()
    monkey.items = [i for i in real.items if i.image_path == "images/Monkey 3.jpg"]
    (row,) = image_rows(monkey)
    assert row["format"] == "PNG" and row["mode"] == "RGBA" and (row["width"], row["height"]) == (500, 400)


def test_original_oasis_csv_gives_the_same_gold(real, tmp_path):
    shutil.copy(shared_path("datasets", "oasis", "OASIS.csv"), tmp_path / "OASIS.csv")
    original = load_dataset("oasis", path=tmp_path, check_images=False)
    assert not original.problems
    ours = {i.item_id: i for i in real.items}
    assert {i.item_id for i in original.items} == set(ours)
    for item in original.items:
        assert item.gold == ours[item.item_id].gold
        assert item.image_path == ours[item.item_id].image_path  # trailing spaces of two themes stripped


def test_three_row_fixture(tmp_path):
    write_image(tmp_path / "images" / "Dog 1.jpg", (200, 150, 100))
    write_image(tmp_path / "images" / "Monkey 3.jpg", (90, 90, 90), fmt="PNG", mode="RGBA")
    write_image(tmp_path / "images" / "War 2.jpg", (60, 10, 10))
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/Dog 1.jpg", "I10", "Dog 1", "Animal", "Pixabay", 5.9, 1.1, 100, 3.2, 1.6, 99],
        ["images/Monkey 3.jpg", "I11", "Monkey 3", "Animal", "Flickr", 5.1, 1.0, 101, 3.0, 1.5, 100],
        ["images/War 2.jpg", "I12", "War 2", "Scenery", "Wikimedia", 1.5, 0.8, 98, 5.4, 1.7, 97],
    ])
    ds = load_dataset("oasis", path=tmp_path)
    assert [i.item_id for i in ds.items] == ["I10", "I11", "I12"] and not ds.problems
    war = ds.items[2]
    assert (war.gold["valence"].value, war.gold["valence"].sd, war.gold["valence"].n_raters) == (1.5, 0.8, 98)
    assert war.gold["valence"].scale == (1.0, 7.0)
    assert war.meta == {"category": "Scenery", "theme": "War 2", "source": "Wikimedia"}


def test_out_of_scale_value_is_one_problem(tmp_path):
    write_image(tmp_path / "images" / "A 1.jpg")
    write_image(tmp_path / "images" / "B 1.jpg")
    write_csv(tmp_path / "labels.csv", HEADER, [
        ["images/A 1.jpg", "I1", "A 1", "Object", "x", 8.2, 1, 100, 3, 1, 100],
        ["images/B 1.jpg", "I2", "B 1", "Object", "x", 4.0, 1, 100, 3, 1, 100],
    ])
    ds = load_dataset("oasis", path=tmp_path)
    assert [i.item_id for i in ds.items] == ["I2"]
    assert [str(p) for p in ds.problems] == [
        "labels.csv line 2: valence_mean 8.2 is outside the 1-7 scale; the row is skipped"]


def test_original_file_lacking_columns_names_each_one(tmp_path):
    write_csv(tmp_path / "OASIS.csv", ["", "Theme", "Category", "Valence_mean"], [["I1", "Dog 1", "Animal", 5.0]])
    with pytest.raises(DatasetError) as caught:
        load_dataset("oasis", path=tmp_path, check_images=False)
    message = str(caught.value)
    assert message.startswith(f"oasis: {tmp_path / 'OASIS.csv'} lacks the column(s) Valence_SD, Valence_N, ")
    assert "Arousal_N" in message and "Source" not in message  # Source is optional in the original file


def test_labels_csv_is_read_before_the_original_file(tmp_path):
    write_csv(tmp_path / "labels.csv", HEADER[:3], [["images/A 1.jpg", "I1", "A 1"]])
    shutil.copy(shared_path("datasets", "oasis", "OASIS.csv"), tmp_path / "OASIS.csv")
    with pytest.raises(DatasetError, match=r"labels\.csv lacks the column\(s\) category, source, valence_mean"):
        load_dataset("oasis", path=tmp_path, check_images=False)
