"""Cue extraction and reasoning sentiment on hand-written reasoning texts (expected readings written by hand)."""

from __future__ import annotations

import math

import pytest

from engine.explain.cues import (CUE_CATEGORIES, analyse_reasoning, cue_shares, extract_cues, is_inconsistent,
                                 reasoning_sentiment, strip_final_answer)

# text -> the cue categories a careful reader would tick
CASES = [
    ("The woman is smiling and her eyes crinkle with laughter.", {"faces_expressions"}),
    ("Dark, muted colours and heavy shadows dominate the frame.", {"colour_lighting"}),
    ("A birthday cake with candles sits beside wrapped gifts.", {"objects"}),
    ("Two children are running and playing in the park.", {"actions"}),
    ("A placard in the crowd says 'Stop the war'; the headline above is in bold lettering.", {"text_in_image"}),
    ("The composition is symmetrical with a lot of negative space; the subject is off-centre in the foreground.",
     {"composition"}),
    ("Her frown, the grey sky and the empty street in the background suggest loneliness.",
     {"faces_expressions", "colour_lighting", "objects", "composition"}),
    ("There are clear signs of distress, in other words the overall scene feels tense.", set()),
    ("The soldiers are fighting; smoke and fire fill the sky under an orange glow.",
     {"actions", "objects", "colour_lighting"}),
    ("", set()),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_cue_categories_on_hand_written_reasoning(text, expected):
    assert set(extract_cues(text)) == expected


def test_matched_terms_are_kept_once_each_in_singular_form():
    cues = extract_cues("Faces everywhere: smiling faces, smiles, and one face with tears.")
    assert sorted(cues["faces_expressions"]) == ["face", "smile", "smiling", "tear"]


def test_the_final_answer_is_not_evidence():
    text = ('The sky is grey and the man looks lonely.\n**Final answer:** sadness\n'
            '```json\n{"emotion": "sadness", "polarity": "negative", "reasoning": {"note": "dark"}}\n```')
    stripped = strip_final_answer(text)
    assert "sadness" not in stripped and "{" not in stripped and "grey" in stripped
    assert reasoning_sentiment(text) == ("unclear", 0, 1)  # only "lonely": one word is not a clear sentiment


@pytest.mark.parametrize("text, sentiment", [
    ("The children are laughing, happy and playful at a joyful party.", "positive"),
    ("A grim, bleak street: the people look sad, afraid and lonely.", "negative"),
    ("She is not happy; she doesn’t look cheerful either, and she seems sad.", "negative"),  # negation, curly ’
    ("Nobody here is unhappy or afraid; there is no danger and no threat.", "positive"),
    ("A happy dog next to a sad child.", "unclear"),
    ("A red car parked in front of a building.", "none"),
])
def test_reasoning_sentiment_with_negation(text, sentiment):
    assert reasoning_sentiment(text)[0] == sentiment


@pytest.mark.parametrize("sentiment, polarity, expected", [
    ("positive", "negative", True), ("negative", "positive", True), ("positive", "positive", False),
    ("negative", "negative", False), ("unclear", "negative", None), ("none", "positive", None),
    ("positive", "neutral", None), ("negative", None, None),
])
def test_inconsistency_by_hand(sentiment, polarity, expected):
    assert is_inconsistent(sentiment, polarity) is expected


def test_a_reasoning_that_argues_against_its_answer():
    # affect words by hand: dark, grief, tears, bleak (all negative; "alone" is not in the list)
    text = ("1. The man sits alone in the dark rain; his face shows grief and tears.\n"
            "2. Everything about the scene is bleak.\nAnswer: positive")
    report = analyse_reasoning(text)
    assert report.sentiment == "negative" and report.negative_words == 4 and report.positive_words == 0
    assert is_inconsistent(report.sentiment, "positive") is True
    assert report.categories == ["faces_expressions", "colour_lighting"]


def test_cue_shares_over_every_text():
    shares = cue_shares(["her smile", "a bright room", "a smiling face in warm light", None])
    assert shares["faces_expressions"] == pytest.approx(2 / 4)
    assert shares["colour_lighting"] == pytest.approx(2 / 4)
    assert shares["objects"] == 0.0 and set(shares) == set(CUE_CATEGORIES)
    assert all(math.isnan(v) for v in cue_shares([]).values())
