"""The parser's time bound: linear regexes on adversarial shapes, and a per-answer limit in a worker process."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.parsing import ParseSpec
from engine.parsing.bounded import parse_bounded
from engine.parsing.parser import KNOWN_DIMENSIONS
from engine.runner import run_experiment
from tests.fakes import FakeVendorServer
from tests.parsing.adversarial import TAILS, UNITS, shapes
from tests.parsing.test_properties import check_shape, specs
from tests.runner.helpers import experiment, write_dataset

ALL = ParseSpec(dimensions=KNOWN_DIMENSIONS, taxonomy="mikels8", polarity_taxonomy="polarity3")
# Generous: a stall shows as a failed parse after this long instead of a hung test. Every shape parses
# in milliseconds (bench/bench_parse.py gives the figures); the exponential patterns this replaced took
# over 15 s on a line of 30 `#`.
BOUND_S = 20.0
PROSE = "The street is dark and wet; a lone figure walks under an umbrella, which reads as sadness. " * 1200


@st.composite
def adversarial(draw):
    """Answers of up to 100 kB: runs of markdown characters, blanks, brackets and markers, mixed."""
    pieces = draw(st.lists(st.tuples(st.sampled_from(sorted(UNITS.values())), st.integers(1, 4000),
                                     st.sampled_from(TAILS)), min_size=1, max_size=6))
    text = "".join(unit * count + tail for unit, count, tail in pieces)
    return text[:100_000]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(adversarial(), specs())
def test_adversarial_answers_parse_within_the_bound(text, spec):
    result = parse_bounded(text, spec, limit=BOUND_S)
    assert all(reading.error is None for reading in result.dimensions.values()), (len(text), text[:80])
    check_shape(result, spec)


def test_every_listed_shape_of_100_kb_parses_within_the_bound():
    slow = []
    # Each unit once with a tail that makes a near-match fail, and every special shape (the bench runs all).
    for name, text in shapes(100_000):
        if name in UNITS or ("+" in name and not name.endswith("'x'")) or "-lines" in name:
            continue
        result = parse_bounded(text, ALL, limit=BOUND_S)
        if any(reading.error for reading in result.dimensions.values()):
            slow.append(name)
        check_shape(result, ALL)
    assert not slow, f"shapes past {BOUND_S} s: {slow}"


def test_a_parse_past_the_limit_is_failed_with_its_reason_and_the_next_answer_parses():
    result = parse_bounded(PROSE + "\nFinal answer: sadness", ALL, limit=0.0005)
    assert {reading.status for reading in result.dimensions.values()} == {"failed"}
    assert all("parsing stopped after 0.0005 s" in reading.error for reading in result.dimensions.values())
    assert result.answer_text.endswith("Final answer: sadness")  # the raw answer is kept
    after = parse_bounded("Final answer: sadness", ALL, limit=BOUND_S)  # a fresh worker took over
    assert after.dimensions["emotion"].value == "sadness" and after.dimensions["emotion"].error is None


def test_the_runner_stores_a_parse_past_the_limit_as_failed_and_finishes(tmp_path, db_path, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_PARSE_TIMEOUT", "0.0005")
    manifest = write_dataset(tmp_path / "data", 3)
    with FakeVendorServer("openai", answer=PROSE + "\nFinal answer: negative") as fake:
        result = run_experiment(experiment(manifest, fake.base_url), db_path, quiet=True)
    assert result.runs[0].status == "complete"
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("SELECT status, parse_error FROM predictions").fetchall()
        texts = con.execute("SELECT length(text) FROM responses").fetchall()
    finally:
        con.close()
    assert len(rows) == 3 and {status for status, _ in rows} == {"failed"}
    assert all("parsing stopped after 0.0005 s" in error and "affectlens reparse" in error for _, error in rows)
    assert all(length > 100_000 for (length,) in texts)  # the paid-for answer is kept for a reparse
