"""FERPlus (Barsoum et al., "Training Deep Networks for Facial Expression Recognition with
Crowd-Sourced Label Distribution", ICMI 2016): 10 crowd votes per FER2013 face.

Reads the release of `microsoft/FERPlus` as distributed: `fer2013new.csv` (header `Usage,Image name,
neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF`; the repository's README
names it the label file). Where it is absent, the per-folder `data/FER2013{Train,Valid,Test}/label.csv`
files (no header: name, quoted face box, the same 10 counts) are read instead; their counts differ
from fer2013new.csv on about 1,600 rows, so prefer the latter.

Images: the PNG folders `FER2013Train/`, `FER2013Valid/`, `FER2013Test/` written by the release's
`generate_training_data.py` (at the root or under `data/`), or else the pixels of FER2013's
`fer2013.csv` (option `fer2013`, default `fer2013.csv` beside the label file), joined **by position**
(row i <-> row i) as the generator does -- never through the number in the image name, which drifts
from the row index.

Gold per item, taxonomy fer8 (the eight emotion columns, in the file's order):
- `distribution`: the emotion votes over the eight emotions, normalised (unknown and NF left out);
  `n_raters` is all 10 votes;
- `emotion`: with `majority="plurality"` (default) the most-voted emotion, ties kept as ties; with
  `majority="ferplus"` the reference trainer's rule (`src/ferplus.py`, majority mode): votes of 1 are
  zeroed, and the top emotion must have more than half of the remaining votes, else the row has no label.
A row whose top vote is `unknown` or `NF` (not a face) over every emotion, or that fails the
`ferplus` rule, is left out and counted in `meta["dropped"]`, as the reference code discards such
rows. The 173 rows with an empty `Image name` (all NF = 10; no image exists) are counted in
`meta["rows_without_image"]`. `meta` of each item keeps `usage`, `unknown_votes`, `not_a_face_votes`.
Splits: Training -> train, PublicTest -> val, PrivateTest -> test. Item ids are the image names.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.fer2013 import USAGE
from engine.datasets.files import Row, items_from_rows, number_cell, read_csv, require_columns, set_row_refs
from engine.datasets.pixels import PixelWriter, pixel_cache
from engine.datasets.release import votes_gold
from engine.errors import DatasetError

EMOTIONS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
VOTE_COLUMNS = (*EMOTIONS, "unknown", "NF")
FOLDERS = {"train": "FER2013Train", "val": "FER2013Valid", "test": "FER2013Test"}

INFO = release_info("ferplus")


def _gold(record: dict, rule: str) -> tuple[dict[str, Gold] | None, str | None]:
    votes = {column: number_cell(record, column) for column in VOTE_COLUMNS}
    if any(v < 0 for v in votes.values()):
        raise ValueError("has a negative vote count")
    emotions = {label: votes[label] for label in EMOTIONS}
    best = max(emotions.values())
    if votes["NF"] > best and votes["NF"] >= votes["unknown"]:
        return None, "not_a_face"
    if votes["unknown"] > best:
        return None, "unknown"
    gold = votes_gold(emotions, "fer8")
    total = sum(votes.values())
    gold["distribution"].n_raters = gold["emotion"].n_raters = int(round(total))
    if rule == "ferplus":
        kept = {k: (0.0 if v <= 1 else v) for k, v in votes.items()}
        top_label = max(kept, key=kept.get)
        if not kept[top_label] > 0.5 * sum(kept.values()) or top_label not in EMOTIONS:
            return None, "no_majority"
        gold["emotion"] = Gold(label=top_label, labels=(top_label,), taxonomy="fer8", n_raters=int(round(total)))
    return gold, None


def _per_folder_rows(root: Path) -> tuple[list[Row], list[LoadProblem]]:
    """The per-folder label.csv files (no header) as fer2013new.csv-style records."""
    rows, problems = [], []
    usage = {split: name for name, split in USAGE.items()}
    for split, folder in FOLDERS.items():
        path = next((base / folder / "label.csv" for base in (root, root / "data")
                     if (base / folder / "label.csv").is_file()), None)
        if path is None:
            continue
        _, file_rows, file_problems = read_csv(path, fieldnames=["Image name", "box", *VOTE_COLUMNS])
        problems.extend(LoadProblem(f"{folder}/{p.row}", p.message) for p in file_problems)
        rows.extend((f"{folder}/{where}", {**record, "Usage": usage[split]}) for where, record in file_rows)
    return rows, problems


def _image_folders(root: Path) -> dict[str, Path] | None:
    for base in (root, root / "data"):
        found = {split: base / folder for split, folder in FOLDERS.items() if (base / folder).is_dir()
                 and any(p.suffix == ".png" for p in (base / folder).iterdir())}
        if found:
            return found
    return None


@register_loader("ferplus", INFO)
def load_ferplus(path: str | Path, majority: str = "plurality", fer2013: str | Path | None = None,
                 cache_dir: str | Path | None = None) -> Dataset:
    """FERPlus: 10-vote distributions over 8 emotions, majority label, unknown / not-a-face rows dropped."""
    root = Path(path)
    if majority not in ("plurality", "ferplus"):
        raise DatasetError(f"ferplus: majority must be 'plurality' or 'ferplus', not {majority!r}")
    label_file = root / "fer2013new.csv"
    if label_file.is_file():
        header, rows, problems = read_csv(label_file)
        require_columns("ferplus", label_file, header, ("Usage", "Image name", *VOTE_COLUMNS))
    else:
        rows, problems = _per_folder_rows(root)
        if not rows:
            raise DatasetError(f"ferplus: neither fer2013new.csv nor data/FER2013*/label.csv in {root}; point "
                               "path at the FERPlus folder (`affectlens datasets fetch ferplus` gets the labels)")
    folders = _image_folders(root)
    writer = None
    pixels: dict[int, str] = {}
    if folders is None:
        if not label_file.is_file():
            raise DatasetError(f"ferplus: no FER2013Train/Valid/Test PNG folders in {root}; without "
                               "fer2013new.csv the rows cannot be joined to fer2013.csv's pixels")
        source = Path(fer2013) if fer2013 else next((p for p in (root / "fer2013.csv", root / "fer2013" / "fer2013.csv",
                                                                  root.parent / "fer2013" / "fer2013.csv")
                                                      if p.is_file()), None)
        if source is None or not source.is_file():
            raise DatasetError(f"ferplus: no images: neither the FER2013Train/Valid/Test PNG folders nor "
                               f"fer2013.csv were found at {root}; give fer2013: (the path of FER2013's "
                               "fer2013.csv) or run the release's generate_training_data.py")
        _, pixel_rows, pixel_problems = read_csv(source)
        problems.extend(pixel_problems)
        pixels = {int(where.rsplit(" ", 1)[1]) - 2: record.get("pixels", "") for where, record in pixel_rows}
        writer = PixelWriter(pixel_cache(cache_dir))
    dropped: Counter = Counter()

    def make(record: dict) -> Item | None:
        usage = record["Usage"]
        if usage not in USAGE:
            raise ValueError(f"Usage {usage!r} is not Training, PublicTest or PrivateTest")
        name = record["Image name"]
        gold, why = _gold(record, majority)
        if not name or why:
            dropped["rows_without_image" if not name else why] += 1
            return None  # left out on purpose, as the reference code does; counted, not a problem
        split = USAGE[usage]
        if writer is not None:
            position = int(record["_where"].rsplit(" ", 1)[1]) - 2
            if position not in pixels:
                raise ValueError(f"has no row {position} in fer2013.csv to take its pixels from")
            image, _ = writer(pixels[position])
        else:
            if split not in folders:
                raise ValueError(f"its folder {FOLDERS[split]}/ is missing")
            image = f"{folders[split].relative_to(root).as_posix()}/{name}"
        meta = {"usage": usage, "unknown_votes": int(float(record["unknown"])),
                "not_a_face_votes": int(float(record["NF"]))}
        return Item(name, image, gold, split=split, meta=meta)

    tagged = [(where, {**record, "_where": where}) for where, record in rows]
    items, refs = items_from_rows(tagged, make, problems)
    dataset = Dataset("ferplus", "ferplus", writer.folder if writer else root, items, taxonomy="fer8",
                      problems=problems, meta={"majority": majority, "dropped": dict(dropped),
                                               "rows_without_image": dropped.get("rows_without_image", 0)})
    return set_row_refs(dataset, refs)
