"""ArtPhoto (Machajdik & Hanbury, ACM MM 2010): 806 artistic photographs; the label is the emotion the
uploading artist chose, written as the file-name prefix.

The release (`testImages_artphoto.zip`) has no label file: one flat folder of `<prefix>_<rest>.jpg`,
prefix one of amusement, anger, awe, contentment, disgust, excitement, fear, sad (note `sad`). Only
description and third-party loaders were available here (`../shared/layouts/artphoto/SOURCE.md`),
which glob `*.jpg` and take the text before the first `_`; so does this loader. The prefix is
normalised through mikels8 (`sad` = sadness); a file whose prefix is no Mikels emotion is reported.

Gold: `emotion` (mikels8) and `polarity` by the Mikels grouping (Mikels et al. 2005: amusement, awe,
contentment, excitement positive; the rest negative). No official split (5-fold cross-validation in
the paper). Item ids are the file names.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import set_row_refs
from engine.datasets.release import add_polarity, label_gold
from engine.errors import DatasetError

INFO = release_info("artphoto")


@register_loader("artphoto", INFO)
def load_artphoto(path: str | Path) -> Dataset:
    """ArtPhoto: Mikels emotion from each file name's prefix, polarity by the Mikels grouping."""
    root = Path(path)
    if not any(root.glob("*.jpg")) and (root / "testImages_artphoto").is_dir():
        root = root / "testImages_artphoto"
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".jpg"
                   and not p.name.startswith(".")) if root.is_dir() else []
    if not files:
        raise DatasetError(f"artphoto: no .jpg files in {root}; point path at the unzipped testImages_artphoto folder")
    items, refs, problems = [], {}, []
    for file in files:
        prefix = file.name.split("_", 1)[0]
        try:
            if "_" not in file.name:
                raise ValueError("has no '<emotion>_' prefix")
            gold = add_polarity({"emotion": label_gold(prefix, "mikels8", "file-name prefix")})
        except ValueError as exc:
            problems.append(LoadProblem(file.name, f"{exc}; rename it as <emotion>_<rest>.jpg; the file is skipped"))
            continue
        items.append(Item(file.name, file.name, gold, meta={"prefix": prefix}))
        refs[file.name] = file.name
    dataset = Dataset("artphoto", "artphoto", root, items, taxonomy="mikels8", problems=problems)
    return set_row_refs(dataset, refs)
