"""Occlusion sensitivity maps from the stored answers of an occlusion run, and heatmap overlays.

Zeiler & Fergus (2014), "Visualizing and Understanding Convolutional Networks", ECCV: mask one
region at a time and measure how much the model's output changes. Here the "output" is the parsed
answer, so the method works for any model, API ones included. A cell's value is, by the first
measure the run's dimensions allow:

* `valence_drop` — |valence(intact) − valence(masked)| on the normalised scale [-1, 1];
* `probability_drop` — p(label of the intact answer) in the intact distribution minus the same
  label's probability in the masked distribution (clipped at 0);
* `rank_drop` — how many places the intact top label falls in the masked ranking, divided by the
  ranking length (1 when it disappears);
* `label_flip` — 1 when the masked answer's emotion (else polarity) differs from the intact one.

Cells whose masked answer could not be read get NaN, never a guess.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from engine.datasets.base import normalise_value
from engine.parsing import parse_answer, spec_for_run
from engine.store import connect, upsert

MEASURES = ("valence_drop", "probability_drop", "rank_drop", "label_flip")


@dataclass
class SaliencyMap:
    dataset: str
    item_id: str
    model: str
    strategy: str
    method: str
    measure: str
    values: np.ndarray  # (rows, cols)
    run_id: str | None = None

    def row(self) -> dict:
        rows, cols = self.values.shape
        return {"dataset": self.dataset, "item_id": self.item_id, "model": self.model, "strategy": self.strategy,
                "method": self.method, "measure": self.measure, "grid_rows": rows, "grid_cols": cols,
                "cell_values": [None if math.isnan(v) else float(v) for v in self.values.ravel()],
                "run_id": self.run_id, "meta": json.dumps({})}


def choose_measure(dimensions: tuple[str, ...]) -> str:
    if "valence" in dimensions:
        return "valence_drop"
    if "distribution" in dimensions:
        return "probability_drop"
    if "ranking" in dimensions:
        return "rank_drop"
    return "label_flip"


def cell_effect(measure: str, intact, masked, scale: tuple[float, float] | None = None) -> float:
    """Effect of masking one cell under `measure`; `intact`/`masked` are ParseResults."""
    def dim(result, name):
        parse = result.dimensions.get(name)
        return parse.value if parse is not None and parse.status in ("ok", "partial") else None

    if measure == "valence_drop":
        a, b = dim(intact, "valence"), dim(masked, "valence")
        if a is None or b is None:
            return float("nan")
        return abs(normalise_value("valence", a, scale) - normalise_value("valence", b, scale))
    if measure == "probability_drop":
        a, b = dim(intact, "distribution"), dim(masked, "distribution")
        if not a or not b:
            return float("nan")
        top = max(a, key=a.get)
        return max(0.0, float(a[top]) - float(b.get(top, 0.0)))
    if measure == "rank_drop":
        a, b = dim(intact, "ranking"), dim(masked, "ranking")
        if not a or not b:
            return float("nan")
        top = a[0]
        return 1.0 if top not in b else b.index(top) / len(b)
    for name in ("emotion", "polarity"):
        a, b = dim(intact, name), dim(masked, name)
        if a is not None:
            return float("nan") if b is None else float(a != b)
    return float("nan")


def maps_for_run(db_path, run_id: str, item_ids: list[str] | None = None) -> list[SaliencyMap]:
    """Occlusion maps of every item of an occlusion run (stages `occlude:ROW:COL`)."""
    with connect(db_path, read_only=True) as con:
        run = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchdf()
        if run.empty:
            raise KeyError(f"no run {run_id!r} in {db_path}; list runs with `affectlens runs`")
        responses = con.execute(
            "SELECT item_id, stage, text, status FROM responses WHERE run_id = ? "
            "AND (stage LIKE 'occlude:%' OR stage = 'answer') AND sample_index = 0", [run_id]).fetchdf()
    record = run.iloc[0].to_dict()
    spec = spec_for_run(record)
    measure = choose_measure(spec.dimensions)
    maps = []
    for item_id, group in responses.groupby("item_id", sort=True):
        if item_ids and item_id not in item_ids:
            continue
        intact_rows = group[group.stage == "answer"]
        cells = group[group.stage.str.startswith("occlude:")]
        if intact_rows.empty or cells.empty:
            continue
        intact = parse_answer(intact_rows.iloc[0].text, spec)
        positions = [tuple(int(v) for v in s.split(":")[1:]) for s in cells.stage]
        rows = max(r for r, _ in positions) + 1
        cols = max(c for _, c in positions) + 1
        grid = np.full((rows, cols), np.nan)
        for (r, c), (_, cell) in zip(positions, cells.iterrows()):
            if cell.status == "ok":
                grid[r, c] = cell_effect(measure, intact, parse_answer(cell.text, spec), spec.scale("valence"))
        maps.append(SaliencyMap(record["dataset"], item_id, record["model"], record["strategy"], "occlusion",
                                measure, grid, run_id))
    return maps


def store_maps(db_path, maps: list[SaliencyMap]) -> int:
    if not maps:
        return 0
    with connect(db_path) as con:
        return upsert(con, "explanations", pd.DataFrame([m.row() for m in maps]), json_columns=("meta",))


def _colormap(values: np.ndarray) -> np.ndarray:
    """Map [0, 1] to RGB: transparent blue through yellow to red (a perceptually ordered ramp)."""
    stops = np.array([[49, 54, 149], [116, 173, 209], [254, 224, 144], [244, 109, 67], [165, 0, 38]], float)
    position = np.clip(values, 0, 1) * (len(stops) - 1)
    low = np.floor(position).astype(int).clip(0, len(stops) - 2)
    frac = (position - low)[..., None]
    return stops[low] * (1 - frac) + stops[low + 1] * frac


def overlay(image: Image.Image, values: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """The image with `values` (any grid, NaN = no data) upsampled and blended on top as a heatmap."""
    base = image.convert("RGB")
    grid = np.array(values, dtype=float)
    finite = np.isfinite(grid)
    scaled = np.zeros_like(grid)
    if finite.any():
        low, high = np.nanmin(grid), np.nanmax(grid)
        scaled = np.where(finite, (grid - low) / (high - low) if high > low else 0.5, 0.0)
    heat = Image.fromarray(_colormap(scaled).astype(np.uint8)).resize(base.size, Image.Resampling.BILINEAR)
    mask = Image.fromarray((np.where(finite, alpha, 0.0) * 255).astype(np.uint8)).resize(base.size,
                                                                                        Image.Resampling.NEAREST)
    return Image.composite(heat, base, mask)


def overlay_png(image: Image.Image, values: np.ndarray, alpha: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    overlay(image, values, alpha).save(buffer, format="PNG")
    return buffer.getvalue()
