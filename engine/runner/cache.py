"""The response cache: earlier `ok` and `refused` answers by request hash, from the store and this process.

A request's hash (`ModelRequest.request_hash`) covers adapter, model id, generation settings, task,
prompt text and image sha256, so the same hash means the same question to the same model: it is
answered from here and never sent twice. Only the answers of runs with the same adapter and model
id are loaded (no other answer can match), with their text; raw provider bodies stay in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.store.runs import cacheable_answers, finished_item_ids

__all__ = ["CachedAnswer", "ResponseCache", "finished_items"]


@dataclass(frozen=True)
class CachedAnswer:
    response_id: str
    run_id: str
    item_id: str
    stage: str
    sample_index: int
    status: str
    text: str | None
    error_class: str | None = None
    error_message: str | None = None
    model_id_resolved: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "CachedAnswer":
        return cls(**{name: row.get(name) for name in cls.__dataclass_fields__})


class ResponseCache:
    def __init__(self) -> None:
        self._answers: dict[str, CachedAnswer] = {}
        self.loaded_from_store = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, request_hash: str) -> CachedAnswer | None:
        return self._answers.get(request_hash)

    def put(self, request_hash: str, answer: CachedAnswer) -> None:
        if answer.status in ("ok", "refused"):
            self._answers.setdefault(request_hash, answer)

    def load(self, con, adapter: str, model_id: str) -> int:
        """Add every stored ok/refused answer of runs with this adapter and model id; returns how many.

        The first (original, non-cached) answer per hash wins.
        """
        rows = cacheable_answers(con, adapter, model_id)
        before = len(self._answers)
        for row in rows:
            self._answers.setdefault(row[0], CachedAnswer(*row[1:]))
        self.loaded_from_store += len(self._answers) - before
        return len(self._answers) - before


def finished_items(con, run_id: str) -> set[str]:
    """Items of a run that already hold a final answer (any prediction not caused by an error).

    Items whose calls all failed, or that were never reached, are done again on a rerun.
    """
    return finished_item_ids(con, run_id)
