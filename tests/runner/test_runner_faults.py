"""The runner against a loopback OpenAI-compatible fake server through the real SDK: faults, cache, budget."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import duckdb
import pytest

from engine.errors import ConfigError
from engine.runner import parse_config, run_experiment
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, item_sha, write_dataset


def rows(db, sql, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# item index -> what the server does with that item's 1st, 2nd, ... request (then "ok")
FAULTS = {
    0: ["429:0.3", "ok"],
    1: ["500", "ok"],
    2: ["503", "503", "ok"],
    3: ["delay:3", "ok"],  # past timeout_s: the client gives up and retries
    4: ["reset", "ok"],
    5: ["truncate", "ok"],
    6: ["refuse"],
    7: ["400"],  # not transient: stored at once
    8: ["500", "500", "500", "500", "500"],  # transient until attempts run out
    9: ["529", "ok"],
}


def test_faults_end_with_an_answer_or_a_recorded_error_for_every_item(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 14)
    sha_to_item = {item_sha(manifest, f"item-{i:03d}"): i for i in range(14)}
    seen: Counter = Counter()
    arrivals = defaultdict(list)

    def script(index, request):
        item = sha_to_item[request.images[0].sha256]
        arrivals[item].append(time.monotonic())
        plan = FAULTS.get(item, [])
        attempt = seen[item]
        seen[item] += 1
        return plan[attempt] if attempt < len(plan) else "ok"

    with FakeVendorServer("openai", script=script, answer="The image feels positive.") as fake:
        config = experiment(manifest, fake.base_url, timeout_s=0.5, max_attempts=4)
        result = run_experiment(config, db_path, quiet=True)
        by_item = defaultdict(list)
        for request in fake.requests:
            by_item[sha_to_item[request.images[0].sha256]].append(request.fault)

    (run,) = result.runs
    assert run.status == "complete"
    final = dict(rows(db_path, "SELECT item_id, status FROM responses WHERE run_id = ? AND cached = false "
                               "QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY created_at DESC) = 1",
                      run.run_id))
    assert len(final) == 14  # every item has a stored outcome
    errors = dict(rows(db_path, "SELECT item_id, error_class FROM responses WHERE status = 'error'"))
    assert errors == {"item-007": "bad_request", "item-008": "server"}
    assert final["item-006"] == "refused"
    assert all(final[f"item-{i:03d}"] == "ok" for i in range(14) if i not in (6, 7, 8))
    # retries: exactly as many requests as the script needed, no retry of non-transient failures
    assert by_item[0] == ["429", "ok"] and by_item[2] == ["503", "503", "ok"]
    assert arrivals[0][1] - arrivals[0][0] >= 0.3  # Retry-After honoured
    assert by_item[7] == ["400"] and by_item[6] == ["refuse"]
    assert by_item[8] == ["500"] * 4  # max_attempts
    assert by_item[3][0] == "delay" and by_item[3][-1] == "ok"
    attempts = dict(rows(db_path, "SELECT item_id, attempts FROM responses"))
    assert attempts["item-002"] == 3 and attempts["item-008"] == 4 and attempts["item-007"] == 1
    # one prediction per item; unanswered items are marked error so a rerun retries them
    preds = dict(rows(db_path, "SELECT item_id, status FROM predictions WHERE run_id = ?", run.run_id))
    assert len(preds) == 14
    assert preds["item-007"] == preds["item-008"] == "error" and preds["item-006"] == "refused"
    assert rows(db_path, "SELECT status, message FROM runs") == [("complete", None)]


def test_second_run_of_the_same_config_calls_no_provider(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 6)
    with FakeVendorServer("openai", answer="negative") as fake:
        config = experiment(manifest, fake.base_url)
        first = run_experiment(config, db_path, quiet=True)
        assert fake.count == 6
        second = run_experiment(config, db_path, quiet=True)
        assert fake.count == 6  # resumed: every item already answered
        assert second.runs[0].run_id == first.runs[0].run_id and second.runs[0].n_skipped == 6
        # a different run (another concurrency does not change the run id; another model name does)
        # asking identical questions is answered from the store
        renamed = experiment(manifest, fake.base_url, name="fake-again", concurrency=3)
        third = run_experiment(renamed, db_path, quiet=True)
        assert fake.count == 6
        assert third.runs[0].cached == 6 and third.runs[0].run_id != first.runs[0].run_id
    cached = rows(db_path, "SELECT count(*), count(DISTINCT request_hash), sum(cost_usd) FROM responses "
                           "WHERE cached")
    assert cached == [(6, 6, 0.0)]
    texts = rows(db_path, "SELECT count(DISTINCT text) FROM responses")
    assert texts == [(1,)]


def test_requests_per_minute_are_never_exceeded(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 8)
    arrivals = []

    def script(index, request):
        arrivals.append(time.monotonic())
        return "ok"

    with FakeVendorServer("openai", script=script, answer="positive") as fake:
        result = run_experiment(experiment(manifest, fake.base_url, rpm=120), db_path, quiet=True)
        assert fake.count == 8
    assert result.runs[0].status == "complete"
    # a bucket of 2 requests refilled at 2 per second: never more than 4 in any one-second window
    assert max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals) <= 4


def test_a_larger_limit_is_another_run_that_pays_only_for_the_new_items(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 8)
    with FakeVendorServer("openai", answer="positive") as fake:
        small = run_experiment(experiment(manifest, fake.base_url), db_path, limit=3, quiet=True)
        assert fake.count == 3
        full = run_experiment(experiment(manifest, fake.base_url), db_path, quiet=True)
        assert fake.count == 8  # the three items both sets share came from the response cache
        assert full.runs[0].run_id != small.runs[0].run_id  # the run id covers the evaluation set
    # each run keeps its own set and size: the 3-item run did not become the 8-item run or vice versa
    assert rows(db_path, "SELECT r.n_items, e.n_items FROM runs r JOIN eval_sets e USING (eval_set) "
                         "ORDER BY r.n_items") == [(3, 3), (8, 8)]
    assert rows(db_path, "SELECT count(*) FROM predictions") == [(11,)]
    assert rows(db_path, "SELECT count(*) FROM responses WHERE cached") == [(3,)]


def test_max_cost_stops_cleanly_and_a_rerun_continues(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 30)
    price = {"input": 0.0, "output": 1_000_000.0}  # USD per 1M tokens: a one-word answer costs $1
    with FakeVendorServer("openai", answer="positive", latency_s=0.02) as fake:
        config = experiment(manifest, fake.base_url, concurrency=2, price=price)
        stopped = run_experiment(config, db_path, max_cost=5.0, quiet=True)
        calls_at_stop = fake.count
        run = stopped.runs[0]
        assert run.status == "stopped" and "rerun" in run.message.lower()
        assert 5.0 <= stopped.spent_usd <= 7.0 and calls_at_stop < 30  # at most the 2 in flight on top
        # calls in flight at the moment the budget ran out finished and were stored
        stored = rows(db_path, "SELECT count(*) FROM responses WHERE status = 'ok'")[0][0]
        assert stored == calls_at_stop
        assert rows(db_path, "SELECT status FROM runs") == [("stopped",)]
        assert "--max-cost" in rows(db_path, "SELECT message FROM runs")[0][0]
        resumed = run_experiment(config, db_path, quiet=True)
        assert resumed.runs[0].status == "complete"
        assert fake.count == 30  # only the items left were sent
    assert rows(db_path, "SELECT count(DISTINCT item_id) FROM predictions WHERE status <> 'error'") == [(30,)]


def test_a_bad_image_is_one_error_row_and_the_rest_completes(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 5, bad={2: b"\xff\xd8\xff\xe0 truncated jpeg"})
    with FakeVendorServer("openai", answer="positive") as fake:
        result = run_experiment(experiment(manifest, fake.base_url), db_path, quiet=True)
        assert fake.count == 4  # the bad image was never sent
    assert result.runs[0].status == "complete"
    (error,) = rows(db_path, "SELECT item_id, status, error_class, error_message FROM responses WHERE status = 'error'")
    assert error[:3] == ("item-002", "error", "image")
    assert "item-002.jpg" in error[3]
    assert rows(db_path, "SELECT count(*) FROM responses WHERE status = 'ok'") == [(4,)]


def test_unreachable_server_says_so(tmp_path, db_path):
    import socket
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    manifest = write_dataset(tmp_path / "data", 2)
    with pytest.raises(ConfigError, match=rf"cannot reach http://127.0.0.1:{port}/v1 — is the server running"):
        run_experiment(experiment(manifest, f"http://127.0.0.1:{port}/v1"), db_path, quiet=True)


def test_missing_key_names_the_variable(tmp_path, db_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    manifest = write_dataset(tmp_path / "data", 2)
    config = experiment(manifest, models=[{"name": "gpt", "adapter": "openai", "model": "gpt-4o"}])
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run_experiment(config, db_path, quiet=True)


def test_unknown_model_fails_the_run_with_the_providers_message(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 12)
    with FakeVendorServer("openai", script=lambda i, r: "404") as fake:
        result = run_experiment(experiment(manifest, fake.base_url, concurrency=1), db_path, quiet=True)
        assert fake.count == 3  # stopped after three rejections instead of trying all twelve
    run = result.runs[0]
    assert run.status == "failed" and "check the model name" in run.message and "fake-vl" in run.message
    assert rows(db_path, "SELECT status FROM runs") == [("failed",)]


def test_secrets_never_reach_the_store(tmp_path, db_path, monkeypatch):
    monkeypatch.setenv("MY_SERVER_KEY", "sk-test-secret-value-1234567890")
    manifest = write_dataset(tmp_path / "data", 2)
    with FakeVendorServer("openai", answer="positive", api_key="sk-test-secret-value-1234567890") as fake:
        result = run_experiment(experiment(manifest, fake.base_url, api_key_env="MY_SERVER_KEY"), db_path,
                                quiet=True)
        assert fake.requests[0].api_key == "sk-test-secret-value-1234567890"
    assert result.runs[0].status == "complete"
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        for table in ("runs", "responses", "predictions", "traces", "datasets"):
            text = con.execute(f"SELECT * FROM {table}").fetchall()
            assert "sk-test-secret" not in repr(text), table
    finally:
        con.close()


def test_config_errors_name_key_and_fix():
    with pytest.raises(ConfigError) as info:
        parse_config({"datasets": [{"path": "x"}], "models": [{"name": "m", "adapter": "opnai", "concurency": 4}],
                      "dimensions": ["polarty"], "strategies": [{"name": "few-shot", "k_shot": 0}]})
    message = str(info.value)
    assert "models[0].adapter: unknown adapter 'opnai' (did you mean 'openai'?)" in message
    assert "models[0].concurency: unknown key 'concurency'; did you mean 'concurrency'?" in message
    assert "dimensions: unknown dimension 'polarty' (did you mean 'polarity'?)" in message
    assert "strategies[0].k_shot" in message
