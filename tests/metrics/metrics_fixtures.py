"""A small generated results store: one dataset with every gold dimension and three runs.

Everything a test needs to compute expected values independently is returned beside the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from engine.datasets.base import Dataset, Gold, Item
from engine.store import connect
from engine.store.evalsets import EvalSet, write_eval_set
from engine.datasets.stored import write_dataset
from engine.store.writes import write_predictions, write_run

EMOTIONS = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]  # emotion6
POLARITY = {"anger": "negative", "disgust": "negative", "fear": "negative", "sadness": "negative",
            "joy": "positive", "surprise": "positive"}
TO_MIKELS = {"anger": "anger", "disgust": "disgust", "fear": "fear", "sadness": "sadness", "joy": "amusement",
             "surprise": "awe", "neutral": "contentment"}
N = 60
MISSING = 10  # items of run-alpha-cot's evaluation set without an answer row


@dataclass
class Toy:
    path: str
    gold: list[str]  # majority emotion (first of the tied labels)
    gold_sets: list[list[str]]
    shares: list[dict[str, float]]
    valence: np.ndarray  # gold, 1-9
    category: list[str]
    brightness: np.ndarray
    alpha: list[str | None]  # model alpha's emotion answers (None: unanswered)
    alpha_status: list[str]
    alpha_confidence: np.ndarray
    alpha_valence: np.ndarray
    beta: list[str]  # model beta's answers in Mikels labels
    extra: dict = field(default_factory=dict)


def build(path) -> Toy:
    rng = np.random.default_rng(42)
    ids = [f"img{i:03d}" for i in range(N)]
    gold, gold_sets, shares = [], [], []
    for i in range(N):
        raw = rng.dirichlet(np.ones(len(EMOTIONS)) * 0.6)
        counts = np.round(raw * 20)
        if i % 15 == 0:  # a tie between the two most chosen labels
            top = np.argsort(-counts)[:2]
            counts[top[1]] = counts[top[0]]
        if counts.sum() == 0:
            counts[raw.argmax()] = 1
        share = counts / counts.sum()
        best = [EMOTIONS[j] for j in np.flatnonzero(share == share.max())]
        gold.append(best[0])
        gold_sets.append(best)
        shares.append(dict(zip(EMOTIONS, share.tolist())))
    valence = np.round(rng.uniform(1, 9, N), 2)
    category = [["animal", "scene", "person"][i % 3] for i in range(N)]
    brightness = rng.uniform(0, 1, N)

    items = []
    for i, item_id in enumerate(ids):
        polarity = POLARITY.get(gold[i])
        item_gold = {
            "emotion": Gold(label=None if len(gold_sets[i]) > 1 else gold[i], labels=tuple(gold_sets[i]),
                            taxonomy="emotion6", distribution=shares[i], n_raters=20),
            "distribution": Gold(distribution=shares[i], taxonomy="emotion6", n_raters=20),
            "valence": Gold(value=float(valence[i]), scale=(1.0, 9.0)),
        }
        if polarity:
            item_gold["polarity"] = Gold(label=polarity, labels=(polarity,), taxonomy="polarity2")
        items.append(Item(item_id, f"{item_id}.jpg", item_gold, meta={"category": category[i], "photo_id": f"p{i:03d}"},
                          image_sha256=f"{i:064x}"))
    dataset = Dataset("toy", "manifest", None, items, taxonomy="emotion6", scales={"valence": (1.0, 9.0)})
    image_rows = [{"image_sha256": f"{i:064x}", "format": "JPEG", "width": 8, "height": 8,
                   "brightness": float(brightness[i]), "saturation": 0.5, "colorfulness": float(i)} for i in range(N)]

    # alpha: right 70% of the time; a few failures of every kind; stated confidence higher when right.
    alpha, status, confidence = [], [], []
    for i in range(N):
        right = rng.random() < 0.7
        answer = gold[i] if right else EMOTIONS[(EMOTIONS.index(gold[i]) + 1 + i % 5) % len(EMOTIONS)]
        state = {5: "failed", 17: "refused", 29: "error"}.get(i, "ok")
        if i == 41:
            state, answer = "partial", None  # an answer outside the label set
        alpha.append(answer if state in ("ok",) else None)
        status.append(state)
        confidence.append(float(np.clip((0.8 if right else 0.55) + rng.normal(0, 0.1), 0, 1)))
    alpha_valence = np.clip(valence + rng.normal(0.8, 1.0, N), 1, 9)  # overestimates valence
    beta = [TO_MIKELS[gold[i]] if rng.random() < 0.6 else TO_MIKELS[EMOTIONS[(EMOTIONS.index(gold[i]) + 2) % 7]]
            for i in range(N)]

    t0 = dt.datetime(2026, 1, 1)
    with connect(path) as con:
        write_dataset(con, dataset, image_rows=image_rows)
        runs = [("run-alpha", "alpha", "zero-shot", "emotion6", N, t0),
                ("run-alpha-cot", "alpha", "cot", "emotion6", N, t0),
                ("run-beta", "beta", "zero-shot", "mikels8", N, t0),
                ("run-beta-old", "beta", "zero-shot", "mikels8", N, t0 - dt.timedelta(days=1)),
                ("run-flat", "flat", "zero-shot", None, N, t0),
                ("run-rank", "ranker", "zero-shot", "emotion6", N, t0)]
        every_item = write_eval_set(con, EvalSet("toy", tuple(ids), "toy · every item"))
        for run_id, model, strategy, taxonomy, n_items, started in runs:
            write_run(con, {"run_id": run_id, "dataset": "toy", "model": model, "adapter": "baseline",
                            "strategy": strategy, "dimensions": ["emotion"], "taxonomy": taxonomy,
                            "status": "complete", "n_items": n_items, "started_at": started,
                            "eval_set": every_item})
        rows = []
        for i, item_id in enumerate(ids):
            base = {"dataset": "toy", "item_id": item_id, "method": "rule"}
            rows.append({**base, "run_id": "run-alpha", "dimension": "emotion", "label": alpha[i],
                         "raw_label": "Concentration" if status[i] == "partial" else alpha[i],
                         "status": status[i], "confidence": confidence[i],
                         "ranking": [alpha[i], *[e for e in EMOTIONS if e != alpha[i]]] if alpha[i] else None})
            rows.append({**base, "run_id": "run-alpha", "dimension": "valence", "value": float(alpha_valence[i]),
                         "value_norm": (alpha_valence[i] - 1) / 8 * 2 - 1, "status": "ok"})
            predicted = np.array([shares[i][e] for e in EMOTIONS]) * 0.5 + 0.5 / len(EMOTIONS)
            rows.append({**base, "run_id": "run-alpha", "dimension": "distribution", "status": "ok",
                         "distribution": dict(zip(EMOTIONS, predicted.tolist()))})
            if i < N - MISSING:  # the last items of the set have no answer row (a run stopped early)
                rows.append({**base, "run_id": "run-alpha-cot", "dimension": "emotion", "label": gold[i],
                             "status": "ok"})
            rows.append({**base, "run_id": "run-beta", "dimension": "emotion", "label": beta[i], "status": "ok"})
            rows.append({**base, "run_id": "run-beta-old", "dimension": "emotion", "label": "anger", "status": "ok"})
            rows.append({**base, "run_id": "run-flat", "dimension": "valence", "value": 5.0, "value_norm": 0.0,
                         "status": "ok"})
            shift = 0 if i % 2 else 1 + i % 3  # every other item ranks the majority label first
            ranking = [EMOTIONS[(EMOTIONS.index(gold[i]) + shift + j) % 7] for j in range(7)]
            rows.append({**base, "run_id": "run-rank", "dimension": "ranking", "ranking": ranking, "status": "ok"})
        write_predictions(con, rows)
    return Toy(str(path), gold, gold_sets, shares, valence, category, brightness, alpha, status,
               np.array(confidence), alpha_valence, beta)
