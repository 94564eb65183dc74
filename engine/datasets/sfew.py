"""SFEW 2.0, Static Facial Expressions in the Wild (Dhall, Ramana Murthy, Goecke, Joshi & Gedeon,
"Video and Image based Emotion Recognition Challenges in the Wild: EmotiW 2015", ICMI 2015).

The release has no label file: the class is the folder (`../shared/layouts/sfew/SOURCE.md`, a
description only; no listing of a real copy was available here):

    Train/<Class>/<Movie>_<9 digits>_<8 digits>.png     # split train
    Val/<Class>/<...>.png                               # split val (papers report on it)
    Test/<...>.png                                      # no public labels: counted, not loaded

`<Class>` is Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise (as in AFEW) -> ekman7 through the
label normaliser. Copies differ in counts (face-detection filtering), so the loader counts what it
finds; `datasets show` compares it with the commonly cited 958 train / 436 val. Folder-name variants
(`train`, `Validation`) are accepted. Item ids are paths relative to the root.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import set_row_refs
from engine.datasets.folder import SPLIT_NAMES
from engine.datasets.release import image_files, label_gold, visible_dirs
from engine.errors import DatasetError

INFO = release_info("sfew")


@register_loader("sfew", INFO)
def load_sfew(path: str | Path) -> Dataset:
    """SFEW 2.0: 7 classes from the folder names, Train and Val splits; the unlabelled Test is counted."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"sfew: {root} is not a folder; point path at the folder holding Train/ and Val/")
    splits = {d: SPLIT_NAMES.get(d.name.lower()) for d in visible_dirs(root)}
    labelled = {d: s for d, s in splits.items() if s in ("train", "val")}
    if not labelled:
        raise DatasetError(f"sfew: no Train/ or Val/ folder in {root}; point path at the unpacked SFEW 2.0 folder")
    items, refs, problems = [], {}, []
    for split_dir, split in labelled.items():
        for class_dir in visible_dirs(split_dir):
            files = image_files(class_dir)
            try:
                gold = {"emotion": label_gold(class_dir.name, "ekman7", "folder name")}
            except ValueError as exc:
                problems.append(LoadProblem(f"{split_dir.name}/{class_dir.name}/",
                                            f"{exc}; rename the folder; its {len(files)} file(s) are skipped"))
                continue
            for file in files:
                relative = file.relative_to(root).as_posix()
                items.append(Item(relative, relative, dict(gold), split=split, meta={"folder": class_dir.name}))
                refs[relative] = relative
    unlabelled = sum(len(image_files(d)) for d, s in splits.items() if s == "test")
    dataset = Dataset("sfew", "sfew", root, items, taxonomy="ekman7", problems=problems,
                      meta={"unlabelled_test_images": unlabelled})
    return set_row_refs(dataset, refs)
