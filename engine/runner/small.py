"""`run_small_analysis`: a quick run started from the dashboard sidebar, into the same store."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from engine.runner.config import parse_config
from engine.runner.execute import ExperimentResult, run_experiment
from engine.runner.progress import ProgressEvent

__all__ = ["run_small_analysis", "sample_items"]


def sample_items(db_path: str | os.PathLike, dataset: str, n_images: int, seed: int) -> list[str]:
    """A random sample of `n_images` stored item ids of `dataset`, drawn with `seed` (the same seed and
    store draw the same items), in id order. All of them when the dataset has no more."""
    import random

    from engine.errors import ConfigError
    from engine.store import connect
    from engine.store.datasets import item_ids

    with connect(db_path, read_only=True) as con:
        ids = item_ids(con, dataset)
    if not ids:
        raise ConfigError(f"dataset {dataset!r} has no stored items to sample from; run it once with "
                          "`affectlens run` (or `affectlens datasets load`) first")
    return sorted(random.Random(seed).sample(ids, min(int(n_images), len(ids))))


def run_small_analysis(db_path: str | os.PathLike, dataset: dict[str, Any] | str, models: Sequence[dict[str, Any] | str],
                       strategy: str | dict[str, Any] = "zero-shot", *, n_images: int = 20,
                       dimensions: Sequence[str] = ("polarity", "emotion"), seed: int = 0,
                       sample_seed: int | None = None,
                       max_cost: float | None = None, name: str = "dashboard",
                       on_progress: Callable[[ProgressEvent], None] | None = None) -> ExperimentResult:
    """Run up to `n_images` items of one dataset through `models` with one `strategy`.

    `dataset` is a config entry (`{name:, path:, ...}`) or a dataset folder/manifest path; each model
    is a `models:` entry or the name of an offline baseline (`"color-affect"`). Progress goes to
    `on_progress` (a `ProgressEvent` per update); the result lists the runs and their status. With
    `sample_seed`, the items are a random sample of the stored items (`sample_items`), not the first N.
    Errors in the arguments raise `engine.errors.ConfigError` with the key at fault.
    """
    entry = {"path": dataset} if isinstance(dataset, (str, os.PathLike)) else dict(dataset)
    if sample_seed is not None and entry.get("name"):
        entry["items"] = sample_items(db_path, entry["name"], n_images, sample_seed)
        entry.pop("limit", None)
    else:
        entry["limit"] = int(n_images)
    model_entries = [{"name": m, "adapter": m} if isinstance(m, str) else dict(m) for m in models]
    config = parse_config({"name": name, "purpose": "analysis", "seed": seed, "max_cost": max_cost, "dimensions": list(dimensions),
                           "datasets": [entry], "models": model_entries, "strategies": [strategy]},
                          source="analysis settings")
    return run_experiment(config, db_path, quiet=True, progress=on_progress or (lambda event: None))
