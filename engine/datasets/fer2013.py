"""FER2013 (Goodfellow et al., "Challenges in Representation Learning: A report on three machine
learning contests", arXiv:1307.0414, 2013): 35,887 grey 48x48 faces, 7 classes.

Reads `fer2013.csv` exactly as the Kaggle archive `fer2013.tar.gz` ships it (header
`emotion,pixels,Usage`; quoted or unquoted pixel cells). Each row's 2,304 pixel values become a PNG in
a content-addressed cache (`engine.datasets.pixels`; option `cache_dir`), which is the dataset's root.

- `emotion` codes are 0-based: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral ->
  ekman7 (source: the Kaggle challenge's data description, "(0=Angry, 1=Disgust, 2=Fear, 3=Happy,
  4=Sad, 5=Surprise, 6=Neutral)").
- `Usage` -> split: Training -> train, PublicTest -> val, PrivateTest -> test (the mapping FER+ uses);
  the original value stays in `meta["usage"]`.
- Item ids are the 0-based data-row index, zero-padded to 5 digits (`00000`): the file has no names,
  and FER+ joins its rows to these by the same position.
No polarity gold (no sentiment annotation).
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import items_from_rows, read_csv, require_columns, set_row_refs
from engine.datasets.pixels import PixelWriter, pixel_cache
from engine.datasets.release import coded_label, find_path, label_gold

CODES = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise", 6: "neutral"}
USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}

INFO = release_info("fer2013")


def csv_path(root: Path) -> Path:
    if root.is_file():
        return root
    return find_path(root, ("fer2013.csv", "fer2013/fer2013.csv"), "fer2013.csv", "fer2013")


@register_loader("fer2013", INFO)
def load_fer2013(path: str | Path, cache_dir: str | Path | None = None) -> Dataset:
    """FER2013: 7 classes from the CSV's codes, PNGs from its pixel cells, Usage as split."""
    file = csv_path(Path(path))
    header, rows, problems = read_csv(file)
    require_columns("fer2013", file, header, ("emotion", "pixels", "Usage"),
                    "; it needs the header emotion,pixels,Usage of the Kaggle release")
    writer = PixelWriter(pixel_cache(cache_dir))
    # data-row position = file line minus the header, so a skipped bad row does not shift later ids
    position = {where: int(where.rsplit(" ", 1)[1]) - 2 for where, _ in rows}

    def make_row(where: str, record: dict) -> Item:
        usage = record["Usage"]
        if usage not in USAGE:
            raise ValueError(f"Usage {usage!r} is not Training, PublicTest or PrivateTest")
        gold = {"emotion": label_gold(coded_label(record["emotion"], CODES, "emotion"), "ekman7")}
        image, _ = writer(record["pixels"])
        return Item(f"{position[where]:05d}", image, gold, split=USAGE[usage],
                    meta={"usage": usage, "code": int(record["emotion"])})

    tagged = [(where, {**record, "_where": where}) for where, record in rows]
    items, refs = items_from_rows(tagged, lambda r: make_row(r["_where"], r), problems)
    dataset = Dataset("fer2013", "fer2013", writer.folder, items, taxonomy="ekman7", problems=problems,
                      meta={"source_file": str(file), "pixel_cache": str(writer.folder),
                            "images_written": writer.written})
    return set_row_refs(dataset, refs)
