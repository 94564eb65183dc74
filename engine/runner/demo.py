"""The demo experiment: `data/configs/demo.yaml` over the generated sample, or over a dataset you name.

The sample (`engine.sample`) is drawn on first use into `data/sample/` of a source checkout (git
ignores it), or `~/.cache/affectlens/sample` for an installed package. The tiny untrained model is
built next to it (`models/tiny-llava-untrained`). With `dataset=PATH` the same models run on that
dataset instead: a folder named after a built-in loader (emotion6, oasis, twitter1) uses it, any
other folder is read as one sub-folder per class; the dimensions are those the dataset has gold for,
and the `features` baseline joins only when the dataset has a train split to fit on.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import ConfigError
from engine.runner.config import ExperimentConfig, load_config, parse_config

__all__ = ["demo_config", "sample_dir", "DEMO_CONFIG"]

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "data" / "configs" / "demo.yaml"
DEMO_DIMENSIONS = ("polarity", "emotion", "valence", "arousal")
DATASET_LIMIT = 60


def sample_dir() -> Path:
    """Where the demo sample lives: `AFFECTLENS_SAMPLE_DIR` if set, `data/sample` in a checkout, else a
    per-user cache folder."""
    if os.environ.get("AFFECTLENS_SAMPLE_DIR"):
        return Path(os.environ["AFFECTLENS_SAMPLE_DIR"])
    folder = REPO / "data" / "sample"
    if folder.parent.is_dir() and os.access(folder.parent, os.W_OK):
        return folder
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "affectlens" / "sample"


def demo_config(dataset: str | os.PathLike | None = None, limit: int | None = None,
                local_model: bool = True) -> ExperimentConfig:
    """The demo experiment, with the sample drawn (or `dataset` loaded) and placeholders filled in."""
    from engine.sample import ensure_sample

    if not DEMO_CONFIG.exists():
        raise ConfigError(f"the demo config {DEMO_CONFIG} is missing; reinstall from a source checkout")
    folder = sample_dir()
    ensure_sample(folder)
    config = load_config(DEMO_CONFIG, {"sample": str(folder), "tiny_llava": str(folder / "models" /
                                                                               "tiny-llava-untrained")})
    data = config.model_dump(mode="json", exclude_defaults=False)
    if not local_model:
        data["models"] = [m for m in data["models"] if m["adapter"] != "hf"]
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
    data["models"] = [m for m in data["models"] if m["adapter"] != "features" or has_train]
    return data
