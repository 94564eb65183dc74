"""Datasets in the results store: write one (items, gold, images), read one back, summarise one."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from engine.datasets.base import CATEGORICAL, CONTINUOUS, Dataset, Gold, Item, LoadProblem, normalise_value
from engine.datasets.images import image_rows
from engine.errors import DatasetError
from engine.store import connect
from engine.store.datasets import dataset_names, dataset_tables, list_datasets, replace_dataset

__all__ = ["write_dataset", "store_dataset", "stored_datasets", "read_dataset", "describe_dataset"]

MAX_SLICE_VALUES = 20  # meta keys with at most this many distinct values are shown as slices


def write_dataset(con, dataset: Dataset, *, image_rows: Sequence[dict] = ()) -> None:
    """Store a dataset's description, items and gold (replacing an earlier load of the same name)."""
    members = {name: set(ids) for name, ids in dataset.splits.items()}
    dataset_row = {
        "dataset": dataset.name,
        "loader": dataset.loader,
        "root": str(dataset.root) if dataset.root else None,
        "taxonomy": dataset.taxonomy,
        "dimensions": dataset.dimensions,
        "scales": {dim: list(scale) for dim, scale in dataset.scales.items()},
        "manifest_sha256": dataset.manifest_sha256(),
        "n_items": len(dataset.items),
        "meta": {**dataset.meta, "splits": {k: len(v) for k, v in dataset.splits.items()},
                 "problems": [str(p) for p in dataset.problems[:200]]},
    }
    item_rows = [{
        "dataset": dataset.name, "item_id": item.item_id, "image_sha256": item.image_sha256,
        "image_path": item.image_path, "split": item.split,
        "meta": {**item.meta, **{f"in_{name}": item.item_id in ids for name, ids in members.items()}},
    } for item in dataset.items]
    gold_rows = [{
        "dataset": dataset.name, "item_id": item.item_id, "dimension": dimension,
        "label": gold.label, "labels": list(gold.labels) or None,
        "value": gold.value, "value_norm": normalise_value(dimension, gold.value, gold.scale),
        "sd": gold.sd, "n_raters": gold.n_raters,
        "scale_low": gold.scale[0] if gold.scale else None,
        "scale_high": gold.scale[1] if gold.scale else None,
        "distribution": gold.distribution, "taxonomy": gold.taxonomy,
    } for item in dataset.items for dimension, gold in item.gold.items()]
    replace_dataset(con, dataset_row, item_rows, gold_rows, list(image_rows))


def store_dataset(db_path: str | os.PathLike | None, dataset: Dataset, *, images: bool = True) -> int:
    """Write `dataset` (description, items, gold and, with `images`, its `images` rows); returns items stored."""
    rows = image_rows(dataset) if images else []
    with connect(db_path) as con:
        write_dataset(con, dataset, image_rows=rows)
    return len(dataset.items)


def stored_datasets(db_path: str | os.PathLike | None) -> list[dict[str, Any]]:
    """One dict per stored dataset (dataset, loader, n_items, taxonomy, dimensions, root); [] without a store."""
    if db_path is not None and not Path(db_path).exists():
        return []
    with connect(db_path, read_only=True) as con:
        frame = list_datasets(con)
    return frame.to_dict("records")


def read_dataset(db_path: str | os.PathLike | None, name: str) -> Dataset:
    """A stored dataset rebuilt from the `datasets`, `items` and `gold` tables (splits and problems included)."""
    with connect(db_path, read_only=True) as con:
        tables = dataset_tables(con, name)
        if tables is None:
            known = dataset_names(con)
            raise DatasetError(f"no dataset {name!r} in {db_path}; stored: {', '.join(known) or 'none'} "
                               "(store one with `affectlens datasets load NAME --path P`)")
    row, items_frame, gold_frame = tables
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
