"""load_dataset options, image checks and limits, colour statistics, and storing a dataset in DuckDB."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest
from tests.support import shared_path
from datasets_fixtures import images, write_csv, write_image
from PIL import Image

from engine.datasets import check_items, colour_stats, image_rows, load_dataset, read_dataset, store_dataset
from engine.errors import DatasetError


def _manifest(tmp_path, rows):
    write_csv(tmp_path / "m.csv", ["image", "label"], rows)
    return {"name": "m", "format": "csv", "path": tmp_path / "m.csv", "label_cols": {"emotion": "label"},
            "taxonomy": "ekman7"}


def test_unknown_option_format_and_path_errors(tmp_path):
    with pytest.raises(DatasetError, match="did you mean 'label_cols'"):
        load_dataset({"name": "m", "format": "csv", "path": tmp_path, "label_col": {"polarity": "x"}})
    with pytest.raises(DatasetError, match="unknown dataset format 'parquet'"):
        load_dataset({"name": "m", "format": "parquet", "path": tmp_path})
    with pytest.raises(DatasetError, match="not a built-in dataset and no format given"):
        load_dataset({"name": "my-set", "path": tmp_path})
    with pytest.raises(DatasetError, match="no path given"):
        load_dataset("emotion6")
    with pytest.raises(DatasetError, match="neither labels.csv nor ground_truth.txt"):
        load_dataset("emotion6", path=tmp_path)


def test_limit_reads_only_what_it_needs_and_refills_after_a_bad_image(tmp_path):
    images(tmp_path, "a.jpg", "b.jpg", "c.jpg", "d.jpg")
    (tmp_path / "b.jpg").write_bytes(b"")
    spec = _manifest(tmp_path, [["a.jpg", "joy"], ["b.jpg", "fear"], ["c.jpg", "anger"], ["d.jpg", "sad"]])
    first = load_dataset({**spec, "limit": 1})
    assert [i.item_id for i in first.items] == ["a.jpg"] and not first.problems  # b.jpg was never opened
    two = load_dataset({**spec, "limit": 2})
    assert [i.item_id for i in two.items] == ["a.jpg", "c.jpg"]
    assert [p.row for p in two.problems] == ["m.csv line 3"] and "empty file" in two.problems[0].message
    with pytest.raises(DatasetError, match="1 row\\(s\\) could not be loaded"):
        load_dataset({**spec, "strict": True})


def test_relative_paths_start_at_base_dir(tmp_path):
    images(tmp_path / "data", "a.jpg")
    write_csv(tmp_path / "data" / "m.csv", ["image", "label"], [["a.jpg", "joy"]])
    ds = load_dataset({"name": "m", "format": "csv", "path": "data/m.csv", "label_cols": {"emotion": "label"},
                       "base_dir": tmp_path})
    assert [i.item_id for i in ds.items] == ["a.jpg"]


def test_colour_stats_against_their_definitions():
    red = Image.new("RGB", (8, 8), (255, 0, 0))
    brightness, saturation, colorfulness = colour_stats(red)
    assert brightness == pytest.approx(0.299)
    assert saturation == pytest.approx(1.0)
    # rg = 255, yb = 127.5, no spread: M = 0.3 * sqrt(255^2 + 127.5^2)
    assert colorfulness == pytest.approx(0.3 * math.hypot(255, 127.5), rel=1e-5)
    grey = colour_stats(Image.new("RGB", (8, 8), (90, 90, 90)))
    assert grey == pytest.approx((90 / 255, 0.0, 0.0), abs=1e-6)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(16, 16, 3)).astype(np.uint8)
    r, g, b = (pixels[..., k].astype(float).ravel() for k in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    expected = math.sqrt(np.std(rg) ** 2 + np.std(yb) ** 2) + 0.3 * math.hypot(np.mean(rg), np.mean(yb))
    assert colour_stats(Image.fromarray(pixels))[2] == pytest.approx(expected, rel=1e-4)


def test_store_and_read_back_emotion6_with_ties(db_path):
    root = shared_path("datasets", "emotion6")
    full = load_dataset("emotion6", path=root, check_images=False)
    tied = [i.item_id for i in full.items if i.gold["emotion"].label is None][:3]
    full.items = [i for i in full.items if i.item_id in tied or i.item_id in ("disgust/1.jpg", "anger/1.jpg")]
    ds = check_items(full)
    assert store_dataset(db_path, ds) == 5
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        gold = {(r[0], r[1]): r[2:] for r in con.execute(
            "SELECT item_id, dimension, label, labels, value, value_norm, scale_high FROM gold").fetchall()}
        image_count, = con.execute("SELECT count(*) FROM images WHERE colorfulness IS NOT NULL").fetchone()
        n_items, = con.execute("SELECT n_items FROM datasets WHERE dataset = 'emotion6'").fetchone()
    finally:
        con.close()
    assert n_items == 5 and image_count == 5
    assert gold[("disgust/1.jpg", "valence")][2:] == (2.5, pytest.approx((2.5 - 1) / 8 * 2 - 1), 9.0)
    assert gold[("disgust/1.jpg", "emotion")][:2] == ("disgust", ["disgust"])
    for item_id in tied:
        label, labels = gold[(item_id, "emotion")][:2]
        assert label is None and len(labels) >= 2
    back = read_dataset(db_path, "emotion6")
    originals = {i.item_id: i for i in ds.items}
    for item in back.items:
        assert item.gold["emotion"] == originals[item.item_id].gold["emotion"]
        assert item.image_sha256 == originals[item.item_id].image_sha256


def test_image_rows_measure_each_distinct_image_once(tmp_path):
    write_image(tmp_path / "a.jpg", (10, 200, 10))
    (tmp_path / "copy.jpg").write_bytes((tmp_path / "a.jpg").read_bytes())
    write_image(tmp_path / "c.png", (0, 0, 0), fmt="PNG", mode="LA")
    ds = load_dataset(_manifest(tmp_path, [["a.jpg", "joy"], ["copy.jpg", "joy"], ["c.png", "fear"]]))
    rows = {r["format"]: r for r in image_rows(ds)}
    assert len(rows) == 2
    assert rows["PNG"]["mode"] == "LA" and rows["PNG"]["n_bytes"] == (tmp_path / "c.png").stat().st_size
    assert rows["JPEG"]["saturation"] > 0.8 and rows["PNG"]["brightness"] < 0.01


@pytest.mark.parametrize("loader, header, row, item_id", [
    ("emotion6", ["image", "keyword_folder", "valence", "arousal", "p_anger", "p_disgust", "p_fear", "p_joy",
                  "p_sadness", "p_surprise", "p_neutral"],
     ["images/joy/1.jpg", "joy", 7.5, 5.0, 0, 0, 0, 0.8, 0, 0.1, 0.1], "joy/1.jpg"),
    ("oasis", ["image", "id", "theme", "category", "source", "valence_mean", "valence_sd", "valence_n",
               "arousal_mean", "arousal_sd", "arousal_n"],
     ["images/joy/1.jpg", "I10", "Dog 1", "Animal", "Pixabay", 5.9, 1.1, 100, 3.2, 1.6, 99], "I10"),
    ("twitter1", ["image", "label", "sentiment", "agreement", "in_five_agree", "in_at_least_four_agree",
                  "in_at_least_three_agree"], ["images/joy/1.jpg", 1, "positive", 5, 1, 1, 1], "1.jpg"),
    ("manifest", ["image", "label"], ["images/joy/1.jpg", "joy"], "images/joy/1.jpg"),
])
def test_every_loader_keeps_the_first_of_a_repeated_id(tmp_path, loader, header, row, item_id):
    images(tmp_path, "images/joy/1.jpg")
    write_csv(tmp_path / "labels.csv", header, [row, row])
    if loader == "manifest":
        ds = load_dataset({"name": "m", "format": "csv", "path": tmp_path / "labels.csv",
                           "label_cols": {"emotion": "label"}, "taxonomy": "ekman7"})
    else:
        ds = load_dataset(loader, path=tmp_path)
    assert [item.item_id for item in ds.items] == [item_id]
    assert [str(p) for p in ds.problems] == [
        f"labels.csv line 3: id {item_id!r} repeats labels.csv line 2"
        + ("; give each row its own id (id_col) or image" if loader == "manifest" else "")
        + "; the repeat is skipped"]
