"""OASIS, the Open Affective Standardized Image Set (Kurdi, Lozano & Banaji, Behav. Res. Methods 2017).

900 images (Person, Animal, Object, Scenery) with normative valence and arousal: mean, SD and number
of raters on a 1-7 Likert scale (valence 1 very negative, 4 neutral, 7 very positive; arousal 1 very
low to 7 very high). Gold per item: `valence` and `arousal` with `sd` and `n_raters`, scale (1, 7).
`meta` holds `category`, `theme` and `source`. Item ids are the OASIS ids (`I1` .. `I900`).

Reads the clean `labels.csv`, or the original `OASIS.csv` (first header cell empty, themes with
stray trailing spaces, old-Mac CR line endings) with images at `images/<Theme>.jpg`. Image formats
are decided by content: one file of the original set is a PNG named `.jpg`.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import items_from_rows, label_file, number_cell, read_csv, require_columns, set_row_refs

SCALE = (1.0, 7.0)
COLUMNS = ("image", "id", "theme", "category", "source", "valence_mean", "valence_sd", "valence_n",
           "arousal_mean", "arousal_sd", "arousal_n")


def item_from_record(record: dict) -> Item:
    """One `labels.csv` record -> Item; raises ValueError naming the bad cell."""
    gold = {}
    for dimension in ("valence", "arousal"):
        mean = number_cell(record, f"{dimension}_mean")
        if not SCALE[0] <= mean <= SCALE[1]:
            raise ValueError(f"{dimension}_mean {mean} is outside the 1-7 scale")
        gold[dimension] = Gold(value=mean, scale=SCALE, sd=number_cell(record, f"{dimension}_sd"),
                               n_raters=int(number_cell(record, f"{dimension}_n")))
    meta = {"category": record["category"], "theme": record["theme"], "source": record.get("source")}
    return Item(record["id"], record["image"].replace("\\", "/"), gold, meta=meta)


# labels.csv column -> OASIS.csv column
_ORIGINAL = {"category": "Category", "source": "Source", "valence_mean": "Valence_mean",
             "valence_sd": "Valence_SD", "valence_n": "Valence_N", "arousal_mean": "Arousal_mean",
             "arousal_sd": "Arousal_SD", "arousal_n": "Arousal_N"}


def _from_original(record: dict) -> dict:
    """An `OASIS.csv` record (capitalised columns, id in the unnamed first column) as a labels.csv record."""
    theme = record["Theme"].strip()  # two original themes carry a trailing space; the files do not
    return {"image": f"images/{theme}.jpg", "id": record[""], "theme": theme,
            **{ours: record.get(theirs) for ours, theirs in _ORIGINAL.items()}}


INFO = release_info("oasis")


@register_loader("oasis", INFO)
def load_oasis(path: str | Path) -> Dataset:
    """OASIS: valence/arousal 1-7 with SD and number of raters; category in meta."""
    root = Path(path)
    source = label_file(root, "oasis", "OASIS.csv", "OASIS")
    header, rows, problems = read_csv(source)
    convert = _from_original if source.name == "OASIS.csv" else None
    needed = ("", "Theme", *(c for c in _ORIGINAL.values() if c != "Source")) if convert else COLUMNS
    require_columns("oasis", source, header, needed)
    items, refs = items_from_rows(rows, lambda record: item_from_record(convert(record) if convert else record),
                                  problems)
    dataset = Dataset("oasis", "oasis", root, items, taxonomy=None,
                      scales={"valence": SCALE, "arousal": SCALE}, problems=problems)
    return set_row_refs(dataset, refs)
