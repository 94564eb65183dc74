"""`affectlens parse` and `affectlens reparse` against a real DuckDB store."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from engine.cli.main import main
from engine.models import ADAPTERS, AdapterInfo
from engine.parsing.parser import PARSER_VERSION
from engine.store.db import connect
from engine.store.writes import write_predictions, write_responses, write_run
from tests.runner.test_judge import ANSWER


def parse_cli(monkeypatch, capsys, text: str, *args: str) -> dict:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["parse", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_parse_prints_the_design_contract(monkeypatch, capsys):
    out = parse_cli(monkeypatch, capsys, "The mood is sombre and sad.\nValence: 2.5",
                    "--dimensions", "polarity,valence", "--scale", "1-9")
    assert out == {"polarity": {"value": "negative", "status": "ok"}, "valence": {"value": 2.5, "status": "ok"}}


def test_parse_options(monkeypatch, capsys):
    out = parse_cli(monkeypatch, capsys, "Content", "--dimensions", "emotion,polarity", "--taxonomy", "mikels8",
                    "--polarity-taxonomy", "polarity3")
    assert out == {"emotion": {"value": "contentment", "status": "ok"}, "polarity": {"value": "positive", "status": "ok"}}
    out = parse_cli(monkeypatch, capsys, "Valence: 3 (on 1-7)\nArousal: 0.8", "--dimensions", "valence,arousal",
                    "--scale", "valence=1-9,arousal=0-1")
    assert out["valence"]["value"] == pytest.approx(3.6667) and out["arousal"]["value"] == 0.8
    out = parse_cli(monkeypatch, capsys, "<think>hmm, fear?</think>Emotion: fear (80% confident)",
                    "--dimensions", "emotion", "--verbose-json")
    assert out["emotion"]["span"] == "Emotion: fear (80% confident)" and out["emotion"]["method"] == "rule"
    assert out["_answer"]["thinking"] == "hmm, fear?" and out["_answer"]["confidence"] == 0.8


@pytest.mark.parametrize("args, message", [
    (["--dimensions", "polarity,colour"], "unknown colour"),
    (["--taxonomy", "plutchik"], "unknown taxonomy 'plutchik'"),
    (["--polarity-taxonomy", "ekman7"], "not a polarity taxonomy"),
    (["--dimensions", "valence", "--scale", "9-1"], "LOW < HIGH"),
    (["--dimensions", "valence", "--scale", "mood=1-9"], "has no scale"),
])
def test_parse_bad_options_say_what_to_do(monkeypatch, capsys, args, message):
    monkeypatch.setattr(sys, "stdin", io.StringIO("sad"))
    assert main(["parse", *args]) == 2
    assert message in capsys.readouterr().err


def test_console_entry_point_reads_stdin():
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "parse", "--dimensions", "emotion",
                           "--taxonomy", "emotion6"], input="我觉得这张图片很快乐。", capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == {"emotion": {"value": "joy", "status": "ok"}}


def _response(item, text, *, sample=0, stage="answer", status="ok"):
    return {"response_id": f"{item}-{stage}-{sample}", "run_id": "r1", "dataset": "ds", "item_id": item,
            "sample_index": sample, "stage": stage, "status": status, "text": text, "request_hash": None}


@pytest.fixture
def store(db_path):
    with connect(db_path) as con:
        write_run(con, {"run_id": "r1", "dataset": "ds", "model": "m", "adapter": "replay", "strategy": "zero-shot",
                        "dimensions": ["polarity", "emotion", "valence"], "taxonomy": "mikels8",
                        "parser_version": "0.0.1", "status": "complete",
                        "config": {"scales": {"valence": [1, 7]}, "polarity_taxonomy": "polarity3"}})
        write_responses(con, [
            _response("a", "Emotion: Sadness\nValence: 2"),
            _response("b", "Fear", sample=0), _response("b", "fear.", sample=1), _response("b", "Awe", sample=2),
            _response("c", None, status="error"),
            _response("d", None, status="refused"),
            _response("e", ANSWER),
            _response("f", "a woman sobbing at a grave", stage="describe"),
            _response("f", "From the description: sadness. Valence 1/7.", stage="judge"),
        ])
        old = {"run_id": "r1", "dataset": "ds", "status": "ok", "parser_version": "0.0.1", "method": "rule"}
        write_predictions(con, [{**old, "item_id": "a", "dimension": "arousal", "value": 5.0},
                                {**old, "item_id": "a", "dimension": "emotion", "label": "fear"},
                                {**old, "item_id": "c", "dimension": "emotion", "status": "error"}])
    return db_path


def _predictions(db_path) -> dict[tuple[str, str], dict]:
    with connect(db_path, read_only=True) as con:
        frame = con.execute("SELECT * FROM predictions ORDER BY item_id, dimension").fetchdf()
    return {(r["item_id"], r["dimension"]): r for r in frame.to_dict("records")}


def test_reparse_replaces_predictions_without_calling_a_model(store, capsys):
    assert main(["reparse", "--run", "r1", "--db", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"re-parsed with parser {PARSER_VERSION} (was 0.0.1)" in out and "5 items (7 responses)" in out
    rows = _predictions(store)
    assert ("a", "arousal") not in rows  # a dimension the run does not ask for is gone
    assert rows[("a", "emotion")]["label"] == "sadness" and rows[("a", "emotion")]["parser_version"] == PARSER_VERSION
    assert rows[("a", "valence")]["value"] == 2.0  # on the run's own 1-7 scale
    assert rows[("a", "valence")]["value_norm"] == pytest.approx(2 * (2 - 1) / 6 - 1)
    assert rows[("b", "emotion")]["label"] == "fear" and rows[("b", "emotion")]["method"] == "vote"
    assert rows[("b", "emotion")]["agreement"] == pytest.approx(2 / 3)
    assert rows[("c", "emotion")]["status"] == "error" and rows[("c", "emotion")]["parser_version"] == "0.0.1"
    assert rows[("d", "polarity")]["status"] == "refused"
    assert rows[("e", "emotion")]["status"] == "failed"
    assert rows[("f", "emotion")]["label"] == "sadness" and rows[("f", "valence")]["value"] == 1.0
    assert rows[("f", "polarity")]["label"] == "negative"
    with connect(store, read_only=True) as con:
        assert con.execute("SELECT parser_version FROM runs").fetchone()[0] == PARSER_VERSION
        assert con.execute("SELECT count(*) FROM traces WHERE run_id = 'r1'").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 9  # nothing asked, nothing added


@pytest.fixture
def keyword_judge():
    """The test judge declared in the adapter registry for one test, then taken out again."""
    ADAPTERS.add("keyword-judge", AdapterInfo("keyword-judge", "tests.parsing.keyword_judge:KeywordJudge"))
    yield
    ADAPTERS.remove("keyword-judge")


def test_reparse_with_a_judge_then_reuses_its_verdicts(store, keyword_judge, capsys):
    assert main(["reparse", "--all", "--db", str(store), "--judge-adapter", "keyword-judge",
                 "--judge-model", "kw", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[0]
    # Item e: polarity, emotion and valence; item b's three samples give no valence, so the judge is asked too.
    assert summary["judge_calls"] == 6 and summary["judged"] == 3
    rows = _predictions(store)
    assert (rows[("e", "emotion")]["label"], rows[("e", "emotion")]["method"]) == ("sadness", "judge")
    assert rows[("e", "valence")]["value"] == 2.0  # the judge's reply is read on the run's 1-7 scale
    with connect(store, read_only=True) as con:
        judged = con.execute("SELECT stage, text FROM responses WHERE stage = 'parse_judge' ORDER BY text").fetchall()
    assert [t for _, t in judged] == ["2", "NONE", "NONE", "NONE", "negative", "sadness"]
    assert main(["reparse", "--run", "r1", "--db", str(store), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)[0]
    assert again["judge_calls"] == 0 and again["judged"] == 3
    assert _predictions(store)[("e", "emotion")]["method"] == "judge"


def test_reparse_unknown_run(store, capsys):
    assert main(["reparse", "--run", "nope", "--db", str(store)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
