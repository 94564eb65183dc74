"""Synthetic images whose answer-driving region is known by construction, and hand-written reasoning.

Hotspot images: a flat mid-grey square (the colour the `grey` occlusion fill paints, so masking any
other cell changes nothing) with one cell of a 4x4 (or other) grid painted bright, saturated yellow.
`color-affect` answers from the image's mean brightness and saturation, so only that cell moves its
answer. Pale and dark images (no hotspot) are for the probes: pale ones are light and unsaturated
(positive by colour, close to the line), dark ones are dark (negative).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

GREY = (128, 128, 128)
HOT = (255, 230, 0)
SIDE = 64

# item id -> (grid rows, grid cols, hot row, hot col, width, height)
HOTSPOTS = {
    "positive/hot_0_0.png": (4, 4, 0, 0, SIDE, SIDE),
    "positive/hot_1_2.png": (4, 4, 1, 2, SIDE, SIDE),
    "positive/hot_3_1.png": (4, 4, 3, 1, SIDE, SIDE),
    "positive/wide_1_3.png": (2, 4, 1, 3, SIDE, SIDE // 2),
}
MOSAIC = "positive/mosaic_2_1.png"  # every cell a different grey, so every masked copy is a different image
MOSAIC_HOT = (2, 1)
PALE = [f"positive/pale_{i}.png" for i in range(6)]
DARK = [f"negative/dark_{i}.png" for i in range(6)]


def hotspot_image(rows: int, cols: int, row: int, col: int, width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), GREY)
    w, h = width // cols, height // rows
    image.paste(HOT, (col * w, row * h, (col + 1) * w, (row + 1) * h))
    return image


def mosaic_image() -> Image.Image:
    image = Image.new("RGB", (SIDE, SIDE))
    for row in range(4):
        for col in range(4):
            level = 98 + 4 * (row * 4 + col)
            colour = HOT if (row, col) == MOSAIC_HOT else (level, level, level)
            image.paste(colour, (col * 16, row * 16, (col + 1) * 16, (row + 1) * 16))
    return image


def make_dataset(folder: Path) -> Path:
    """A class-per-folder dataset (`format: folder`) of the hotspot, mosaic, pale and dark images."""
    for item, spec in HOTSPOTS.items():
        (folder / item).parent.mkdir(parents=True, exist_ok=True)
        hotspot_image(*spec).save(folder / item)
    mosaic_image().save(folder / MOSAIC)
    for i, item in enumerate(PALE):
        Image.new("RGB", (SIDE, SIDE), (190 + 3 * i, 180 + 3 * i, 165 + 3 * i)).save(folder / item)
    for i, item in enumerate(DARK):
        (folder / item).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (SIDE, SIDE), (30 + 4 * i, 35 + 4 * i, 60 + 4 * i)).save(folder / item)
    return folder


def dataset_entry(folder: Path, **extra) -> dict:
    return {"name": "hotspots", "path": str(folder), "format": "folder", **extra}


# ------------------------------------------------------------------------------------- reasoning
# Hand-written answers of a reasoning model: (item, text). Expected readings are written by hand in
# the tests (categories cited, sentiment, whether the reasoning contradicts the answer).
COT_ANSWERS = {
    "r1": ("1. The girl is smiling broadly and her eyes are bright.\n"
           "2. Warm golden sunlight fills the picture.\n"
           '{"polarity": "positive", "emotion": "happiness"}'),
    "r2": ("1. A man is alone on a bench in the dark rain.\n"
           "2. His face shows grief and tears.\n"
           '{"polarity": "positive", "emotion": "happiness"}'),
    "r3": ("1. A protest banner is held up over the crowd.\n"
           "2. People are shouting in the street.\n"
           '{"polarity": "negative", "emotion": "anger"}'),
    "r4": ("1. The composition is centred on a wrapped gift with balloons in the background.\n"
           "2. It looks like a happy celebration, cheerful and fun.\n"
           '{"polarity": "positive", "emotion": "happiness"}'),
}
ZERO_SHOT_ANSWERS = {item: text.splitlines()[-1] for item, text in COT_ANSWERS.items()}


def write_reasoning_runs(db_path: Path, model: str = "reasoner", dataset: str = "notes") -> None:
    """Two runs (zero-shot: JSON only; cot: the texts above) stored through the real parser and writes."""
    from engine.parsing import ParseSpec, parse_answer, predictions_from_parse, trace_row
    from engine.store import connect
    from engine.store.writes import write_predictions, write_responses, write_run, write_traces

    spec = ParseSpec(dimensions=("polarity", "emotion"), taxonomy="ekman7")
    started = datetime(2026, 1, 1)
    with connect(db_path) as con:
        for offset, (strategy, answers) in enumerate((("zero-shot", ZERO_SHOT_ANSWERS), ("cot", COT_ANSWERS))):
            run_id = f"{model}-{strategy}"
            write_run(con, {"run_id": run_id, "experiment": "reasoning-fixture", "dataset": dataset, "model": model,
                            "adapter": "replay", "model_id": model, "strategy": strategy,
                            "dimensions": ["polarity", "emotion"], "taxonomy": "ekman7",
                            "config": json.dumps({"dimensions": ["polarity", "emotion"]}), "status": "complete",
                            "n_items": len(answers), "started_at": started + timedelta(minutes=offset),
                            "finished_at": started + timedelta(minutes=offset + 1)})
            responses, predictions, traces = [], [], []
            for item, text in answers.items():
                response_id = uuid.uuid4().hex
                responses.append({"response_id": response_id, "run_id": run_id, "dataset": dataset, "item_id": item,
                                  "sample_index": 0, "stage": "answer", "status": "ok", "text": text})
                result = parse_answer(text, spec)
                predictions += predictions_from_parse(run_id, dataset, item, result, response_id, spec)
                traces.append(trace_row(run_id, item, result, response_id))
            write_responses(con, responses)
            write_predictions(con, predictions)
            write_traces(con, traces)
