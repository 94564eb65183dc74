"""The warming launcher: `python -m dashboard` serves the app and reports itself warm, and warming fills the
query cache with exactly what the pages compute (a warmed number equals an unwarmed one)."""

from __future__ import annotations

import urllib.request

import pandas as pd
import pytest

import browser
from dashboard import data
from dashboard.warm import warm_store


def test_warm_store_caches_what_the_pages_compute(seeded):
    db = str(seeded)
    data.clear_caches()
    ran = warm_store(db)
    assert ran > 10  # sidebar, overview, and every scope's first views
    every = data.scopes(db, data.Filters())
    scope = data.Scope(*every.iloc[0][["dataset", "eval_set", "dimension"]])
    warmed = data.leaderboard(db, data.Filters(), scope)
    data.set_caching(False)
    try:
        fresh = data.leaderboard(db, data.Filters(), scope)
    finally:
        data.set_caching(True)
    pd.testing.assert_frame_equal(warmed.reset_index(drop=True), fresh.reset_index(drop=True))


def test_warm_store_stops_at_its_budget(seeded):
    data.clear_caches()
    assert warm_store(str(seeded), budget_s=0.0) < warm_store(str(seeded))


def test_launcher_serves_and_reports_warm(seeded, tmp_path):
    log = tmp_path / "server.log"
    try:
        with browser.serve(seeded, warm=True, log_path=log, timeout_s=180) as url:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
                assert response.read().strip() == b"ok"
    except RuntimeError as exc:  # pragma: no cover - the message carries the server's log
        pytest.fail(str(exc))
    text = log.read_text(errors="replace")
    assert browser.WARM_MESSAGE in text
    assert "did not run cleanly" not in text and "Traceback" not in text


def test_shaped_results_follow_the_store_without_clearing_caches(fresh_store):
    """A `derived` result (the leaderboard ranks stored scores) is cached per store version: after the engine
    writes, the next call shows the new value."""
    from dashboard import connection
    from engine.store import connect

    db = str(fresh_store)
    every = data.scopes(db, data.Filters())
    scope = data.Scope(*every.iloc[0][["dataset", "eval_set", "dimension"]])
    board = data.leaderboard(db, data.Filters(), scope)
    row = board.iloc[0]
    connection.close_all()
    with connect(fresh_store) as con:
        con.execute("UPDATE scores SET value = 0.123456 WHERE run_id = ? AND dimension = ? AND metric = ?",
                    [row["run_id"], scope.dimension, row["metric"]])
    again = data.leaderboard(db, data.Filters(), scope)
    assert again.loc[again["run_id"] == row["run_id"], "value"].tolist() == [pytest.approx(0.123456)]


def test_warm_slices_serves_the_slices_pages_first_view(seeded, monkeypatch):
    """After `warm_slices`, opening the Slices page with no picker touched draws from the cache: its per-slice
    bootstrap is not run again (made to fail here), and the numbers equal an unwarmed computation."""
    from streamlit.testing.v1 import AppTest

    from dashboard import slices_data
    from dashboard.data import default_scope
    from dashboard.warm import warm_slices
    from tests.dashboard.conftest import APP

    db = str(seeded)
    data.clear_caches()
    assert warm_slices(db)
    scope = default_scope(data.scopes(db, data.Filters()))
    data.set_caching(False)
    try:
        key = slices_data.slice_keys(db, data.Filters(), scope)[0]
        fresh = slices_data.slice_report(db, data.Filters(), scope, key, "accuracy_strict", slices_data.DEFAULT_MIN_N)
    finally:
        data.set_caching(True)

    def recompute(*args, **kwargs):
        raise AssertionError("the Slices page recomputed a warmed view")

    monkeypatch.setattr(slices_data, "slice_scores", recompute)
    monkeypatch.setattr(slices_data, "worst_slices", recompute)
    monkeypatch.setenv("AFFECTLENS_DB", db)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("pages/slices.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="slices-dimension").value == scope.dimension
    shown = next(f.value for f in at.dataframe if "slice" in f.value.columns and "overall" not in f.value.columns)
    expected = fresh.table
    assert len(shown) == len(expected) > 0
    assert list(shown["value"]) == pytest.approx(list(expected["value"]))
