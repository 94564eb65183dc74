"""Occlusion sensitivity maps from the stored answers of an occlusion run, and heatmap overlays.

Zeiler & Fergus (2014), "Visualizing and Understanding Convolutional Networks", ECCV: mask one
region at a time and measure how much the model's output changes. Here the "output" is the parsed
answer, so the method works for any model, API ones included. A cell's value is, by the first
measure the run's dimensions allow and the intact answer gives a value for (`choose_measure`):

* `valence_change` — |valence(intact) − valence(masked)| on the normalised scale [-1, 1], so in [0, 2];
* `probability_drop` — p(top label of the intact answer) in the intact distribution minus the same
  label's probability in the masked distribution, clipped at 0;
* `rank_drop` — how many places the intact top label falls in the masked ranking, divided by the
  ranking length (1 when it disappears);
* `label_flip` — 1 when the masked answer's emotion (else polarity) differs from the intact one, else 0.

Several samples of one call (self-consistency) are combined first, as the runner combines them
(`engine.parsing.aggregate`). Cells whose masked answer could not be read, and cells never asked
(a run stopped by `--max-cost`), are NaN, never a guess. High values mark the regions the answer
depends on.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from PIL import Image

from engine.datasets.base import normalise_value
from engine.prompts.probing import OCCLUDE_STAGE, occlusion_settings
from engine.store import connect
from engine.store.explanations import occlusion_responses, replace_maps
from engine.store.runs import run_record

MEASURES = ("valence_change", "probability_drop", "rank_drop", "label_flip")
_CELL_STAGE = re.compile(rf"^{OCCLUDE_STAGE}:(\d+):(\d+)$")


@dataclass
class SaliencyMap:
    """One heatmap over an item's image: `values[row, col]` on a grid laid over the image."""

    dataset: str
    item_id: str
    model: str
    strategy: str
    method: str  # occlusion | attention
    measure: str
    values: np.ndarray  # (rows, cols), NaN = no data
    run_id: str | None = None
    meta: dict = field(default_factory=dict)

    def row(self) -> dict:
        """The `explanations` row (cell values row-major, NaN stored as null)."""
        rows, cols = self.values.shape
        return {"dataset": self.dataset, "item_id": self.item_id, "model": self.model, "strategy": self.strategy,
                "method": self.method, "measure": self.measure, "grid_rows": rows, "grid_cols": cols,
                "cell_values": [None if math.isnan(v) else float(v) for v in self.values.ravel()],
                "run_id": self.run_id, "meta": json.dumps(self.meta, default=str, sort_keys=True)}


_MEASURE_DIMENSION = {"valence_change": "valence", "probability_drop": "distribution", "rank_drop": "ranking"}


def choose_measure(dimensions, intact=None) -> str:
    """The most graded measure the run's dimensions allow (continuous, then probabilities, then rankings,
    then labels); with `intact` (a ParseResult), only one the intact answer actually gives a value for,
    so a model that answers no valence is mapped by its labels rather than left blank."""
    for measure, dimension in _MEASURE_DIMENSION.items():
        if dimension in dimensions and (intact is None or _value(intact, dimension) is not None):
            return measure
    return "label_flip"


def _value(result, name):
    parse = result.dimensions.get(name)
    return parse.value if parse is not None and parse.status in ("ok", "partial") else None


def cell_effect(measure: str, intact, masked, scale: tuple[float, float] | None = None) -> float:
    """Effect of masking one cell under `measure`; `intact`/`masked` are ParseResults (NaN: unreadable)."""
    if measure == "valence_change":
        a, b = _value(intact, "valence"), _value(masked, "valence")
        if a is None or b is None:
            return float("nan")
        return abs(normalise_value("valence", a, scale) - normalise_value("valence", b, scale))
    if measure == "probability_drop":
        a, b = _value(intact, "distribution"), _value(masked, "distribution")
        if not a or not b:
            return float("nan")
        top = max(a, key=a.get)
        return max(0.0, float(a[top]) - float(b.get(top, 0.0)))
    if measure == "rank_drop":
        a, b = _value(intact, "ranking"), _value(masked, "ranking")
        if not a or not b:
            return float("nan")
        top = a[0]
        return 1.0 if top not in b else b.index(top) / len(b)
    for name in ("emotion", "polarity"):
        a, b = _value(intact, name), _value(masked, name)
        if a is not None:
            return float("nan") if b is None else float(a != b)
    return float("nan")


def _read(samples: pd.DataFrame, spec):
    """One ParseResult from an item's samples of one stage (None when every sample is an error)."""
    from engine.parsing import aggregate, parse_answer

    usable = samples[samples["status"] != "error"].sort_values("sample_index")
    if usable.empty:
        return None
    results = [parse_answer(text if isinstance(text, str) else "", spec) for text in usable["text"]]
    return results[0] if len(results) == 1 else aggregate(results, spec)[0]


def _run_record(con, run_id: str, db_path) -> dict:
    record = run_record(con, run_id)
    if record is None:
        raise KeyError(f"no run {run_id!r} in {db_path}; list runs with `affectlens runs`")
    record["dimensions"] = list(record["dimensions"]) if record.get("dimensions") is not None else None
    if isinstance(record.get("config"), str):
        record["config"] = json.loads(record["config"] or "{}")
    return record


def maps_for_run(db_path, run_id: str, item_ids: list[str] | None = None) -> list[SaliencyMap]:
    """Occlusion maps of every item of an occlusion run (stages `occlude:ROW:COL`), or of `item_ids` only.

    The grid comes from the run's strategy settings, so a run stopped part-way still gives maps of the
    full grid shape, with NaN where a cell was not asked.
    """
    from engine.runner.reparse import spec_for_run

    with connect(db_path, read_only=True) as con:
        record = _run_record(con, run_id, db_path)
        responses = occlusion_responses(con, run_id, item_ids)
    extra = ((record.get("config") or {}).get("strategy") or {}).get("extra") or {}
    (rows, cols), fill = occlusion_settings(extra)
    spec = spec_for_run(record)
    maps = []
    for item_id, group in responses.groupby("item_id", sort=True):
        final = "judge" if (group["stage"] == "judge").any() else "answer"
        intact = _read(group[group["stage"] == final], spec)
        if intact is None:
            continue
        measure = choose_measure(spec.dimensions, intact)
        grid = np.full((rows, cols), np.nan)
        asked = 0
        for stage, samples in group.groupby("stage"):
            match = _CELL_STAGE.match(stage)
            if not match:
                continue
            r, c = int(match.group(1)), int(match.group(2))
            if r >= rows or c >= cols:
                continue
            asked += 1
            masked = _read(samples, spec)
            if masked is not None:
                grid[r, c] = cell_effect(measure, intact, masked, spec.scale("valence"))
        if not asked:
            continue
        meta = {"grid": f"{rows}x{cols}", "fill": fill, "cells_asked": asked, "cells_total": rows * cols,
                "intact": {d: _value(intact, d) for d in spec.dimensions}}
        maps.append(SaliencyMap(record["dataset"], item_id, record["model"], record["strategy"], "occlusion",
                                measure, grid, run_id, meta))
    return maps


def store_maps(db_path, maps: list[SaliencyMap]) -> int:
    """Write maps into `explanations` (one row per item, model, strategy, method and measure; replaced).

    An item has one occlusion map per model and strategy: a new one replaces it whatever its measure
    (the measure can change when a rerun gets readable answers). Attention maps of different
    aggregations live side by side.
    """
    if not maps:
        return 0
    frame = pd.DataFrame([m.row() for m in maps])
    with connect(db_path) as con:
        return replace_maps(con, frame)


def _colormap(values: np.ndarray) -> np.ndarray:
    """[0, 1] -> RGB along a diverging blue-yellow-red ramp (ColorBrewer RdYlBu, reversed)."""
    stops = np.array([[49, 54, 149], [116, 173, 209], [254, 224, 144], [244, 109, 67], [165, 0, 38]], float)
    position = np.clip(values, 0, 1) * (len(stops) - 1)
    low = np.floor(position).astype(int).clip(0, len(stops) - 2)
    frac = (position - low)[..., None]
    return stops[low] * (1 - frac) + stops[low + 1] * frac


def scaled(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Values on [0, 1] for colouring: 0 stays 0 (no effect is blue), the largest value (or `vmax`) is 1."""
    grid = np.array(values, dtype=float)
    finite = np.isfinite(grid)
    if not finite.any():
        return np.zeros_like(grid)
    low = min(0.0, float(np.nanmin(grid)))
    high = float(vmax) if vmax is not None else float(np.nanmax(grid))
    if high <= low:
        return np.zeros_like(grid)
    return np.where(finite, np.clip((grid - low) / (high - low), 0, 1), 0.0)


def overlay(image: Image.Image, values: np.ndarray, alpha: float = 0.5, *, smooth: bool = False,
            vmax: float | None = None) -> Image.Image:
    """The image with `values` (any grid, NaN = no data, left uncoloured) blended on top as a heatmap.

    `smooth` interpolates between cells (attention over patches); otherwise each cell is a flat block
    (occlusion cells). `vmax` fixes the top of the colour scale, so maps of several models compare.
    """
    base = image.convert("RGB")
    grid = np.array(values, dtype=float)
    heat = Image.fromarray(_colormap(scaled(grid, vmax)).astype(np.uint8))
    heat = heat.resize(base.size, Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST)
    mask = Image.fromarray((np.where(np.isfinite(grid), alpha, 0.0) * 255).astype(np.uint8))
    mask = mask.resize(base.size, Image.Resampling.NEAREST)
    return Image.composite(heat, base, mask)


def overlay_png(image: Image.Image, values: np.ndarray, alpha: float = 0.5, **kwargs) -> bytes:
    """`overlay` encoded as PNG bytes."""
    buffer = io.BytesIO()
    overlay(image, values, alpha, **kwargs).save(buffer, format="PNG")
    return buffer.getvalue()
