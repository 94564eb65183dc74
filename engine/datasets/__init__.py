"""Datasets: the common item type, one small loader per source, and the entry point `load_dataset`.

Built-in formats: the official releases in their own layouts (`emotion6`, `oasis`, `twitter1`,
`twitter2`, `abstract`, `artphoto`, `fi`, `emoset`, `unbiasedemo`, `fer2013`, `ferplus`, `rafdb`,
`affectnet`, `ckplus`, `sfew`), `manifest` (CSV/TSV/JSONL with a column mapping; `csv`, `tsv`,
`jsonl` are aliases), `folder` (one folder per class) and `hf` (Hugging Face datasets). Importing this
package registers them all; `loader_info(name)` describes each release.
"""

from engine.datasets import (abstract, affectnet, artphoto, ckplus, emoset, emotion6, fer2013,  # noqa: F401
                             ferplus, fi, folder, hf, manifest, oasis, rafdb, sfew, twitter1, twitter2, unbiasedemo)
from engine.datasets.base import (CATEGORICAL, CONTINUOUS, DIMENSIONS, Dataset, DatasetInfo, Gold, Item,
                                  LoadProblem, get_loader, loader_info, loader_names, normalise_value,
                                  register_loader)
from engine.datasets.images import ImageInfo, colour_stats, image_rows, inspect_image
from engine.datasets.registry import check_items, load_dataset
from engine.datasets.stored import describe_dataset, read_dataset, store_dataset, stored_datasets

__all__ = [
    "CATEGORICAL", "CONTINUOUS", "DIMENSIONS", "Dataset", "DatasetInfo", "Gold", "Item", "LoadProblem",
    "get_loader", "loader_info", "loader_names", "normalise_value", "register_loader", "ImageInfo", "colour_stats", "image_rows",
    "inspect_image", "check_items", "load_dataset", "describe_dataset", "read_dataset",
    "store_dataset", "stored_datasets",
]
