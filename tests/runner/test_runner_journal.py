"""The write-ahead journal: durable before acknowledged, merged in bulk, torn lines skipped, leftovers merged."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import duckdb

from engine.runner.journal import Journal, journal_dir, merge_leftovers, read_journal
from engine.store import connect


def _response(i: int, run_id: str = "run1") -> dict:
    return {"kind": "response", "row": {
        "response_id": f"r{i}", "run_id": run_id, "dataset": "d", "item_id": f"item-{i}", "sample_index": 0,
        "stage": "answer", "request_hash": f"h{i}", "status": "ok", "text": f"answer {i}", "attempts": 1,
        "cached": False, "created_at": datetime(2026, 1, 1, 12, 0, i % 60), "raw_response": {"i": i}}}


def _count(db, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def test_appends_are_on_disk_when_acknowledged_and_merged_on_close(db_path):
    connect(db_path).__enter__().close()  # create the store

    async def main():
        journal = Journal(db_path, merge_every_s=60)  # no timed merge: only close() merges
        journal.start()
        await asyncio.gather(*(journal.append("run1", _response(i)) for i in range(50)))
        on_disk = read_journal(journal.folder / "run1.jsonl")
        assert len(on_disk) == 50  # every acknowledged record is already in the file
        assert _count(db_path, "responses") == 0
        await journal.close()

    asyncio.run(main())
    assert _count(db_path, "responses") == 50
    assert not (journal_dir(db_path) / "run1.jsonl").exists()


def test_background_merge_moves_batches_into_the_store(db_path):
    async def main():
        journal = Journal(db_path, merge_every_s=0.05)
        journal.start()
        for i in range(20):
            await journal.append("run1", _response(i))
        for _ in range(200):
            if journal.n_merged == 20:
                break
            await asyncio.sleep(0.02)
        assert journal.n_merged == 20 and _count(db_path, "responses") == 20
        await journal.close()

    asyncio.run(main())


def test_a_torn_last_line_is_skipped_and_leftovers_merge_once(db_path):
    folder = journal_dir(db_path)
    folder.mkdir(parents=True)
    lines = [json.dumps(_response(i), default=str) for i in range(3)]
    item = {"kind": "item", "predictions": [{"run_id": "run1", "dataset": "d", "item_id": "item-0",
                                             "dimension": "polarity", "label": "positive", "status": "ok",
                                             "response_id": "r0"}],
            "trace": {"run_id": "run1", "item_id": "item-0", "response_id": "r0", "steps": ["a", "b"]}}
    (folder / "run1.jsonl").write_text("\n".join(lines + [json.dumps(item)]) + "\n" + lines[0][:25])
    assert len(read_journal(folder / "run1.jsonl")) == 4
    assert merge_leftovers(db_path) == 4
    assert (_count(db_path, "responses"), _count(db_path, "predictions"), _count(db_path, "traces")) == (3, 1, 1)
    assert not (folder / "run1.jsonl").exists()
    # merging the same records again changes nothing (a crash between merge and removal)
    (folder / "run1.jsonl").write_text("\n".join(lines) + "\n")
    merge_leftovers(db_path)
    assert _count(db_path, "responses") == 3
