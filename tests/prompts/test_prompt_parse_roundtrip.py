"""The answer format the templates ask for is the one the parser reads, for every strategy and language."""

from __future__ import annotations

import asyncio
import json

import pytest

from prompt_fixtures import EchoAdapter, Recorder, images, make_context  # noqa: F401 - images is a fixture
from engine.parsing import ParseSpec, parse_answer
from engine.prompts import get_strategy, strategy_names

DIMS = ("polarity", "emotion", "valence", "confidence")


def spec_for(context) -> ParseSpec:
    return ParseSpec(dimensions=tuple(d for d in context.task.dimensions if d != "confidence"),
                     taxonomy=context.task.taxonomy, scales={"valence": (1.0, 9.0)})


@pytest.mark.parametrize("strategy", strategy_names())
def test_echo_answers_in_the_asked_format_parse_back(images, strategy):
    context = make_context(images[0], DIMS, "mikels8", k_shot=2, n_samples=3,
                           exemplars=[(images[1], {"emotion": "awe"}), (images[2], {"emotion": "fear"})])
    recorder = Recorder(EchoAdapter())
    outcome = asyncio.run(get_strategy(strategy).run(context, recorder))
    for response in outcome.final:
        stated = json.loads(response.text.split("\n", 1)[1])
        result = parse_answer(response.text, spec_for(context))
        for dim in ("polarity", "emotion", "valence"):
            assert (result.dimensions[dim].status, result.dimensions[dim].value) == ("ok", stated[dim])
        assert result.confidence == pytest.approx(stated["confidence"])


COT_ANSWER = """1. The image shows an elderly man sitting alone on a bench in the rain.
2. His head is lowered and his shoulders slump, which suggests grief.
3. The palette is grey and desaturated, reinforcing a gloomy mood.
4. Nothing in the scene points to amusement, awe or excitement.

{"polarity": "negative", "emotion": "sadness", "valence": 2.5, "confidence": 0.85}"""

SCENE_ANSWER = """Global atmosphere: Dim, cold light and an empty street create a bleak mood.
Subject emotion: The man's lowered head and slumped posture show sorrow.
Situational cues: Rain, a wilted bouquet on the bench, no other people.
Implicit narrative: He seems to have lost someone and is waiting with nowhere to go.
Answer:
{"polarity": "negative", "emotion": "sadness", "valence": 2, "confidence": 0.8}"""


def test_cot_answer_gives_steps_and_values(images):
    context = make_context(images[0], DIMS, "mikels8")
    assert "numbered steps" in get_strategy("cot").render(context)[0].messages[-1].text
    result = parse_answer(COT_ANSWER, spec_for(context))
    assert result.dimensions["emotion"].value == "sadness" and result.dimensions["valence"].value == 2.5
    assert len(result.steps) >= 4 and result.steps[0].startswith("1. The image shows")
    assert result.confidence == pytest.approx(0.85)


def test_scene_answer_gives_the_four_fields_and_values(images):
    context = make_context(images[0], DIMS, "mikels8")
    prompt = get_strategy("scene").render(context)[0].messages[-1].text
    for label in ("Global atmosphere:", "Subject emotion:", "Situational cues:", "Implicit narrative:", '"Answer:"'):
        assert label in prompt
    result = parse_answer(SCENE_ANSWER, spec_for(context))
    assert set(get_strategy("scene").sections[:4]) <= set(result.scene or {})
    assert result.scene["subject_emotion"].startswith("The man's lowered head")
    assert (result.dimensions["polarity"].value, result.dimensions["emotion"].value) == ("negative", "sadness")
    assert result.dimensions["valence"].value == 2


def test_zh_answers_with_english_or_chinese_labels_parse(images):
    context = make_context(images[0], DIMS, "mikels8", language="zh")
    spec = spec_for(context)
    english = '{"polarity": "negative", "emotion": "fear", "valence": 3, "confidence": 0.7}'
    chinese = '```json\n{"polarity": "消极", "emotion": "恐惧", "valence": 3, "confidence": 0.7}\n```'
    for answer in (english, chinese):
        result = parse_answer(answer, spec)
        assert (result.dimensions["polarity"].value, result.dimensions["emotion"].value) == ("negative", "fear")
        assert result.dimensions["valence"].value == 3
