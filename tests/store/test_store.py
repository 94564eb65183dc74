"""The store itself: migrations applied once and in order, bulk upserts, lock retries across processes."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from engine.cli.main import main
from engine.store import connect, migrate, migrations, schema_version, upsert


def test_migrations_are_numbered_applied_once_and_recorded(db_path):
    versions = [v for v, _, _ in migrations()]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert migrate(db_path) == versions[-1]
    assert migrate(db_path) == versions[-1]  # idempotent
    with connect(db_path) as con:
        recorded = [row[0] for row in con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
        assert recorded == versions and schema_version(con) == versions[-1]


def test_upsert_replaces_or_keeps_by_primary_key(db_path):
    with connect(db_path) as con:
        row = {"response_id": "r1", "run_id": "run", "dataset": "d", "item_id": "i", "status": "ok", "text": "first"}
        upsert(con, "responses", pd.DataFrame([row]), replace=False)
        upsert(con, "responses", pd.DataFrame([{**row, "text": "second"}]), replace=False)
        assert con.execute("SELECT text FROM responses").fetchall() == [("first",)]  # a paid answer is kept
        upsert(con, "datasets", pd.DataFrame([{"dataset": "d", "loader": "x", "meta": {"a": 1}}]), json_columns=("meta",))
        upsert(con, "datasets", pd.DataFrame([{"dataset": "d", "loader": "y", "meta": {"a": 2}}]), json_columns=("meta",))
        assert con.execute("SELECT loader, meta FROM datasets").fetchall() == [("y", '{"a": 2}')]


def test_a_connection_waits_for_another_process_holding_the_file(db_path):
    migrate(db_path)
    # Another process holds a read-write connection for a moment, as the engine does while it writes.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(1.5); con.close()", str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(duckdb.Error):  # the raw library fails at once ...
            duckdb.connect(str(db_path), read_only=True).close()
        with connect(db_path, read_only=True, timeout_s=60) as con:  # ... our connect waits its turn
            assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    finally:
        holder.wait(60)


def test_schema_and_runs_commands(db_path, capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert "CREATE TABLE responses" in printed and "-- migration 001_initial" in printed
    migrate(db_path)
    with connect(db_path) as con:
        upsert(con, "runs", pd.DataFrame([{"run_id": "r", "dataset": "d", "model": "m", "adapter": "a",
                                           "strategy": "zero-shot", "status": "complete", "n_items": 3}]))
    assert main(["runs", "--db", str(db_path), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert (run["run_id"], run["status"], run["n_items"]) == ("r", "complete", 3)


def test_reading_a_missing_store_says_how_to_make_one(tmp_path, capsys):
    assert main(["runs", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "affectlens demo" in capsys.readouterr().err
