"""Offline baselines: color-affect (Valdez & Mehrabian, 1994), majority and uniform."""

from __future__ import annotations

import asyncio
import colorsys
import json
from collections import Counter

import pytest

from engine.datasets.base import Dataset, Gold, Item
from engine.models import (ErrorClass, ImagePart, Message, ModelRequest, ModelSpec, PrepareContext, TaskSpec,
                           create_adapter)
from engine.taxonomy import get_taxonomy, polarity_of
from tests.models.conftest import jpeg_part

ALL = TaskSpec(dimensions=("polarity", "emotion", "valence", "arousal"), taxonomy="ekman7",
               scales={"valence": (1, 9), "arousal": (1, 9)})


def _ask(adapter, image: ImagePart | None, task: TaskSpec = ALL, key: str = "d/1"):
    parts = (image, "How does this image feel?") if image is not None else ("How does this image feel?",)
    return asyncio.run(adapter.generate(ModelRequest(messages=(Message.user(*parts),), task=task, item_key=key)))


def _answer(adapter, image, task: TaskSpec = ALL, key: str = "d/1") -> dict:
    response = _ask(adapter, image, task, key)
    assert response.status == "ok", response.error_message
    return json.loads(response.text)


def _hsv_image(h: float, s: float, v: float) -> ImagePart:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return jpeg_part((round(r * 255), round(g * 255), round(b * 255)), size=(32, 32))


@pytest.fixture
def color_affect():
    return create_adapter(ModelSpec(name="colour", adapter="color-affect"))


def test_color_affect_matches_the_published_formula(color_affect):
    # A uniform colour: brightness and saturation known from colorsys, independent of Pillow's HSV.
    for h, s, v in ((0.0, 0.8, 0.9), (0.6, 0.3, 0.4), (0.3, 1.0, 1.0), (0.0, 0.0, 0.1)):
        answer = _answer(color_affect, _hsv_image(h, s, v))
        pleasure, arousal = 0.69 * v + 0.22 * s, -0.31 * v + 0.60 * s
        assert answer["valence"] == pytest.approx(1 + 8 * pleasure / 0.91, abs=0.08)
        assert answer["arousal"] == pytest.approx(1 + 8 * (arousal + 0.31) / 0.91, abs=0.08)
        assert answer["polarity"] == ("positive" if pleasure / 0.91 > 0.5 else "negative")


def test_color_affect_is_monotonic_as_the_formula_says(color_affect):
    def va(s, v):
        answer = _answer(color_affect, _hsv_image(0.55, s, v))
        return answer["valence"], answer["arousal"]

    brighter = [va(0.5, v) for v in (0.2, 0.4, 0.6, 0.8, 1.0)]
    assert all(a[0] < b[0] for a, b in zip(brighter, brighter[1:]))  # pleasure rises with brightness
    assert all(a[1] > b[1] for a, b in zip(brighter, brighter[1:]))  # arousal falls with brightness
    more_saturated = [va(s, 0.7) for s in (0.1, 0.3, 0.6, 0.9)]
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(more_saturated, more_saturated[1:]))
    bright_saturated, dark = va(1.0, 1.0), va(0.2, 0.1)
    assert bright_saturated[0] > dark[0]


def test_color_affect_answers_only_what_is_asked_on_the_asked_scale(color_affect):
    task = TaskSpec(dimensions=("valence", "emotion"), taxonomy="mikels8", scales={"valence": (1, 7)})
    for image in (_hsv_image(0.1, 1.0, 1.0), _hsv_image(0.6, 0.1, 0.05), _hsv_image(0.9, 0.5, 0.5)):
        answer = _answer(color_affect, image, task)
        assert set(answer) == {"valence", "emotion"}
        assert 1 <= answer["valence"] <= 7
        assert answer["emotion"] in get_taxonomy("mikels8").names
    # Emotion follows the circumplex: pleasant images get a positive label, unpleasant ones a negative.
    assert polarity_of(_answer(color_affect, _hsv_image(0.1, 1.0, 1.0), task)["emotion"], "mikels8") == "positive"
    assert polarity_of(_answer(color_affect, _hsv_image(0.6, 0.2, 0.05), task)["emotion"], "mikels8") == "negative"


def test_color_affect_emotion_in_a_polarity_taxonomy_follows_valence(color_affect):
    task = TaskSpec(dimensions=("polarity", "emotion"), taxonomy="polarity3")
    for image in (_hsv_image(0.1, 1.0, 1.0), _hsv_image(0.6, 0.2, 0.05)):
        answer = _answer(color_affect, image, task)
        assert answer["emotion"] == answer["polarity"]


def test_baseline_answers_go_through_the_common_parser(color_affect):
    from engine.parsing import ParseSpec, parse_answer

    uniform = create_adapter(ModelSpec(name="u", adapter="uniform"))
    task = TaskSpec(dimensions=("polarity", "emotion", "valence", "arousal", "ranking"), taxonomy="ekman7")
    for adapter in (color_affect, uniform):
        response = _ask(adapter, _hsv_image(0.1, 0.9, 0.9), task)
        expected = json.loads(response.text)
        result = parse_answer(response.text, ParseSpec(dimensions=task.dimensions, taxonomy="ekman7"))
        assert {dim: parse.status for dim, parse in result.dimensions.items()} == {dim: "ok" for dim in task.dimensions}
        assert {dim: parse.value for dim, parse in result.dimensions.items()} == {dim: expected[dim] for dim in task.dimensions}
    assert result.confidence == pytest.approx(1 / 7, abs=1e-4)  # uniform over ekman7


def test_baselines_store_a_missing_or_broken_image_as_an_error(color_affect):
    assert _ask(color_affect, None).error_class is ErrorClass.IMAGE
    broken = _ask(color_affect, ImagePart(b"\xff\xd8 truncated"), key="d/broken")
    assert broken.status == "error" and broken.error_class is ErrorClass.IMAGE and "d/broken" in broken.error_message


def _training(labels: list[str], valences: list[float | None]) -> Dataset:
    items = [Item(f"t{i}", None, {"polarity": Gold(label=label), "emotion": Gold(label=emo, taxonomy="emotion6"),
                                  **({"valence": Gold(value=v, scale=(1, 7))} if v is not None else {})})
             for i, (label, v, emo) in enumerate(zip(labels, valences, ["joy", "joy", "sadness", "fear", "joy"]))]
    return Dataset("toy", "csv", None, items, taxonomy="emotion6", scales={"valence": (1, 7)})


def test_majority_answers_the_training_majority_and_mean():
    adapter = create_adapter(ModelSpec(name="maj", adapter="majority"))
    task = TaskSpec(dimensions=("polarity", "emotion", "valence"), taxonomy="ekman7", scales={"valence": (1, 9)})
    dataset = _training(["positive", "negative", "positive", "positive", "negative"], [7, 1, 4, None, 6])
    asyncio.run(adapter.prepare(PrepareContext(dataset=dataset, task=task, load_image=lambda item: None)))
    for key in ("toy/a", "toy/b"):
        answer = _answer(adapter, jpeg_part(), task, key)
        assert answer["polarity"] == "positive"
        assert answer["emotion"] == "happiness"  # emotion6 "joy" mapped onto ekman7
        # Mean of 7, 1, 4, 6 on 1-7 is 4.5, i.e. 0.5833 of the range -> 1 + 8 * 0.5833 on 1-9.
        assert answer["valence"] == pytest.approx(1 + 8 * (4.5 - 1) / 6, abs=1e-3)
        assert answer["confidence"] == pytest.approx(3 / 5)


def test_majority_refuses_without_training_data():
    from engine.models.baselines import BaselineError

    adapter = create_adapter(ModelSpec(name="maj", adapter="majority"))
    unprepared = _ask(adapter, jpeg_part(), TaskSpec(dimensions=("polarity",)))
    assert unprepared.error_class is ErrorClass.BAD_REQUEST and "prepared" in unprepared.error_message
    empty = Dataset("empty", "csv", None, [Item("x", None, {})])
    with pytest.raises(BaselineError, match="train split"):
        asyncio.run(adapter.prepare(PrepareContext(dataset=empty, task=TaskSpec(dimensions=("polarity",)),
                                                   load_image=lambda item: None)))


def test_uniform_is_deterministic_per_item_and_covers_the_labels():
    task = TaskSpec(dimensions=("polarity", "emotion", "valence", "intensity"), taxonomy="mikels8",
                    scales={"valence": (1, 9)})
    first = create_adapter(ModelSpec(name="u", adapter="uniform"))
    second = create_adapter(ModelSpec(name="u", adapter="uniform"))
    answers = [_answer(first, jpeg_part(), task, f"set/{i}") for i in range(400)]
    assert answers[:20] == [_answer(second, jpeg_part(), task, f"set/{i}") for i in range(20)]
    reseeded = create_adapter(ModelSpec(name="u", adapter="uniform", options={"seed": 1}))
    assert [_answer(reseeded, jpeg_part(), task, f"set/{i}") for i in range(20)] != answers[:20]
    emotions = Counter(a["emotion"] for a in answers)
    assert set(emotions) == set(get_taxonomy("mikels8").names)
    assert max(emotions.values()) < 2.5 * min(emotions.values())  # 50 expected each; far from any skew
    assert set(Counter(a["polarity"] for a in answers)) == {"positive", "negative"}
    assert all(1 <= a["valence"] <= 9 and a["intensity"] in (1, 2, 3, 4, 5) for a in answers)
    assert all(a["confidence"] == pytest.approx(1 / 8) for a in answers)


def test_baselines_are_flagged_prompt_blind_and_answer_the_same_whatever_the_prompt(color_affect):
    from engine.models import ADAPTERS, reads_prompt

    blind = {name for name in ADAPTERS.builtin_names() if not reads_prompt(name)}
    assert blind == {"color-affect", "features", "majority", "uniform"}
    assert reads_prompt("hf") and reads_prompt("openai") and reads_prompt("no-such-adapter")
    image = _hsv_image(0.1, 0.8, 0.9)
    answers = set()
    for prompt in ("How does this image feel?", "Think step by step. Which emotion? Answer in JSON."):
        request = ModelRequest(messages=(Message.user(image, prompt),), task=ALL, item_key="d/1")
        answers.add(asyncio.run(color_affect.generate(request)).text)
    assert len(answers) == 1  # what the flag promises: the prompt never changes the answer
