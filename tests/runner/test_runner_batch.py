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
