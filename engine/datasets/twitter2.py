"""Twitter II, the SentiBank Twitter benchmark (Borth, Ji, Chen, Breuel & Chang, "Large-scale Visual
Sentiment Ontology and Detectors Using Adjective Noun Pairs", ACM MM 2013): 603 tweet images, positive
or negative, evaluated by 5-fold cross-validation.

Reads `twitter.rar` as unpacked:

    twitter/groundTruthLabel.txt        # tab-separated, CRLF, header "Image<TAB>Sentiment", 810 rows
    twitter/partition1/<n>.jpg ... twitter/partition5/<n>.jpg   # the five folds

The label file lists 810 images but only the 603 in the partition folders make up the benchmark, so
the items are the images found and their labels are looked up (`meta["labels_without_image"]` counts
the rest). The fold is the folder: `split` is `partition1` .. `partition5`. A copy with the images in
one folder (`images/` or beside the label file) loads without folds. Gold: `polarity` (polarity2).
Item ids are the file names (`77.jpg`), as in the label file and published per-item predictions.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import read_csv, set_row_refs
from engine.datasets.release import find_path, image_files
from engine.errors import DatasetError
from engine.taxonomy import normalize_label

INFO = release_info("twitter2")


@register_loader("twitter2", INFO)
def load_twitter2(path: str | Path) -> Dataset:
    """Twitter II: polarity of the images present, folds from the partition folders."""
    root = Path(path)
    if not (root / "groundTruthLabel.txt").is_file() and (root / "twitter" / "groundTruthLabel.txt").is_file():
        root = root / "twitter"
    label_file = find_path(root, ("groundTruthLabel.txt",), "groundTruthLabel.txt", "twitter2")
    header, rows, problems = read_csv(label_file, delimiter="\t")
    if header[:2] != ["Image", "Sentiment"]:
        raise DatasetError(f"twitter2: {label_file} starts {header!r}, not the header Image<TAB>Sentiment")
    labels: dict[str, tuple[str, str]] = {}
    for where, record in rows:
        match = normalize_label(record["Sentiment"], "polarity2")
        if not match.ok or match.via:
            problems.append(LoadProblem(where, f"sentiment {match.explain()} (use positive or negative); the row "
                                               "is skipped"))
        elif record["Image"] in labels:
            problems.append(LoadProblem(where, f"image {record['Image']!r} repeats {labels[record['Image']][1]}; "
                                               "the repeat is skipped"))
        else:
            labels[record["Image"]] = (match.label, where)
    folds = sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower().startswith("partition"))
    found = [(fold.name, f) for fold in folds for f in image_files(fold)] if folds else \
        [(None, f) for f in image_files(root / "images" if (root / "images").is_dir() else root, recursive=False)]
    if not found:
        raise DatasetError(f"twitter2: no images under {root}; unpack twitter.rar so that the partition1..5 "
                           "folders sit beside groundTruthLabel.txt")
    items, refs = [], {}
    for fold, file in found:
        relative = file.relative_to(root).as_posix()
        if file.name not in labels:
            problems.append(LoadProblem(relative, f"has no row in {label_file.name}; the image is skipped"))
            continue
        if file.name in refs:
            problems.append(LoadProblem(relative, f"file name repeats {refs[file.name]}; the image is skipped"))
            continue
        label, where = labels[file.name]
        items.append(Item(file.name, relative, {"polarity": Gold(label=label, labels=(label,), taxonomy="polarity2")},
                          split=fold))
        refs[file.name] = relative
    dataset = Dataset("twitter2", "twitter2", root, items, taxonomy="polarity2", problems=problems,
                      meta={"labels_without_image": len(set(labels) - set(refs))})
    return set_row_refs(dataset, refs)
