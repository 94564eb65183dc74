"""Taxonomies and the one label normaliser (issue 2, point 2)."""

from __future__ import annotations

import pytest

from engine.taxonomy import (TAXONOMIES, UnknownTaxonomyError, get_taxonomy, infer_taxonomy, map_label,
                             normalize_label, polarity_of)

EMOTION_TAXONOMIES = sorted(name for name, tax in TAXONOMIES.items() if not tax.polarity_only)


def test_the_named_taxonomies_exist_with_their_labels():
    assert TAXONOMIES["mikels8"].names == ["amusement", "awe", "contentment", "excitement",
                                           "anger", "disgust", "fear", "sadness"]
    assert set(TAXONOMIES["ekman6"].names) == {"anger", "disgust", "fear", "happiness", "sadness", "surprise"}
    assert set(TAXONOMIES["ekman7"].names) == set(TAXONOMIES["ekman6"].names) | {"neutral"}
    assert set(TAXONOMIES["fer8"].names) == set(TAXONOMIES["ekman7"].names) | {"contempt"}
    assert set(TAXONOMIES["emotion6"].names) == {"anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"}
    assert TAXONOMIES["polarity2"].names == ["positive", "negative"]
    assert TAXONOMIES["polarity3"].names == ["positive", "negative", "neutral"]


@pytest.mark.parametrize("taxonomy", ["mikels8", "ekman6", "ekman7", "fer8", "emotion6"])
@pytest.mark.parametrize("text", ["Sad", "sadness", "sad.", "SADNESS", "  Sadness!  ", "**sad**", "the sadness"])
def test_spellings_of_sadness_are_one_label(taxonomy, text):
    assert normalize_label(text, taxonomy).label == "sadness"


@pytest.mark.parametrize("text, taxonomy, label", [
    ("Content", "mikels8", "contentment"),
    ("contented", "mikels8", "contentment"),
    ("Angry", "mikels8", "anger"),
    ("angry", "ekman7", "anger"),
    ("scared", "mikels8", "fear"),
    ("Scared", "fer8", "fear"),
    ("Happy", "ekman6", "happiness"),
    ("happiness", "ekman7", "happiness"),
    ("joy", "ekman7", "happiness"),
    ("Happy", "emotion6", "joy"),
    ("happiness", "emotion6", "joy"),
    ("Joy", "emotion6", "joy"),
    ("Surprised", "ekman7", "surprise"),
    ("disgusted", "fer8", "disgust"),
    ("contemptuous", "fer8", "contempt"),
    ("amused", "mikels8", "amusement"),
    ("awe-inspiring", "mikels8", "awe"),
    ("thrilled", "mikels8", "excitement"),
    ("悲伤", "mikels8", "sadness"),
    ("快乐", "emotion6", "joy"),
    ("忧伤", "ekman7", "sadness"),
    ("积极", "polarity2", "positive"),
    ("负面", "polarity3", "negative"),
])
def test_variants_and_synonyms(text, taxonomy, label):
    assert normalize_label(text, taxonomy).label == label


@pytest.mark.parametrize("text, taxonomy, label, via", [
    ("Content", "polarity2", "positive", "mikels8:contentment"),
    ("sad", "polarity3", "negative", "mikels8:sadness"),
    ("awe", "ekman7", "happiness", "mikels8:awe"),  # Mikels positive emotions map to happiness
    ("contempt", "ekman7", "disgust", "fer8:contempt"),
])
def test_mapped_through_another_taxonomy(text, taxonomy, label, via):
    match = normalize_label(text, taxonomy)
    assert (match.label, match.via) == (label, via)


@pytest.mark.parametrize("text, taxonomy, nearest", [
    ("sadnes", "mikels8", "sadness"),
    ("exited", "mikels8", "excitement"),
    ("angr", "ekman7", "anger"),
    ("happy", "mikels8", "amusement"),  # a known emotion with no single Mikels label: the four positives
])
def test_unknown_labels_give_nearest_candidates_not_a_guess(text, taxonomy, nearest):
    match = normalize_label(text, taxonomy)
    assert match.label is None and not match.ok
    assert nearest in match.candidates
    assert "not a known label" in match.explain()


@pytest.mark.parametrize("text", ["", "   ", None, "Concentration", "xyzzy"])
def test_nothing_known_is_never_guessed(text):
    assert normalize_label(text, "ekman7").label is None


def test_neutral_has_no_two_way_polarity():
    assert normalize_label("neutral", "polarity2").label is None
    assert normalize_label("neutral", "polarity3").label == "neutral"


@pytest.mark.parametrize("taxonomy", sorted(TAXONOMIES))
def test_every_label_has_a_polarity_and_normalises_to_itself(taxonomy):
    tax = TAXONOMIES[taxonomy]
    for label in tax.labels:
        assert label.polarity in ("positive", "negative", "neutral")
        assert polarity_of(label.name, taxonomy) == label.polarity
        for variant in label.variants:
            assert normalize_label(variant, taxonomy).label == label.name, (taxonomy, variant)


def test_polarities_follow_the_literature():
    mikels = {label: polarity_of(label, "mikels8") for label in TAXONOMIES["mikels8"].names}
    assert {k for k, v in mikels.items() if v == "positive"} == {"amusement", "awe", "contentment", "excitement"}
    assert {k for k, v in mikels.items() if v == "negative"} == {"anger", "disgust", "fear", "sadness"}
    assert polarity_of("neutral", "ekman7") == "neutral"


@pytest.mark.parametrize("label, source, target, expected", [
    ("contentment", "mikels8", "ekman7", "happiness"),
    ("excitement", "mikels8", "emotion6", "joy"),
    ("sadness", "mikels8", "ekman6", "sadness"),
    ("joy", "emotion6", "ekman7", "happiness"),
    ("happiness", "ekman7", "emotion6", "joy"),
    ("contempt", "fer8", "ekman7", "disgust"),
    ("awe", "mikels8", "polarity2", "positive"),
    ("neutral", "ekman7", "polarity3", "neutral"),
    ("neutral", "ekman7", "polarity2", None),
    ("surprise", "ekman7", "mikels8", None),  # no mapping defined: None, not a guess
    ("nonsense", "ekman7", "ekman6", None),
])
def test_mappings(label, source, target, expected):
    assert map_label(label, source, target) == expected


@pytest.mark.parametrize("source", EMOTION_TAXONOMIES)
def test_every_emotion_label_maps_onto_polarity(source):
    for label in TAXONOMIES[source].names:
        assert map_label(label, source, "polarity3") in ("positive", "negative", "neutral")


def test_infer_taxonomy():
    assert infer_taxonomy(["Sad", "Content", "Awe"]) == "mikels8"
    assert infer_taxonomy(["positive", "negative"]) == "polarity2"
    assert infer_taxonomy(["Happiness", "Neutral", "Sadness"]) == "ekman7"
    assert infer_taxonomy(["Joy", "Neutral"]) in ("ekman7", "emotion6")
    assert infer_taxonomy(["nostalgia"]) is None and infer_taxonomy([]) is None


def test_unknown_taxonomy_names_the_choices():
    with pytest.raises(UnknownTaxonomyError) as info:
        get_taxonomy("plutchik")
    assert "mikels8" in str(info.value) and "plutchik" in str(info.value)


def test_circumplex_positions_are_in_range():
    for tax in TAXONOMIES.values():
        for label in tax.labels:
            if label.angle is not None:
                assert -1 <= label.valence <= 1 and 0 <= label.arousal <= 1
    assert get_taxonomy("ekman7").label("happiness").valence > 0 > get_taxonomy("ekman7").label("sadness").valence
