"""Show a chart or a table with its download buttons: PNG and SVG (vl-convert, offline) and CSV.

Exports are generated only when a button is clicked (Streamlit calls the callable then), so showing a
page costs no rendering time.
"""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.components import charts, tables


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-").lower() or "export"


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG, rendered offline by vl-convert."""
    import vl_convert

    return vl_convert.vegalite_to_png(chart.to_dict(), scale=scale)


def chart_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict())


def table_csv(frame) -> bytes:
    """The CSV of a frame (or of a styled frame's data: colours are for the screen only)."""
    frame = getattr(frame, "data", frame) if not isinstance(frame, pd.DataFrame) else frame
    return frame.to_csv(index=False).encode("utf-8")


def chart(chart: alt.TopLevelMixin, name: str, data: pd.DataFrame | None = None, *, key: str | None = None) -> None:
    """Draw `chart` full width with PNG, SVG and (when `data` is given) CSV downloads under it."""
    key = key or _slug(name)
    chart = charts.styled(chart)  # the very spec drawn here is the one exported: one palette for both
    st.altair_chart(chart, width="stretch", key=f"chart-{key}", theme=None)
    row = st.container(horizontal=True, gap="small")
    row.download_button("PNG", lambda: chart_png(chart), file_name=f"{_slug(name)}.png", mime="image/png",
                        key=f"png-{key}", icon=":material/image:", on_click="ignore", type="tertiary")
    row.download_button("SVG", lambda: chart_svg(chart), file_name=f"{_slug(name)}.svg", mime="image/svg+xml",
                        key=f"svg-{key}", icon=":material/polyline:", on_click="ignore", type="tertiary")
    if data is not None:
        row.download_button("CSV", lambda: table_csv(data), file_name=f"{_slug(name)}.csv", mime="text/csv",
                            key=f"chartcsv-{key}", icon=":material/table:", on_click="ignore", type="tertiary")

def table(frame: pd.DataFrame, name: str, *, key: str | None = None, **dataframe_kwargs) -> None:
    """Show `frame` and a CSV download of exactly what is shown."""
    key = key or _slug(name)
    st.dataframe(frame, hide_index=True, key=f"table-{key}", **dataframe_kwargs)
    _csv_button(frame, name, key)


def _csv_button(frame: pd.DataFrame, name: str, key: str) -> None:
    st.download_button("CSV", lambda: table_csv(frame), file_name=f"{_slug(name)}.csv", mime="text/csv",
                       key=f"csv-{key}", icon=":material/download:", on_click="ignore", type="tertiary")


def light_table(frame: pd.DataFrame, name: str, *, key: str | None = None, **options) -> None:
    """Show `frame` as a light sortable table (`tables.sortable`: no grid library to load) and a CSV download of
    exactly what is shown."""
    key = key or _slug(name)
    tables.sortable(frame, key=f"table-{key}", **options)
    _csv_button(frame, name, key)
