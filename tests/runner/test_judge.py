"""Judge fallback with a real (deterministic) judge adapter."""

from __future__ import annotations

import asyncio

from engine.models import ModelSpec
from engine.parsing import ParseSpec, parse_answer
from engine.runner.judge import JUDGE_STAGE, Judge, apply_stored, judge_prompt, read_verdict
from engine.runner.policy import CallPolicy
from tests.parsing.keyword_judge import KeywordJudge

SPEC = ParseSpec(("polarity", "emotion", "valence"), "mikels8", scales={"valence": (1.0, 9.0)})
ANSWER = "The little girl has tears streaming down her cheeks; I'd put the pleasantness at about two out of nine."


def make_judge(**options) -> tuple[Judge, KeywordJudge]:
    adapter = KeywordJudge(ModelSpec("judge", "keyword-judge", model="kw", options=options, max_attempts=3))
    return Judge(adapter, policy=CallPolicy.from_spec(adapter, backoff_s=0.001, backoff_max_s=0.005)), adapter


def test_rules_cannot_read_this_answer():
    result = parse_answer(ANSWER, SPEC)
    assert {d: r.status for d, r in result.dimensions.items()} == {"polarity": "failed", "emotion": "failed",
                                                                   "valence": "failed"}


def test_judge_fills_failed_dimensions_and_marks_them():
    judge, adapter = make_judge()
    result = parse_answer(ANSWER, SPEC)
    verdicts = asyncio.run(judge.fill(ANSWER, result, SPEC))
    assert {v.dimension for v in verdicts} == {"polarity", "emotion", "valence"} and len(adapter.prompts) == 3
    assert result.to_json() == {"polarity": {"value": "negative", "status": "ok"},
                                "emotion": {"value": "sadness", "status": "ok"},
                                "valence": {"value": 2.0, "status": "ok"}}
    assert {r.method for r in result.dimensions.values()} == {"judge"}
    assert "amusement, awe, contentment, excitement, anger, disgust, fear, sadness" in adapter.prompts[1]
    assert "scale from 1 to 9" in adapter.prompts[2]


def test_judge_is_not_asked_about_readable_or_refused_dimensions():
    judge, adapter = make_judge()
    text = "Emotion: awe. I can't determine the valence."
    result = parse_answer(text, SPEC)
    asyncio.run(judge.fill(text, result, SPEC))
    assert adapter.prompts == []  # emotion and polarity read by rules; valence refused
    assert result.dimensions["valence"].status == "refused"


def test_judge_saying_none_or_failing_leaves_the_reading_failed():
    judge, _ = make_judge()
    text = "A red car parked by a wall."
    result = parse_answer(text, SPEC)
    verdicts = asyncio.run(judge.fill(text, result, SPEC))
    assert all(v.reading.status == "failed" for v in verdicts)
    assert all(r.status == "failed" and r.method == "rule" for r in result.dimensions.values())
    broken, adapter = make_judge(fail=True)
    result = parse_answer(ANSWER, SPEC)
    verdicts = asyncio.run(broken.fill(ANSWER, result, SPEC))
    assert all(v.response.status == "error" for v in verdicts)
    # a transient failure is retried under the call policy: three attempts per dimension, all recorded
    assert len(adapter.prompts) == 9 and {v.attempts for v in verdicts} == {3}
    assert result.dimensions["emotion"].status == "failed"
    row = broken.response_row(verdicts[0], "run1", "ds", "item1")
    assert row["status"] == "error" and row["error_class"] == "server" and row["stage"] == JUDGE_STAGE
    assert row["attempts"] == 3


def test_verdict_row_records_prompt_and_reply():
    judge, _ = make_judge()
    result = parse_answer(ANSWER, SPEC)
    verdicts = asyncio.run(judge.fill(ANSWER, result, SPEC))
    rows = [judge.response_row(v, "run1", "ds", "item1") for v in verdicts]
    emotion = next(r for r in rows if r["raw_request"]["judge_for"] == "emotion")
    assert emotion["text"] == "sadness" and emotion["stage"] == JUDGE_STAGE and emotion["status"] == "ok"
    assert emotion["raw_request"]["messages"][0]["parts"][0]["text"] == judge_prompt(ANSWER, "emotion", SPEC)
    assert emotion["raw_request"]["judge"] == "keyword-judge:kw"
    assert len({r["response_id"] for r in rows}) == 3


def test_stored_verdicts_are_reused_without_a_model():
    result = parse_answer(ANSWER, SPEC)
    stored = {judge_prompt(ANSWER, "emotion", SPEC): "sadness"}
    assert apply_stored(ANSWER, result, SPEC, stored) == 1
    assert result.dimensions["emotion"].value == "sadness" and result.dimensions["emotion"].method == "judge"
    judge, adapter = make_judge()
    verdicts = asyncio.run(judge.fill(ANSWER, parse_answer(ANSWER, SPEC), SPEC, stored))
    assert len(adapter.prompts) == 2 and sum(v.reused for v in verdicts) == 1


def test_read_verdict():
    assert read_verdict("Sadness.", "emotion", SPEC).value == "sadness"
    assert read_verdict("NONE", "emotion", SPEC).status == "failed"
    assert read_verdict("purple", "emotion", SPEC).status == "failed"
    assert read_verdict("7", "valence", SPEC).value == 7
    assert read_verdict(None, "valence", SPEC).status == "failed"
