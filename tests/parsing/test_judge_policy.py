"""The judge fallback goes through the call policy: retries, cost and `--max-cost`, against the fake vendor server."""

from __future__ import annotations

import json

import pytest

from engine.cli.main import main
from engine.store.db import connect
from tests.fakes import FakeVendorServer
from tests.parsing.test_cli import store  # noqa: F401 - the fixture: a run whose answers the rules cannot all read


def _judge_rows(db_path) -> list[dict]:
    with connect(db_path, read_only=True) as con:
        frame = con.execute("SELECT status, attempts, cost_usd, input_tokens, text FROM responses "
                            "WHERE stage = 'parse_judge' ORDER BY created_at").fetchdf()
    return frame.to_dict("records")


def _reparse(store, fake, *extra: str) -> int:  # noqa: F811
    return main(["reparse", "--all", "--db", str(store), "--judge-adapter", "openai-compatible",
                 "--judge-model", "judge-1", "--judge-base-url", fake.base_url, "--judge-price", "1000,2000",
                 "--json", *extra])


def test_a_rate_limited_judge_call_is_retried_and_priced(store, capsys):  # noqa: F811
    # the first request meets a 429 with Retry-After 0.05 s; every later one is answered
    with FakeVendorServer("openai", script=["429:0.05"], answer="NONE") as fake:
        assert _reparse(store, fake) == 0
        requests = len(fake.requests)
    summary = json.loads(capsys.readouterr().out)[0]
    rows = _judge_rows(store)
    assert len(rows) == summary["judge_calls"] == requests - 1 > 0
    retried = [r for r in rows if r["attempts"] == 2]
    assert len(retried) == 1 and all(r["attempts"] == 1 for r in rows if r is not retried[0])
    assert all(r["status"] == "ok" for r in rows)
    # priced from the usage the server reported, at the --judge-price given
    for row in rows:
        assert row["input_tokens"] > 0 and row["cost_usd"] == pytest.approx(
            (row["input_tokens"] * 1000 + 1 * 2000) / 1e6, rel=0.5)
    assert summary["judge_cost"] == pytest.approx(sum(r["cost_usd"] for r in rows))


def test_the_judge_stops_at_max_cost(store, capsys):  # noqa: F811
    with FakeVendorServer("openai", answer="NONE") as fake:
        assert _reparse(store, fake, "--max-cost", "0.000001", "--judge-concurrency", "1") == 0
        requests = len(fake.requests)
    summary = json.loads(capsys.readouterr().out)[0]
    rows = _judge_rows(store)
    # one request at a time: the first one spends the budget and no other is sent
    assert requests == len(rows) == summary["judge_calls"] == 1 and summary["judge_unsent"] > 0
    assert all(r["cost_usd"] > 0 for r in rows)
