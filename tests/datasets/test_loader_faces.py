"""Facial-expression releases: FER2013, FERPlus, RAF-DB basic, AffectNet, CK+ and SFEW 2.0.

Each loader is tested on a fixture built here in the release's documented layout (bad rows included)
and, where ../shared/layouts holds real annotation files, on those.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from datasets_fixtures import images, write_csv
from PIL import Image
from tests.support import shared_path

from engine.datasets import load_dataset
from engine.errors import DatasetError


def _pixels(value: int) -> str:
    return " ".join(str((value + i) % 256) for i in range(48 * 48))


# ---------------------------------------------------------------- FER2013

def test_fer2013_real_head_codes_splits_and_cached_pngs(tmp_path):
    head = shared_path("layouts", "fer2013", "fer2013.head21.csv")
    shutil.copy(head, tmp_path / "fer2013.csv")
    cache = tmp_path / "cache"
    ds = load_dataset("fer2013", path=tmp_path, cache_dir=cache)
    assert len(ds.items) == 20 and not ds.problems
    first = ds.items[0]
    # row 0 of the Kaggle file is code 0 = Angry (FER+ agrees, see SOURCE.md); its first pixels 70 80 82
    assert (first.item_id, first.gold["emotion"].label, first.split) == ("00000", "anger", "train")
    png = ds.image_file(first)
    assert png.parent.parent == cache and png.name == f"{first.image_sha256}.png"
    assert hashlib.sha256(png.read_bytes()).hexdigest() == first.image_sha256
    pixels = np.asarray(Image.open(png))
    assert pixels.shape == (48, 48) and list(pixels[0, :3]) == [70, 80, 82]
    codes = [int(line.split(",", 1)[0]) for line in head.read_text().splitlines()[1:]]
    names = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
    assert [i.gold["emotion"].label for i in ds.items] == [names[c] for c in codes]
    again = load_dataset("fer2013", path=tmp_path, cache_dir=cache)
    assert again.meta["images_written"] == 0 and [i.image_sha256 for i in again.items] == \
        [i.image_sha256 for i in ds.items]


def test_fer2013_fixture_bad_rows_and_usage(tmp_path):
    write_csv(tmp_path / "fer2013.csv", ["emotion", "pixels", "Usage"], [
        [3, _pixels(1), "Training"],
        [7, _pixels(2), "Training"],              # code out of range
        [5, "1 2 3", "PublicTest"],               # too few pixels
        [6, _pixels(3), "PrivateTest"],
        [2, _pixels(4).replace("4", "999", 1), "PublicTest"],  # a value above 255
        [1, _pixels(5), "Holdout"],               # unknown Usage
        [4, _pixels(6).replace(" 7 ", " x ", 1), "Training"],  # not a number
    ])
    ds = load_dataset("fer2013", path=tmp_path / "fer2013.csv", cache_dir=tmp_path / "c")
    assert [(i.item_id, i.gold["emotion"].label, i.split) for i in ds.items] == [
        ("00000", "happiness", "train"), ("00003", "neutral", "test")]
    messages = {p.row: p.message for p in ds.problems}
    assert set(messages) == {"fer2013.csv line 3", "fer2013.csv line 4", "fer2013.csv line 6", "fer2013.csv line 7",
                             "fer2013.csv line 8"}
    assert "code 7 is not one of 0-6" in messages["fer2013.csv line 3"]
    assert "holds 3 values, expected 2304" in messages["fer2013.csv line 4"]
    assert "outside 0-255" in messages["fer2013.csv line 6"]
    assert "'Holdout'" in messages["fer2013.csv line 7"]
    assert "holds 'x', not an integer" in messages["fer2013.csv line 8"]


# ---------------------------------------------------------------- FERPlus

FERPLUS_HEADER = ["Usage", "Image name", "neutral", "happiness", "surprise", "sadness", "anger", "disgust",
                  "fear", "contempt", "unknown", "NF"]


def _ferplus_pngs(root: Path, folder: str, *names: str) -> None:
    for n, name in enumerate(names):
        (root / folder).mkdir(parents=True, exist_ok=True)
        Image.new("L", (48, 48), 30 + n).save(root / folder / name)


def test_ferplus_fixture_votes_ties_unknown_and_not_a_face(tmp_path):
    write_csv(tmp_path / "fer2013new.csv", FERPLUS_HEADER, [
        ["Training", "fer0000000.png", 4, 0, 0, 1, 3, 2, 0, 0, 0, 0],   # neutral 4 of 10
        ["Training", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 10],               # no image: not a face
        ["Training", "fer0000002.png", 0, 5, 5, 0, 0, 0, 0, 0, 0, 0],  # tie happiness / surprise
        ["PublicTest", "fer0000003.png", 1, 0, 0, 0, 0, 0, 0, 0, 6, 3],  # unknown wins
        ["PublicTest", "fer0000004.png", 0, 0, 0, 0, 0, 0, 0, 2, 0, 8],  # not a face
        ["PrivateTest", "fer0000005.png", 0, 0, 0, 0, 0, 0, 0, 7, "x", 0],  # bad cell
        ["PrivateTest", "fer0000006.png", 0, 0, 0, 0, 0, 0, 2, 7, 1, 0],
        ["Training", "fer0000000.png", 9, 1, 0, 0, 0, 0, 0, 0, 0, 0],  # a repeated name
    ])
    _ferplus_pngs(tmp_path, "FER2013Train", "fer0000000.png", "fer0000002.png")
    _ferplus_pngs(tmp_path, "FER2013Valid", "fer0000003.png", "fer0000004.png")
    _ferplus_pngs(tmp_path, "FER2013Test", "fer0000005.png", "fer0000006.png")
    ds = load_dataset("ferplus", path=tmp_path)
    by_id = {i.item_id: i for i in ds.items}
    assert list(by_id) == ["fer0000000.png", "fer0000002.png", "fer0000006.png"]
    first = by_id["fer0000000.png"]
    assert first.gold["emotion"].label == "neutral" and first.split == "train"
    assert first.gold["distribution"].distribution == pytest.approx(
        {"neutral": 0.4, "happiness": 0, "surprise": 0, "sadness": 0.1, "anger": 0.3, "disgust": 0.2, "fear": 0,
         "contempt": 0})
    assert first.gold["distribution"].n_raters == 10
    tie = by_id["fer0000002.png"].gold["emotion"]
    assert tie.label is None and tie.labels == ("happiness", "surprise")
    last = by_id["fer0000006.png"]
    assert last.gold["emotion"].label == "contempt" and last.split == "test"
    assert last.meta == {"usage": "PrivateTest", "unknown_votes": 1, "not_a_face_votes": 0}
    assert sum(last.gold["distribution"].distribution.values()) == pytest.approx(1)  # unknown left out
    assert ds.meta["dropped"] == {"rows_without_image": 1, "unknown": 1, "not_a_face": 1}
    rows = {p.row: p.message for p in ds.problems}
    assert set(rows) == {"fer2013new.csv line 7", "fer2013new.csv line 9"}
    assert "'unknown'" in rows["fer2013new.csv line 7"] and "repeats" in rows["fer2013new.csv line 9"]
    # the reference trainer's rule: votes of 1 zeroed, the top emotion needs more than half of the rest
    strict = load_dataset("ferplus", path=tmp_path, majority="ferplus")
    # rows 1 and 3 fail it (4 of 9, 5 of 10); so line 9's fer0000000.png (9 of 9) is no longer a repeat
    assert [(i.item_id, i.gold["emotion"].label) for i in strict.items] == [("fer0000006.png", "contempt"),
                                                                          ("fer0000000.png", "neutral")]
    assert strict.meta["dropped"]["no_majority"] == 2


def test_ferplus_real_label_file_joined_to_fer2013_pixels_by_position(tmp_path):
    shutil.copy(shared_path("layouts", "ferplus", "fer2013new.head200.csv"), tmp_path / "fer2013new.csv")
    shutil.copy(shared_path("layouts", "fer2013", "fer2013.head21.csv"), tmp_path / "fer2013.csv")
    ds = load_dataset("ferplus", path=tmp_path, cache_dir=tmp_path / "cache")
    fer = load_dataset("fer2013", path=tmp_path, cache_dir=tmp_path / "cache")
    # 199 label rows, but fer2013.csv here has only its first 20 rows: the rest are reported, not guessed
    assert len(ds.items) + sum(ds.meta["dropped"].values()) + len(ds.problems) == 199
    first = ds.items[0]
    assert first.item_id == "fer0000000.png" and first.gold["emotion"].label == "neutral"  # votes 4,0,0,1,3,2
    assert first.image_path == fer.items[0].image_path  # same pixels, same content-addressed file
    assert all("no row" in p.message for p in ds.problems)


def test_ferplus_real_per_folder_files_without_the_main_label_file(tmp_path):
    for folder in ("FER2013Valid", "FER2013Test"):
        (tmp_path / "data" / folder).mkdir(parents=True)
        shutil.copy(shared_path("layouts", "ferplus", folder, "label.csv"), tmp_path / "data" / folder / "label.csv")
    lines = (tmp_path / "data" / "FER2013Valid" / "label.csv").read_text().splitlines()
    _ferplus_pngs(tmp_path / "data", "FER2013Valid", *[line.split(",", 1)[0] for line in lines[:3]])
    _ferplus_pngs(tmp_path / "data", "FER2013Test", "x.png")
    ds = load_dataset("ferplus", path=tmp_path, check_images=False)
    assert not ds.problems and len(ds.items) + sum(ds.meta["dropped"].values()) == 3579 + 3573  # no header line
    assert Counter(i.split for i in ds.items).keys() == {"val", "test"}
    fer0028638 = next(i for i in ds.items if i.item_id == "fer0028638.png")  # 4,0,0,0,1,0,0,4,1,0
    assert fer0028638.gold["emotion"].labels == ("neutral", "contempt") and fer0028638.split == "val"


# ---------------------------------------------------------------- RAF-DB

def _rafdb(root: Path, lines: list[str]) -> Path:
    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines))  # no final newline, as released
    return root


def test_rafdb_real_excerpts_counts_and_code_order(tmp_path):
    text = "".join(shared_path("layouts", "rafdb", name).read_text() + "\n" for name in (
        "list_patition_label.head200.txt", "list_patition_label.lines12262-12281.txt",
        "list_patition_label.tail20.txt"))
    root = _rafdb(tmp_path / "basic", [line for line in text.splitlines() if line.strip()])
    ds = load_dataset("rafdb", path=tmp_path, check_images=False)  # finds basic/ below the path
    assert not ds.problems and len(ds.items) == 240
    assert Counter(i.split for i in ds.items) == {"train": 210, "test": 30}
    by_id = {i.item_id: i for i in ds.items}
    assert by_id["train_00001.jpg"].gold["emotion"].label == "sadness"  # code 5
    assert by_id["train_00003.jpg"].gold["emotion"].label == "happiness"  # code 4
    assert by_id["test_3068.jpg"].gold["emotion"].label == "neutral"  # code 7, the last line
    assert by_id["test_3068.jpg"].image_path == "Image/aligned/test_3068_aligned.jpg"
    assert ds.root == root
    gpt4v = shared_path("external", "gpt4v-emotion", "rafdb", "labels.csv").read_text().splitlines()[1:]
    gold = dict(line.split(",")[:2] for line in gpt4v)
    shared = [i for i in ds.items if i.item_id in gold]
    assert shared and all(i.gold["emotion"].label == gold[i.item_id].lower() for i in shared)


def test_rafdb_fixture_images_and_bad_rows(tmp_path):
    _rafdb(tmp_path, ["train_00001.jpg 4", "train_00002.jpg 8", "test_0001.jpg 5", "test_0002.jpg", "val_1.jpg 1",
                      "test_0003.jpg 1"])
    images(tmp_path, "Image/aligned/train_00001_aligned.jpg", "Image/aligned/test_0001_aligned.jpg",
           "Image/original/test_0003.jpg")
    ds = load_dataset("rafdb", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label) for i in ds.items] == [("train_00001.jpg", "happiness"),
                                                                       ("test_0001.jpg", "sadness")]
    rows = {p.row: p.message for p in ds.problems}
    assert "code 8 is not one of 1-7" in rows["list_patition_label.txt line 2"]
    assert "expected '<name> <code>'" in rows["list_patition_label.txt line 4"]
    assert "neither train_ nor test_" in rows["list_patition_label.txt line 5"]
    assert "test_0003_aligned.jpg" in rows["list_patition_label.txt line 6"]  # the image is missing
    original = load_dataset("rafdb", path=tmp_path, images="original")
    assert [i.item_id for i in original.items] == ["test_0003.jpg"]
    with pytest.raises(DatasetError, match="no label list"):
        load_dataset("rafdb", path=tmp_path / "Image")


# ---------------------------------------------------------------- AffectNet

AFFECTNET = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
             "expression", "valence", "arousal"]


def test_affectnet_real_sample_rows(tmp_path):
    lists = tmp_path / "Manually_Annotated_file_lists"
    lists.mkdir()
    shutil.copy(shared_path("layouts", "affectnet", "training.sample2rows.csv"), lists / "training.csv")
    ds = load_dataset("affectnet", path=tmp_path, check_images=False, landmarks=True)
    assert not ds.problems and len(ds.items) == 2
    first = ds.items[0]
    assert first.item_id == "459/81456263be241927c7a59a2646f88c2700ce4b7cba6094570ec2b10c.jpg"
    assert first.image_path == "Manually_Annotated/Manually_Annotated_Images/" + first.item_id
    assert first.split == "train" and len(first.meta["landmarks"]) == 136
    assert first.meta["face_x"] == 147 and first.meta["landmarks"][:2] == [233.58, 512.99]
    for item in ds.items:
        assert -1 <= item.gold["valence"].value <= 1 and item.gold["valence"].scale == (-1.0, 1.0)


def test_affectnet_fixture_codes_ratings_headerless_validation_and_null_box(tmp_path):
    lists = tmp_path / "Manually_Annotated_file_lists"
    write_csv(lists / "training.csv", AFFECTNET, [
        ["1/a.jpg", 1, 1, 20, 20, "1;2", 1, 0.5, 0.25],
        ["1/b.jpg", 1, 1, 20, 20, "1;2", 7, -0.5, 0.75],
        ["1/c.jpg", 1, 1, 20, 20, "1;2", 10, -2, -2],   # non-face: left out with classes=8
        ["1/d.jpg", "NULL", "NULL", 20, 20, "1;2", 2, 0.1, 0.1],  # the malformed official row
        ["1/e.jpg", 1, 1, 20, 20, "1;2", 3, 1.5, 0.1],  # valence off the scale
        ["1/f.jpg", 1, 1, 20, 20, "1;2", 12, 0, 0],     # no such code
    ])
    (lists / "validation.csv").write_text("2/g.png,1,1,20,20,1;2,6,-0.9,0.8\n")  # a copy without the header
    images(tmp_path / "Manually_Annotated_Images", "1/a.jpg", "1/b.jpg", "2/g.png")
    ds = load_dataset("affectnet", path=tmp_path)
    got = {i.item_id: (i.gold["emotion"].label, i.gold["valence"].value, i.gold["arousal"].value, i.split)
           for i in ds.items}
    assert got == {"1/a.jpg": ("happiness", 0.5, 0.25, "train"), "1/b.jpg": ("contempt", -0.5, 0.75, "train"),
                   "2/g.png": ("anger", -0.9, 0.8, "val")}
    assert ds.items[0].image_path == "Manually_Annotated_Images/1/a.jpg"
    assert ds.meta["dropped"] == {"non-face": 1}
    rows = {p.row: p.message for p in ds.problems}
    assert set(rows) == {"training.csv line 5", "training.csv line 6", "training.csv line 7"}
    assert "'NULL'" in rows["training.csv line 5"] and "outside [-1, 1]" in rows["training.csv line 6"]
    assert "code 12" in rows["training.csv line 7"]
    seven = load_dataset("affectnet", path=tmp_path, classes=7, check_images=False)
    assert "1/b.jpg" not in {i.item_id for i in seven.items} and seven.meta["dropped"]["contempt"] == 1
    every = load_dataset("affectnet", path=tmp_path, classes=11, check_images=False)
    non_face = next(i for i in every.items if i.item_id == "1/c.jpg")
    assert non_face.gold == {}  # code 10 has no expression, -2 means no rating


# ---------------------------------------------------------------- CK+

def _ck_sequence(root: Path, subject: str, sequence: str, n_frames: int, code: str | None, facs: str | None = None):
    for frame in range(1, n_frames + 1):
        name = f"{subject}_{sequence}_{frame:08d}.png"
        (root / "cohn-kanade-images" / subject / sequence).mkdir(parents=True, exist_ok=True)
        Image.new("L", (64, 48), 10 * frame).save(root / "cohn-kanade-images" / subject / sequence / name)
    peak = f"{subject}_{sequence}_{n_frames:08d}"
    if code is not None:
        (root / "Emotion" / subject / sequence).mkdir(parents=True, exist_ok=True)
        (root / "Emotion" / subject / sequence / f"{peak}_emotion.txt").write_text(code)
    if facs is not None:
        (root / "FACS" / subject / sequence).mkdir(parents=True, exist_ok=True)
        (root / "FACS" / subject / sequence / f"{peak}_facs.txt").write_text(facs)


def test_ckplus_fixture_peak_frames_codes_and_unlabelled_sequences(tmp_path):
    _ck_sequence(tmp_path, "S005", "001", 11, "   3.0000000e+00\n", facs="   9.0000000e+00   4.0000000e+00\n")
    _ck_sequence(tmp_path, "S010", "002", 5, "2.0000000e+00")
    _ck_sequence(tmp_path, "S010", "003", 4, None)          # no file: no emotion label
    _ck_sequence(tmp_path, "S011", "001", 3, "9.0000000e+00")  # no such code
    ds = load_dataset("ckplus", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label) for i in ds.items] == [
        ("S005_001_00000011.png", "disgust"), ("S010_002_00000005.png", "contempt")]
    assert ds.items[0].meta == {"subject": "S005", "sequence": "001", "frame_from_end": 0, "facs": ["AU9:4"]}
    assert [p.row for p in ds.problems] == ["Emotion/S011/001/S011_001_00000003_emotion.txt"]
    three = load_dataset("ckplus", path=tmp_path, frames=3)
    assert [i.item_id for i in three.items][:3] == ["S005_001_00000011.png", "S005_001_00000010.png",
                                                   "S005_001_00000009.png"]
    assert len(three.items) == 6


# ---------------------------------------------------------------- SFEW 2.0

def test_sfew_fixture_folders_splits_and_unlabelled_test(tmp_path):
    images(tmp_path, "Train/Angry/21_001108440_00000025.png", "Train/Happy/Hangover_010805134_00000019.png",
           "Val/Sad/RememberMe_011000040_00000005.png", "Val/Surprise/x_000000001_00000001.png",
           "Val/Bored/y_000000001_00000001.png", "Test/z_000000001_00000001.png")
    ds = load_dataset("sfew", path=tmp_path)
    assert [(i.item_id, i.gold["emotion"].label, i.split) for i in ds.items] == [
        ("Train/Angry/21_001108440_00000025.png", "anger", "train"),
        ("Train/Happy/Hangover_010805134_00000019.png", "happiness", "train"),
        ("Val/Sad/RememberMe_011000040_00000005.png", "sadness", "val"),
        ("Val/Surprise/x_000000001_00000001.png", "surprise", "val")]
    assert [p.row for p in ds.problems] == ["Val/Bored/"] and "1 file(s)" in ds.problems[0].message
    assert ds.meta["unlabelled_test_images"] == 1
    assert [i.item_id for i in load_dataset("sfew", path=tmp_path, split="val").items][0].startswith("Val/Sad")
