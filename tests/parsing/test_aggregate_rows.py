"""Self-consistency aggregation, and parses written to a real DuckDB store as predictions and traces."""

from __future__ import annotations

import json

import pytest

from engine.parsing import ParseSpec, aggregate, parse_answer, predictions_from_parse, trace_row
from engine.parsing.parser import PARSER_VERSION
from engine.store.db import connect
from engine.store.writes import write_predictions, write_traces

SPEC = ParseSpec(("polarity", "emotion", "valence", "ranking", "distribution"), "emotion6",
                 scales={"valence": (1.0, 9.0)})


def parses(*texts):
    return [parse_answer(text, SPEC) for text in texts]


def test_majority_vote_and_agreement():
    results = parses("Emotion: sadness\nValence: 2", "Emotion: fear\nValence: 3", "Emotion: sadness\nValence: 4",
                     "I'm sorry, I can't help with that.")
    combined, agreement = aggregate(results, SPEC)
    emotion = combined.dimensions["emotion"]
    assert (emotion.value, emotion.status, emotion.method) == ("sadness", "ok", "vote")
    assert agreement["emotion"] == pytest.approx(2 / 4)  # the refusal counts as a sample that did not agree
    assert combined.dimensions["polarity"].value == "negative" and agreement["polarity"] == pytest.approx(3 / 4)
    assert combined.dimensions["valence"].value == pytest.approx(3.0)
    assert agreement["valence"] == pytest.approx(1 / 4)  # only 3 lies within 0.8 (a tenth of 1-9) of the mean 3


def test_ties_go_to_the_first_seen_label():
    combined, agreement = aggregate(parses("fear", "sadness", "sadness", "fear"), SPEC)
    assert combined.dimensions["emotion"].value == "fear" and agreement["emotion"] == 0.5
    combined, _ = aggregate(parses("sadness", "fear"), SPEC)
    assert combined.dimensions["emotion"].value == "sadness"


def test_borda_ranking_and_mean_distribution():
    results = parses('{"joy": 0.6, "surprise": 0.4}', '{"surprise": 0.8, "joy": 0.2}', '{"joy": 1.0}')
    combined, agreement = aggregate(results, SPEC)
    assert combined.dimensions["distribution"].value["joy"] == pytest.approx((0.6 + 0.2 + 1.0) / 3)
    assert combined.dimensions["distribution"].value["surprise"] == pytest.approx((0.4 + 0.8) / 3)
    assert agreement["distribution"] == pytest.approx(2 / 3)
    ranked, _ = aggregate(parses("joy > surprise > fear", "surprise > joy", "joy > fear"), SPEC)
    # Borda points: joy 3+1+2 = 6, surprise 2+2 = 4, fear 1+1 = 2
    assert ranked.dimensions["ranking"].value == ["joy", "surprise", "fear"]


def test_nothing_readable_keeps_refusals_apart():
    combined, agreement = aggregate(parses("I'm sorry, I can't help.", "I cannot determine it."), SPEC)
    assert combined.dimensions["emotion"].status == "refused" and agreement["emotion"] == 0.0
    combined, _ = aggregate(parses("I'm sorry, I can't help.", "blue car"), SPEC)
    assert combined.dimensions["emotion"].status == "failed"
    empty, agreement = aggregate([], SPEC)
    assert all(r.status == "failed" for r in empty.dimensions.values()) and set(agreement) == set(SPEC.dimensions)


def test_predictions_and_trace_rows_in_a_real_store(db_path):
    text = ("Step 1: a child cries.\nStep 2: grey sky.\n\nFinal answer: sadness > fear\nValence: 3 (on 1-5)\n"
            "sadness: 70%, fear: 30%\nConfidence: 0.8")
    result = parse_answer(text, SPEC)
    rows = predictions_from_parse("run1", "emotion6", "img1.jpg", result, "resp1", SPEC, agreement={"emotion": 1.0})
    with connect(db_path) as con:
        write_predictions(con, rows)
        write_traces(con, [trace_row("run1", "img1.jpg", result, "resp1")])
    with connect(db_path, read_only=True) as con:
        stored = {r["dimension"]: r for r in con.execute("SELECT * FROM predictions").fetchdf().to_dict("records")}
        trace = con.execute("SELECT * FROM traces").fetchdf().to_dict("records")[0]
    assert stored["emotion"]["label"] == "sadness" and stored["emotion"]["agreement"] == 1.0
    assert stored["polarity"]["label"] == "negative" and stored["polarity"]["status"] == "ok"
    assert stored["valence"]["value"] == pytest.approx(5.0)  # 3 on 1-5 is the midpoint of 1-9
    assert stored["valence"]["value_norm"] == pytest.approx(0.0)  # valence normalised to [-1, 1]
    assert list(stored["ranking"]["ranking"]) == ["sadness", "fear"] and stored["ranking"]["label"] == "sadness"
    distribution = json.loads(stored["distribution"]["distribution"])
    assert distribution["sadness"] == pytest.approx(0.7) and stored["distribution"]["label"] == "sadness"
    assert all(r["confidence"] == pytest.approx(0.8) for r in stored.values())
    assert {r["parser_version"] for r in stored.values()} == {PARSER_VERSION}
    # polarity came from the emotion word (nothing stated it): marked derived; the rest was read as stated
    assert stored["polarity"]["method"] == "derived"
    assert {r["method"] for d, r in stored.items() if d != "polarity"} == {"rule"}
    assert list(trace["steps"])[:2] == ["Step 1: a child cries.", "Step 2: grey sky."]
