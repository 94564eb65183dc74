"""Every hand-labelled answer in corpus.jsonl parses to its expected value and status."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.parsing import parse_answer
from tests.parsing.corpus import differences, load_corpus, spec_of

CASES = load_corpus()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case):
    result = parse_answer(case["text"], spec_of(case))
    problems = differences(case, result)
    assert not problems, f"{case['id']} ({case.get('note', '')}): " + "; ".join(problems)


def test_corpus_covers_the_issue():
    """At least 300 answers, in five model styles, every dimension, strategy and status."""
    assert len(CASES) >= 300
    styles = Counter(c["style"] for c in CASES)
    assert {"gpt-4o", "claude", "gemini", "qwen-vl", "llava"} <= set(styles)
    assert all(n >= 30 for n in styles.values()), styles
    dimensions = Counter(d for c in CASES for d in c["expected"])
    assert set(dimensions) == {"polarity", "emotion", "ranking", "distribution", "intensity", "valence", "arousal",
                               "confidence"}
    strategies = {c["strategy"] for c in CASES}
    assert {"zero-shot", "cot", "few-shot", "structured-json", "scene-decomposition", "describe-then-judge"} <= strategies
    statuses = Counter(e["status"] for c in CASES for e in c["expected"].values())
    assert all(statuses[s] >= 10 for s in ("ok", "partial", "failed", "refused")), statuses
    assert sum(1 for c in CASES if any("\u4e00" <= ch <= "\u9fff" for ch in c["text"])) >= 25
    assert sum(1 for c in CASES if (c.get("expected_extra") or {}).get("thinking")) >= 10


def test_spans_come_from_the_answer():
    """A rule reading's span is text of the answer (JSON spans may be re-rendered)."""
    checked = 0
    for case in CASES:
        result = parse_answer(case["text"], spec_of(case))
        for reading in result.dimensions.values():
            if reading.status == "ok" and reading.span and "{" not in case["text"]:
                assert reading.span.strip() in result.answer_text, (case["id"], reading.span)
                checked += 1
    assert checked > 200
