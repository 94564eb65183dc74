"""Batch mode through the real SDKs against the fake vendors' batch endpoints."""

from __future__ import annotations

import json

import duckdb
import pytest

from engine.runner import run_experiment
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset

KEY = "sk-test-batch-0000"
N_ITEMS = 16  # 4 held out as few-shot exemplars, 12 evaluated
FEW_SHOT = {"name": "few-shot", "k_shot": 2}
ADAPTERS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}


def _answer(request) -> str:
    """Depends on the image judged (the last one), so scores are not trivial."""
    return json.dumps({"polarity": "positive" if request.images[-1].sha256[0] < "8" else "negative"})


def _config(manifest, fake, adapter: str, batch, strategies=("zero-shot",)) -> dict:
    model = {"name": f"{adapter}-m", "adapter": adapter, "model": ADAPTERS[adapter], "base_url": fake.base_url,
             "api_key_env": "AFFECTLENS_TEST_KEY", "concurrency": 4, "timeout_s": 10, "max_attempts": 3,
             "backoff_s": 0.01, "backoff_max_s": 0.05}
    if batch:
        model["batch"] = batch
    config = experiment(manifest, models=[model])
    config["strategies"] = list(strategies)
    config["datasets"][0]["holdout"] = 4
    return config


def _stored(db) -> tuple[list, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        answers = con.execute("SELECT run_id, item_id, stage, status, text FROM responses WHERE status <> 'error' "
                              "ORDER BY ALL").fetchall()
        scores = con.execute("SELECT dataset, model, strategy, dimension, metric, value, n, run_id FROM scores "
                             "ORDER BY ALL").fetchall()
    return answers, scores


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("AFFECTLENS_TEST_KEY", KEY)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_batch_run_stores_the_same_answers_and_scores_as_the_synchronous_run(tmp_path, key_env, adapter):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    batch = {"poll_s": 0.05, "gather_s": 0.1}
    with FakeVendorServer(adapter, answer=_answer, api_key=KEY) as fake:
        sync = run_experiment(_config(manifest, fake, adapter, None, ("zero-shot", FEW_SHOT)), tmp_path / "sync.duckdb",
                              quiet=True)
        sync_calls = len(fake.requests)
        assert sync.ok and fake.batches.created == []
        fake.reset(answer=_answer)
        batched = run_experiment(_config(manifest, fake, adapter, batch, ("zero-shot", FEW_SHOT)),
                                 tmp_path / "batch.duckdb", quiet=True)
        assert batched.ok, [r.message for r in batched.runs]
        assert [r.run_id for r in batched.runs] == [r.run_id for r in sync.runs]  # batching is not in the run id
        assert len(fake.requests) == sync_calls and all(r.batch_id for r in fake.requests)
        assert 1 <= len(fake.batches.created) <= 2  # one gathered batch (two when the runs straddle a gather)
    sync_answers, sync_scores = _stored(tmp_path / "sync.duckdb")
    batch_answers, batch_scores = _stored(tmp_path / "batch.duckdb")
    assert batch_answers == sync_answers and len(batch_answers) == 2 * 12
    assert batch_scores == sync_scores and batch_scores
    with duckdb.connect(str(tmp_path / "batch.duckdb"), read_only=True) as con:
        costs = con.execute("SELECT count(*), count(batch_id), sum(cost_usd) FROM responses").fetchone()
        states = con.execute("SELECT DISTINCT state FROM batches").fetchall()
    with duckdb.connect(str(tmp_path / "sync.duckdb"), read_only=True) as con:
        sync_cost = con.execute("SELECT sum(cost_usd) FROM responses").fetchone()[0]
    assert costs[0] == costs[1] and states == [("collected",)]
    assert costs[2] == pytest.approx(sync_cost / 2, rel=0.05)  # the batch price is half, cache aside


def _all_answered(db, n=N_ITEMS) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(DISTINCT item_id) FROM predictions WHERE status <> 'error'").fetchone()[0]


def test_no_wait_submits_and_exits_pending_then_a_rerun_collects_without_submitting_again(tmp_path, key_env):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer("anthropic", answer=_answer, api_key=KEY, batch_polls=1000) as fake:
        config = _config(manifest, fake, "anthropic", {"poll_s": 0.05, "gather_s": 0.1})
        first = run_experiment(config, db, quiet=True, wait=False)
        assert [r.status for r in first.runs] == ["pending"] and "rerun" in first.runs[0].message
        assert len(fake.batches.created) == 1 and fake.batches.submitted_requests == N_ITEMS
        again = run_experiment(config, db, quiet=True, wait=False)  # still running at the vendor: nothing new
        assert [r.status for r in again.runs] == ["pending"] and len(fake.batches.created) == 1
        from engine.runner.batch import pending_batches
        (pending,) = pending_batches(db)
        assert pending["n_requests"] == N_ITEMS and pending["state"] in ("submitted", "in_progress")
        fake.batches.polls_to_finish = 0
        done = run_experiment(config, db, quiet=True)
        assert done.ok and len(fake.batches.created) == 1 and len(fake.requests) == N_ITEMS
    assert _all_answered(db) == N_ITEMS and pending_batches(db) == []


@pytest.mark.parametrize("retry", ["batch", "sync"])
def test_expired_and_failed_requests_inside_a_batch_are_retried(tmp_path, key_env, retry):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    db = tmp_path / "r.duckdb"
    faults = {0: "expire", 3: "500", 5: "refuse"}  # by arrival order; a refusal is an answer, never retried
    with FakeVendorServer("openai", answer=_answer, api_key=KEY,
                          script=lambda index, request: faults.get(index)) as fake:
        result = run_experiment(_config(manifest, fake, "openai", {"poll_s": 0.05, "gather_s": 0.1, "retry": retry}),
                                db, quiet=True)
        assert result.ok, result.runs[0].message
        first_batch = [r for r in fake.requests if r.batch_id == fake.batches.created[0]]
        retried = fake.requests[len(first_batch):]
        assert len(first_batch) == N_ITEMS and len(retried) == 2  # the expired one and the failed one, once each
        if retry == "batch":
            assert len(fake.batches.created) == 2 and all(r.batch_id == fake.batches.created[1] for r in retried)
        else:
            assert len(fake.batches.created) == 1 and all(r.batch_id is None for r in retried)
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM responses GROUP BY ALL").fetchall())
        attempts = con.execute("SELECT max(attempts) FROM responses").fetchone()[0]
    assert statuses == {"ok": N_ITEMS - 1, "refused": 1} and attempts == 2
    assert _all_answered(db) == N_ITEMS


def test_kill_9_after_submission_then_rerun_submits_nothing_again_and_collects(tmp_path, key_env):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import yaml

    repo = Path(__file__).resolve().parents[2]
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer("openai", answer=_answer, api_key=KEY, batch_polls=10_000) as fake:
        config = tmp_path / "experiment.yaml"
        config.write_text(yaml.safe_dump(_config(manifest, fake, "openai", {"poll_s": 0.05, "gather_s": 0.1})))
        command = [sys.executable, "-m", "engine.cli.main", "run", str(config), "--db", str(db), "--quiet"]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
        child = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not fake.batches.created and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        time.sleep(0.3)  # polling: submitted, not collected
        assert child.poll() is None, child.stderr.read().decode()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
        assert len(fake.batches.created) == 1 and fake.batches.submitted_requests == N_ITEMS
        fake.batches.polls_to_finish = 0
        rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
        assert rerun.returncode == 0, rerun.stderr
        assert len(fake.batches.created) == 1 and len(fake.requests) == N_ITEMS  # nothing submitted twice
    assert _all_answered(db) == N_ITEMS
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT request_hash) FROM responses").fetchone() == (N_ITEMS,
                                                                                                          N_ITEMS)
        assert con.execute("SELECT state FROM batches").fetchall() == [("collected",)]


def test_no_wait_exit_status_and_runs_listing(tmp_path, key_env):
    from engine.cli.main import main
    import yaml

    manifest = write_dataset(tmp_path / "data", 4)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer("gemini", answer=_answer, api_key=KEY, batch_polls=10_000) as fake:
        config = tmp_path / "e.yaml"
        config.write_text(yaml.safe_dump(_config(manifest, fake, "gemini", {"poll_s": 0.05, "gather_s": 0.1})))
        assert main(["run", str(config), "--db", str(db), "--quiet", "--no-wait"]) == 4
    import io
    from contextlib import redirect_stdout
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["runs", "--db", str(db)]) == 0
    assert "Pending batches" in out.getvalue() and fake.batches.created[0] in out.getvalue()


def test_max_cost_counts_submitted_batches_at_their_worst_case(tmp_path, key_env):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer("anthropic", answer=_answer, api_key=KEY) as fake:
        config = _config(manifest, fake, "anthropic", {"poll_s": 0.05, "gather_s": 0.1})
        # one request's worst case: its input estimate plus max_tokens (512) of output, at the batch price
        budget = 5.5 * (512 * 15.0 * 0.5 / 1e6)
        stopped = run_experiment(config, db, quiet=True, max_cost=budget)
        assert [r.status for r in stopped.runs] == ["stopped"]
        with duckdb.connect(str(db), read_only=True) as con:
            worst, submitted = con.execute("SELECT sum(worst_cost_usd), sum(n_requests) FROM batches").fetchone()
        assert 1 <= submitted <= 5 and worst <= budget  # never more submitted than the budget covers
        assert fake.batches.submitted_requests == submitted
        assert stopped.spent_usd < budget  # the actual cost replaced each reservation
        done = run_experiment(config, db, quiet=True)
        assert done.ok and fake.batches.submitted_requests == N_ITEMS  # the rest, nothing twice
    assert _all_answered(db) == N_ITEMS


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_a_run_killed_inside_the_create_call_finds_its_batch_instead_of_submitting_again(tmp_path, key_env,
                                                                                         adapter):
    manifest = write_dataset(tmp_path / "data", 6)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer(adapter, answer=_answer, api_key=KEY, batch_polls=10_000) as fake:
        config = _config(manifest, fake, adapter, {"poll_s": 0.05, "gather_s": 0.1})
        assert [r.status for r in run_experiment(config, db, quiet=True, wait=False).runs] == ["pending"]
        # what a kill -9 between the vendor accepting the batch and its id being recorded leaves behind
        with duckdb.connect(str(db)) as con:
            con.execute("UPDATE batches SET state = 'submitting', provider_batch_id = NULL")
        fake.batches.polls_to_finish = 0
        assert run_experiment(config, db, quiet=True).ok
        assert len(fake.batches.created) == 1 and len(fake.requests) == 6
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT state, provider_batch_id FROM batches").fetchall() == [
            ("collected", fake.batches.created[0] if adapter != "gemini" else f"batches/{fake.batches.created[0]}")]
    assert _all_answered(db) == 6
