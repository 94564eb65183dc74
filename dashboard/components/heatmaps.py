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


def _peak_text(values: np.ndarray, vmax: float | None) -> str:
    if not np.isfinite(values).any():
        return "no readable cell"
    row, col = np.unravel_index(np.nanargmax(values), values.shape)
    if values[row, col] <= 0:
        return "no cell has any effect (all blue)"
    top = vmax if vmax is not None else values[row, col]
    return f"peak: row {row}, column {col} ({values[row, col]:.3g}); blue 0 → red {top:.3g}"


def _original(db: str, row: dict, item_id: str) -> None:
    from engine.explain.queries import resolve_image

    path = resolve_image(row.get("root"), row.get("image_path"), db)
    if path is None:
        st.caption(":material/hide_image: image file not available on this machine")
    else:
        st.image(str(path), width="stretch")
    st.markdown(f"**{item_id}**")
    st.caption("the image as the models saw it (before resizing)")


def _reveal(flag: str) -> None:
    st.session_state[flag] = True


def item_heatmaps(db: str, dataset: str, item_id: str, *, models: tuple[str, ...] = (), key: str = "heatmaps",
                  columns: int = 4, blur: bool = False) -> int:
    """Draw every map of one item (optionally only `models`); returns how many were drawn.

    With `blur` (the sidebar's setting for sensitive material) nothing is drawn until the person clicks
    to show the image, since every map is drawn over it.
    """
    frame = explain_data.maps(db, dataset, item_id)
    if models:
        frame = frame[frame["model"].isin(models)]
    if frame.empty:
        st.caption("No occlusion or attention maps for this item yet: `affectlens explain occlusion --items "
                   f"{item_id} ...` or `affectlens explain attention --items {item_id} ...`.")
        return 0
    flag = f"{key}-revealed-{dataset}/{item_id}"
    if blur and not st.session_state.get(flag):
        st.button(f"Show the image and its {len(frame)} map(s)", key=f"{key}-reveal", on_click=_reveal, args=(flag,),
                  icon=":material/visibility:", help="Images stay hidden until clicked (sidebar setting).")
        return 0
    shared = st.toggle("Same colour scale for maps of the same measure", key=f"{key}-shared", value=True,
                       help="On (default): maps of one measure share the top of the scale, so models compare "
                            "directly. Off: each map runs from blue (no effect) to red (its own largest cell).")
    tops = frame.groupby("measure")["values"].agg(
        lambda maps: max((float(np.nanmax(v)) for v in maps if np.isfinite(v).any()), default=math.nan))
    rows = frame.to_dict("records")
    cards = [None, *rows]  # the image itself first, for reference
    for start in range(0, len(cards), columns):
        cells = st.columns(columns)
        for cell, row in zip(cells, cards[start:start + columns]):
            with cell.container(border=True):
                if row is None:
                    _original(db, rows[0], item_id)
                    continue
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
                           f"{row['grid_rows']}×{row['grid_cols']} grid, cells counted from 0 at the top left (as "
                           f"in `affectlens explain`) · {_peak_text(values, vmax)}{detail}")
                if png is not None:
                    parts = (dataset, item_id, row["model"], row["strategy"], row["measure"])
                    name = "__".join(_slug(v) for v in parts)
                    st.download_button("PNG", png, file_name=f"{name}.png", mime="image/png",
                                       icon=":material/download:", key=f"{key}-png-{start}-{name}", on_click="ignore",
                                       type="tertiary")
    return len(rows)


def gallery_section(db: str, dataset: str, item_id: str, *, blur: bool = False) -> None:
    """The gallery detail view's heatmaps: a heading and the maps, or nothing when the item has none."""
    found = explain_data.maps(db, dataset, item_id)
    if found.empty:
        return
    st.markdown("**What the models looked at** (occlusion and attention maps; more on the Explain page)")
    item_heatmaps(db, dataset, item_id, key="gallery-maps", blur=blur)
