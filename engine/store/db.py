"""DuckDB connections, numbered migrations and bulk writes.

DuckDB lets one process write while no other holds the file; a second process (reader or writer)
fails at once with "Could not set lock". So every connection here is short-lived and opening one
retries with backoff on lock conflicts: the engine and the dashboard take turns in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_DB = "results.duckdb"
LOCK_TIMEOUT_S = float(os.environ.get("AFFECTLENS_LOCK_TIMEOUT", "30"))

__all__ = ["default_db_path", "connect", "migrate", "upsert", "schema_version", "migrations", "StoreLockedError",
           "transaction"]


class StoreLockedError(RuntimeError):
    pass


def default_db_path() -> Path:
    """`AFFECTLENS_DB` if set, else `results.duckdb` in the working directory."""
    return Path(os.environ.get("AFFECTLENS_DB") or DEFAULT_DB)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text)


@contextlib.contextmanager
def connect(path: str | os.PathLike | None = None, *, read_only: bool = False,
            timeout_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a short-lived connection, retrying while another process holds the file.

    Read-write connections apply pending migrations first. A read-only connection to a file that
    does not exist yet raises FileNotFoundError with the command that creates one.
    """
    db = Path(path) if path is not None else default_db_path()
    if read_only and not db.exists():
        raise FileNotFoundError(
            f"no results store at {db}; create one with `affectlens demo` or `affectlens run CONFIG.yaml`")
    if not read_only:
        db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (LOCK_TIMEOUT_S if timeout_s is None else timeout_s)
    delay = 0.005
    while True:
        try:
            con = duckdb.connect(str(db), read_only=read_only)
            break
        except duckdb.Error as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise StoreLockedError(
                        f"{db} stayed locked by another process for {timeout_s or LOCK_TIMEOUT_S:.0f} s; "
                        "close the other writer or raise AFFECTLENS_LOCK_TIMEOUT") from exc
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.25)
    try:
        if not read_only:
            _apply_migrations(con)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT around the block; ROLLBACK and re-raise when it fails."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("engine.store").joinpath("migrations").iterdir():
        match = re.match(r"(\d+)_(\w+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found)


def _apply_migrations(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)")
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, name, sql in migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])


def migrate(path: str | os.PathLike | None = None) -> int:
    """Create or upgrade the store; returns the schema version."""
    with connect(path) as con:
        return schema_version(con)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


def _jsonify(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def upsert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, *,
           json_columns: tuple[str, ...] = (), replace: bool = True) -> int:
    """Bulk insert `frame` into `table` in one statement (never row by row).

    Columns are matched by name; columns the table has and the frame lacks get their defaults.
    With `replace`, rows whose primary key exists are replaced; otherwise they are kept (first
    write wins, as for paid-for responses).
    """
    if frame is None or len(frame) == 0:
        return 0
    frame = frame.copy()
    for column in json_columns:
        if column in frame:
            frame[column] = frame[column].map(_jsonify)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    con.register("_upsert_frame", frame)
    try:
        con.execute(f'{verb} INTO {table} ({columns}) SELECT {columns} FROM _upsert_frame')
    finally:
        con.unregister("_upsert_frame")
    return len(frame)
