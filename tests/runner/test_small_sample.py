"""The sidebar analysis's seeded random sample of stored items (engine.runner.small.sample_items)."""

from __future__ import annotations

import pytest

from engine.datasets.base import Dataset, Gold, Item
from engine.errors import ConfigError
from engine.runner.small import sample_items
from engine.store import connect
from engine.datasets.stored import write_dataset


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "r.duckdb"
    items = [Item(f"i{k:03d}", None, {"polarity": Gold(label="positive", labels=("positive",), taxonomy="polarity2")})
             for k in range(100)]
    with connect(path) as con:
        write_dataset(con, Dataset("d", "manifest", None, items, taxonomy="polarity2"))
    return path


def test_the_same_seed_draws_the_same_sample_and_another_seed_another(store):
    first = sample_items(store, "d", 10, 3)
    assert first == sample_items(store, "d", 10, 3) and first == sorted(first) and len(set(first)) == 10
    assert first != sample_items(store, "d", 10, 4)
    assert first != [f"i{k:03d}" for k in range(10)]  # not the first ten


def test_a_sample_larger_than_the_dataset_is_every_item_and_an_unknown_dataset_says_what_to_do(store):
    assert len(sample_items(store, "d", 500, 0)) == 100
    with pytest.raises(ConfigError, match="no stored items to sample from"):
        sample_items(store, "nope", 5, 0)
