"""AffectNet, manually annotated part (Mollahosseini, Hasani & Mahoor, "AffectNet: A Database for
Facial Expression, Valence, and Arousal Computing in the Wild", IEEE Trans. Affective Computing 2019).

Reads the release as distributed (`Manually_Annotated_file_lists.zip` and the image archives):

    Manually_Annotated_file_lists/training.csv      # split train
    Manually_Annotated_file_lists/validation.csv    # split val (papers report on it: there is no test set)
    Manually_Annotated/Manually_Annotated_Images/<subDirectory_filePath>
      (or Manually_Annotated_Images/<...> directly under the root)

Columns `subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, expression,
valence, arousal`; a file whose first line is not that header is read with these names.
`expression` codes are 0-based: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear, 5 Disgust, 6 Anger,
7 Contempt -> fer8; 8 None, 9 Uncertain, 10 Non-Face carry no expression (source: the release readme
as reproduced in `hhj1897/AffectNet_Scripts` `expression_classes.csv`, and the gold of
`zeroQiaoba/gpt4v-emotion` `results/affectnet`). `classes=8` (default) keeps codes 0-7, `classes=7`
codes 0-6 ("AffectNet-7"), `classes=11` every row (codes 8-10 with no emotion gold); rows left out
are counted in `meta["dropped"]`.

Gold: `emotion` (fer8), `valence` and `arousal` on their source scale [-1, 1] (arousal is normalised
to [0, 1] like every arousal). The release writes -2 for "no rating" (codes 9 and 10): such a value
gives no gold on that dimension; any other value outside [-1, 1] is a problem for the row.
`meta` keeps the face box (`face_x`, `face_y`, `face_width`, `face_height`) and the code; the 68
landmarks (136 numbers) are kept as `meta["landmarks"]` only with `landmarks=True`, as they make the
store about 1.5 kB an item larger. The one official row with `NULL` in the face box is reported and skipped.
Item ids are `subDirectory_filePath`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import items_from_rows, number_cell, read_csv, require_columns, set_row_refs
from engine.datasets.release import coded_label
from engine.errors import DatasetError

CODES = {0: "neutral", 1: "happiness", 2: "sadness", 3: "surprise", 4: "fear", 5: "disgust", 6: "anger",
         7: "contempt", 8: "none", 9: "uncertain", 10: "non-face"}
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks",
           "expression", "valence", "arousal")
SCALE = (-1.0, 1.0)
NO_RATING = -2.0
LISTS = {"train": "training.csv", "val": "validation.csv"}
IMAGE_FOLDERS = ("Manually_Annotated/Manually_Annotated_Images", "Manually_Annotated_Images")

INFO = release_info("affectnet")


def _read(path: Path):
    with path.open(encoding="utf-8-sig") as handle:
        first = handle.readline()
    # Copies differ: most validation.csv files have the header line, some do not.
    return read_csv(path) if first.startswith("subDirectory_filePath") else read_csv(path, fieldnames=list(COLUMNS))


@register_loader("affectnet", INFO)
def load_affectnet(path: str | Path, classes: int = 8, landmarks: bool = False) -> Dataset:
    """AffectNet: 8 expression codes (or 7 / 11) with valence and arousal in [-1, 1]; training and validation."""
    root = Path(path)
    if classes not in (7, 8, 11):
        raise DatasetError(f"affectnet: classes must be 7, 8 or 11, not {classes!r}")
    lists = {split: root / "Manually_Annotated_file_lists" / name for split, name in LISTS.items()}
    lists = {split: p if p.is_file() else root / LISTS[split] for split, p in lists.items()}
    lists = {split: p for split, p in lists.items() if p.is_file()}
    if not lists:
        raise DatasetError(f"affectnet: no Manually_Annotated_file_lists/training.csv or validation.csv under "
                           f"{root}; unzip Manually_Annotated_file_lists.zip there")
    images = next((folder for folder in IMAGE_FOLDERS if (root / folder).is_dir()), IMAGE_FOLDERS[0])
    dropped: Counter = Counter()
    problems: list[LoadProblem] = []
    items: list[Item] = []
    refs: dict[str, str] = {}

    def make(split: str, record: dict) -> Item | None:
        label = coded_label(record["expression"], CODES, "expression")
        code = int(float(record["expression"]))
        if code >= classes:
            dropped[label] += 1
            return None
        box = {key: int(number_cell(record, key)) for key in ("face_x", "face_y", "face_width", "face_height")}
        gold: dict[str, Gold] = {}
        if code <= 7:
            gold["emotion"] = Gold(label=label, labels=(label,), taxonomy="fer8")
        for dimension in ("valence", "arousal"):
            value = number_cell(record, dimension)
            if value == NO_RATING:
                continue
            if not SCALE[0] <= value <= SCALE[1]:
                raise ValueError(f"{dimension} {value} is outside [-1, 1] (and is not -2, 'no rating')")
            gold[dimension] = Gold(value=value, scale=SCALE)
        meta = {"code": code, **box}
        if landmarks:
            try:
                meta["landmarks"] = [float(v) for v in record["facial_landmarks"].split(";") if v.strip()]
            except ValueError:
                raise ValueError("facial_landmarks holds a value that is not a number") from None
        relative = record["subDirectory_filePath"].replace("\\", "/")
        return Item(relative, f"{images}/{relative}", gold, split=split, meta=meta)

    for split, file in lists.items():
        header, rows, file_problems = _read(file)
        require_columns("affectnet", file, header, COLUMNS)
        problems.extend(file_problems)
        made, made_refs = items_from_rows(rows, lambda record, s=split: make(s, record), problems)
        for item in made:
            if item.item_id in refs:
                problems.append(LoadProblem(made_refs[item.item_id], f"id {item.item_id!r} repeats "
                                                                     f"{refs[item.item_id]}; the repeat is skipped"))
                continue
            items.append(item)
            refs[item.item_id] = made_refs[item.item_id]
    dataset = Dataset("affectnet", "affectnet", root, items, taxonomy="fer8",
                      scales={"valence": SCALE, "arousal": SCALE}, problems=problems,
                      meta={"classes": classes, "dropped": dict(dropped)})
    return set_row_refs(dataset, refs)
