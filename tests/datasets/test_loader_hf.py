"""`format: hf`: datasets built here with the `datasets` library -- save_to_disk folders, Parquet files,
and a Hub id resolved from a local cache -- read through the manifest's column mapping."""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest
from PIL import Image

from engine.datasets import load_dataset
from engine.errors import DatasetError

datasets = pytest.importorskip("datasets", reason="format: hf tests need the datasets library ([hf] extra)")


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 12), colour).save(buffer, "PNG")
    return buffer.getvalue()


RED, GREEN, BLUE = _png((200, 0, 0)), _png((0, 200, 0)), _png((0, 0, 200))


def _features():
    return datasets.Features({"image": datasets.Image(),
                              "label": datasets.ClassLabel(names=["anger", "joy", "sadness"]),
                              "v": datasets.Value("float32"), "source": datasets.Value("string")})


def _dict():
    train = datasets.Dataset.from_dict({"image": [{"bytes": RED, "path": None}, {"bytes": GREEN, "path": None}],
                                        "label": [0, 1], "v": [2.0, 8.0], "source": ["a", "b"]}, features=_features())
    test = datasets.Dataset.from_dict({"image": [{"bytes": BLUE, "path": None}, None], "label": [2, 1],
                                       "v": [3.0, 12.0], "source": ["c", "d"]}, features=_features())
    return datasets.DatasetDict({"train": train, "test": test})


def test_save_to_disk_dataset_dict_with_image_feature_and_class_labels(tmp_path):
    _dict().save_to_disk(str(tmp_path / "saved"))
    spec = {"name": "saved", "format": "hf", "path": tmp_path / "saved", "cache_dir": tmp_path / "cache",
            "label_cols": {"emotion": "label", "valence": "v"}, "scales": {"valence": [1, 9]}}
    ds = load_dataset(spec)
    got = [(i.item_id, i.split, i.gold["emotion"].label, i.gold["valence"].value, i.meta) for i in ds.items]
    assert got == [("train/0", "train", "anger", 2.0, {"source": "a"}), ("train/1", "train", "happiness", 8.0, {"source": "b"}),
                   ("test/0", "test", "sadness", 3.0, {"source": "c"})]
    assert [i.image_sha256 for i in ds.items] == [hashlib.sha256(b).hexdigest() for b in (RED, GREEN, BLUE)]
    assert ds.root == tmp_path / "cache" and ds.image_file(ds.items[0]).read_bytes() == RED
    assert ds.taxonomy == "ekman6"  # inferred from the ClassLabel names, "joy" read as happiness
    rows = {p.row: p.message for p in ds.problems}
    assert "no image in column 'image'" in rows["test row 1"]
    test = load_dataset({**spec, "split": "test"})
    assert [i.item_id for i in test.items] == ["test/0"]


def test_parquet_folder_with_bytes_and_with_relative_paths(tmp_path):
    folder = tmp_path / "hub_layout" / "data"
    folder.mkdir(parents=True)
    for split, part in _dict().items():
        part.to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))
    ds = load_dataset({"name": "pq", "format": "hf", "path": tmp_path / "hub_layout", "cache_dir": tmp_path / "c",
                       "label_cols": {"emotion": "label"}, "taxonomy": "ekman7"})
    assert sorted((i.split, i.gold["emotion"].label) for i in ds.items) == [
        ("test", "sadness"), ("train", "anger"), ("train", "happiness")]
    # images as plain paths next to the Parquet file, labels as strings, an explicit id column
    (tmp_path / "plain" / "img").mkdir(parents=True)
    (tmp_path / "plain" / "img" / "a.png").write_bytes(RED)
    (tmp_path / "plain" / "img" / "b.png").write_bytes(GREEN)
    plain = datasets.Dataset.from_dict({"file": ["img/a.png", "img/b.png", "img/missing.png"],
                                        "id": ["a", "b", "m"], "sentiment": ["negative", "positive", "positive"]})
    plain.to_parquet(str(tmp_path / "plain" / "train.parquet"))
    ds = load_dataset({"name": "plain", "format": "hf", "path": tmp_path / "plain" / "train.parquet",
                       "image_col": "file", "id_col": "id", "label_cols": {"polarity": "sentiment"}})
    assert [(i.item_id, i.image_path, i.split, i.gold["polarity"].label) for i in ds.items] == [
        ("a", "img/a.png", "train", "negative"), ("b", "img/b.png", "train", "positive")]
    assert ds.root == tmp_path / "plain" and "missing.png" in ds.problems[0].message


def test_hub_id_resolved_from_the_local_cache_only(tmp_path, monkeypatch):
    from huggingface_hub import constants

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "datasets--someone--emo-faces"
    snapshot = repo / "snapshots" / revision / "data"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    _dict()["test"].to_parquet(str(snapshot / "test-00000-of-00001.parquet"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds = load_dataset({"name": "faces", "format": "hf", "path": "someone/emo-faces", "cache_dir": tmp_path / "c",
                       "label_cols": {"emotion": "label"}})
    assert [(i.item_id, i.gold["emotion"].label) for i in ds.items] == [("test/0", "sadness")]
    assert ds.meta["hf_source"] == "hub:someone/emo-faces"
    with pytest.raises(DatasetError, match="not in the local Hugging Face cache.*hf download someone/other"):
        load_dataset({"name": "x", "format": "hf", "path": "someone/other", "label_cols": {"emotion": "label"}})
    shutil.rmtree(tmp_path / "hub")


def test_missing_image_column_and_unknown_label_column(tmp_path):
    _dict().save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DatasetError, match="no image column 'picture'"):
        load_dataset({"name": "s", "format": "hf", "path": tmp_path / "saved", "image_col": "picture"})
    with pytest.raises(DatasetError, match="no column 'mood'"):
        load_dataset({"name": "s", "format": "hf", "path": tmp_path / "saved", "cache_dir": tmp_path / "c",
                      "label_cols": {"emotion": "mood"}})
