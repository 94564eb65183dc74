"""The demo experiment: `engine/data/demo.yaml` (package data) over the generated sample, or a dataset you name.

The sample (`engine.sample`) is drawn on first use into `data/sample/` of a source checkout (git
ignores it), or `~/.cache/affectlens/sample` for an installed package. The tiny untrained model is
built next to it (`models/tiny-llava-untrained`). With `dataset=PATH` the same models run on that
dataset instead: a folder named after a built-in loader (emotion6, oasis, twitter1) uses it, any
other folder is read as one sub-folder per class; the dimensions are those the dataset has gold for,
and the `features` baseline joins only when the dataset has a train split to fit on. Without torch
and transformers (`pip install affectlens` with no `[local]` extra) the tiny model is left out.
"""

from __future__ import annotations

import importlib.util
import os
from importlib import resources
from pathlib import Path

from engine.errors import ConfigError
from engine.models.registry import adapter_info
from engine.runner.config import ExperimentConfig, load_config, parse_config

__all__ = ["demo_config", "sample_dir", "local_model_available", "DEMO_CONFIG"]

REPO = Path(__file__).resolve().parents[2]
#: Shipped inside the package, so an installed wheel has it too.
DEMO_CONFIG = resources.files("engine") / "data" / "demo.yaml"
LOCAL_EXTRA_NOTE = ("note: tiny-llava-untrained left out (no torch/transformers); "
                    "pip install 'affectlens[local]' to include the local-model path")


def local_model_available() -> bool:
    """Whether the `[local]` extra (torch and transformers) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))
DEMO_DIMENSIONS = ("polarity", "emotion", "valence", "arousal")
DATASET_LIMIT = 60


def sample_dir() -> Path:
    """Where the demo sample lives: `AFFECTLENS_SAMPLE_DIR` if set, `data/sample` in a checkout, else a
    per-user cache folder."""
    if os.environ.get("AFFECTLENS_SAMPLE_DIR"):
        return Path(os.environ["AFFECTLENS_SAMPLE_DIR"])
    folder = REPO / "data" / "sample"
    if (REPO / "pyproject.toml").is_file() and folder.parent.is_dir() and os.access(folder.parent, os.W_OK):
        return folder
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "affectlens" / "sample"


def demo_config(dataset: str | os.PathLike | None = None, limit: int | None = None,
                local_model: bool = True) -> ExperimentConfig:
    """The demo experiment, with the sample drawn (or `dataset` loaded) and placeholders filled in."""
    from engine.sample import ensure_sample

    if not DEMO_CONFIG.is_file():
        raise ConfigError(f"the demo config {DEMO_CONFIG} is missing from the installed package; reinstall "
                          "affectlens (pip install --force-reinstall affectlens)")
    folder = sample_dir()
    ensure_sample(folder)
    with resources.as_file(DEMO_CONFIG) as path:
        config = load_config(path, {"sample": str(folder), "tiny_llava": str(folder / "models" /
                                                                             "tiny-llava-untrained")})
    data = config.model_dump(mode="json", exclude_defaults=False)
    if not local_model:
        data["models"] = [m for m in data["models"] if adapter_info(m["adapter"]).extra != "local"]
    if dataset is not None:
        data = _for_dataset(data, Path(dataset), limit)
    elif limit is not None:
        data["datasets"][0]["limit"] = limit
    return parse_config(data, "demo")


def _for_dataset(data: dict, path: Path, limit: int | None) -> dict:
    from engine.datasets import load_dataset, loader_names

    if not path.exists():
        raise ConfigError(f"--dataset {path}: no such folder or file")
    if path.is_file():
        raise ConfigError(f"--dataset {path}: a manifest file needs its column mapping; write a config with "
                          "format: csv, image_col: and label_cols: and use `affectlens run CONFIG.yaml`")
    name = path.resolve().name
    entry = {"name": name, "path": str(path)} if name in loader_names() else {
        "name": name, "path": str(path), "format": "folder"}
    loaded = load_dataset(dict(entry))
    dimensions = [d for d in DEMO_DIMENSIONS if d in loaded.dimensions]
    if not dimensions:
        raise ConfigError(f"--dataset {path}: it has no gold for any of {', '.join(DEMO_DIMENSIONS)}")
    has_train = any(item.split == "train" for item in loaded.items) or bool(loaded.splits.get("train"))
    entry["limit"] = limit or DATASET_LIMIT
    data["datasets"] = [entry]
    data["dimensions"] = dimensions
    data["models"] = [m for m in data["models"] if adapter_info(m["adapter"]).training != "images" or has_train]
    return data
