"""`parse_bounded`: `parse_answer` in a worker process with a per-answer time limit.

The parser's regular expressions are linear by construction, but a parse that still ran away (a
pattern added later, an answer nobody thought of) must not stall a run: CPython cannot interrupt a
regular expression from another thread, and the runner parses on its event loop. So answers are
parsed in a small pool of worker processes; an answer that takes longer than the limit has its worker
killed and replaced, and comes back as a `failed` parse whose `error` says why (stored in
`predictions.parse_error`). Workers are fresh interpreters (`python -m engine.parsing.bounded FD`,
talking over a socket pair), never forks (the parent may hold DuckDB) and never `multiprocessing`
spawns, which would re-run the caller's script when it has no `if __name__ == "__main__":` guard.

The limit is `AFFECTLENS_PARSE_TIMEOUT` seconds (default 10; any answer up to 100 kB parses in
milliseconds, see bench/bench_parse.py). `AFFECTLENS_PARSE_TIMEOUT=0` parses in-process, unbounded.
`AFFECTLENS_PARSE_WORKERS` sets the pool size (default: one per spare core, at most 4).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.parsing.parser import parse_answer
from engine.parsing.types import DimensionParse, ParseResult, ParseSpec

log = logging.getLogger(__name__)

__all__ = ["parse_bounded", "parse_bounded_async", "parse_timeout", "timed_out_result", "shutdown"]

DEFAULT_TIMEOUT = 10.0
STARTUP_TIMEOUT = 120.0


def parse_timeout() -> float:
    """The per-answer limit in seconds (0: parse in-process without a limit)."""
    raw = os.environ.get("AFFECTLENS_PARSE_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ValueError(f"AFFECTLENS_PARSE_TIMEOUT={raw!r} is not a number of seconds; set it to e.g. 10, "
                         "or 0 to parse without a time limit") from None


def timed_out_result(text: str | None, spec: ParseSpec, limit: float) -> ParseResult:
    """The parse of an answer whose parsing ran past `limit`: every dimension failed, with the reason."""
    size = 0 if text is None else len(str(text))
    reason = (f"parsing stopped after {limit:g} s (answer of {size} characters); the raw answer is kept: "
              "raise AFFECTLENS_PARSE_TIMEOUT and run `affectlens reparse` to try again")
    return ParseResult({dim: DimensionParse(status="failed", error=reason) for dim in spec.dimensions},
                       answer_text="" if text is None else str(text))


def _serve(conn: Any) -> None:  # runs in the worker process
    conn.send("ready")  # imports done: the time limit counts parsing only, not the worker's start-up
    while True:
        try:
            text, spec = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        conn.send(parse_answer(text, spec))


class _Worker:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # the folder holding `engine` (checkout or site-packages)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "engine.parsing.bounded", str(theirs.fileno())],
                                            pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        try:
            ready = self.conn.poll(STARTUP_TIMEOUT) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.close()
            raise RuntimeError(f"the parse worker did not start within {STARTUP_TIMEOUT:g} s")

    def alive(self) -> bool:
        return self.process.poll() is None

    def parse(self, text: str | None, spec: ParseSpec, limit: float) -> ParseResult | None:
        """The parse, or None when it ran past `limit` (the worker is then dead)."""
        self.conn.send((text, spec))
        if self.conn.poll(limit):
            return self.conn.recv()
        self.close()
        return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.conn.close()


class _Pool:
    """Idle workers in a queue; a worker that timed out (or died) is replaced by a fresh one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self.idle.put(None)  # started on first use
        self.threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="affectlens-parse")
        self.workers: list[_Worker] = []
        self.lock = threading.Lock()

    def parse(self, text: str | None, spec: ParseSpec, limit: float) -> ParseResult:
        worker = self.idle.get()
        try:
            if worker is None or not worker.alive():
                try:
                    worker = _Worker()
                except (RuntimeError, OSError) as exc:  # no worker: parse here rather than lose the answer
                    log.warning("%s; parsing in-process without a time limit", exc)
                    worker = None
                    return parse_answer(text, spec)
                with self.lock:
                    self.workers.append(worker)
            try:
                result = worker.parse(text, spec, limit)
            except (EOFError, OSError, BrokenPipeError) as exc:  # the worker died under this answer
                log.warning("parse worker died (%s); answer marked failed", exc)
                worker.close()
                worker = None
                return ParseResult({dim: DimensionParse(status="failed", error=f"the parse worker died: {exc}")
                                    for dim in spec.dimensions}, answer_text="" if text is None else str(text))
            if result is None:
                log.warning("an answer of %d characters took over %g s to parse; marked failed",
                            0 if text is None else len(str(text)), limit)
                worker = None
                return timed_out_result(text, spec, limit)
            return result
        finally:
            self.idle.put(worker)

    def close(self) -> None:
        with self.lock:
            for worker in self.workers:
                worker.close()
            self.workers.clear()
        self.threads.shutdown(wait=False)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            default = max(1, min(4, (os.cpu_count() or 2) - 1))
            size = int(os.environ.get("AFFECTLENS_PARSE_WORKERS", default) or default)
            _pool = _Pool(max(1, size))
            atexit.register(shutdown)
        return _pool


def shutdown() -> None:
    """Stop the worker processes (they also exit on their own when this process ends)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


def parse_bounded(text: str | None, spec: ParseSpec, limit: float | None = None) -> ParseResult:
    """`parse_answer(text, spec)`, stopped after `limit` seconds (default `parse_timeout()`): a parse that
    runs longer is `failed` on every dimension with the reason in `DimensionParse.error`. Never raises."""
    limit = parse_timeout() if limit is None else limit
    if limit <= 0:
        return parse_answer(text, spec)
    return _get_pool().parse(text, spec, limit)


async def parse_bounded_async(text: str | None, spec: ParseSpec, limit: float | None = None) -> ParseResult:
    """`parse_bounded` without blocking the event loop: a pool thread waits on the worker process."""
    limit = parse_timeout() if limit is None else limit
    if limit <= 0:
        return parse_answer(text, spec)
    pool = _get_pool()
    return await asyncio.get_running_loop().run_in_executor(pool.threads, pool.parse, text, spec, limit)


if __name__ == "__main__":  # a worker: `python -m engine.parsing.bounded FD`
    _serve(Connection(int(sys.argv[1])))
