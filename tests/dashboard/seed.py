"""A small results store with known numbers, written through the engine's own loader and store writes.

Dataset `faces`: eight generated images with gold emotion (ekman7), polarity, valence and arousal (1-9)
and a rater distribution on two items, loaded from a CSV manifest by `engine.datasets.load_dataset`.
Two models x two strategies answer from the table ANSWERS below; every expected figure in the tests is
computed from that table by the helpers here, never by the dashboard.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from engine.datasets.files import write_csv

GOLD = {  # item -> (emotion, valence 1-9, arousal 1-9)
    "f01": ("happiness", 8.0, 6.0), "f02": ("happiness", 7.5, 5.0), "f03": ("sadness", 2.0, 3.0),
    "f04": ("sadness", 2.5, 2.5), "f05": ("anger", 2.0, 8.0), "f06": ("fear", 2.5, 8.5),
    "f07": ("happiness", 7.0, 7.0), "f08": ("sadness", 3.0, 2.0),
}
COLOURS = {"happiness": (250, 210, 40), "sadness": (40, 60, 120), "anger": (200, 20, 20), "fear": (60, 20, 80)}
RATERS = {"f01": {"happiness": 0.7, "surprise": 0.3}, "f07": {"happiness": 0.5, "surprise": 0.25, "neutral": 0.25}}
POSITIVE = {"happiness", "surprise"}

# (model, strategy) -> item -> emotion answer, or a failure: "!refused", "!failed" (unparsed), "!error" (API)
ANSWERS = {
    ("alpha", "zero-shot"): {"f01": "happiness", "f02": "happiness", "f03": "sadness", "f04": "sadness",
                             "f05": "anger", "f06": "fear", "f07": "sadness", "f08": "!refused"},
    ("alpha", "cot"): {"f01": "happiness", "f02": "happiness", "f03": "sadness", "f04": "sadness",
                       "f05": "anger", "f06": "fear", "f07": "happiness", "f08": "happiness"},
    ("beta", "zero-shot"): {"f01": "happiness", "f02": "happiness", "f03": "sadness", "f04": "happiness",
                            "f05": "!failed", "f06": "!error", "f07": "sadness", "f08": "sadness"},
    ("beta", "cot"): {"f01": "happiness", "f02": "happiness", "f03": "sadness", "f04": "sadness",
                      "f05": "anger", "f06": "sadness", "f07": "anger", "f08": "sadness"},
}
COST_PER_CALL = {"alpha": 0.001, "beta": 0.002}
LATENCY_MS = {"alpha": 400.0, "beta": 900.0}
DATASET = "faces"
EKMAN7 = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
SHUFFLED_RUN = ("beta", "cot")
PROMPT = {"zero-shot": "Which emotion does this image convey? Answer in JSON.",
          "cot": "Think step by step, then say which emotion this image conveys, in JSON."}  # the run whose candidate labels were shown in a per-item order


def presented_order(stem: str) -> list[str]:
    """The candidate order SHUFFLED_RUN showed for an item: ekman7 rotated by the item's number."""
    shift = int(stem[1:]) % len(EKMAN7)
    return EKMAN7[shift:] + EKMAN7[:shift]


def item_id(stem: str) -> str:
    return f"{stem}.png"


def answered(answer: str) -> bool:
    return not answer.startswith("!")


def correct(stem: str, answer: str) -> bool:
    return answered(answer) and answer == GOLD[stem][0]


def expected_accuracy(model: str, strategy: str) -> float:
    """Accuracy over answered items (the DESIGN.md definition)."""
    answers = ANSWERS[(model, strategy)]
    used = [s for s, a in answers.items() if answered(a)]
    return sum(correct(s, answers[s]) for s in used) / len(used)


def expected_coverage(model: str, strategy: str) -> float:
    answers = ANSWERS[(model, strategy)]
    return sum(answered(a) for a in answers.values()) / len(answers)


def failures(stem: str) -> int:
    """How many of the four runs did not answer `stem` correctly."""
    return sum(not correct(stem, answers[stem]) for answers in ANSWERS.values())


def run_id(model: str, strategy: str) -> str:
    return f"run-{model}-{strategy}"


def _manifest(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for stem, (emotion, valence, arousal) in GOLD.items():
        picture = Image.new("RGB", (48, 36), COLOURS[emotion])
        picture.paste((255, 255, 255), (4 + 4 * int(stem[1:]), 8, 16 + 4 * int(stem[1:]), 24))  # edges to blur
        picture.save(root / item_id(stem))
        rows.append({"image": item_id(stem), "emotion": emotion,
                     "polarity": "positive" if emotion in POSITIVE else "negative",
                     "valence": valence, "arousal": arousal, "raters": json.dumps(RATERS[stem]) if stem in RATERS else ""})
    path = root / "faces.csv"
    write_csv(path, rows)
    return path


DATASET_ENTRY = {"format": "csv", "image_col": "image", "taxonomy": "ekman7",
                 "label_cols": {"emotion": "emotion", "polarity": "polarity", "valence": "valence",
                                "arousal": "arousal", "distribution": "raters"},
                 "scales": {"valence": [1, 9], "arousal": [1, 9]}}


def build_store(db: Path, images: Path) -> Path:
    """Write the dataset, four runs, their responses, predictions and traces, and score them."""
    from engine.datasets.registry import load_dataset
    from engine.store import connect
    from engine.store.evalsets import EvalSet, write_eval_set
    from engine.datasets.stored import write_dataset
    from engine.store.writes import write_predictions, write_responses, write_run, write_traces

    dataset = load_dataset({"name": DATASET, "path": str(_manifest(images)), **DATASET_ENTRY})
    assert not dataset.problems, dataset.problems
    started = datetime(2026, 1, 1, 12, 0, 0)
    with connect(db) as con:
        write_dataset(con, dataset)
        every_item = write_eval_set(con, EvalSet(DATASET, tuple(item_id(stem) for stem in GOLD), f"{DATASET} · every item"))
        for number, ((model, strategy), answers) in enumerate(ANSWERS.items()):
            rid = run_id(model, strategy)
            write_run(con, {"run_id": rid, "experiment": "seed", "dataset": DATASET, "model": model, "eval_set": every_item,
                            "purpose": "benchmark",
                            "adapter": "replay", "model_id": f"{model}-1", "model_id_resolved": f"{model}-1-2026",
                            "strategy": strategy, "dimensions": ["emotion", "valence", "arousal"],
                            "taxonomy": "ekman7", "prompt_hash": f"p-{strategy}", "parser_version": "1.0.0",
                            "config": {"model": model, "strategy": strategy, "temperature": 0},
                            "provenance": {"git_commit": "abc123", "seed": 0}, "status": "complete",
                            "n_items": len(answers), "started_at": started + timedelta(minutes=number),
                            "finished_at": started + timedelta(minutes=number, seconds=30 + number)})
            responses, predictions, traces = [], [], []
            for index, (stem, answer) in enumerate(answers.items()):
                iid, response_id = item_id(stem), f"{rid}-{stem}"
                status = {"!refused": "refused", "!error": "error"}.get(answer, "ok")
                text = None if status == "error" else (
                    "I can't determine the emotion in this image." if status == "refused" else
                    "The picture is hard to read." if answer == "!failed" else f'{{"emotion": "{answer}"}}')
                responses.append({"response_id": response_id, "run_id": rid, "dataset": DATASET, "item_id": iid,
                                  "stage": "answer", "sample_index": 0, "status": status, "error_class": "server" if status == "error" else None,
                                  "error_message": "503 upstream unavailable" if status == "error" else None,
                                  "text": text, "raw_response": {"choices": [{"text": text}]},
                                  "raw_request": {"messages": [{"role": "user", "content": [
                                      {"type": "text", "text": PROMPT[strategy]}, {"type": "image", "sha256": stem}]}]},
                                  "input_tokens": 100, "output_tokens": 20 if strategy == "zero-shot" else 80,
                                  "cost_usd": COST_PER_CALL[model], "latency_ms": LATENCY_MS[model], "attempts": 1})
                pred_status = {"!refused": "refused", "!error": "error", "!failed": "failed"}.get(answer, "ok")
                label = answer if answered(answer) else None
                confidence = 0.9 if correct(stem, answer) else 0.6 if label else None
                predictions.append({"run_id": rid, "dataset": DATASET, "item_id": iid, "dimension": "emotion",
                                    "label": label, "raw_label": label, "status": pred_status,
                                    "confidence": confidence, "method": "rule", "parser_version": "1.0.0",
                                    "span": f'"{label}"' if label else None, "response_id": response_id})
                if label:
                    gold_emotion, valence, arousal = GOLD[stem]
                    shift = 1.0 if model == "beta" else 0.0  # beta overestimates valence by one scale point
                    for dimension, value in (("valence", min(9.0, valence + shift)), ("arousal", arousal)):
                        predictions.append({"run_id": rid, "dataset": DATASET, "item_id": iid, "dimension": dimension,
                                            "value": value, "value_norm": (value - 1) / 8 * (2 if dimension == "valence" else 1)
                                            - (1 if dimension == "valence" else 0), "status": "ok", "method": "rule",
                                            "parser_version": "1.0.0", "response_id": response_id})
                if strategy == "cot" and label:
                    traces.append({"run_id": rid, "item_id": iid, "response_id": response_id,
                                   "steps": [f"Step one for {stem}.", "The colours set the mood.", f"Answer: {label}"]})
            if (model, strategy) == SHUFFLED_RUN:
                import pandas as pd

                con.register("orders", pd.DataFrame([
                    {"run_id": rid, "dataset": DATASET, "item_id": item_id(stem), "label_set": "emotion",
                     "labels": presented_order(stem), "shuffled": True} for stem in answers]))
                con.execute("INSERT INTO label_orders SELECT * FROM orders")
                con.unregister("orders")
            write_responses(con, responses)
            write_predictions(con, predictions)
            write_traces(con, traces)
    _score(db)
    return db


def _score(db: Path) -> None:
    """Materialise `scores` with the engine's scorer."""
    from engine.metrics.scoring import refresh_scores

    refresh_scores(db, n_resamples=200)
