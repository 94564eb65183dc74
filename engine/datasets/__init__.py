"""Datasets: the common item type, one small loader per source, and the entry point `load_dataset`.

Built-in formats: `emotion6`, `oasis`, `twitter1` (the real datasets' own layouts), `manifest`
(CSV/TSV/JSONL with a column mapping; `csv`, `tsv`, `jsonl` are aliases) and `folder` (one folder
per class). Importing this package registers them all.
"""

from engine.datasets import emotion6, folder, manifest, oasis, twitter1  # noqa: F401  (register loaders)
from engine.datasets.base import (CATEGORICAL, CONTINUOUS, DIMENSIONS, Dataset, Gold, Item, LoadProblem,
                                  get_loader, loader_names, normalise_value, register_loader)
from engine.datasets.images import ImageInfo, colour_stats, image_rows, inspect_image
from engine.datasets.registry import FORMAT_ALIASES, check_items, load_dataset
from engine.datasets.stored import describe_dataset, read_dataset, store_dataset, stored_datasets

__all__ = [
    "CATEGORICAL", "CONTINUOUS", "DIMENSIONS", "Dataset", "Gold", "Item", "LoadProblem", "get_loader",
    "loader_names", "normalise_value", "register_loader", "ImageInfo", "colour_stats", "image_rows",
    "inspect_image", "FORMAT_ALIASES", "check_items", "load_dataset", "describe_dataset", "read_dataset",
    "store_dataset", "stored_datasets",
]
