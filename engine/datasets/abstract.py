"""Abstract (Machajdik & Hanbury, "Affective Image Classification using Features Inspired by Psychology
and Art Theory", ACM MM 2010): 280 abstract paintings, about 14 votes each over the 8 Mikels emotions.

No copy of the real `ABSTRACT_groundTruth.csv` was available here; the format below is what loaders
that read the real file show (`../shared/layouts/abstract/SOURCE.md`): `testImages_abstract/` holds
the CSV and `abstract_NNNN.jpg`; the CSV has one header line, then the image name and 8 vote counts
in the column order Amusement, Anger, Awe, Content, Disgust, Excitement, Fear, Sad, **every value
wrapped in single quotes** (read with quotechar '). Column names are normalised through the mikels8
taxonomy (Content = contentment, Sad = sadness), so a different column order is read correctly.

Gold per item: `distribution` (vote shares over mikels8, `n_raters` = votes), `emotion` (the majority,
a tied majority kept as a tie), `polarity` where every majority label has the same polarity (Mikels et
al. 2005: amusement, awe, contentment, excitement positive; anger, disgust, fear, sadness negative).
Named split `unique_majority`: the images whose majority is one label -- the benchmark subset the
literature and the GPT-4V benchmark (Lian et al. 2023) evaluate (228-229 images). No official
train/test split (the paper used 5-fold cross-validation). Item ids are the image file names.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import items_from_rows, number_cell, read_csv, set_row_refs
from engine.datasets.release import add_polarity, find_path, votes_gold
from engine.errors import DatasetError
from engine.taxonomy import normalize_label

LABEL_FILE = "ABSTRACT_groundTruth.csv"

INFO = release_info("abstract")


@register_loader("abstract", INFO)
def load_abstract(path: str | Path) -> Dataset:
    """Abstract: Mikels vote distributions, majority emotion with explicit ties, polarity, unique-majority split."""
    root = Path(path)
    if not (root / LABEL_FILE).is_file() and (root / "testImages_abstract" / LABEL_FILE).is_file():
        root = root / "testImages_abstract"
    label_file = find_path(root, (LABEL_FILE,), LABEL_FILE, "abstract")
    header, rows, problems = read_csv(label_file, quotechar="'")
    columns = {}
    for column in header[1:]:
        match = normalize_label(column.strip("'\" "), "mikels8")
        if not match.ok:
            raise DatasetError(f"abstract: column {column!r} of {label_file} is not a Mikels emotion "
                               f"({match.explain()}); the header must name the 8 vote columns")
        columns[column] = match.label
    if sorted(columns.values()) != sorted(set(columns.values())) or len(columns) != 8:
        raise DatasetError(f"abstract: {label_file} must have an image column and 8 distinct emotion vote columns; "
                           f"its header is {header!r}")
    name_column = header[0]

    def make(record: dict) -> Item:
        name = record[name_column].strip("'\" ")
        if not name:
            raise ValueError("has no image name")
        votes = {label: number_cell(record, column) for column, label in columns.items()}
        gold = add_polarity(votes_gold(votes, "mikels8"))
        return Item(name, name, gold, meta={"votes": {k: int(v) for k, v in votes.items()}})

    items, refs = items_from_rows(rows, make, problems)
    unique = [item.item_id for item in items if item.gold["emotion"].label is not None]
    dataset = Dataset("abstract", "abstract", root, items, taxonomy="mikels8", problems=problems,
                      splits={"unique_majority": unique})
    return set_row_refs(dataset, refs)
