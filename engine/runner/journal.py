"""Write-ahead journal: every completed call is on disk before anything else happens to it.

Each run appends JSON lines to `.affectlens/journal/<run_id>.jsonl` beside the results store. Lines
are grouped: callers `await journal.append(record)`; a flusher task writes whatever has gathered
in one `os.write` and one `os.fsync` (group commit, as databases do), then wakes every caller of
that group. A merger task moves durable records into DuckDB in bulk batches through short-lived
connections. After a `kill -9`, the next start merges the leftover lines first, so only calls
that were still in flight are lost. A torn last line (killed mid-write) is skipped.

Record kinds: `{"kind": "response", "row": {...}}` (one `responses` row) and
`{"kind": "item", "predictions": [...], "trace": {...} | null}` (an item's parsed answer).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.secrets import scrub_text

log = logging.getLogger(__name__)

__all__ = ["Journal", "journal_dir", "merge_records", "merge_leftovers", "read_journal"]


def journal_dir(db_path: str | os.PathLike) -> Path:
    """`.affectlens/journal/` in the folder of the results store."""
    return Path(db_path).resolve().parent / ".affectlens" / "journal"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _dumps(record: dict) -> bytes:
    """One journal line, scrubbed (rows are scrubbed where they are made; this is the file's own boundary)."""
    return (scrub_text(json.dumps(record, ensure_ascii=False, default=_default, separators=(",", ":"))) + "\n").encode()


def read_journal(path: str | os.PathLike) -> list[dict]:
    """Every complete record of a journal file; a torn or corrupt line is skipped with a warning."""
    records = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                log.warning("%s line %d is incomplete (the process was killed while writing it); skipped",
                            path, number)
    return records


def merge_records(db_path: str | os.PathLike, records: Iterable[dict]) -> tuple[int, int]:
    """Write journal records into the store in one transaction: (responses, predictions) written."""
    import pandas as pd

    from engine.store import connect, transaction, upsert
    from engine.store.writes import use_one_thread, write_predictions, write_responses, write_traces

    responses, predictions, traces, orders = [], [], [], []
    for record in records:
        if record.get("kind") == "response":
            row = dict(record["row"])
            if isinstance(row.get("created_at"), str):
                row["created_at"] = datetime.fromisoformat(row["created_at"])
            responses.append(row)
        elif record.get("kind") == "item":
            predictions.extend(record.get("predictions") or ())
            if record.get("trace"):
                traces.append(record["trace"])
            orders.extend(record.get("label_orders") or ())
    if not (responses or predictions or traces):
        return 0, 0
    with connect(db_path) as con:
        use_one_thread(con)
        with transaction(con):
            write_responses(con, responses)
            write_predictions(con, predictions)
            write_traces(con, traces)
            if orders:
                upsert(con, "label_orders", pd.DataFrame(orders))
    return len(responses), len(predictions)


def merge_leftovers(db_path: str | os.PathLike, run_ids: Iterable[str] | None = None) -> int:
    """Merge and remove journals a killed process left behind (all runs, or only `run_ids`)."""
    folder = journal_dir(db_path)
    if not folder.exists():
        return 0
    wanted = None if run_ids is None else set(run_ids)
    merged = 0
    for path in sorted(folder.glob("*.jsonl")):
        if wanted is not None and path.stem not in wanted:
            continue
        records = read_journal(path)
        merge_records(db_path, records)
        merged += len(records)
        path.unlink()
    return merged


class Journal:
    """Append-with-fsync for one process; records reach DuckDB through `merge_every_s` batches.

    Each line is written to its file the moment it is appended (so `kill -9` cannot lose a received
    answer); callers of `append` return once a grouped fsync has made it durable.

    One file per run keeps a crash's leftovers attributable; one flusher serves all files so a
    group of lines from many runs costs one fsync per file touched.
    """

    # A merge costs a connection and three bulk inserts (~0.1 s of CPU whatever its size), so merges
    # are few and large: every 5 s, or sooner once 4,000 records are waiting.
    def __init__(self, db_path: str | os.PathLike, *, flush_delay_s: float = 0.002, merge_every_s: float = 5.0,
                 merge_batch: int = 4000):
        self.db_path = Path(db_path)
        self.folder = journal_dir(db_path)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.flush_delay_s = flush_delay_s
        self.merge_every_s = merge_every_s
        self.merge_batch = merge_batch
        self._fds: dict[str, int] = {}
        self._pending: list[tuple[str, bytes, dict]] = []  # not yet on disk
        self._durable: list[dict] = []  # on disk, not yet in DuckDB
        self._group_done: asyncio.Future | None = None
        self._wake = asyncio.Event()
        self._merge_wake = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task] = []
        self.merge_error: BaseException | None = None
        self.n_merged = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._flush_loop(), name="journal-flush"),
                       loop.create_task(self._merge_loop(), name="journal-merge")]

    def _fd(self, run_id: str) -> int:
        fd = self._fds.get(run_id)
        if fd is None:
            fd = os.open(self.folder / f"{run_id}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._fds[run_id] = fd
        return fd

    async def append(self, run_id: str, record: dict) -> None:
        """Return once `record` is on disk (flushed and fsynced with whatever else gathered)."""
        if self._group_done is None:
            self._group_done = asyncio.get_running_loop().create_future()
        done = self._group_done
        self._pending.append((run_id, self._write_now(run_id, record), record))
        self._wake.set()
        await asyncio.shield(done)

    def append_nowait(self, run_id: str, record: dict) -> None:
        """Queue `record` for the next group write without waiting for it to reach the disk."""
        if self._group_done is None:
            self._group_done = asyncio.get_running_loop().create_future()
        self._pending.append((run_id, self._write_now(run_id, record), record))
        self._wake.set()

    def _write_now(self, run_id: str, record: dict) -> bytes:
        """Hand the line to the OS at once: a killed process loses nothing it has received (the page
        cache outlives the process); the grouped fsync that follows guards against a machine crash."""
        fd = self._fd(run_id)
        data = line = _dumps(record)
        while data:
            written = os.write(fd, data)
            data = data[written:]
        return line

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            if self.flush_delay_s:
                await asyncio.sleep(self.flush_delay_s)  # let a group gather
            self._wake.clear()
            batch, done = self._pending, self._group_done
            self._pending, self._group_done = [], None
            if batch:
                try:
                    await asyncio.to_thread(self._write, batch)
                except BaseException as exc:  # disk full, permissions: fail the callers, loudly
                    if done is not None and not done.done():
                        done.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                self._durable.extend(record for _, _, record in batch)
                if len(self._durable) >= self.merge_batch:
                    self._merge_wake.set()
            if done is not None and not done.done():
                done.set_result(None)
            if self._closing and not self._pending:
                return

    def _write(self, batch: list[tuple[str, bytes, dict]]) -> None:
        """The lines are already written (`_write_now`); make them durable, one fsync per file."""
        for run_id in dict.fromkeys(run_id for run_id, _, _ in batch):
            os.fsync(self._fds[run_id])

    async def _merge_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._merge_wake.wait(), self.merge_every_s)
            except TimeoutError:
                pass
            self._merge_wake.clear()
            await self.merge_now()
            if self._closing and not self._pending:
                return  # close() merges whatever the flusher adds after this

    async def merge_now(self) -> None:
        """Move every durable record into DuckDB now (one transaction)."""
        batch, self._durable = self._durable, []
        if not batch:
            return
        try:
            await asyncio.to_thread(merge_records, self.db_path, batch)
            self.n_merged += len(batch)
            if not self._durable:
                self.merge_error = None
        except Exception as exc:  # the lines stay in the journal file; the next start merges them
            self.merge_error = exc
            log.warning("could not merge %d journal records into %s yet: %s", len(batch), self.db_path, exc)
            self._durable[:0] = batch

    async def close(self, *, remove: bool = True) -> None:
        """Flush, merge everything, close the files and (when all merged) remove them."""
        self._closing = True
        self._wake.set()
        self._merge_wake.set()
        for task in self._tasks:
            try:
                await task
            except Exception as exc:  # noqa: BLE001 - reported below through merge_error
                self.merge_error = self.merge_error or exc
        if self._durable:
            await self.merge_now()
        for run_id, fd in self._fds.items():
            os.close(fd)
            if remove and not self._durable and self.merge_error is None:
                (self.folder / f"{run_id}.jsonl").unlink(missing_ok=True)
        self._fds.clear()

    def abort(self) -> None:
        """Stop the tasks without merging (tests use this to imitate a crash)."""
        for task in self._tasks:
            task.cancel()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
