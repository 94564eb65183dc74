"""The demo sample: drawn deterministically, labels fixed by what was drawn."""

from __future__ import annotations

import csv
import random

import numpy as np
from PIL import Image

from engine.sample import FACE_EMOTIONS, SCENE_KINDS, draw_face, ensure_sample, generate_sample


def test_sample_is_deterministic_and_labelled_by_construction(tmp_path):
    manifest = generate_sample(tmp_path / "a", faces_per_emotion=3, scenes_per_kind=3)
    again = generate_sample(tmp_path / "b", faces_per_emotion=3, scenes_per_kind=3)
    assert manifest.read_text() == again.read_text()
    rows = list(csv.DictReader(manifest.open()))
    assert len(rows) == 6 * 3 + 2 * 3
    for row in rows:
        image = Image.open(manifest.parent / row["image"])
        assert image.size == (224, 224) and image.mode == "RGB"
        assert (manifest.parent / row["image"]).read_bytes() == (again.parent / row["image"]).read_bytes()
        if row["kind"] == "face":  # the gold is the expression that was drawn, nothing measured
            assert row["emotion"] == row["drawn"] and row["drawn"] in FACE_EMOTIONS
            assert row["polarity"] == {"happiness": "positive", "anger": "negative", "sadness": "negative",
                                       "fear": "negative"}.get(row["drawn"], "")
        else:
            assert row["emotion"] == "" and row["polarity"] == SCENE_KINDS[row["drawn"]]
    assert {row["split"] for row in rows} == {"train", "test"}
    for drawn in {row["drawn"] for row in rows}:  # every class has training and test drawings
        assert {row["split"] for row in rows if row["drawn"] == drawn} == {"train", "test"}


def test_face_colour_does_not_give_the_expression_away():
    rng = random.Random(1)
    means = {emotion: np.mean([np.asarray(draw_face(emotion, rng)[0], dtype=float).mean() for _ in range(12)])
             for emotion in FACE_EMOTIONS}
    assert max(means.values()) - min(means.values()) < 25  # colours vary independently of the expression


def test_ensure_sample_reuses_a_current_sample(tmp_path):
    manifest = ensure_sample(tmp_path, faces_per_emotion=2, scenes_per_kind=2)
    stamp = manifest.stat().st_mtime_ns
    assert ensure_sample(tmp_path, faces_per_emotion=2, scenes_per_kind=2).stat().st_mtime_ns == stamp
