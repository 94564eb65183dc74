"""UnBiasedEmo (Panda, Zhang, Li, Lee, Lu & Roy-Chowdhury, "Contemplating Visual Emotions:
Understanding and Overcoming Dataset Bias", ECCV 2018): about 3,045 images of the same kinds of
objects under 6 emotions, built to break the object/emotion confound.

The release has no label file (`../shared/layouts/unbiasedemo/SOURCE.md`, a description from
third-party loaders; no real listing was available here): `UnBiasedEmo.zip` holds `images.zip`, which
unpacks to

    images/<emotion>/<object>/<file>.jpg        (emotion: anger, fear, joy, love, sadness, surprise)

Gold: `emotion` in the `unbiasedemo6` taxonomy (its own six; `love` is in no other label set, so it is
not forced onto Ekman's) and `polarity` where the label has one (joy, love, surprise positive by the
project's convention for surprise; anger, fear, sadness negative). `meta["object"]` is the object
folder, for slicing. File names repeat across folders, so item ids are paths relative to `images/`.
No official split.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import set_row_refs
from engine.datasets.release import add_polarity, image_files, label_gold, visible_dirs
from engine.errors import DatasetError

INFO = release_info("unbiasedemo")


@register_loader("unbiasedemo", INFO)
def load_unbiasedemo(path: str | Path) -> Dataset:
    """UnBiasedEmo: 6 emotions from the first folder level, the object from the second."""
    root = Path(path)
    for candidate in (root / "images", root / "UnBiasedEmo" / "images"):
        if candidate.is_dir():
            root = candidate
            break
    if not root.is_dir() or not visible_dirs(root):
        raise DatasetError(f"unbiasedemo: no emotion folders in {root}; unzip UnBiasedEmo.zip and then "
                           "UnBiasedEmo/images.zip, and point path at the folder holding images/")
    items, refs, problems = [], {}, []
    for emotion_dir in visible_dirs(root):
        files = image_files(emotion_dir)
        try:
            gold = add_polarity({"emotion": label_gold(emotion_dir.name, "unbiasedemo6", "folder name")})
        except ValueError as exc:
            problems.append(LoadProblem(emotion_dir.name + "/", f"{exc}; its {len(files)} file(s) are skipped"))
            continue
        for file in files:
            relative = file.relative_to(root).as_posix()
            parts = file.relative_to(emotion_dir).parts
            items.append(Item(relative, relative, dict(gold), meta={"object": parts[0] if len(parts) > 1 else None}))
            refs[relative] = relative
    dataset = Dataset("unbiasedemo", "unbiasedemo", root, items, taxonomy="unbiasedemo6", problems=problems)
    return set_row_refs(dataset, refs)
