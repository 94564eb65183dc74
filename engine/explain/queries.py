"""Read-only queries over the store's explanations, reasoning and probe runs, as DataFrames.

Each opens its own short-lived read-only connection (`engine.store.connect`), with parameterised
SQL only (the named queries of `engine.store.explanations`), and closes it before returning; the dashboard's Explain page calls them through cached
wrappers (`dashboard/explain_data.py`). `timeout_s` bounds how long a query waits while the
engine holds the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from engine.store import connect
from engine.store.explanations import (explained_item_counts, explanation_counts, has_table, item_map_rows,
                                       map_rows, reasoning_dataset_names)

DEFAULT_TIMEOUT_S = 5.0


def explanation_overview(db_path, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """What maps the store holds: per dataset, model, strategy, method and measure, how many items."""
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        if not has_table(con, "explanations"):
            return pd.DataFrame(columns=["dataset", "model", "strategy", "method", "measure", "n_items"])
        return explanation_counts(con)


def explained_items(db_path, dataset: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """Items of `dataset` with at least one map: item id, number of maps, the models that have one."""
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        if not has_table(con, "explanations"):
            return pd.DataFrame(columns=["item_id", "n_maps", "models"])
        return explained_item_counts(con, dataset)


def _grid(row) -> np.ndarray:
    values = [np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in row["cell_values"]]
    return np.array(values, dtype=float).reshape(int(row["grid_rows"]), int(row["grid_cols"]))


def item_maps(db_path, dataset: str, item_id: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """Every map of one item, with the item's image location: one row per (model, strategy, method,
    measure); `values` holds the grid as a 2-D array, `meta` the parsed JSON."""
    columns = ["model", "strategy", "method", "measure", "grid_rows", "grid_cols", "values", "meta", "run_id",
               "created_at", "root", "image_path", "image_sha256"]
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        if not has_table(con, "explanations"):
            return pd.DataFrame(columns=columns)
        frame = item_map_rows(con, dataset, item_id)
    frame["values"] = [_grid(row) for row in frame.to_dict("records")]
    frame["meta"] = [json.loads(m) if isinstance(m, str) else (m or {}) for m in frame["meta"]]
    return frame[columns]


def all_maps(db_path, *, dataset: str | None = None, models: list[str] | None = None, method: str | None = None,
             timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """Every map matching the filters, with image locations (for exporting)."""
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        frame = map_rows(con, dataset=dataset, models=models, method=method)
    frame["values"] = [_grid(row) for row in frame.to_dict("records")]
    frame["meta"] = [json.loads(m) if isinstance(m, str) else (m or {}) for m in frame["meta"]]
    return frame.drop(columns=["cell_values"])


def resolve_image(root: str | None, image_path: str | None, db_path=None) -> Path | None:
    """The image file of an item: `image_path` under the dataset root (a relative root is read against
    the working directory, then the store's folder); None when missing or outside the root."""
    if not isinstance(image_path, str) or not image_path:
        return None
    bases = []
    if isinstance(root, str) and root:
        base = Path(root)
        beside_store = [Path(db_path).parent / base] if db_path else []
        bases = [base] if base.is_absolute() else [Path.cwd() / base, *beside_store]
    else:
        bases = [Path.cwd()]
    for base in bases:
        path = (base / image_path).resolve()
        if (base.resolve() in path.parents) and path.is_file():
            return path
    return None


def reasoning_datasets(db_path, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """Datasets with at least one reasoning trace."""
    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        return reasoning_dataset_names(con)


def reasoning_traces(db_path, dataset: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """Analysed reasoning of every answered item of `dataset` (see `engine.explain.reasoning.load_traces`)."""
    from engine.explain.reasoning import load_traces

    with connect(db_path, read_only=True, timeout_s=timeout_s) as con:
        return load_traces(dataset=dataset, con=con)


def reasoning_tables(db_path, dataset: str, *, baseline: str = "zero-shot",
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, pd.DataFrame]:
    """Cue shares per model x strategy x emotion (`cues`), inconsistency per model x strategy
    (`inconsistency`), cue shift against `baseline` (`shift`), and the most telling examples
    (`examples`: answers whose reasoning contradicts their polarity, then the longest reasonings)."""
    from engine.explain.reasoning import cue_table, inconsistency_table, strategy_cue_shift

    traces = reasoning_traces(db_path, dataset, timeout_s=timeout_s)
    examples = traces[traces["has_reasoning"]].copy()
    examples["order"] = examples["inconsistent"].fillna(False).astype(bool).map({True: 0, False: 1})
    examples["length"] = examples["reasoning"].str.len()
    examples = examples.sort_values(["order", "length"], ascending=[True, False]).head(50)
    return {"cues": cue_table(traces), "inconsistency": inconsistency_table(traces),
            "shift": strategy_cue_shift(traces, baseline),
            "examples": examples[["model", "strategy", "item_id", "emotion", "polarity", "sentiment", "inconsistent",
                                  "reasoning"]].reset_index(drop=True)}


def probe_table(db_path, dataset: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> pd.DataFrame:
    """Probe comparisons (see `engine.explain.probes.probe_report`)."""
    from engine.explain.probes import probe_report

    return probe_report(db_path, dataset=dataset, timeout_s=timeout_s)
