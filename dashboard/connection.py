"""Short-lived read-only access to the results store, shared by the queries of one page render.

Opening a DuckDB database costs about 30 ms here, more than most dashboard queries. So the queries
of a page render share one read-only handle (each through its own cursor), and the handle is closed
`IDLE_S` after the last query finishes and is never handed out after `MAX_AGE_S`; a handle retired for
age is followed by `COOL_DOWN_S` without one. So the engine, which cannot write while any process holds
the file, finds it free within a fraction of a second when the dashboard is idle and within
`MAX_AGE_S + COOL_DOWN_S` when it is busy (its `connect` retries on lock conflicts for 30 s). Opening goes through `engine.store.connect`, which retries
while a writer holds the file; a store that stays locked becomes `StoreBusy`, never a raw lock error.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from engine.store import StoreLockedError, connect

IDLE_S = 0.25
MAX_AGE_S = 5.0
COOL_DOWN_S = 0.3  # after a handle reached MAX_AGE_S, readers wait this long so a waiting writer gets in
OPEN_TIMEOUT_S = 5.0
REQUIRED_TABLES = ("datasets", "runs", "responses", "predictions")  # what makes a file an AffectLens store


class StoreBusy(RuntimeError):
    """The engine held the store for longer than a page should wait."""


class StoreMissing(FileNotFoundError):
    """No results store at the chosen path."""


@dataclass
class _Handle:
    stack: contextlib.ExitStack
    con: duckdb.DuckDBPyConnection
    opened_at: float = field(default_factory=time.monotonic)
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.stack.close()


_lock = threading.Lock()
_handles: dict[str, _Handle] = {}
_opening: dict[str, threading.Lock] = {}
_aged_out: dict[str, float] = {}  # file -> when its last handle was retired for age


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, StoreLockedError) or ("lock" in text and ("could not set" in text or "conflicting" in text))


def _open(path: str) -> _Handle:
    if not Path(path).exists():
        raise StoreMissing(f"no results store at {path}; create one with `affectlens demo` or "
                           "`affectlens run CONFIG.yaml`, or pick another file in the sidebar")
    stack = contextlib.ExitStack()
    try:
        con = stack.enter_context(connect(path, read_only=True, timeout_s=OPEN_TIMEOUT_S))
    except Exception as exc:
        stack.close()
        if _is_lock_error(exc):
            raise StoreBusy(f"the engine is writing to {path}; results will appear when it is done") from exc
        if isinstance(exc, duckdb.Error):
            raise StoreMissing(f"{path} is not a readable AffectLens store ({type(exc).__name__}); "
                               "pick another file in the sidebar") from exc
        raise
    try:
        tables = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    except duckdb.Error:
        tables = set()
    missing = sorted(set(REQUIRED_TABLES) - tables)
    if missing:
        stack.close()
        raise StoreMissing(f"{Path(path).name} is a DuckDB file but not an AffectLens results store (it has no "
                           f"{', '.join(missing)} table); create one with `affectlens demo` or `affectlens run "
                           "CONFIG.yaml`, or pick another file in the sidebar")
    return _Handle(stack, con)


def _schedule_close(path: str, handle: _Handle) -> None:
    def close_if_idle() -> None:
        with _lock:
            idle = time.monotonic() - handle.last_used
            aged = handle.opened_at + MAX_AGE_S < time.monotonic()
            if handle.users == 0 and (idle >= IDLE_S * 0.9 or aged):
                if _handles.get(path) is handle:
                    del _handles[path]
                    if aged:
                        _aged_out[path] = time.monotonic()
                handle.close()
    timer = threading.Timer(IDLE_S, close_if_idle)
    timer.daemon = True
    timer.start()


@contextlib.contextmanager
def reader(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on a shared read-only handle to `path`, released when the block ends."""
    key = str(Path(path).resolve())
    with _opening.setdefault(key, threading.Lock()):  # one opener per file; other files go on meanwhile
        with _lock:
            handle = _handles.get(key)
            if handle is not None and time.monotonic() - handle.opened_at > MAX_AGE_S:
                del _handles[key]  # too old to admit new users; closes when its current users finish
                _aged_out[key] = time.monotonic()
                if handle.users == 0:
                    handle.close()
                handle = None
            if handle is not None:
                handle.users += 1
            wait = COOL_DOWN_S - (time.monotonic() - _aged_out.get(key, -COOL_DOWN_S))
        if handle is None:
            if wait > 0:
                time.sleep(wait)
            handle = _open(key)
            handle.users = 1
            with _lock:
                _handles[key] = handle
    with _lock:
        cursor = handle.con.cursor()
    try:
        yield cursor
    except duckdb.Error as exc:
        if _is_lock_error(exc):
            raise StoreBusy(f"the engine is writing to {path}; results will appear when it is done") from exc
        raise
    finally:
        cursor.close()
        with _lock:
            handle.users -= 1
            handle.last_used = time.monotonic()
            stale = _handles.get(key) is not handle
            if stale and handle.users == 0:
                handle.close()
        if not stale:
            _schedule_close(key, handle)


def close_all() -> None:
    """Close every idle handle now (before writing to a store from this process, and in tests)."""
    with _lock:
        for key, handle in list(_handles.items()):
            if handle.users == 0:
                handle.close()
                del _handles[key]
