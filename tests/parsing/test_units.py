"""Unit checks of the parser's parts: JSON repair, thinking blocks, refusals, scales, negation, traces."""

from __future__ import annotations

import pytest

from engine.parsing import ParseSpec, parse_answer
from engine.parsing.cleaning import mask_refusals, split_thinking
from engine.parsing.jsonish import find_json
from engine.parsing.labels import mentions, read_list
from engine.parsing.scales import read_level, read_number, rescale
from engine.parsing.traces import scene_from_text, split_steps


@pytest.mark.parametrize("text, expected", [
    ('{"a": 1}', {"a": 1}),
    ("prose before ```json\n{\"a\": [1, 2,],}\n``` prose after", {"a": [1, 2]}),
    ("{'a': 'it\"s', 'b': None, 'c': True}", {"a": 'it"s', "b": None, "c": True}),
    ('{"a": "cut off mid', {"a": "cut off mid"}),
    ('{"a": 1, "b"', {"a": 1, "b": None}),
    ('{"a": 1, "b":', {"a": 1, "b": None}),
    ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),
    ("{emotion: sad, score: 0.5}", {"emotion": "sad", "score": 0.5}),
    ("{“情绪”：“悲伤”，“强度”：3}", {"情绪": "悲伤", "强度": 3}),
])
def test_json_repair(text, expected):
    found = find_json(text)
    assert found is not None and found.value == expected


@pytest.mark.parametrize("text", ["no json here", "see reference [1] and [2]", "{{{{", "{}"])
def test_json_absent(text):
    assert find_json(text) is None


@pytest.mark.parametrize("text, answer, thinking", [
    ("<think>a</think>B", "B", "a"),
    ("<think>a</think> mid <think>c</think> end", "mid  end", "a\n\nc"),
    ("reasoning here</think>\nAnswer", "Answer", "reasoning here"),
    ("<think>never closed", "", "never closed"),
    ("Thinking: it looks sad.\nAnswer: Sadness", "Answer: Sadness", "it looks sad."),
    ("Thinking: a\n\nb\n\nSadness", "Sadness", "a\n\nb"),
    ("Thinking: just one paragraph", "Thinking: just one paragraph", None),
    ("◁think▷x◁/think▷y", "y", "x"),
    ("plain answer", "plain answer", None),
])
def test_split_thinking(text, answer, thinking):
    assert split_thinking(text) == (answer, thinking)


def test_refusal_masking_keeps_offsets_and_the_part_after_but():
    text = "I can't be sure, but it looks sad. I cannot determine the arousal. I cannot tell, but it is calm."
    masked, refused = mask_refusals(text)
    assert refused and len(masked) == len(text)
    assert "I can't be sure, but it looks sad." in masked  # a hedge, not a refusal
    assert "arousal" not in masked and "cannot tell" not in masked and "it is calm." in masked
    assert mask_refusals("I can't help but smile.") == ("I can't help but smile.", False)


def test_scale_documentation_table():
    """The level-word table in engine/parsing/scales.py: u in sixths of the range."""
    words = ["very low", "low", "moderately low", "moderate", "moderately high", "high", "very high"]
    for scale in [(1, 9), (1, 5), (1, 7), (0, 1), (-1, 1)]:
        values = [read_number(f"{w}", "arousal", scale).value for w in words]
        low, high = scale
        assert values == pytest.approx([low + k / 6 * (high - low) for k in range(7)], abs=1e-4)
    assert read_level("slightly negative", "valence") == (pytest.approx(2 / 6), "slightly negative")
    assert read_level("slightly negative", "arousal") is None  # valence words are for valence only


@pytest.mark.parametrize("text, scale, value, status", [
    ("7/9", (1, 9), 7, "ok"),
    ("6 out of 9", (1, 9), 6, "ok"),
    ("3 (on 1-7)", (1, 9), 1 + 2 / 6 * 8, "ok"),
    ("on a scale of 1 to 7, a 3", (1, 9), 1 + 2 / 6 * 8, "ok"),
    ("0.6", (0, 1), 0.6, "ok"),
    ("0.6", (1, 9), None, "partial"),
    ("8/10", (1, 9), 1 + 0.8 * 8, "ok"),
    ("4/5", (1, 9), 1 + 0.75 * 8, "ok"),
    ("50%", (1, 5), 3, "ok"),
    ("150%", (1, 5), None, "partial"),
    ("4-6", (1, 9), 5, "ok"),
    ("10 (on 1-7)", (1, 9), None, "partial"),
    ("−0.5", (-1, 1), -0.5, "ok"),
    ("7分（满分9分）", (1, 9), 7, "ok"),
])
def test_read_number(text, scale, value, status):
    reading = read_number(text, "valence", scale)
    assert reading.status == status
    assert reading.value == (pytest.approx(value, abs=1e-3) if value is not None else None)


def test_rescale_is_linear():
    assert rescale(4, (1, 7), (1, 9)) == pytest.approx(5)
    assert rescale(-1, (-1, 1), (0, 10)) == 0 and rescale(1, (-1, 1), (0, 10)) == 10


@pytest.mark.parametrize("text, negated", [
    ("not happy", {"happy"}),
    ("does not convey fear", {"fear"}),
    ("neither happy nor sad", {"happy", "sad"}),
    ("not happy or sad", {"happy", "sad"}),
    ("not angry, he is surprised", {"angry"}),
    ("rather than sadness, joy", {"sadness"}),
    ("sadness is absent", {"sadness"}),
    ("not only sad but angry", set()),
    ("并不快乐，而是难过", {"快乐"}),
    ("没有明显的积极或消极情绪", {"积极", "消极"}),
    ("非常快乐", set()),
    ("无比快乐", set()),
])
def test_negation(text, negated):
    found = {m.raw for m in mentions(text, "polarity3") if m.negated}
    assert found == negated


def test_content_of_the_image_is_not_contentment():
    assert not mentions("the content of the image is a street", "mikels8")
    assert [m.label for m in mentions("she looks content", "mikels8")] == ["contentment"]
    assert not mentions("neutral colors and a grey background", "ekman7")


@pytest.mark.parametrize("text, labels", [
    ("1. Sadness 2. Fear 3. Anger", ["sadness", "fear", "anger"]),
    ("Sad > Fear > Anger", ["sadness", "fear", "anger"]),
    ("Sad,Fear,Anger", ["sadness", "fear", "anger"]),
    ("悲伤、恐惧、愤怒", ["sadness", "fear", "anger"]),
    ("- Sadness\n- Contentment", ["sadness", "contentment"]),
    ("Top three: 1) sad 2) sad 3) fear", ["sadness", "fear"]),
    ("Concentration, Neutral, Sadness", [None, None, "sadness"]),
])
def test_read_list(text, labels):
    ranked = read_list(text, "mikels8")
    assert ranked is not None and [label for label, _ in ranked] == labels


def test_prose_with_commas_is_not_a_ranking():
    assert read_list("The sky is grey, the streets are empty, and the man looks sad", "mikels8") is None


def test_steps_and_scene():
    assert split_steps("Sadness") == []
    assert split_steps("Step 1: look.\nStep 2: think.\nStep 3: answer.") == ["Step 1: look.", "Step 2: think.",
                                                                             "Step 3: answer."]
    assert split_steps("Intro\n1. one\n   more\n2. two\n\nFinal answer: x") == ["Intro", "1. one\n   more", "2. two",
                                                                              "Final answer: x"]
    assert split_steps("First paragraph.\n\nSecond paragraph.") == ["First paragraph.", "Second paragraph."]
    assert split_steps("One sentence here is long enough to count. Another follows it. And a third.") == [
        "One sentence here is long enough to count.", "Another follows it.", "And a third."]
    scene = scene_from_text("**Global atmosphere:** grey\n**Subject emotion:** tears\nAnswer: sad")
    assert scene == {"global_atmosphere": "grey", "subject_emotion": "tears", "answer": "sad"}
    assert scene_from_text("Answer: sad") is None


def test_span_and_raw_of_an_unknown_label():
    result = parse_answer("Emotion: Nostalgia\nPolarity: positive", ParseSpec(("emotion", "polarity"), "mikels8"))
    emotion = result.dimensions["emotion"]
    assert (emotion.value, emotion.status, emotion.raw) == (None, "partial", "Nostalgia")
    assert emotion.span == "Emotion: Nostalgia"
    assert result.dimensions["polarity"].span == "Polarity: positive"


def test_polarity_follows_the_emotion_through_the_taxonomy():
    spec = ParseSpec(("polarity",), "mikels8", "polarity3")
    assert parse_answer("Emotion: awe", spec).to_json() == {"polarity": {"value": "positive", "status": "ok"}}
    assert parse_answer("Emotion: neutral", spec).to_json() == {"polarity": {"value": "neutral", "status": "ok"}}


def test_unknown_dimension_fails_without_raising():
    result = parse_answer("sad", ParseSpec(("colour",)))
    assert result.dimensions["colour"].status == "failed"


def test_stated_confidence_is_read_even_when_not_asked():
    result = parse_answer("Emotion: fear (confidence 70%)", ParseSpec(("emotion",)))
    assert result.confidence == pytest.approx(0.7) and "confidence" not in result.dimensions


@pytest.mark.parametrize("text, scale, value", [
    ('{"confidence": 4}', (1.0, 5.0), 0.75),  # a configured 1-5 confidence scale maps onto [0, 1]
    ("Confidence: 0.8", (0.0, 1.0), 0.8),
    ("Confidence: 80", (0.0, 1.0), 0.8),  # hundredths
    ("Confidence: 80%", (1.0, 5.0), 0.8),  # a percentage is a percentage on any scale
    ("Confidence: 7/10", (0.0, 1.0), 0.7),
    ("Confidence: very high", (0.0, 1.0), 1.0),
])
def test_confidence_scales(text, scale, value):
    spec = ParseSpec(("confidence",), scales={"confidence": scale})
    reading = parse_answer(text, spec).dimensions["confidence"]
    assert (reading.status, reading.value) == ("ok", pytest.approx(value))
