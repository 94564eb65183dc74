"""`load_dataset`: the one entry point from a config entry (or a name and a path) to a checked Dataset.

    load_dataset({"name": "emotion6", "path": "../shared/datasets/emotion6", "limit": 50})
    load_dataset("my-set", format="csv", path="data/my.csv", image_col="image",
                 label_cols={"polarity": "sentiment"})

After the format's loader has read the labels, every item's image path is checked to stay inside
the dataset root, its bytes are hashed (`Item.image_sha256`) and it is decoded at reduced size; an
item that fails is dropped with one `LoadProblem` naming its row and the fix. Whole-file failures
(a missing folder or label file, an unknown option) raise `DatasetError`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.datasets.base import Dataset, LoadProblem, canonical_format, get_loader, loader_names
from engine.datasets.files import resolve_inside, row_refs, set_row_refs, short_path, sort_problems
from engine.datasets.images import ImageInfo, inspect_many
from engine.errors import DatasetError

__all__ = ["load_dataset", "check_items", "COMMON_OPTIONS"]

#: Options every format takes (applied after loading).
COMMON_OPTIONS = ("limit", "split", "check_images", "strict", "workers", "base_dir")
# Config keys that describe the entry rather than the data.
_IGNORED = ("description",)


def load_dataset(name_or_spec: str | Mapping[str, Any], path: str | Path | None = None, **options: Any) -> Dataset:
    """Load a dataset from a name or a config entry; returns the Dataset with its problems listed.

    `format` (alias `loader`) defaults to `name` when that is a known loader (a release such as
    emotion6 or rafdb -- `loader_names()` -- or manifest, folder, hf; csv/tsv/jsonl mean manifest).
    For `hf`, `path` may also be a Hub id (`org/name`) read from the local cache. Common options: `limit` (first N
    usable items), `split` (a named split or split value), `check_images` (True/"decode", "header"
    or False), `strict` (raise on any problem), `workers`, `base_dir` (relative paths start here).
    Every other option goes to the format's loader and must be one it takes.
    """
    spec = dict(name_or_spec) if isinstance(name_or_spec, Mapping) else {"name": name_or_spec}
    spec.update(options)
    if path is not None:
        spec["path"] = path
    for key in _IGNORED:
        spec.pop(key, None)
    name = spec.pop("name", None)
    fmt = spec.pop("format", None) or spec.pop("loader", None)
    if fmt is None:
        if name not in loader_names():
            raise DatasetError(f"dataset {name!r}: not a built-in dataset and no format given; add format: "
                               f"(one of {', '.join(loader_names())}, or csv / jsonl for a manifest)")
        fmt = name
    loader_name = canonical_format(fmt)
    try:
        loader = get_loader(loader_name)
    except KeyError as exc:
        raise DatasetError(f"dataset {name!r}: {exc.args[0]} (or csv, tsv, jsonl for a manifest)") from None
    common = {key: spec.pop(key) for key in COMMON_OPTIONS if key in spec}
    base_dir = Path(common.pop("base_dir")) if common.get("base_dir") else None
    if spec.get("path") is None:
        raise DatasetError(f"dataset {name!r}: no path given; add path: (the dataset folder, or the manifest file)")
    raw_path = spec.pop("path")
    source = _resolve(raw_path, base_dir)
    if not source.exists() and getattr(loader, "accepts_hub_ids", False) and _hub_id(raw_path):
        source = Path(str(raw_path))  # a Hub id, resolved from the local cache by the loader
    elif not source.exists():
        raise DatasetError(f"dataset {name!r}: {source} does not exist; check path: (relative paths start at "
                           f"{base_dir or Path.cwd()})")
    accepts = inspect.signature(loader).parameters
    if "fmt" in accepts:  # a loader reading several file types: an alias (csv, jsonl, ...) names the one to read
        spec.setdefault("fmt", str(fmt).lower() if str(fmt).lower() != loader_name else None)
    if "root" in accepts and spec.get("root"):  # its image folder, relative to the config like `path`
        spec["root"] = _resolve(spec["root"], base_dir)
    _check_options(name, loader_name, loader, spec)
    dataset = loader(source if source.exists() else str(raw_path), **spec)
    dataset.name = str(name or dataset.name)
    dataset.meta.setdefault("source", str(source))
    return check_items(dataset, **common)


def _hub_id(text) -> bool:
    from engine.datasets.hf import is_hub_id
    return is_hub_id(str(text))


def _resolve(path: str | Path, base_dir: Path | None) -> Path:
    path = Path(path).expanduser()
    return base_dir / path if base_dir is not None and not path.is_absolute() else path


def _check_options(name: str | None, loader_name: str, loader, options: dict) -> None:
    params = [p for p in inspect.signature(loader).parameters if p != "path"]
    for key in options:
        if key not in params:
            near = difflib.get_close_matches(key, [*params, *COMMON_OPTIONS], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise DatasetError(f"dataset {name!r}: the {loader_name} format takes no option {key!r}{hint} "
                               f"(it takes: {', '.join([*params, *COMMON_OPTIONS])})")


def check_items(dataset: Dataset, *, split: str | None = None, limit: int | None = None,
                check_images: bool | str = True, strict: bool = False, workers: int | None = None) -> Dataset:
    """Select `split`, then keep the first `limit` items whose image path is safe and whose image decodes.

    Sets `image_sha256` on every kept item; each dropped item adds a LoadProblem naming its row.
    Images are checked in batches of what is still needed, so `limit: 50` reads about 50 images.
    """
    mode = {True: "decode", "decode": "decode", "header": "header", False: None, "none": None}.get(check_images, "?")
    if mode == "?":
        raise DatasetError(f"check_images must be true, 'decode', 'header' or false, not {check_images!r}")
    if limit is not None and int(limit) < 0:
        raise DatasetError(f"limit must be >= 0, not {limit}")
    refs = row_refs(dataset)
    candidates = dataset.subset(split=split).items if split else list(dataset.items)
    problems = list(dataset.problems)
    kept = []
    real_dirs: dict[Path, Path] = {}
    position = 0
    while position < len(candidates) and (limit is None or len(kept) < int(limit)):
        batch = candidates[position:] if limit is None else candidates[position:position + int(limit) - len(kept)]
        position += len(batch)
        safe = []
        for item in batch:
            where = refs.get(item.item_id, item.item_id)
            if item.image_path is None or dataset.root is None:
                kept.append(item)
                continue
            try:
                safe.append((item, where, resolve_inside(dataset.root, item.image_path, real_dirs)))
            except ValueError as exc:
                problems.append(LoadProblem(where, f"{exc}; the row is skipped"))
        if mode is None:
            kept.extend(item for item, _, _ in safe)
            continue
        results = inspect_many([full for _, _, full in safe], decode=mode == "decode",
                               labels=[short_path(item.image_path, quote=False) for item, _, _ in safe], workers=workers)
        for (item, where, _), result in zip(safe, results):
            if isinstance(result, ImageInfo):
                item.image_sha256 = result.image_sha256
                kept.append(item)
            else:
                problems.append(LoadProblem(where, f"image {result}; the row is skipped"))
    problems = sort_problems(problems)
    ids = {item.item_id for item in kept}
    splits = {name: [i for i in members if i in ids] for name, members in dataset.splits.items()}
    result = Dataset(dataset.name, dataset.loader, dataset.root, kept, dataset.taxonomy, dict(dataset.scales),
                     problems, splits, dict(dataset.meta))
    if strict and problems:
        shown = "\n  ".join(str(p) for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DatasetError(f"dataset {dataset.name!r}: {len(problems)} row(s) could not be loaded (strict):\n  "
                           f"{shown}{more}")
    return set_row_refs(result, refs)
