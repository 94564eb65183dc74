"""Twitter I (You, Luo, Jin & Yang, AAAI 2015): image tweets labelled positive/negative by 5 workers.

Gold per item: `polarity` (polarity2). `meta["agreement"]` is how many of the 5 workers agreed
(5, 4 or 3). The three standard evaluation subsets are named splits, selected with
`Dataset.subset(split=...)` or `load_dataset(..., split=...)`: `five_agree`, `at_least_four_agree`,
`at_least_three_agree` (the whole set). Item ids are the image file names, as in the original
ground-truth lists and in published per-item predictions.

Reads `labels.csv`, or the original `ground_truth/twitter_{five,four,three}_agrees.txt`
(`<filename> <1|0>`, 1 = positive) where there is none.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import Row, items_from_rows, label_file, read_csv, set_row_refs
from engine.errors import DatasetError
from engine.taxonomy import normalize_label

SPLITS = {"five_agree": 5, "at_least_four_agree": 4, "at_least_three_agree": 3}
_BINARY = {"1": "positive", "0": "negative"}


def item_from_record(record: dict) -> Item:
    """One `labels.csv` record (image, label, sentiment, agreement) -> Item; ValueError on a bad cell."""
    from_digit = _BINARY.get(str(record.get("label", "")).strip())
    match = normalize_label(record.get("sentiment") or from_digit or "", "polarity2")
    if not match.ok:
        raise ValueError(f"sentiment {match.explain()} of polarity2 (use positive/negative or label 1/0)")
    if from_digit and from_digit != match.label:
        raise ValueError(f"label {record['label']!r} ({from_digit}) contradicts sentiment {record['sentiment']!r}")
    try:
        agreement = int(record["agreement"])
    except (KeyError, ValueError):
        raise ValueError(f"agreement {record.get('agreement')!r} is not 3, 4 or 5") from None
    if agreement not in (3, 4, 5):
        raise ValueError(f"agreement {agreement} is not 3, 4 or 5")
    image = record["image"].replace("\\", "/")
    return Item(image.rsplit("/", 1)[-1], image, {"polarity": Gold(label=match.label, labels=(match.label,),
                                                                   taxonomy="polarity2", n_raters=5)},
                meta={"agreement": agreement})


def _original_rows(folder: Path) -> tuple[list[Row], list[LoadProblem]]:
    """The three original lists merged into labels.csv-style records (agreement from list membership)."""
    lists: dict[int, dict[str, tuple[str, str]]] = {}
    problems: list[LoadProblem] = []
    for level, word in ((5, "five"), (4, "four"), (3, "three")):
        path = folder / f"twitter_{word}_agrees.txt"
        if not path.is_file():
            raise DatasetError(f"twitter1: {path} not found; the ground_truth folder needs the three "
                               "twitter_{five,four,three}_agrees.txt lists")
        entries = {}
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            cells = line.split()
            if not cells:
                continue
            where = f"{path.name} line {number}"
            if len(cells) != 2 or cells[1] not in _BINARY:
                problems.append(LoadProblem(where, "expected '<filename> <1|0>'; the row is skipped"))
                continue
            entries[cells[0]] = (cells[1], where)
        lists[level] = entries
    rows: list[Row] = []
    for name, (label, where) in lists[3].items():
        agreement = 5 if name in lists[5] else 4 if name in lists[4] else 3
        rows.append((where, {"image": f"images/{name}", "label": label, "agreement": str(agreement)}))
    return rows, problems


INFO = release_info("twitter1")


@register_loader("twitter1", INFO)
def load_twitter1(path: str | Path) -> Dataset:
    """Twitter I: polarity gold, worker agreement in meta, the three agreement subsets as named splits."""
    root = Path(path)
    source = label_file(root, "twitter1", "ground_truth/", "Twitter I")
    if source.name == "labels.csv":
        header, rows, problems = read_csv(source)
        missing = [c for c in ("image", "agreement") if c not in header]
        if missing or not {"label", "sentiment"} & set(header):
            raise DatasetError(f"twitter1: {source} needs the columns image, agreement and sentiment (or label 1/0)")
    else:
        rows, problems = _original_rows(source)
    items, refs = items_from_rows(rows, item_from_record, problems)
    splits = {name: [i.item_id for i in items if i.meta["agreement"] >= level] for name, level in SPLITS.items()}
    dataset = Dataset("twitter1", "twitter1", root, items, taxonomy="polarity2", problems=problems,
                      splits=splits)
    return set_row_refs(dataset, refs)
