"""Emotion6 (Peng et al., "A Mixed Bag of Emotions", CVPR 2015): 1,980 Flickr photos with rater data.

Each image has a mean valence and arousal on a 1-9 SAM scale and the share of raters who chose each
of 7 categories (Ekman's six with "joy", plus neutral). The images sit in folders named after the
**search keyword** used to find them; that keyword is not a human judgement and is kept only as
`meta["keyword_folder"]`.

Gold per item:
- `valence`, `arousal`: the mean rating, scale (1, 9);
- `distribution`: the 7-way rater shares over taxonomy `emotion6`;
- `emotion`: the majority (argmax) category. Where several categories share the top share (within
  1e-4, the files round shares to 6 digits) the tie is kept explicit: `labels` holds every tied
  category and `label` is None;
- `polarity` (polarity2), derived from the majority only where it is unambiguous: every majority
  label (one, or all the tied ones) has the same two-way polarity in the `emotion6` taxonomy (joy and
  surprise positive; anger, disgust, fear, sadness negative). A neutral majority, or a tie that mixes
  polarities or includes neutral, gives no polarity gold.

With `emotion_gold="keyword"` the `emotion` gold is the keyword folder instead, as the many papers
that report 6-way accuracy against the folder do (`distribution`, valence and arousal are unchanged).

Item ids are the image paths relative to `images/`, as in the original `ground_truth.txt`
(e.g. `disgust/1.jpg`). Reads `labels.csv`, or the original `ground_truth.txt` where there is none.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import (Row, items_from_rows, label_file, number_cell, read_csv, require_columns,
                                  set_row_refs)
from engine.errors import DatasetError
from engine.taxonomy import get_taxonomy

CATEGORIES = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
SCALE = (1.0, 9.0)
TIE_TOLERANCE = 1e-4


def majority(distribution: dict[str, float]) -> tuple[str, ...]:
    """Every category whose share is within TIE_TOLERANCE of the largest, in taxonomy order."""
    top = max(distribution.values())
    return tuple(c for c in CATEGORIES if distribution.get(c, 0.0) >= top - TIE_TOLERANCE)


def polarity_from(labels: tuple[str, ...]) -> str | None:
    """The shared two-way polarity of the majority labels, or None (neutral, mixed, or no labels)."""
    taxonomy = get_taxonomy("emotion6")
    polarities = {taxonomy.label(label).polarity for label in labels}
    return polarities.pop() if len(polarities) == 1 and polarities <= {"positive", "negative"} else None


def item_from_record(record: dict, emotion_gold: str = "raters") -> Item:
    """One `labels.csv` record (image, keyword_folder, valence, arousal, p_*) -> Item.

    Raises ValueError naming the bad cell.
    """
    image = record["image"].replace("\\", "/")
    item_id = image[len("images/"):] if image.startswith("images/") else image
    keyword = record.get("keyword_folder") or item_id.split("/")[0]
    distribution = {c: number_cell(record, f"p_{c}") for c in CATEGORIES}
    total = sum(distribution.values())
    if not 0.98 <= total <= 1.02:
        raise ValueError(f"rater shares p_* sum to {total:.3f}, not 1; check the row")
    valence, arousal = number_cell(record, "valence"), number_cell(record, "arousal")
    for name, value in (("valence", valence), ("arousal", arousal)):
        if not SCALE[0] <= value <= SCALE[1]:
            raise ValueError(f"{name} {value} is outside the 1-9 scale")
    top = majority(distribution)
    gold = {
        "valence": Gold(value=valence, scale=SCALE),
        "arousal": Gold(value=arousal, scale=SCALE),
        "distribution": Gold(distribution=distribution, taxonomy="emotion6"),
    }
    if emotion_gold == "keyword":
        gold["emotion"] = Gold(label=keyword, labels=(keyword,), taxonomy="emotion6")
    else:
        gold["emotion"] = Gold(label=top[0] if len(top) == 1 else None, labels=top, taxonomy="emotion6")
    polarity = polarity_from(top)
    if polarity is not None:
        gold["polarity"] = Gold(label=polarity, labels=(polarity,), taxonomy="polarity2")
    return Item(item_id, f"images/{item_id}", gold, meta={"keyword_folder": keyword})


def _ground_truth_rows(path: Path) -> tuple[list[Row], list[LoadProblem]]:
    """The original tab-separated `ground_truth.txt` as labels.csv-style records."""
    rows, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        cells = line.split("\t")
        where = f"{path.name} line {number}"
        if len(cells) != 10:
            problems.append(LoadProblem(where, f"has {len(cells)} tab-separated cells, expected 10 "
                                               "(image, valence, arousal, 7 shares); the row is skipped"))
            continue
        record = {"image": f"images/{cells[0].strip()}", "valence": cells[1], "arousal": cells[2]}
        record.update({f"p_{c}": cells[3 + i] for i, c in enumerate(CATEGORIES)})
        rows.append((where, record))
    return rows, problems


INFO = release_info("emotion6")


@register_loader("emotion6", INFO)
def load_emotion6(path: str | Path, emotion_gold: str = "raters") -> Dataset:
    """Emotion6: valence/arousal 1-9, 7-way rater distribution, majority emotion with explicit ties."""
    root = Path(path)
    if emotion_gold not in ("raters", "keyword"):
        raise DatasetError(f"emotion6: emotion_gold must be 'raters' or 'keyword', not {emotion_gold!r}")
    source = label_file(root, "emotion6", "ground_truth.txt", "Emotion6")
    if source.name == "labels.csv":
        header, rows, problems = read_csv(source)
        require_columns("emotion6", source, header, ("image", "valence", "arousal", *(f"p_{c}" for c in CATEGORIES)),
                        "; it needs image, valence, arousal and p_<category> for the 7 categories")
    else:
        rows, problems = _ground_truth_rows(source)
    items, refs = items_from_rows(rows, lambda record: item_from_record(record, emotion_gold), problems)
    dataset = Dataset("emotion6", "emotion6", root, items, taxonomy="emotion6",
                      scales={"valence": SCALE, "arousal": SCALE}, problems=problems,
                      meta={"emotion_gold": emotion_gold,
                            "polarity_rule": "majority emotion's polarity where unambiguous; "
                                             "none for neutral or mixed ties"})
    return set_row_refs(dataset, refs)
