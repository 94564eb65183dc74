"""Evaluation sets: the fixed list of items a run is scored over, stored once and named.

Every number AffectLens reports is over one evaluation set. A set is drawn before any model sees an
item (by the experiment planner, `engine.runner.plan`, or by an import's test list) and stored in
`eval_sets` / `eval_set_items`; each run row names its set, and the run id covers it, so a 10-item
run and a 100-item run are two runs over two sets, never one run whose rows disagree.

The id is content-addressed: `es-` and the first 12 hex digits of md5 over the dataset name and the
sorted item ids, one per line. Runs over the same items share a set whatever drew them, and
migration 100 gives runs stored before sets existed the set of the items they answered, by the same
formula in SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from engine.store.db import upsert

__all__ = ["EvalSet", "eval_set_id", "write_eval_set", "eval_set_names"]


def eval_set_id(dataset: str, item_ids: Iterable[str]) -> str:
    """The content address of the set of `item_ids` of `dataset` (order and repeats do not matter).

    >>> eval_set_id("demo", ["b", "a"]) == eval_set_id("demo", ["a", "b", "a"])
    True
    """
    text = "\n".join([dataset, *sorted(set(map(str, item_ids)))])
    return "es-" + hashlib.md5(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set: its id, dataset, readable name, items and the rule that drew them."""

    dataset: str
    item_ids: tuple[str, ...]
    name: str
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def eval_set(self) -> str:
        return eval_set_id(self.dataset, self.item_ids)

    @property
    def n_items(self) -> int:
        return len(set(self.item_ids))

    def label(self) -> str:
        """What a table shows: `name (n = N)`."""
        return f"{self.name} (n = {self.n_items})"


def write_eval_set(con: duckdb.DuckDBPyConnection, evaluation_set: EvalSet) -> str:
    """Store the set and its items (idempotent: a set is immutable once stored); returns its id."""
    key = evaluation_set.eval_set
    if con.execute("SELECT count(*) FROM eval_sets WHERE eval_set = ?", [key]).fetchall()[0][0]:
        return key
    upsert(con, "eval_sets", pd.DataFrame([{"eval_set": key, "dataset": evaluation_set.dataset,
                                            "name": evaluation_set.name, "n_items": evaluation_set.n_items,
                                            "rule": evaluation_set.rule}]), json_columns=("rule",))
    upsert(con, "eval_set_items", pd.DataFrame({"eval_set": key, "item_id": sorted(set(evaluation_set.item_ids))}),
           replace=False)
    return key


def eval_set_names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]]:
    """eval_set -> (name, n_items) of every stored set."""
    return {row[0]: (row[1], int(row[2])) for row in
            con.execute("SELECT eval_set, name, n_items FROM eval_sets").fetchall()}
