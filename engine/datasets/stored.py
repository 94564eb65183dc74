"""Datasets in the results store: write one (items, gold, images), read one back, summarise one."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

from engine.datasets.base import CATEGORICAL, CONTINUOUS, Dataset, Gold, Item, LoadProblem
from engine.datasets.images import image_rows
from engine.errors import DatasetError

__all__ = ["store_dataset", "stored_datasets", "read_dataset", "describe_dataset"]

MAX_SLICE_VALUES = 20  # meta keys with at most this many distinct values are shown as slices


def store_dataset(db_path: str | os.PathLike | None, dataset: Dataset, *, images: bool = True) -> int:
    """Write `dataset` (description, items, gold and, with `images`, its `images` rows); returns items stored."""
    from engine.store import connect
    from engine.store.writes import write_dataset

    rows = image_rows(dataset) if images else []
    with connect(db_path) as con:
        write_dataset(con, dataset, image_rows=rows)
    return len(dataset.items)


def stored_datasets(db_path: str | os.PathLike | None) -> list[dict[str, Any]]:
    """One dict per stored dataset (dataset, loader, n_items, taxonomy, dimensions, root); [] without a store."""
    from engine.store import connect

    if db_path is not None and not Path(db_path).exists():
        return []
    with connect(db_path, read_only=True) as con:
        frame = con.execute("SELECT dataset, loader, n_items, taxonomy, dimensions, root, created_at "
                            "FROM datasets ORDER BY dataset").fetch_df()
    return frame.to_dict("records")


def read_dataset(db_path: str | os.PathLike | None, name: str) -> Dataset:
    """A stored dataset rebuilt from the `datasets`, `items` and `gold` tables (splits and problems included)."""
    from engine.store import connect

    with connect(db_path, read_only=True) as con:
        row = con.execute("SELECT loader, root, taxonomy, scales, meta FROM datasets WHERE dataset = ?",
                          [name]).fetchone()
        if row is None:
            known = [r[0] for r in con.execute("SELECT dataset FROM datasets ORDER BY 1").fetchall()]
            raise DatasetError(f"no dataset {name!r} in {db_path}; stored: {', '.join(known) or 'none'} "
                               "(store one with `affectlens datasets load NAME --path P`)")
        items_frame = con.execute("SELECT item_id, image_sha256, image_path, split, meta FROM items "
                                  "WHERE dataset = ? ORDER BY item_id", [name]).fetch_df()
        gold_frame = con.execute("SELECT item_id, dimension, label, labels, value, sd, n_raters, scale_low, "
                                 "scale_high, distribution, taxonomy FROM gold WHERE dataset = ?", [name]).fetch_df()
    loader, root, taxonomy, scales, meta = row
    meta = _json(meta) or {}
    split_names = list((meta.pop("splits", None) or {}))
    problems = [LoadProblem(*(text.split(": ", 1) if ": " in text else ("?", text)))
                for text in meta.pop("problems", None) or []]
    gold: dict[str, dict[str, Gold]] = {}
    for g in gold_frame.to_dict("records"):
        scale = None if _missing(g["scale_low"]) else (g["scale_low"], g["scale_high"])
        gold.setdefault(g["item_id"], {})[g["dimension"]] = Gold(
            label=None if _missing(g["label"]) else g["label"],
            labels=tuple(g["labels"]) if g["labels"] is not None and not _missing(g["labels"]) else (),
            value=None if _missing(g["value"]) else float(g["value"]), scale=scale,
            sd=None if _missing(g["sd"]) else float(g["sd"]),
            n_raters=None if _missing(g["n_raters"]) else int(g["n_raters"]),
            distribution=_json(g["distribution"]), taxonomy=None if _missing(g["taxonomy"]) else g["taxonomy"])
    items, splits = [], {s: [] for s in split_names}
    for r in items_frame.to_dict("records"):
        item_meta = _json(r["meta"]) or {}
        for split in split_names:
            if item_meta.pop(f"in_{split}", False):
                splits[split].append(r["item_id"])
        items.append(Item(r["item_id"], None if _missing(r["image_path"]) else r["image_path"],
                          gold.get(r["item_id"], {}), None if _missing(r["split"]) else r["split"], item_meta,
                          None if _missing(r["image_sha256"]) else r["image_sha256"]))
    return Dataset(name, loader, Path(root) if root else None, items, taxonomy,
                   {k: tuple(v) for k, v in (_json(scales) or {}).items()}, problems, splits, meta)


def _json(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return json.loads(value) if isinstance(value, str) else value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def describe_dataset(dataset: Dataset, max_problems: int = 20) -> dict[str, Any]:
    """Counts, dimensions, scales, label balance, continuous ranges, splits, slices and problems as a dict."""
    balance: dict[str, dict[str, int]] = {}
    ranges: dict[str, dict[str, float]] = {}
    shares: dict[str, list[float]] = {}
    for dim in dataset.dimensions:
        golds = [item.gold[dim] for item in dataset.items if dim in item.gold]
        if dim in CATEGORICAL:
            counts = Counter(g.label if g.label is not None else "(tie)" if len(g.labels) > 1 else "(none)"
                             for g in golds)
            balance[dim] = dict(counts.most_common())
        elif dim in CONTINUOUS:
            values = [g.value for g in golds if g.value is not None]
            if values:
                ranges[dim] = {"n": len(values), "min": min(values), "mean": sum(values) / len(values),
                               "max": max(values)}
        elif dim == "distribution":
            for g in golds:
                for label, share in (g.distribution or {}).items():
                    shares.setdefault(label, []).append(share)
    slices = {}
    for key in sorted({k for item in dataset.items for k in item.meta}):
        values = Counter(str(item.meta.get(key)) for item in dataset.items if key in item.meta)
        if 1 < len(values) <= MAX_SLICE_VALUES:
            slices[key] = dict(values.most_common())
    split_values = Counter(item.split for item in dataset.items if item.split)
    present = {item.item_id for item in dataset.items}
    named = {name: len(present.intersection(ids)) for name, ids in dataset.splits.items()}
    return {
        "dataset": dataset.name,
        "loader": dataset.loader,
        "root": str(dataset.root) if dataset.root else None,
        "n_items": len(dataset.items),
        "n_images": len({item.image_sha256 for item in dataset.items if item.image_sha256}),
        "taxonomy": dataset.taxonomy,
        "dimensions": dataset.dimensions,
        "scales": {dim: list(scale) for dim, scale in dataset.scales.items()},
        "label_balance": balance,
        "continuous": ranges,
        "mean_distribution": {label: sum(v) / len(v) for label, v in shares.items()},
        "splits": {**named, **dict(split_values)},
        "slices": slices,
        "n_problems": len(dataset.problems),
        "problems": [str(p) for p in dataset.problems[:max_problems]],
    }
