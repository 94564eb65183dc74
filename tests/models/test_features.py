"""The `features` baseline: hand-crafted affective features, trained on training items only."""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest
from PIL import Image

from engine.datasets.base import Dataset, Gold, Item
from engine.models import ErrorClass, ImagePart, Message, ModelRequest, ModelSpec, PrepareContext, TaskSpec, create_adapter
from engine.models.baselines import BaselineError
from engine.models.features import affect_features, cross_validate, feature_groups, feature_names
from tests.conftest import shared_path


def _synthetic(index: int, positive: bool) -> Image.Image:
    """Noisy images: warm and bright for positive, cool and dark for negative, with overlap in noise."""
    rng = np.random.default_rng(index)
    base = np.array([0.85, 0.6, 0.3]) if positive else np.array([0.2, 0.3, 0.5])
    pixels = base + rng.normal(0, 0.18, (40, 56, 3)) + rng.normal(0, 0.1, 3)
    return Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def _jpeg(image: Image.Image) -> ImagePart:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return ImagePart(buffer.getvalue())


@pytest.fixture
def toy(tmp_path) -> Dataset:
    items = []
    for i in range(90):
        positive = i % 3 != 0  # two thirds positive, as on Twitter
        path = tmp_path / f"img{i}.png"
        _synthetic(i, positive).save(path)
        brightness = float(np.asarray(Image.open(path).convert("L")).mean() / 255)
        items.append(Item(f"img{i}.png", path.name, split="train" if i < 60 else "test",
                          gold={"polarity": Gold(label="positive" if positive else "negative"),
                                "valence": Gold(value=1 + 8 * brightness, scale=(1, 9))}))
    return Dataset("toy", "csv", tmp_path, items, taxonomy="polarity2", scales={"valence": (1, 9)})


def _ask(adapter, dataset: Dataset, item: Item, task: TaskSpec):
    image = _jpeg(Image.open(dataset.image_file(item)).convert("RGB"))
    request = ModelRequest(messages=(Message.user(image, "Sentiment?"),), task=task, item_key=f"{dataset.name}/{item.item_id}")
    return asyncio.run(adapter.generate(request))


def test_features_train_on_training_items_only_and_beat_chance(toy):
    task = TaskSpec(dimensions=("polarity", "valence"), scales={"valence": (1, 9)})
    loaded: list[str] = []

    def load_image(item):
        loaded.append(item.item_id)
        return _jpeg(Image.open(toy.image_file(item)).convert("RGB"))

    adapter = create_adapter(ModelSpec(name="feat", adapter="features"))
    train = toy.subset("train")
    asyncio.run(adapter.prepare(PrepareContext(dataset=train, task=task, load_image=load_image)))
    held_out = [item for item in toy.items if item.split == "test"]
    assert set(loaded) == {item.item_id for item in train.items}
    assert not set(loaded) & {item.item_id for item in held_out}

    answers = [json.loads(_ask(adapter, toy, item, task).text) for item in held_out]
    assert not {f"toy/{item.item_id}" for item in held_out} & adapter.train_keys
    truth = [item.gold["polarity"].label for item in held_out]
    accuracy = np.mean([a["polarity"] == t for a, t in zip(answers, truth)])
    majority = max(truth.count("positive"), truth.count("negative")) / len(truth)
    assert accuracy >= 0.9 > majority
    predicted = [a["valence"] for a in answers]
    assert np.corrcoef(predicted, [item.gold["valence"].value for item in held_out])[0, 1] > 0.8
    assert all(set(a) == {"polarity", "valence", "confidence"} and 0.5 <= a["confidence"] <= 1 for a in answers)


def test_features_refuse_training_items_and_missing_training_data(toy):
    task = TaskSpec(dimensions=("polarity",))
    adapter = create_adapter(ModelSpec(name="feat", adapter="features", options={"classifier": "forest"}))
    unprepared = _ask(adapter, toy, toy.items[0], task)
    assert unprepared.error_class is ErrorClass.BAD_REQUEST and "training items" in unprepared.error_message

    with pytest.raises(BaselineError, match="train split"):
        asyncio.run(adapter.prepare(PrepareContext(dataset=Dataset("empty", "csv", None, []), task=task,
                                                   load_image=lambda item: None)))
    train = toy.subset("train")
    asyncio.run(adapter.prepare(PrepareContext(
        dataset=train, task=task, load_image=lambda item: _jpeg(Image.open(toy.image_file(item)).convert("RGB")))))
    leaked = _ask(adapter, toy, train.items[0], task)
    assert leaked.status == "error" and leaked.error_class is ErrorClass.BAD_REQUEST
    assert "held-out" in leaked.error_message


def test_feature_groups_name_every_value_of_their_part():
    from engine.models import features

    image = _synthetic(3, False)
    rgb = np.asarray(image, dtype=np.float64) / 255
    hsv = np.asarray(image.convert("HSV"), dtype=np.float64) / 255
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    groups = feature_groups()
    assert len(features._colour(rgb, hsv)) == len(groups["colour"])
    assert len(features._texture(grey, hsv)) == len(groups["texture"])
    assert len(features._composition(rgb, grey, hsv)) == len(groups["composition"])
    assert len(set(feature_names())) == len(feature_names())


def test_feature_vector_is_finite_for_awkward_images():
    names = feature_names()
    for image in (Image.new("RGB", (1, 1)), Image.new("RGB", (300, 2), (255, 255, 255)),
                  Image.new("L", (64, 64), 30).convert("RGB"), _synthetic(0, True)):
        vector = affect_features(image)
        assert vector.shape == (len(names),)
        assert np.isfinite(vector).all()


def test_feature_vector_on_real_images():
    root = shared_path("datasets", "twitter1", "images")
    vectors = np.vstack([affect_features(Image.open(path).convert("RGB")) for path in sorted(root.glob("*.jpg"))[:8]])
    assert np.isfinite(vectors).all()
    assert (vectors.std(axis=0) > 0).sum() > len(feature_names()) * 0.8  # the features vary between images


def test_cross_validate_reports_accuracy_beside_the_majority(toy):
    result = cross_validate(toy, "polarity", folds=3, seed=0)
    assert result["n"] == 90 and result["folds"] == 3
    assert result["majority"] == pytest.approx(60 / 90)
    assert result["accuracy"] > result["majority"]
    continuous = cross_validate(toy, "valence", folds=3, seed=0)
    assert continuous["pearson"] > 0.8
