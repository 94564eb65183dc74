"""RAF-DB basic (Li, Deng & Du, "Reliable Crowdsourcing and Deep Locality-Preserving Learning for
Expression Recognition in the Wild", CVPR 2017): 15,339 faces, 7 classes, official train/test split.

Reads the release's `basic/` folder as distributed:

    EmoLabel/list_patition_label.txt        # "<name> <code>" per line, no header (official spelling)
    Image/aligned/<stem>_aligned.jpg        # 100x100 aligned faces (default: images="aligned")
    Image/original/<name>                   # the full images (images="original")

Codes are 1-based: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral -> ekman7.
Source of the mapping: the RAF-DB release readme as followed by `yaoing/DAN` `rafdb.py` ("0:Surprise,
1:Fear, 2:Disgust, 3:Happiness, 4:Sadness, 5:Anger, 6:Neutral" after subtracting 1) and the gold of
`zeroQiaoba/gpt4v-emotion` `results/rafdb` (test_0001.jpg is code 5, Sadness). The split is the name's
prefix (`train_NNNNN.jpg` -> train, `test_NNNN.jpg` -> test; there is no validation split).
Item ids are the label file's names (`test_0001.jpg`), as in published per-item predictions.
No polarity gold: facial-expression sets have no sentiment annotation.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import Row, items_from_rows, set_row_refs
from engine.datasets.release import coded_label, find_path, label_gold
from engine.errors import DatasetError

CODES = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness", 6: "anger", 7: "neutral"}
LABEL_FILE = "EmoLabel/list_patition_label.txt"

INFO = release_info("rafdb")


def _rows(path: Path) -> tuple[list[Row], list[LoadProblem]]:
    rows, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split()
        where = f"{path.name} line {number}"
        if len(cells) != 2:
            problems.append(LoadProblem(where, f"has {len(cells)} fields, expected '<name> <code>'; the row is "
                                               "skipped"))
            continue
        rows.append((where, {"name": cells[0], "code": cells[1]}))
    return rows, problems


@register_loader("rafdb", INFO)
def load_rafdb(path: str | Path, images: str = "aligned") -> Dataset:
    """RAF-DB basic: 7 expression classes (codes 1-7), train/test from the name prefix."""
    root = Path(path)
    if images not in ("aligned", "original"):
        raise DatasetError(f"rafdb: images must be 'aligned' or 'original', not {images!r}")
    if not (root / LABEL_FILE).is_file() and (root / "basic" / LABEL_FILE).is_file():
        root = root / "basic"
    label_file = find_path(root, (LABEL_FILE,), "label list", "rafdb")

    def make(record: dict) -> Item:
        name = record["name"]
        split = "train" if name.startswith("train_") else "test" if name.startswith("test_") else None
        if split is None:
            raise ValueError(f"name {name!r} starts with neither train_ nor test_")
        gold = {"emotion": label_gold(coded_label(record["code"], CODES, "label"), "ekman7")}
        stem = name.rsplit(".", 1)[0]
        image = f"Image/aligned/{stem}_aligned.jpg" if images == "aligned" else f"Image/original/{name}"
        return Item(name, image, gold, split=split, meta={"code": int(record["code"])})

    rows, problems = _rows(label_file)
    items, refs = items_from_rows(rows, make, problems)
    dataset = Dataset("rafdb", "rafdb", root, items, taxonomy="ekman7", problems=problems,
                      meta={"images": images})
    return set_row_refs(dataset, refs)
