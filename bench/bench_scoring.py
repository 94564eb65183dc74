"""Scoring speed: the vectorised paired bootstrap against a per-resample loop, and a 100-group store.

    python bench/bench_scoring.py [--groups 100] [--items 1000] [--resamples 1000]

1. One categorical group of `--items` items: all categorical metrics with 95% CIs from `--resamples`
   resamples, (a) as `score_evaluation` does it (one index matrix, confusion tensors by bincount,
   shares by matrix products) and (b) the textbook loop (resample, then scikit-learn per metric),
   timed over `--loop-resamples` resamples and scaled linearly.
2. The same for one continuous group (scipy per resample against the counts-based batch form).
3. A generated store of `--groups` (dataset, model, strategy, dimension) groups (half categorical,
   half valence), scored end to end with `score_store` (reading DuckDB included).
Prints wall-clock and process CPU seconds, and the ratios loop / vectorised. On a machine shared
with other work, the CPU figures are the steadier ones.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.datasets.base import Dataset, Gold, Item  # noqa: E402
from engine.metrics.bootstrap import resample_indices  # noqa: E402
from engine.metrics.scoring import load_groups, score_evaluation, score_store  # noqa: E402
from engine.store import connect  # noqa: E402
from engine.datasets.stored import write_dataset  # noqa: E402
from engine.store.writes import write_predictions, write_run  # noqa: E402

EMOTIONS = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def build_store(path: Path, n_groups: int, n_items: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    n_datasets = max(1, n_groups // 20)
    per_dataset = n_groups // n_datasets // 2  # model x strategy combinations per dataset, two dimensions each
    with connect(path) as con:
        for d in range(n_datasets):
            gold = rng.integers(0, len(EMOTIONS), n_items)
            valence = rng.uniform(1, 9, n_items)
            items = [Item(f"i{i:06d}", None, {
                "emotion": Gold(label=EMOTIONS[gold[i]], labels=(EMOTIONS[gold[i]],), taxonomy="ekman7"),
                "valence": Gold(value=float(valence[i]), scale=(1.0, 9.0))}) for i in range(n_items)]
            name = f"set{d}"
            write_dataset(con, Dataset(name, "bench", None, items, taxonomy="ekman7"))
            rows = []
            for g in range(per_dataset):
                run_id = f"{name}-run{g}"
                write_run(con, {"run_id": run_id, "dataset": name, "model": f"model{g % 10}", "adapter": "bench",
                                "strategy": f"strategy{g // 10}", "dimensions": ["emotion", "valence"],
                                "taxonomy": "ekman7", "status": "complete", "n_items": n_items})
                right = rng.random(n_items) < 0.6
                answer = np.where(right, gold, rng.integers(0, len(EMOTIONS), n_items))
                status = np.where(rng.random(n_items) < 0.03, "failed", "ok")
                predicted = np.clip(valence + rng.normal(0.5, 1.5, n_items), 1, 9)
                for i in range(n_items):
                    base = {"run_id": run_id, "dataset": name, "item_id": f"i{i:06d}"}
                    rows.append({**base, "dimension": "emotion", "status": status[i],
                                 "label": EMOTIONS[answer[i]] if status[i] == "ok" else None,
                                 "confidence": float(rng.uniform(0.3, 1.0))})
                    rows.append({**base, "dimension": "valence", "status": "ok", "value": float(predicted[i]),
                                 "value_norm": float((predicted[i] - 1) / 8 * 2 - 1)})
            write_predictions(con, rows)


def loop_categorical(ev, n_resamples: int, seed: int) -> None:
    from sklearn import metrics as skm

    gold, answers = np.array(ev.classes)[ev.t], np.array([*ev.classes, "<other>"])[ev.p]
    answered = ev.answered
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in resample_indices(ev.n_total, n_resamples, seed):
            keep = rows[answered[rows]]
            g, a = gold[keep], answers[keep]
            skm.accuracy_score(g, a)
            skm.f1_score(g, a, labels=np.unique(g), average="macro", zero_division=0)
            skm.f1_score(g, a, labels=np.unique(g), average="weighted", zero_division=0)
            skm.balanced_accuracy_score(g, a)
            skm.cohen_kappa_score(g, a)
            skm.brier_score_loss(ev.correct[keep], ev.confidence[keep])
            ev.correct[rows].mean(), answered[rows].mean()


def loop_continuous(ev, n_resamples: int, seed: int) -> None:
    from scipy import stats

    for rows in resample_indices(ev.n_total, n_resamples, seed):
        keep = rows[ev.valid[rows]]
        x, y = ev.x[keep], ev.y[keep]
        stats.pearsonr(x, y), stats.spearmanr(x, y)
        np.abs(x - y).mean(), np.sqrt(((x - y) ** 2).mean()), (x - y).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--loop-resamples", type=int, default=100, help="resamples the slow loop really runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        _, wall, _ = timed(lambda: build_store(db, args.groups, args.items))
        print(f"built a store of {args.groups} groups x {args.items} items in {wall:.1f} s")
        with connect(db, read_only=True) as con:
            groups = load_groups(con, dataset="set0", model="model0", strategy="strategy0")
        by_dimension = {g.dimension: g.evaluation for g in groups}
        for dimension, loop in (("emotion", loop_categorical), ("valence", loop_continuous)):
            ev = by_dimension[dimension]
            _, fast_wall, fast_cpu = timed(lambda: score_evaluation(ev, n_resamples=args.resamples))
            looped = min(args.resamples, args.loop_resamples)
            _, slow_wall, slow_cpu = timed(lambda: loop(ev, looped, 0))
            slow_wall, slow_cpu = slow_wall * args.resamples / looped, slow_cpu * args.resamples / looped
            print(f"{dimension}: one group, {args.resamples} resamples: vectorised {fast_wall:.3f} s "
                  f"(cpu {fast_cpu:.3f}), loop {slow_wall:.2f} s (cpu {slow_cpu:.2f}; timed over {looped} "
                  f"resamples, scaled); "
                  f"ratio {slow_wall / fast_wall:.0f}x wall, {slow_cpu / max(fast_cpu, 1e-9):.0f}x cpu")
        frame, wall, cpu = timed(lambda: score_store(db, n_resamples=args.resamples))
        n_groups = frame.groupby(["dataset", "model", "strategy", "dimension"]).ngroups
        print(f"score_store: {n_groups} groups, {len(frame)} scores with CIs in {wall:.1f} s (cpu {cpu:.1f}); "
              f"{wall / n_groups * 1000:.0f} ms per group")


if __name__ == "__main__":
    main()
