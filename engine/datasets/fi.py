"""FI, the Flickr & Instagram emotion dataset (You, Luo, Jin & Yang, "Building a Large Scale Dataset for
Image Emotion Recognition: The Fine Print and The Benchmark", AAAI 2016): 23,308 images, 8 Mikels emotions.

The release has no label or split file (`../shared/layouts/fi/SOURCE.md`, a description only): the
label is the folder, and file names repeat it as a prefix:

    emotion_dataset/<emotion>/<emotion>_<id>.jpg      (emotion: amusement, anger, awe, contentment,
                                                       disgust, excitement, fear, sadness)

A flat folder of `<emotion>_<id>.jpg` (another circulating copy) is read by the prefix. Gold:
`emotion` (mikels8) and `polarity` by the Mikels grouping (Mikels et al. 2005). No official split.

The downloadable copy holds placeholder images of photos since removed from Flickr/Instagram (the
copy counted by `Kahsolt/EmotionSpaces` has 23,185 files, "invalid samples (banned pictures)").
They are found by content: any byte-identical file occurring `placeholder_repeats` times or more
(default 3) is a placeholder; those files are dropped, counted in `meta["placeholders"]` and
reported once. Item ids are paths relative to the root.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import set_row_refs
from engine.datasets.release import add_polarity, image_files, label_gold, visible_dirs
from engine.errors import DatasetError

INFO = release_info("fi")


def placeholders(files: list[Path], repeats: int) -> set[Path]:
    """Files whose exact bytes occur at least `repeats` times (only same-size files are hashed)."""
    by_size: dict[int, list[Path]] = defaultdict(list)
    for file in files:
        by_size[file.stat().st_size].append(file)
    by_hash: dict[str, list[Path]] = defaultdict(list)
    for group in by_size.values():
        if len(group) >= repeats:
            for file in group:
                by_hash[hashlib.sha256(file.read_bytes()).hexdigest()].append(file)
    return {file for group in by_hash.values() if len(group) >= repeats for file in group}


@register_loader("fi", INFO)
def load_fi(path: str | Path, placeholder_repeats: int = 3) -> Dataset:
    """FI: Mikels emotion from the class folder (or file-name prefix), polarity, placeholders dropped."""
    root = Path(path)
    if (root / "emotion_dataset").is_dir():
        root = root / "emotion_dataset"
    if not root.is_dir():
        raise DatasetError(f"fi: {root} is not a folder; point path at emotion_dataset/ (one folder per emotion)")
    folders = visible_dirs(root)
    if folders:
        entries = [(f, d.name) for d in folders for f in image_files(d)]
    else:
        entries = [(f, f.name.split("_", 1)[0]) for f in image_files(root, recursive=False)]
    if not entries:
        raise DatasetError(f"fi: no images under {root}; point path at emotion_dataset/")
    dropped = placeholders([f for f, _ in entries], placeholder_repeats) if placeholder_repeats else set()
    items, refs, problems, bad_classes = [], {}, [], {}
    for file, raw in entries:
        relative = file.relative_to(root).as_posix()
        if file in dropped:
            continue
        try:
            gold = add_polarity({"emotion": label_gold(raw, "mikels8", "class")})
        except ValueError as exc:
            bad_classes.setdefault(raw, [relative, str(exc), 0])[2] += 1
            continue
        items.append(Item(relative, relative, gold, meta={"folder": raw}))
        refs[relative] = relative
    for raw, (first, message, count) in bad_classes.items():
        problems.append(LoadProblem(first, f"{message}; rename the folder (or prefix); {count} file(s) skipped"))
    if dropped:
        problems.append(LoadProblem(root.name + "/", f"{len(dropped)} file(s) are byte-identical placeholders "
                                                     f"(each bytes occur {placeholder_repeats}+ times: removed "
                                                     "photos); they are skipped"))
    dataset = Dataset("fi", "fi", root, items, taxonomy="mikels8", problems=problems,
                      meta={"placeholders": len(dropped)})
    return set_row_refs(dataset, refs)
