"""One item's occlusion and attention maps drawn over its image, side by side across models, each with
a PNG download. Used by the Explain page and the error gallery's detail view."""

from __future__ import annotations

import math
import re

import numpy as np
import streamlit as st

from dashboard import explain_data

MEASURE_TEXT = {
    "valence_change": "|valence change| when the cell is masked",
    "probability_drop": "drop in the answer's probability when masked",
    "rank_drop": "fall of the answer in the ranking when masked",
    "label_flip": "answer changes when the cell is masked",
    "attention_mean": "share of answer-token attention (mean over heads and layers)",
    "attention_rollout": "share of answer-token attention (rollout through layers)",
}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-").lower() or "map"


def _peak_text(values: np.ndarray) -> str:
    if not np.isfinite(values).any():
        return "no readable cell"
    row, col = np.unravel_index(np.nanargmax(values), values.shape)
    return f"peak: row {row + 1}, column {col + 1} ({values[row, col]:.3g})"


def item_heatmaps(db: str, dataset: str, item_id: str, *, models: tuple[str, ...] = (), key: str = "heatmaps",
                  columns: int = 4) -> int:
    """Draw every map of one item (optionally only `models`); returns how many were drawn."""
    frame = explain_data.maps(db, dataset, item_id)
    if models:
        frame = frame[frame["model"].isin(models)]
    if frame.empty:
        st.caption("No occlusion or attention maps for this item yet: `affectlens explain occlusion --items "
                   f"{item_id} ...` or `affectlens explain attention --items {item_id} ...`.")
        return 0
    shared = st.toggle("Same colour scale for maps of the same measure", key=f"{key}-shared",
                       help="Off: each map runs from blue (no effect) to red (its own largest cell). On: maps "
                            "of one measure share the top of the scale, so models compare directly.")
    tops = frame.groupby("measure")["values"].agg(
        lambda maps: max((float(np.nanmax(v)) for v in maps if np.isfinite(v).any()), default=math.nan))
    rows = frame.to_dict("records")
    for start in range(0, len(rows), columns):
        cells = st.columns(columns)
        for cell, row in zip(cells, rows[start:start + columns]):
            with cell.container(border=True):
                vmax = tops[row["measure"]] if shared and math.isfinite(tops[row["measure"]]) else None
                png = explain_data.overlay_png(db, row, vmax)
                title = f"**{row['model']}** · {row['strategy']}"
                if png is None:
                    st.markdown(title)
                    st.caption(":material/hide_image: image file not available on this machine")
                else:
                    st.image(png, caption=None, width="stretch")
                    st.markdown(title)
                values = np.asarray(row["values"], dtype=float)
                meta = row["meta"] or {}
                asked = meta.get("cells_asked")
                detail = f" · {asked}/{meta.get('cells_total')} cells asked" if asked is not None else ""
                st.caption(f"{row['method']}: {MEASURE_TEXT.get(row['measure'], row['measure'])} · "
                           f"{row['grid_rows']}×{row['grid_cols']} · {_peak_text(values)}{detail}")
                if png is not None:
                    name = "__".join(_slug(v) for v in (dataset, item_id, row["model"], row["strategy"], row["measure"]))
                    st.download_button("PNG", png, file_name=f"{name}.png", mime="image/png", icon=":material/download:",
                                       key=f"{key}-png-{start}-{name}", on_click="ignore", type="tertiary")
    return len(rows)
