"""The Runs page shows a batch-mode run's vendor batches and what batching saved."""

from __future__ import annotations

import json

from engine.runner import run_experiment
from tests.dashboard.conftest import APP, texts
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset


def test_runs_page_shows_vendor_batches_and_savings(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AFFECTLENS_TEST_KEY", "k")
    manifest = write_dataset(tmp_path / "data", 4)
    db = tmp_path / "r.duckdb"
    with FakeVendorServer("anthropic", answer=json.dumps({"polarity": "negative"})) as fake:
        model = {"name": "claude", "adapter": "anthropic", "model": "claude-haiku-4-5", "base_url": fake.base_url,
                 "api_key_env": "AFFECTLENS_TEST_KEY", "batch": {"poll_s": 0.05, "gather_s": 0.1}}
        assert run_experiment(experiment(manifest, models=[model]), db, quiet=True).ok
        batch_id = fake.batches.created[0]
    monkeypatch.setenv("AFFECTLENS_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert "Vendor batches" in texts(at) and "Prompt caching and batch pricing" in texts(at)
    batches = next(f.value for f in at.dataframe if "vendor_status" in f.value.columns)
    assert list(batches["batch"]) == [batch_id] and list(batches["state"]) == ["collected"]
    savings = next(f.value for f in at.dataframe if "saving_usd" in f.value.columns)
    assert savings["batch_calls"].iloc[0] == 4
    assert savings["saving_usd"].iloc[0] == savings["spend_usd"].iloc[0] > 0  # half price: saved what was spent
