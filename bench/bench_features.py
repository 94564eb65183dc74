"""The `features` baseline's accuracy on Twitter I five-agree, beside published hand-crafted baselines.

    python bench/bench_features.py [--path ../shared/datasets/twitter1] [--seeds 5] [--no-adapter]
                                   [--classifiers logistic,forest,boosting,svm]

Stratified 5-fold cross-validation of the hand-crafted affective features (engine.models.features)
with each classifier, repeated over `--seeds` fold shuffles (mean and spread of the per-seed
accuracies), plus an ablation over feature groups with the default classifier. Then, unless
`--no-adapter`, the same 5 folds (seed 0) run through the adapter itself: `prepare()` on the
training folds with images preprocessed as the runner sends them (engine.preprocess, longest side
768, JPEG), `generate()` on the held-out fold, answers read back from the JSON text.

Reference points (binary accuracy, %): SentiBank 71.32 and PAEF (Zhao et al., 2014, principles-of-
art features) 72.90, as reported by You et al. (AAAI 2015, Table 2) on the full five-agree set
(882 images) with 5-fold cross-validation; the majority class is 65.8 on the shared subset
(291 of 442). The shared set is a deterministic half of the original, so figures are comparable
in kind, not to the decimal. The feature set and the default classifier were chosen on this
same data, so the figures carry some selection optimism.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# One OpenMP thread: gradient boosting's threads otherwise spin against each other on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from engine.models.features import cross_validate, dataset_features, feature_groups  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "twitter1"
PUBLISHED = {"SentiBank (You et al. 2015, full set)": 71.32, "PAEF (You et al. 2015, full set)": 72.90}


def load_five_agree(path: Path):
    """Twitter I five-agree items through the dataset loader, or straight from labels.csv without it."""
    try:
        from engine.datasets import load_dataset

        return load_dataset("twitter1", path, split="five_agree", check_images=False)
    except ImportError:
        from engine.datasets.base import Dataset, Gold, Item

        with open(path / "labels.csv", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["in_five_agree"] == "1"]
        items = [Item(r["image"].rsplit("/", 1)[-1], r["image"], {"polarity": Gold(label=r["sentiment"])})
                 for r in rows]
        return Dataset("twitter1", "twitter1", path, items, taxonomy="polarity2")


def adapter_folds(dataset, folds: int = 5, seed: int = 0) -> float:
    """Accuracy of the adapter itself over stratified folds, with runner-style preprocessed images."""
    from sklearn.model_selection import StratifiedKFold

    from engine.datasets.base import Dataset
    from engine.models import Message, ModelRequest, ModelSpec, PrepareContext, TaskSpec, create_adapter
    from engine.preprocess import prepare_image

    task = TaskSpec(dimensions=("polarity",), taxonomy="polarity2")
    parts = {item.item_id: prepare_image(dataset.image_file(item), cache=False) for item in dataset.items}
    labels = np.array([item.gold["polarity"].label for item in dataset.items])
    correct = 0
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(labels, labels):
        train_set = Dataset(dataset.name, dataset.loader, dataset.root, [dataset.items[i] for i in train],
                            dataset.taxonomy)
        adapter = create_adapter(ModelSpec(name="features", adapter="features"))
        asyncio.run(adapter.prepare(PrepareContext(dataset=train_set, task=task,
                                                   load_image=lambda item: parts[item.item_id])))
        for i in test:
            item = dataset.items[i]
            request = ModelRequest(messages=(Message.user(parts[item.item_id], "Sentiment?"),), task=task,
                                   item_key=f"{dataset.name}/{item.item_id}")
            response = asyncio.run(adapter.generate(request))
            correct += json.loads(response.text)["polarity"] == labels[i]
    return correct / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--classifiers", default="logistic,forest,boosting,svm")
    parser.add_argument("--no-adapter", action="store_true")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # rows appear as they are measured

    dataset = load_five_agree(args.path)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Twitter I five-agree (shared subset): {len(dataset.items)} items; {os.cpu_count()} cores, "
          f"load average {load:.1f}")
    started = time.perf_counter()
    features = dataset_features(dataset)
    elapsed = time.perf_counter() - started
    x, items = features
    print(f"features: {x.shape[1]} per image, {elapsed / len(items) * 1000:.1f} ms per image "
          f"(decode + 128 px features, one core)\n")

    print(f"{'method':44s} {'accuracy %':>11s} {'sd over seeds':>14s}")
    majority = None
    for classifier in args.classifiers.split(","):
        runs = [cross_validate(dataset, "polarity", 5, seed, classifier=classifier, features=features)
                for seed in range(args.seeds)]
        accuracies = [r["accuracy"] * 100 for r in runs]
        majority = runs[0]["majority"] * 100
        spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        print(f"{'features + ' + classifier + (' (default)' if classifier == 'logistic' else ''):44s} "
              f"{statistics.mean(accuracies):11.2f} {spread:14.2f}")
    columns, offset = {}, 0
    for group, names in feature_groups().items():
        columns[group] = list(range(offset, offset + len(names)))
        offset += len(names)
    for groups in (("colour",), ("texture",), ("composition",), ("colour", "texture")):
        cols = [c for g in groups for c in columns[g]]
        accuracies = [cross_validate(dataset, "polarity", 5, seed, features=(x[:, cols], items))["accuracy"] * 100
                      for seed in range(args.seeds)]
        print(f"{'  logistic, ' + ' + '.join(groups) + ' only':44s} {statistics.mean(accuracies):11.2f} "
              f"{(statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0):14.2f}")
    if not args.no_adapter:
        print(f"{'features adapter, prepare/generate, seed 0':44s} {adapter_folds(dataset) * 100:11.2f}")
    for name, value in PUBLISHED.items():
        print(f"{name:44s} {value:11.2f}")
    print(f"{'majority class (shared subset)':44s} {majority:11.2f}")


if __name__ == "__main__":
    main()
