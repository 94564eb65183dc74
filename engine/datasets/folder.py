"""A dataset laid out as one folder per class, as FI, EmoSet and many other releases ship:

    ROOT/<label>/<image>              or   ROOT/<split>/<label>/<image>   (split: train, test, val, ...)

The class is the folder name, normalised against `taxonomy` (inferred from the folder names when not
given: "amusement, awe, ..." gives mikels8, "positive, negative" polarity2). Gold goes to
`dimension` (emotion, or polarity for a polarity taxonomy); with `derive_polarity` (default) an
emotion folder also gives polarity gold through its label's two-way polarity (none for neutral).
A folder whose name is no label is reported once, with the nearest labels, and its files skipped.
Item ids are image paths relative to ROOT. Every file under a class folder is a candidate image,
checked by content; files and folders whose names start with "." are ignored.
"""

from __future__ import annotations

import os

from collections import Counter
from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.files import set_row_refs
from engine.errors import DatasetError
from engine.taxonomy import get_taxonomy, infer_taxonomy, normalize_label

SPLIT_NAMES = {"train": "train", "training": "train", "test": "test", "testing": "test", "val": "val",
               "valid": "val", "validation": "val", "dev": "val"}


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


@register_loader("folder", aliases=("imagefolder", "image-folder", "folders"))
def load_folder(path: str | Path, taxonomy: str | None = None, dimension: str | None = None,
                derive_polarity: bool = True) -> Dataset:
    """One folder per class (optionally under train/test split folders); taxonomy inferred from the names."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"folder dataset: {root} is not a folder; point path at the folder holding one "
                           "sub-folder per class")
    top = _visible_dirs(root)
    if not top:
        raise DatasetError(f"folder dataset: {root} has no sub-folders; put each class's images in a folder "
                           "named after the class")
    has_splits = all(d.name.lower() in SPLIT_NAMES for d in top)
    class_dirs = [(d.name, c) for d in top for c in _visible_dirs(d)] if has_splits else [(None, d) for d in top]
    names = sorted({c.name for _, c in class_dirs})
    tax = get_taxonomy(taxonomy).name if taxonomy else infer_taxonomy(names)
    if tax is None:
        known = [n for n in names if normalize_label(n, "mikels8").ok or normalize_label(n, "ekman7").ok]
        raise DatasetError(f"folder dataset {root}: cannot tell the taxonomy of the folder names "
                           f"{', '.join(names)}; give taxonomy: (one of mikels8, ekman6, ekman7, fer8, emotion6, "
                           f"polarity2, polarity3)" + (f" — recognised: {', '.join(known)}" if known else ""))
    dim = dimension or ("polarity" if get_taxonomy(tax).polarity_only else "emotion")
    items, refs, problems = [], {}, []
    for split, class_dir in class_dirs:
        where = str(class_dir.relative_to(root))
        try:
            os.listdir(class_dir)  # rglob skips an unreadable folder silently; say so instead
            files = _files(class_dir)
        except OSError as exc:
            problems.append(LoadProblem(where + "/", f"folder cannot be read ({exc.strerror or exc}); check its "
                                                     "permissions; its files are skipped"))
            continue
        match = normalize_label(class_dir.name, tax)
        if not match.ok:
            problems.append(LoadProblem(where + "/", f"folder name {match.explain()} of {tax}; rename the folder "
                                                     f"or give taxonomy:; its {len(files)} file(s) are skipped"))
            continue
        gold = {dim: Gold(label=match.label, labels=(match.label,), taxonomy=tax)}
        polarity = get_taxonomy(tax).label(match.label).polarity
        if derive_polarity and dim == "emotion" and polarity in ("positive", "negative"):
            gold["polarity"] = Gold(label=polarity, labels=(polarity,), taxonomy="polarity2")
        for file in files:
            relative = file.relative_to(root).as_posix()
            items.append(Item(relative, relative, dict(gold), split=SPLIT_NAMES[split.lower()] if split else None,
                              meta={"folder": class_dir.name}))
            refs[relative] = relative
    dataset = Dataset(root.name, "folder", root, items, taxonomy=tax, problems=problems,
                      meta={"classes": dict(Counter(i.gold[dim].label for i in items))})
    return set_row_refs(dataset, refs)
