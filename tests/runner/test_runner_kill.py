"""`kill -9` in the middle of `affectlens run`, then the same command again: nothing paid for is lost or repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import yaml

from engine.runner.journal import journal_dir, read_journal
from tests.fakes import FakeServerProcess
from tests.runner.helpers import experiment, item_sha, write_dataset

REPO = Path(__file__).resolve().parents[2]
N_ITEMS = 40


def _command(config: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "engine.cli.main", "run", str(config), "--db", str(db), "--quiet"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


def test_kill_9_mid_run_then_rerun_resumes_without_repeating_answered_calls(tmp_path):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    sha_to_item = {item_sha(manifest, f"item-{i:03d}"): f"item-{i:03d}" for i in range(N_ITEMS)}
    calls = tmp_path / "calls.jsonl"
    db = tmp_path / "results.duckdb"
    with FakeServerProcess("openai", latency_s=0.15, answer="negative", record_path=calls) as server:
        config = tmp_path / "experiment.yaml"
        config.write_text(yaml.safe_dump(experiment(manifest, server.base_url, concurrency=4)))
        child = subprocess.Popen(_command(config, db), cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        journal = journal_dir(db)
        deadline = time.monotonic() + 120
        answered_before: set[str] = set()
        while time.monotonic() < deadline and child.poll() is None:
            files = list(journal.glob("*.jsonl")) if journal.exists() else []
            if files and sum(1 for _ in files[0].open("rb")) >= 12:
                break
            time.sleep(0.02)
        assert child.poll() is None, child.stderr.read().decode()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
        (leftover,) = journal.glob("*.jsonl")
        for record in read_journal(leftover):
            if record["kind"] == "response" and record["row"]["status"] == "ok":
                answered_before.add(record["row"]["item_id"])
        assert 4 <= len(answered_before) < N_ITEMS  # killed mid-run, some answers journaled
        calls_before = sum(1 for _ in calls.open())

        rerun = subprocess.run(_command(config, db), cwd=tmp_path, env=_env(), capture_output=True, text=True,
                               timeout=300)
        assert rerun.returncode == 0, rerun.stderr

    requests = Counter(sha_to_item[json.loads(line)["image_sha256"][0]] for line in calls.open())
    assert calls_before < sum(requests.values())
    # items answered before the kill were never sent again
    assert all(requests[item] == 1 for item in answered_before), {i: requests[i] for i in answered_before}
    # at most the calls in flight at the kill were repeated
    assert sum(n - 1 for n in requests.values()) <= 4
    con = duckdb.connect(str(db), read_only=True)
    try:
        per_item = con.execute("SELECT item_id, count(*) FROM responses WHERE status = 'ok' GROUP BY item_id"
                               ).fetchall()
        assert sorted(per_item) == [(f"item-{i:03d}", 1) for i in range(N_ITEMS)]  # one stored answer each
        predictions = con.execute("SELECT count(*), count(DISTINCT item_id) FROM predictions "
                                  "WHERE status = 'ok'").fetchall()
        assert predictions == [(N_ITEMS, N_ITEMS)]
        assert con.execute("SELECT status FROM runs").fetchall() == [("complete",)]
    finally:
        con.close()
    assert not list(journal.glob("*.jsonl"))  # merged and removed
