"""`run_small_analysis`: a quick run started from the dashboard sidebar, into the same store."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from engine.runner.config import parse_config
from engine.runner.execute import ExperimentResult, run_experiment
from engine.runner.progress import ProgressEvent

__all__ = ["run_small_analysis"]


def run_small_analysis(db_path: str | os.PathLike, dataset: dict[str, Any] | str, models: Sequence[dict[str, Any] | str],
                       strategy: str | dict[str, Any] = "zero-shot", *, n_images: int = 20,
                       dimensions: Sequence[str] = ("polarity", "emotion"), seed: int = 0,
                       max_cost: float | None = None, name: str = "dashboard",
                       on_progress: Callable[[ProgressEvent], None] | None = None) -> ExperimentResult:
    """Run up to `n_images` items of one dataset through `models` with one `strategy`.

    `dataset` is a config entry (`{name:, path:, ...}`) or a dataset folder/manifest path; each model
    is a `models:` entry or the name of an offline baseline (`"color-affect"`). Progress goes to
    `on_progress` (a `ProgressEvent` per update); the result lists the runs and their status.
    Errors in the arguments raise `engine.errors.ConfigError` with the key at fault.
    """
    entry = {"path": dataset} if isinstance(dataset, (str, os.PathLike)) else dict(dataset)
    entry["limit"] = int(n_images)
    model_entries = [{"name": m, "adapter": m} if isinstance(m, str) else dict(m) for m in models]
    config = parse_config({"name": name, "purpose": "analysis", "seed": seed, "max_cost": max_cost, "dimensions": list(dimensions),
                           "datasets": [entry], "models": model_entries, "strategies": [strategy]},
                          source="analysis settings")
    return run_experiment(config, db_path, quiet=True, progress=on_progress or (lambda event: None))
