"""A generic dataset from a CSV/TSV or JSONL manifest with a column mapping.

    {name: my-set, format: csv, path: data/my.csv, image_col: image,
     label_cols: {polarity: sentiment, emotion: label, valence: v}, scales: {valence: [1, 9]}}

- `image_col`: image paths relative to `root` (default: the manifest's folder); they may not leave it.
- `label_cols`: dimension -> column, for `polarity`, `emotion`, `valence`, `arousal`, `intensity` and
  `distribution` (a JSON object of label -> share). Categorical cells are normalised with the one
  label normaliser; a label it does not know is reported with its nearest candidates and the row is
  skipped. An empty cell means "no gold on that dimension" for the row.
- `taxonomy`: label set of `emotion`/`distribution` (inferred from the labels when not given);
  `polarity_taxonomy`: polarity2 or polarity3 (polarity3 when a neutral label occurs).
- `label_values`: per dimension, raw cell -> label, for codes such as `{polarity: {"1": positive, "0": negative}}`.
- `scales`: source scale of every continuous dimension; required, because a 1-7 rating read as 1-9
  would shift every normalised value without any row looking wrong.
- `id_col` (default: the image path), `split_col`, `meta_cols` (default: every other column).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from engine.datasets.base import CONTINUOUS, Dataset, Gold, Item, register_loader
from engine.datasets.files import items_from_rows, read_table, require_file, set_row_refs
from engine.errors import DatasetError
from engine.taxonomy import TAXONOMIES, get_taxonomy, infer_taxonomy, normalize_label

LABEL_DIMENSIONS = ("polarity", "emotion", *CONTINUOUS, "distribution")


def _choose_taxonomy(values: list[str]) -> str | None:
    """infer_taxonomy, or else the taxonomy that knows most of the distinct labels (the rest are reported)."""
    found = infer_taxonomy(values)
    if found or not values:
        return found
    distinct = set(values)
    scored = [(sum(normalize_label(v, t.name).ok for v in distinct), -len(t.labels), t.name)
              for t in TAXONOMIES.values() if not t.polarity_only]
    best = max(scored)
    return best[2] if best[0] else None


def _categorical(cell: str, dimension: str, taxonomy: str) -> str:
    match = normalize_label(cell, taxonomy)
    if not match.ok:
        raise ValueError(f"{dimension} label ({taxonomy}): {match.explain()}; fix the cell or add "
                         f"label_values: {{{dimension}: {{{cell!r}: <label>}}}}")
    return match.label


def _continuous(cell, dimension: str, scale: tuple[float, float]) -> float:
    try:
        value = float(cell)
    except (TypeError, ValueError):
        raise ValueError(f"{dimension} {cell!r} is not a number") from None
    if math.isnan(value) or not scale[0] <= value <= scale[1]:
        raise ValueError(f"{dimension} {value} is outside its scale {scale[0]:g}-{scale[1]:g}; fix the cell "
                         "or the scales option")
    return value


def _distribution(cell, taxonomy: str) -> dict[str, float]:
    try:
        shares = json.loads(cell) if isinstance(cell, str) else cell
    except json.JSONDecodeError:
        raise ValueError(f"distribution {cell!r} is not valid JSON") from None
    if not isinstance(shares, dict):
        raise ValueError(f"distribution {cell!r} is not a JSON object of label -> share")
    out: dict[str, float] = {}
    for raw, share in shares.items():
        label = _categorical(raw, "distribution", taxonomy)
        try:
            out[label] = out.get(label, 0.0) + float(share)
        except (TypeError, ValueError):
            raise ValueError(f"distribution share {share!r} for {raw!r} is not a number") from None
    total = sum(out.values())
    if total <= 0 or any(v < 0 for v in out.values()):
        raise ValueError("distribution shares must be >= 0 and not all 0")
    return {label: share / total for label, share in out.items()}


@register_loader("manifest", aliases=("csv", "tsv", "jsonl", "ndjson", "json"))
def load_manifest(path: str | Path, image_col: str = "image", label_cols: dict | None = None,
                  scales: dict | None = None, taxonomy: str | None = None, polarity_taxonomy: str | None = None,
                  label_values: dict | None = None, id_col: str | None = None, split_col: str | None = None,
                  meta_cols: list[str] | None = None, root: str | Path | None = None,
                  fmt: str | None = None, delimiter: str | None = None) -> Dataset:
    """CSV/TSV/JSONL manifest: one row per image, gold columns mapped to dimensions by `label_cols`."""
    file = require_file(Path(path), "manifest file", "give path: the CSV or JSONL file listing the images")
    header, rows, problems = read_table(file, fmt, delimiter)
    return dataset_from_records(file.stem, "manifest", str(file), Path(root) if root else file.parent, header, rows,
                                problems, image_col=image_col, label_cols=label_cols, scales=scales,
                                taxonomy=taxonomy, polarity_taxonomy=polarity_taxonomy, label_values=label_values,
                                id_col=id_col, split_col=split_col, meta_cols=meta_cols,
                                meta={"manifest": file.name})


def dataset_from_records(name: str, loader: str, source: str, root: Path | None, header: list[str], rows: list,
                         problems: list, *, image_col: str = "image", label_cols: dict | None = None,
                         scales: dict | None = None, taxonomy: str | None = None,
                         polarity_taxonomy: str | None = None, label_values: dict | None = None,
                         id_col: str | None = None, split_col: str | None = None,
                         meta_cols: list[str] | None = None, meta: dict | None = None) -> Dataset:
    """A Dataset from `(where, record)` rows under a column mapping (the manifest rules; `source` names
    the file or dataset in messages). Shared by the manifest and Hugging Face loaders."""
    file = source
    label_cols = dict(label_cols or {})
    label_values = {dim: {str(k): v for k, v in (mapping or {}).items()}
                    for dim, mapping in (label_values or {}).items()}
    unknown = [dim for dim in label_cols if dim not in LABEL_DIMENSIONS]
    if unknown:
        raise DatasetError(f"{loader} {file}: label_cols names unknown dimension(s) {', '.join(unknown)}; "
                           f"choose from {', '.join(LABEL_DIMENSIONS)}")
    scales = {dim: tuple(float(x) for x in scale) for dim, scale in (scales or {}).items()}
    for dim in label_cols:
        if dim in CONTINUOUS and dim not in scales:
            raise DatasetError(f"{loader} {file}: column {label_cols[dim]!r} gives {dim} but no scale is set; "
                               f"add scales: {{{dim}: [LOW, HIGH]}} (the rating scale of the source)")
    wanted = {"image_col": image_col, "id_col": id_col, "split_col": split_col,
              **{f"label_cols.{dim}": col for dim, col in label_cols.items()}}
    missing = {key: col for key, col in wanted.items() if col and col not in header}
    if missing and rows:
        raise DatasetError(f"{loader} {file}: no column {', '.join(f'{c!r} (from {k})' for k, c in missing.items())}; "
                           f"its columns are: {', '.join(header)}")

    def cell(record: dict, dim: str):
        value = record.get(label_cols[dim])
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return label_values.get(dim, {}).get(str(value).strip(), value)

    for dim in label_values:
        if dim not in label_cols:
            raise DatasetError(f"{loader} {file}: label_values names {dim!r}, which label_cols does not map")
    emotion_values = [str(cell(r, "emotion")) for _, r in rows if "emotion" in label_cols and cell(r, "emotion")]
    taxonomy = get_taxonomy(taxonomy).name if taxonomy else _choose_taxonomy(emotion_values)
    if taxonomy is None and ({"emotion", "distribution"} & set(label_cols)):
        taxonomy = "ekman7"  # nothing known at all: every row is reported against a common default
    if polarity_taxonomy is None:
        polarity_values = {str(cell(r, "polarity")) for _, r in rows
                           if "polarity" in label_cols and cell(r, "polarity")}
        neutral = any(normalize_label(v, "polarity3").label == "neutral" for v in polarity_values)
        polarity_taxonomy = "polarity3" if neutral else "polarity2"
    taxonomies = {"polarity": get_taxonomy(polarity_taxonomy).name, "emotion": taxonomy, "distribution": taxonomy}
    skip = {image_col, id_col, split_col, *label_cols.values()}

    def make(record: dict) -> Item:
        item = _item(record, image_col, id_col, split_col, label_cols, scales, taxonomies, cell)
        keep = meta_cols if meta_cols is not None else [c for c in record if c not in skip]
        item.meta.update({c: record.get(c) for c in keep if c in record})
        return item

    items, refs = items_from_rows(rows, make, problems, repeat_fix="; give each row its own id (id_col) or image")
    dataset = Dataset(name, loader, root, items,
                      taxonomy=taxonomy or (taxonomies["polarity"] if "polarity" in label_cols else None),
                      scales={d: s for d, s in scales.items() if d in label_cols}, problems=problems,
                      meta={**(meta or {}), "label_cols": label_cols, "polarity_taxonomy": taxonomies["polarity"]})
    return set_row_refs(dataset, refs)


def _item(record, image_col, id_col, split_col, label_cols, scales, taxonomies, cell) -> Item:
    image = str(record.get(image_col) or "").strip().replace("\\", "/")
    if not image:
        raise ValueError(f"has no image path in column {image_col!r}")
    item_id = str(record.get(id_col) or "").strip() if id_col else image
    if not item_id:
        raise ValueError(f"has no id in column {id_col!r}")
    gold: dict[str, Gold] = {}
    for dim in label_cols:
        value = cell(record, dim)
        if value is None:
            continue
        if dim in ("polarity", "emotion"):
            label = _categorical(str(value), dim, taxonomies[dim])
            gold[dim] = Gold(label=label, labels=(label,), taxonomy=taxonomies[dim])
        elif dim == "distribution":
            gold[dim] = Gold(distribution=_distribution(value, taxonomies[dim]), taxonomy=taxonomies[dim])
        else:
            gold[dim] = Gold(value=_continuous(value, dim, scales[dim]), scale=scales[dim])
    split = str(record.get(split_col) or "").strip() or None if split_col else None
    return Item(item_id, image, gold, split=split)
