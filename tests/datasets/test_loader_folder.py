"""Folder loader: class = folder name (FI / EmoSet layout), optional split folders, unknown folders reported."""

from __future__ import annotations

import pytest
from datasets_fixtures import images

from engine.datasets import load_dataset
from engine.errors import DatasetError


def test_mikels_folders_with_derived_polarity(tmp_path):
    images(tmp_path, "amusement/a1.jpg", "Contentment/c1.png", "sadness/s1.jpg")
    (tmp_path / ".cache").mkdir()
    (tmp_path / "README.txt").write_text("not a class folder")
    ds = load_dataset("fi-mini", format="imagefolder", path=tmp_path)
    assert ds.taxonomy == "mikels8" and ds.name == "fi-mini" and not ds.problems
    assert [(i.item_id, i.gold["emotion"].label, i.gold["polarity"].label) for i in ds.items] == [
        ("Contentment/c1.png", "contentment", "positive"), ("amusement/a1.jpg", "amusement", "positive"),
        ("sadness/s1.jpg", "sadness", "negative")]
    no_polarity = load_dataset("fi-mini", format="folder", path=tmp_path, derive_polarity=False)
    assert all(set(i.gold) == {"emotion"} for i in no_polarity.items)


def test_split_folders_and_polarity_taxonomy(tmp_path):
    images(tmp_path, "train/positive/p1.jpg", "train/negative/n1.jpg", "test/positive/p2.jpg",
           "validation/negative/n2.jpg")
    ds = load_dataset("pol", format="folder", path=tmp_path)
    assert ds.taxonomy == "polarity2" and ds.dimensions == ["polarity"]
    assert sorted((i.split, i.gold["polarity"].label) for i in ds.items) == [
        ("test", "positive"), ("train", "negative"), ("train", "positive"), ("val", "negative")]
    assert [i.item_id for i in load_dataset("pol", format="folder", path=tmp_path, split="test").items] == [
        "test/positive/p2.jpg"]


def test_unknown_folder_and_non_image_reported_rest_loads(tmp_path):
    images(tmp_path, "anger/a.jpg", "fear/f.jpg", "happy/h.jpg", "feer/x.jpg")
    (tmp_path / "anger" / "notes.txt").write_text("rater notes")
    ds = load_dataset("faces", format="folder", path=tmp_path, taxonomy="ekman7")
    assert sorted(i.item_id for i in ds.items) == ["anger/a.jpg", "fear/f.jpg", "happy/h.jpg"]
    assert {i.item_id: i.gold["emotion"].label for i in ds.items}["happy/h.jpg"] == "happiness"
    problems = {p.row: p.message for p in ds.problems}
    assert "nearest: fear" in problems["feer/"] and "1 file(s) are skipped" in problems["feer/"]
    assert "not an image" in problems["anger/notes.txt"]


def test_folder_names_of_no_taxonomy_need_one(tmp_path):
    images(tmp_path, "cats/a.jpg", "dogs/b.jpg")
    with pytest.raises(DatasetError, match="give taxonomy"):
        load_dataset("pets", format="folder", path=tmp_path)
