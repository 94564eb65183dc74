"""Property tests: the parser never raises and its output always has the promised shape."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.parsing import ParseSpec, aggregate, parse_answer
from engine.parsing.parser import KNOWN_DIMENSIONS, _parse
from engine.taxonomy import TAXONOMIES, get_taxonomy

STATUSES = {"ok", "partial", "failed", "refused"}
# Fragments that exercise every reader: keys, labels, numbers, JSON, thinking tags, refusals, Chinese.
FRAGMENTS = ["{", "}", "[", "]", '"', "'", ",", ":", "：", "\n", "\n\n", " ", "```json", "```", "<think>", "</think>",
             "Emotion:", "Valence:", "arousal", "Final answer:", "1.", "2)", "-", ">", "%", "/", "out of", "7", "0.6",
             "-3", "1-9", "(on 1-7)", "sad", "happy", "not", "neither", "nor", "fear", "positive", "negative",
             "neutral", "content", "I can't determine", "I'm sorry", "抱歉", "无法判断", "悲伤", "不", "积极", "置信度",
             "confidence", "very high", "moderately low", "joy: 0.6", "Global atmosphere:", "Answer:", "null", "None",
             "True", "**", "#", "Step 1:", "◁think▷", "−", "中等偏高"]
texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map(" ".join),
)
dimension_sets = st.lists(st.sampled_from(KNOWN_DIMENSIONS), min_size=1, max_size=8, unique=True).map(tuple)
emotion_taxonomies = st.sampled_from(sorted(n for n, t in TAXONOMIES.items() if not t.polarity_only))
scales = st.tuples(st.floats(-10, 10, allow_nan=False), st.floats(0.5, 20, allow_nan=False)).map(
    lambda t: (round(t[0], 2), round(t[0] + t[1], 2)))


@st.composite
def specs(draw):
    scale = draw(scales)
    return ParseSpec(dimensions=draw(dimension_sets), taxonomy=draw(emotion_taxonomies),
                     polarity_taxonomy=draw(st.sampled_from(["polarity2", "polarity3"])),
                     scales={"valence": scale, "arousal": scale, "intensity": scale})


def check_shape(result, spec):
    assert list(result.dimensions) == list(spec.dimensions)
    for dimension, reading in result.dimensions.items():
        assert reading.status in STATUSES
        value = reading.value
        if value is None:
            continue
        assert reading.status in ("ok", "partial")
        if dimension in ("polarity", "emotion"):
            taxonomy = spec.polarity_taxonomy if dimension == "polarity" else spec.taxonomy
            assert value in get_taxonomy(taxonomy)
        elif dimension == "ranking":
            assert all(label is None or label in get_taxonomy(spec.taxonomy) for label in value)
        elif dimension == "distribution":
            assert set(value) <= set(get_taxonomy(spec.taxonomy).names)
            assert math.isclose(sum(value.values()), 1.0, abs_tol=1e-4) and min(value.values()) >= 0
        elif dimension == "confidence":
            assert 0.0 <= value <= 1.0
        else:
            low, high = spec.scale(dimension)
            assert low - 1e-6 <= value <= high + 1e-6, (dimension, value, spec.scale(dimension))
    if result.confidence is not None:
        assert 0.0 <= result.confidence <= 1.0
    assert all(isinstance(step, str) and step for step in result.steps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, specs())
def test_never_raises_and_keeps_the_shape(text, spec):
    result = _parse(text, spec)  # without the safety net: a bug here must fail the test
    check_shape(result, spec)
    assert parse_answer(text, spec).to_json() == result.to_json()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FRAGMENTS), st.integers(500, 4000), specs())
def test_long_repetitive_answers_stay_fast(fragment, times, spec):
    """Degenerate repetition (a model stuck in a loop) parses; its speed is measured in bench/bench_parse.py.

    Parsed in a worker with a generous limit, so a regression shows as a failed assertion, not a hang."""
    from engine.parsing.bounded import parse_bounded

    result = parse_bounded((fragment + " ") * (times // max(1, len(fragment))) + "   \n" * 300, spec, limit=20.0)
    assert all(reading.error is None for reading in result.dimensions.values())
    check_shape(result, spec)


@settings(deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=50)), specs())
def test_non_text_input_is_read_as_text(value, spec):
    result = parse_answer(value, spec)
    check_shape(result, spec)


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), specs())
def test_aggregate_keeps_the_shape(samples, spec):
    results = [_parse(text, spec) for text in samples]
    combined, agreement = aggregate(results, spec)
    check_shape(combined, spec)
    assert set(agreement) == set(spec.dimensions)
    assert all(0.0 <= share <= 1.0 for share in agreement.values())
