"""Error gallery: every item's image, hardest first, filtered by labels, error type and confidence (categorical
dimensions) or ordered by absolute error or disagreement between models (continuous ones); a detail view with
gold annotations, every model's answer, reasoning traces and a record of every call."""

import dataclasses
import math

import streamlit as st

from dashboard import data, slices_data
from dashboard.components import address, gallery, layout, value_gallery
from dashboard.state import current_view, store_guard

PAGE_SIZE = 24
ANY = "(any)"



def _clear_slice() -> None:
    for name in ("slice_key", "slice"):
        st.query_params.pop(name, None)


def slice_filter(chosen):
    """The items of the slice named in the address (`slice_key`, `slice`: a link from the Slices page), or None."""
    key, value = st.query_params.get("slice_key"), st.query_params.get("slice")
    if not key or value is None:
        return None
    items = slices_data.slice_items(view.db, chosen, key, value)
    left, right = st.columns([4, 1])
    left.info(f"Only the {len(items):,} items of the slice {key} = {value}.", icon=":material/filter_alt:")
    right.button("Show every item", on_click=_clear_slice, icon=":material/filter_alt_off:", key="gallery-all-items")
    return items


view = current_view()
layout.header("Error gallery", "The items the models get wrong, hardest first, with every answer and call behind them.")

with store_guard():
    scopes = data.scopes(view.db, view.filters)
    chosen = layout.scope(scopes, "gallery", layout.NO_SCORES)
    if chosen is None:
        st.stop()
    dataset = chosen.dataset
    st.caption(f"Over **{layout.scope_caption(scopes, chosen)}** · {chosen.dimension}; one run per model and "
               "strategy (the newest complete one, or the one pinned in the sidebar).")

    opened = st.query_params.get(gallery.ITEM_PARAM)
    if opened:
        detail = data.item_detail(view.db, view.filters, dataset, opened)
        if detail is None:
            # the id comes from the address: shown as plain code, never as markdown (no links, no formatting)
            st.warning("No item with this id in the chosen dataset:", icon=":material/search_off:")
            st.code(opened[:200], language=None)
            st.button("Back to the gallery", on_click=gallery.close_item, key="gallery-missing-back")
        else:
            gallery.detail(detail, store=view.db, blur=view.blur, models=view.filters.models)
        st.stop()

    only = slice_filter(chosen)
    if chosen.dimension not in data.CATEGORICAL:
        value_gallery.render(view, chosen, PAGE_SIZE, items=only)
        st.stop()

    labels = data.gallery_labels(view.db, view.filters, chosen)
    row = st.columns(3)
    gold = layout.pick("Gold label", [ANY] + labels["gold"], "gallery-gold", param="gold", container=row[0])
    predicted = layout.pick("Predicted label", [ANY] + labels["predicted"], "gallery-predicted", param="predicted",
                            container=row[1])
    linked = address.from_address("search")
    if linked is not None or "gallery-search" not in st.session_state:
        st.session_state["gallery-search"] = linked or ""
    search = row[2].text_input("Item id contains", key="gallery-search", placeholder="e.g. anger_12")
    address.write("search", search.strip())
    linked = address.from_address("errors")
    if linked is not None or "gallery-errors" not in st.session_state:
        st.session_state["gallery-errors"] = [e for e in (linked or "").split(",") if e in data.ERROR_TYPES]
    row = st.columns([3, 2, 2])
    sort = layout.pick("Order", list(data.GALLERY_SORTS), "gallery-sort", param="sort", container=row[2],
                       format_func=data.GALLERY_SORTS.get)
    error_types = row[0].pills("Error type", list(data.ERROR_TYPES), selection_mode="multi", key="gallery-errors",
                               format_func=lambda key: data.ERROR_TYPES[key].split(",")[0].replace("answered", "wrong"),
                               help="An item shows when a selected run's answer has one of these outcomes; none: all items.")
    address.write("errors", list(error_types or ()))
    confidence = row[1].slider("Stated confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key="gallery-confidence",
                               help="Narrowing the range keeps only answers that stated a confidence in it.")

    spec = data.GalleryQuery(
        scope=chosen, sort=sort, gold=None if gold == ANY else gold,
        predicted=None if predicted == ANY else predicted, error_types=tuple(error_types or ()),
        confidence=None if tuple(confidence) == (0.0, 1.0) else tuple(confidence), search=search or "", items=only,
        page=1, page_size=PAGE_SIZE)
    number = gallery.page_number((view.filters, spec))  # a new filter starts again at page 1
    page = data.gallery_page(view.db, view.filters, dataclasses.replace(spec, page=number))
    if page.total == 0:
        st.info("No items match these filters.")
        st.stop()
    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    st.caption(f"{page.total:,} items match · page {number} of {pages:,} · by {data.GALLERY_SORTS[sort]}, "
               "highest first. Failed k of n: of the n benchmark cells (model × strategy, one current run each; "
               "probes, analyses and reruns do not count), k answered wrong, refused, unparsed or with an API error.")
    gallery.grid(page, store=view.db, blur=view.blur)
    st.pagination(pages, key="gallery-page", max_visible_pages=9)
