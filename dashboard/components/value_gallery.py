"""The gallery of a continuous dimension (valence, arousal, intensity): items ordered by absolute error or by
disagreement between models, each answer coloured right or wrong by a stated tolerance."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import streamlit as st

from dashboard import data, images
from dashboard.components import address, gallery, layout

EVERY_MODEL = "(every model)"
TOLERANCE_KEY = "gallery-tolerance"


def tolerance_picker(container=st) -> float:
    """How close to gold an answer must be to count as right: a share of the normalised scale's width
    (address name `tolerance`, in percent)."""
    linked = address.from_address("tolerance")
    if linked is not None or TOLERANCE_KEY not in st.session_state:
        try:
            st.session_state[TOLERANCE_KEY] = min(50, max(1, int(linked or 10)))
        except ValueError:
            st.session_state[TOLERANCE_KEY] = 10
    percent = container.slider("Right within (% of the scale)", 1, 50, key=TOLERANCE_KEY,
                               help="An answer counts as right when its absolute error is at most this share of "
                                    "the scale's width (valence: 1–9 and [-1, 1] alike).")
    address.write("tolerance", str(percent))
    return percent / 100


def answer_line(answer: dict, dimension: str, tolerance: float) -> str:
    """':green[✓ model · strategy 0.42 (+0.10)]' or ':red[✗ …]'; unanswered in grey."""
    who = f"{answer['model']} · {answer['strategy']}"
    if not answer.get("answered") or answer.get("value") is None or answer.get("error") is None:
        return f":gray[– {who}: no answer]"
    width = data.NORMALISED_RANGE.get(dimension, 1.0)
    right = abs(answer["error"]) <= tolerance * width
    scale = answer.get("error_scale")
    shown = f"{answer['value']:+.2f} (error {answer['error']:+.2f}" + (
        f", {scale:+.2f} on the scale)" if scale is not None and not math.isnan(scale) else ")")
    sure = answer.get("confidence")
    if sure is not None and not math.isnan(sure):
        shown += f", stated {sure:.0%}"
    return f":green[✓ {who}: {shown}]" if right else f":red[✗ {who}: {shown}]"


def render(view, chosen: data.Scope, page_size: int, *, items: tuple[str, ...] | None = None) -> None:
    """Pickers, the ordered grid and pagination of a continuous scope."""
    cells = data.cell_models(view.db, view.filters, chosen)
    row = st.columns([2, 2, 2, 3])
    sort = layout.pick("Order", list(data.CONTINUOUS_SORTS), "gallery-sort", param="sort", container=row[0],
                       format_func=data.CONTINUOUS_SORTS.get)
    model = layout.pick("Model", [EVERY_MODEL, *sorted(cells["model"].unique())], "gallery-model",
                        param="view_model", container=row[1])
    tolerance = tolerance_picker(row[3])
    linked = address.from_address("search")
    if linked is not None or "gallery-search" not in st.session_state:
        st.session_state["gallery-search"] = linked or ""
    search = row[2].text_input("Item id contains", key="gallery-search")
    address.write("search", search.strip())
    spec = data.ContinuousGalleryQuery(chosen, sort=sort, model=None if model == EVERY_MODEL else model,
                                       search=search or "", items=items, page_size=page_size, tolerance=tolerance)
    number = gallery.page_number((view.filters, spec))
    page = data.continuous_gallery_page(view.db, view.filters, dataclasses.replace(spec, page=number))
    if page.total == 0:
        st.info("No items of this set have an answer from the chosen runs.")
        return
    pages = max(1, math.ceil(page.total / page_size))
    width = data.NORMALISED_RANGE.get(chosen.dimension, 1.0)
    st.caption(f"{page.total:,} items · page {number} of {pages:,} · by {data.CONTINUOUS_SORTS[sort]}, largest "
               "first. Values on the "
               f"normalised scale ({'[-1, 1]' if width == 2 else '[0, 1]'}), error = answer − gold, also on the "
               f"dataset's own scale; ✓ green: within {tolerance:.0%} of the scale, ✗ red: farther or no answer "
               "(failed k of n: of the n benchmark cells, model × strategy with one current run each, k were red); "
               "disagreement: standard deviation of the answers; confidence: as the answer stated it.")
    grid(page, chosen.dimension, tolerance, store=view.db, blur=view.blur)
    st.pagination(pages, key="gallery-page", max_visible_pages=9)


def grid(page: data.GalleryPage, dimension: str, tolerance: float, *, store: str, blur: bool, columns: int = 4) -> None:
    rows = page.items.to_dict("records")
    for start in range(0, len(rows), columns):
        for cell, row in zip(st.columns(columns), rows[start:start + columns]):
            with cell.container(border=True):
                path = images.resolve_image(page.root, row["image_path"], store)
                hidden = blur and not gallery._revealed(row["item_id"])
                picture = images.thumbnail(path, row["image_sha256"], blur=hidden)
                if picture is None:
                    st.caption(":material/hide_image: image not available")
                else:
                    st.image(picture, width="stretch")
                gold = f"{row['gold_value']:+.2f}" if pd.notna(row["gold_value"]) else "–"
                if pd.notna(row.get("gold_on_scale")) and pd.notna(row.get("scale_low")):
                    gold += f" ({row['gold_on_scale']:g} on {row['scale_low']:g}–{row['scale_high']:g})"
                worst = f"{row['worst_error']:.2f}" if pd.notna(row["worst_error"]) else "–"
                spread = f"{row['disagreement']:.2f}" if pd.notna(row["disagreement"]) else "–"
                sure = row.get("worst_confidence")
                stated = f" (stated {sure:.0%})" if pd.notna(sure) else ""
                st.markdown(f"**{row['item_id']}**  \ngold {dimension}: {gold}  \n"
                            f"largest |error|: {worst}{stated} · disagreement: {spread}  \n"
                            f"failed {row['n_failed']} of {row['n_runs']} cells")
                lines = [answer_line(a, dimension, tolerance) for a in row["answers"]]
                st.markdown("  \n".join(lines))
                st.button("Open", key=f"open-{row['item_id']}", on_click=gallery.open_item, args=(row["item_id"],),
                          icon=":material/open_in_full:", type="tertiary")
