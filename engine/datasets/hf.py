"""Hugging Face datasets (`format: hf`), read with the manifest's column mapping:

    {name: my-hf, format: hf, path: data/my_saved_dataset, image_col: image,
     label_cols: {emotion: label, valence: v}, scales: {valence: [1, 9]}, split: test}

`path` is one of
- a folder written by `datasets`' `save_to_disk` (a Dataset or a DatasetDict; needs
  `pip install 'affectlens[hf]'`);
- a Parquet file, or a folder of them (as on the Hub: `data/train-00000-of-00001.parquet`); the split
  is the file name's first part (`train`, `test`, `validation` ...) or its folder; read with pyarrow;
- a Hub dataset id (`org/name`) resolved from the local Hugging Face cache only -- never downloaded here
  (`HF_HUB_OFFLINE`; download first with `hf download org/name --repo-type dataset`); its Parquet files
  are read as above.

The image column may be a `datasets.Image` feature (bytes and/or path), raw bytes, or a path relative to
the dataset folder. Image bytes (and absolute paths, e.g. what `save_to_disk` keeps for images loaded
from files) are written to the content-addressed image cache (`cache_dir`, see `engine.datasets.pixels`),
which then is the dataset's root. `ClassLabel` columns give their label names, not their integers.
`label_cols`, `scales`, `taxonomy`, `label_values`, `id_col`, `meta_cols` work as for a manifest
(`engine.datasets.manifest`); the split of each row is its DatasetDict split or Parquet file, selected
with the common `split:` option. Without `id_col` an item's id is `<split>/<row number>`.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Iterator

from engine.datasets.base import Dataset, LoadProblem, register_loader
from engine.datasets.manifest import dataset_from_records
from engine.datasets.pixels import ImageCache, pixel_cache
from engine.errors import DatasetError

__all__ = ["load_hf", "is_hub_id"]

_HUB_ID = re.compile(r"^(?:hf://datasets/)?([A-Za-z0-9][\w.-]*/[\w.-]+)$")
_SPLIT_WORDS = {"train", "test", "validation", "valid", "val", "dev"}
ROW_ID = "_row_id"
SPLIT = "_split"


def is_hub_id(text: str) -> bool:
    """True for `org/name` (or `hf://datasets/org/name`) that is not an existing path."""
    return bool(_HUB_ID.match(str(text))) and not Path(str(text)).exists()


def _need_datasets():
    try:
        import datasets
    except ImportError:
        raise ImportError("reading a save_to_disk folder needs the datasets library: pip install 'affectlens[hf]'") \
            from None
    return datasets


def _class_names(features: dict) -> dict[str, list[str]]:
    """column -> ClassLabel names, from a features dict as `datasets` serialises it."""
    return {column: spec["names"] for column, spec in (features or {}).items()
            if isinstance(spec, dict) and spec.get("_type") == "ClassLabel" and spec.get("names")}


def _from_disk(folder: Path, image_col: str) -> Iterator[tuple[str, list[dict], dict[str, list[str]]]]:
    datasets = _need_datasets()
    loaded = datasets.load_from_disk(str(folder))
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    for split, part in parts:
        if image_col in part.features and isinstance(part.features[image_col], datasets.Image):
            part = part.cast_column(image_col, datasets.Image(decode=False))
        names = {column: feature.names for column, feature in part.features.items()
                 if isinstance(feature, datasets.ClassLabel)}
        yield split, part.to_list(), names


def _parquet_split(file: Path, base: Path) -> str | None:
    first = re.split(r"[-_.]", file.name, maxsplit=1)[0].lower()
    if first in _SPLIT_WORDS:
        return first
    parent = file.parent.name.lower()
    return parent if parent in _SPLIT_WORDS and file.parent != base else None


def _from_parquet(source: Path) -> Iterator[tuple[str | None, list[dict], dict[str, list[str]]]]:
    import pyarrow.parquet as pq

    files = [source] if source.is_file() else sorted(p for p in source.rglob("*.parquet")
                                                     if not any(x.startswith(".") for x in p.relative_to(source).parts))
    if not files:
        raise DatasetError(f"hf: no save_to_disk folder (dataset_dict.json or state.json) and no .parquet files "
                           f"under {source}; point path at one of them")
    for file in files:
        table = pq.read_table(file)
        metadata = table.schema.metadata or {}
        features = {}
        if b"huggingface" in metadata:
            features = json.loads(metadata[b"huggingface"]).get("info", {}).get("features", {})
        yield _parquet_split(file, source if source.is_dir() else source.parent), table.to_pylist(), \
            _class_names(features)


def _hub_folder(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise ImportError("reading a Hub dataset id needs huggingface_hub: pip install 'affectlens[hf]'") from None
    try:
        return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        raise DatasetError(f"hf: dataset {repo_id!r} is not in the local Hugging Face cache, and AffectLens never "
                           f"downloads while loading; run `hf download {repo_id} --repo-type dataset` "
                           "(or point path at a local copy)") from None


def _image_ref(value: Any) -> tuple[str, Any] | None:
    """("bytes", data) | ("path", text) | None for one image cell."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("bytes"):
            return "bytes", bytes(value["bytes"])
        return ("path", str(value["path"])) if value.get("path") else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes", bytes(value)
    if isinstance(value, str):
        return "path", value
    if hasattr(value, "save"):  # a decoded PIL image
        buffer = io.BytesIO()
        value.save(buffer, "PNG")
        return "bytes", buffer.getvalue()
    return None


def _scalar_meta(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool)) or (
        isinstance(value, list) and len(value) <= 20 and all(isinstance(v, (str, int, float, bool)) for v in value))


@register_loader("hf")
def load_hf(path: str | Path, image_col: str = "image", label_cols: dict | None = None, scales: dict | None = None,
            taxonomy: str | None = None, polarity_taxonomy: str | None = None, label_values: dict | None = None,
            id_col: str | None = None, meta_cols: list[str] | None = None,
            cache_dir: str | Path | None = None) -> Dataset:
    """A Hugging Face dataset (save_to_disk folder, Parquet files, or a cached Hub id) under a column mapping."""
    text = str(path)
    if is_hub_id(text):
        repo_id = _HUB_ID.match(text).group(1)
        folder, parts, source = _hub_folder(repo_id), None, f"hub:{repo_id}"
        parts = _from_parquet(folder)
    else:
        folder = Path(path)
        source = str(folder)
        if folder.is_dir() and ((folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()):
            parts = _from_disk(folder, image_col)
        else:
            parts = _from_parquet(folder)
        if folder.is_file():
            folder = folder.parent
    records: list[tuple[str, dict]] = []
    problems: list[LoadProblem] = []
    header: dict[str, None] = {}
    images: list[tuple[str, Any] | None] = []
    for split, rows, names in parts:
        for number, row in enumerate(rows):
            where = f"{split or 'rows'} row {number}"
            record = {}
            for column, value in row.items():
                if column == image_col:
                    continue
                if column in names and isinstance(value, int) and 0 <= value < len(names[column]):
                    value = names[column][value]
                elif column in names and isinstance(value, int):
                    value = None  # -1: ClassLabel's "no label"
                if _scalar_meta(value) or (label_cols and column in label_cols.values()):
                    record[column] = value
            record[ROW_ID] = f"{split}/{number}" if split else str(number)
            record[SPLIT] = split
            header.update(dict.fromkeys(record))
            if image_col not in row:
                raise DatasetError(f"hf {source}: no image column {image_col!r}; its columns are: "
                                   f"{', '.join(row)} (set image_col:)")
            images.append(_image_ref(row[image_col]))
            records.append((where, record))
    needs_cache = any(ref is not None and (ref[0] == "bytes" or Path(ref[1]).is_absolute()) for ref in images)
    cache = ImageCache(pixel_cache(cache_dir)) if needs_cache else None
    kept = []
    for (where, record), ref in zip(records, images):
        if ref is None:
            problems.append(LoadProblem(where, f"has no image in column {image_col!r}; the row is skipped"))
            continue
        kind, value = ref
        if cache is not None:
            try:
                data = value if kind == "bytes" else (Path(value) if Path(value).is_absolute()
                                                      else folder / value).read_bytes()
            except OSError as exc:
                problems.append(LoadProblem(where, f"image {value!r} cannot be read ({exc.strerror}); the row is "
                                                   "skipped"))
                continue
            value, _ = cache.add(data)
        record[image_col] = value
        kept.append((where, record))
    dataset = dataset_from_records(Path(text).name if not is_hub_id(text) else text, "hf", source,
                                   cache.folder if cache else folder, [image_col, *header], kept, problems,
                                   image_col=image_col, label_cols=label_cols, scales=scales, taxonomy=taxonomy,
                                   polarity_taxonomy=polarity_taxonomy, label_values=label_values,
                                   id_col=id_col or ROW_ID, split_col=SPLIT,
                                   meta_cols=meta_cols, meta={"hf_source": source,
                                                              "images_cached": cache.written if cache else 0})
    for item in dataset.items:
        item.meta.pop(ROW_ID, None)
    return dataset


load_hf.accepts_hub_ids = True  # `load_dataset` lets a non-existent `path` through for this loader
