"""Caching of the dashboard's store queries (`query`) and of the pages' shaping of them (`derived`): per (store
file version, arguments), with a TTL.

Results are cached for `AFFECTLENS_CACHE_TTL` seconds; the version is the store file's modification
time and size, so a finished run shows up on the next rerun without waiting for the TTL. When the
engine holds the file longer than a page should wait, the last good result of the same query is
returned (or `StoreBusy` raised where there is none). Every query opens a short-lived read-only
connection (`dashboard.connection.reader`): nothing holds the store open between reruns.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import inspect
import os
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import settings
from dashboard.connection import StoreBusy, reader

__all__ = ["query", "derived", "clear_caches", "set_caching", "store_version", "frame"]

_CACHE = {"enabled": os.environ.get("AFFECTLENS_CACHE", "1") != "0"}
_last_good: collections.OrderedDict = collections.OrderedDict()
_last_good_lock = threading.Lock()


def set_caching(enabled: bool) -> None:
    """Turn result caching on or off (benchmarks measure the queries themselves)."""
    _CACHE["enabled"] = enabled


def store_version(db: str) -> tuple:
    """Changes whenever the engine writes: modification time and size of the file and its WAL."""
    out = []
    for path in (Path(db), Path(f"{db}.wal")):
        try:
            stat = path.stat()
            out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _remember(key: tuple, value: Any) -> None:
    with _last_good_lock:
        _last_good[key] = value
        _last_good.move_to_end(key)
        while len(_last_good) > 128:
            _last_good.popitem(last=False)


def _cache(fn, run):
    """`run(db, version, *args)` under st.cache_data. Streamlit keys a cache by qualified name and source; the
    wrappers' source is shared, so `fn`'s own name and source go into the name."""
    run.__qualname__ = f"{fn.__qualname__}-{hashlib.sha1(inspect.getsource(fn).encode()).hexdigest()[:10]}"
    return st.cache_data(ttl=settings.cache_ttl_s(), show_spinner=False, max_entries=512)(run)


def query(fn):
    """Make `fn(con, *args)` a cached store query callable as `fn(db, *args)`."""
    def run(db: str, version: tuple, *args):
        with reader(db) as con:
            return fn(con, *args)

    cached = _cache(fn, run)

    @functools.wraps(fn)
    def wrapper(db: str | os.PathLike, *args):
        db = str(db)
        key = (fn.__name__, db, args)
        version = store_version(db)
        try:
            result = cached(db, version, *args) if _CACHE["enabled"] else run(db, version, *args)
        except StoreBusy:
            with _last_good_lock:
                if key in _last_good:
                    return _last_good[key]
            raise
        _remember(key, result)
        return result

    wrapper.clear = cached.clear
    return wrapper


def derived(fn):
    """Cache `fn(db, *args)` -- a page's shaping of cached queries (statistics from engine.metrics, pivots) --
    per store version and arguments, like `query`, so a rerun does not redo it."""
    def run(db: str, version: tuple, *args):
        return fn(db, *args)

    cached = _cache(fn, run)

    @functools.wraps(fn)
    def wrapper(db: str | os.PathLike, *args):
        db = str(db)
        return cached(db, store_version(db), *args) if _CACHE["enabled"] else fn(db, *args)

    wrapper.clear = cached.clear
    return wrapper


def clear_caches() -> None:
    """Forget every cached result (after the sidebar finished an analysis)."""
    st.cache_data.clear()
    with _last_good_lock:
        _last_good.clear()


_PARAM = re.compile(r"\$(\w+)")


def frame(con, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run `sql` with only the named parameters it uses (DuckDB rejects unused ones)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in used}).df()
