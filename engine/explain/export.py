"""Heatmap overlays as PNG files: every stored map drawn over its item's image.

`export_overlays(db, out)` writes `OUT/<dataset>/<item>__<model>__<strategy>__<measure>.png` for each map
whose image file is found, and `OUT/maps.csv` listing every map (file, grid, the cell values, the
most salient cell). Occlusion maps are drawn as flat cells, attention maps smoothed between patches;
each map is coloured from 0 (blue, no effect) to its own largest value (red).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from engine.explain.occlusion import overlay_png
from engine.explain.queries import all_maps, resolve_image


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "x"


def map_filename(row) -> str:
    """`<item>__<model>__<strategy>__<measure>.png`, safe for any file system."""
    return "__".join(_slug(row[k]) for k in ("item_id", "model", "strategy", "measure")) + ".png"


def peak(values: np.ndarray) -> tuple[int, int] | None:
    """(row, col) of the largest finite value; None when there is none."""
    grid = np.asarray(values, dtype=float)
    if not np.isfinite(grid).any():
        return None
    return tuple(int(v) for v in np.unravel_index(np.nanargmax(grid), grid.shape))


def render(image_file: Path, values: np.ndarray, method: str, *, alpha: float = 0.5, max_side: int = 768,
           min_side: int = 256, vmax: float | None = None) -> bytes:
    """The overlay PNG of one map over its image, scaled so its longest side lies in [min_side, max_side];
    `vmax` fixes the top of the colour scale (default: the map's own largest value)."""
    with Image.open(image_file) as image:
        image.load()
        picture = image.convert("RGB")
    longest = max(picture.size)
    if longest < min_side:  # small images are enlarged (pixels kept sharp) so the cells stay visible
        factor = min_side / longest
        picture = picture.resize((round(picture.width * factor), round(picture.height * factor)),
                                 Image.Resampling.NEAREST)
    picture.thumbnail((max_side, max_side))
    return overlay_png(picture, values, alpha, smooth=method == "attention", vmax=vmax)


def export_overlays(db_path, out_dir, *, dataset: str | None = None, models: list[str] | None = None,
                    method: str | None = None, alpha: float = 0.5) -> pd.DataFrame:
    """Write the overlay PNGs and `maps.csv`; returns the index (column `file` empty where the image is missing)."""
    out = Path(out_dir)
    maps = all_maps(db_path, dataset=dataset, models=models, method=method)
    rows = []
    for row in maps.to_dict("records"):
        image_file = resolve_image(row["root"], row["image_path"], db_path)
        target = None
        if image_file is not None:
            target = out / _slug(row["dataset"]) / map_filename(row)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(render(image_file, row["values"], row["method"], alpha=alpha))
        top = peak(row["values"])
        rows.append({"dataset": row["dataset"], "item_id": row["item_id"], "model": row["model"],
                     "strategy": row["strategy"], "method": row["method"], "measure": row["measure"],
                     "grid": f"{row['grid_rows']}x{row['grid_cols']}",
                     "peak_cell": f"{top[0]},{top[1]}" if top else "",
                     "peak_value": float(np.nanmax(row["values"])) if top else float("nan"),
                     "cell_values": " ".join("nan" if not np.isfinite(v) else f"{v:.6g}"
                                             for v in np.asarray(row["values"]).ravel()),
                     "file": str(target.relative_to(out)) if target else "",
                     "image": str(image_file) if image_file else ""})
    index = pd.DataFrame(rows, columns=["dataset", "item_id", "model", "strategy", "method", "measure", "grid",
                                        "peak_cell", "peak_value", "cell_values", "file", "image"])
    out.mkdir(parents=True, exist_ok=True)
    index.to_csv(out / "maps.csv", index=False)
    return index
