"""A light sortable table: the frame's cells as a plain HTML table, sorted by clicking a header.

The Overview draws its tables with it. Streamlit's dataframe grid needs about 1.6 MB of scripts (the Arrow
decoder and the canvas grid) that a browser fetches and compiles the first time a page shows one; on the first
page after a server start that is most of what the browser waits for beyond Streamlit itself. This table is a
few dozen lines of script (a Streamlit v2 component drawn in the page's own document: no frame, no shadow root,
its styles scoped to `.al-table`). The values travel as JSON, the text of each cell is formatted here (one place
for number formats), and the script builds the table from text nodes only, so no value is ever read as markup.
Sorting happens in the browser on the raw values: numbers as numbers, empty cells last, a third click restores
the order the page chose. The cells are text, so they can be selected and copied into a spreadsheet.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Collection, Mapping

import numpy as np
import pandas as pd
import streamlit as st

_CSS = """
.al-table { overflow: auto; max-height: var(--max-height, none); border: 1px solid var(--st-border-color, #e6e6e6);
            border-radius: 0.5rem; font-family: var(--st-font, sans-serif); font-size: 0.875rem; }
.al-table table { border-collapse: collapse; width: max-content; min-width: 100%; margin: 0;
                  color: var(--st-text-color, #31333f); }
.al-table th, .al-table td { padding: 0.3rem 0.6rem; border: none; white-space: nowrap; text-align: left;
                             border-bottom: 1px solid var(--st-border-color, #e6e6e6); }
.al-table td.num, .al-table th.num { text-align: right; font-variant-numeric: tabular-nums; }
.al-table th { position: sticky; top: 0; z-index: 1; cursor: pointer; user-select: none; font-weight: 600;
               background: var(--st-secondary-background-color, #f0f2f6); }
.al-table th:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: -2px; }
.al-table th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.7em; }
.al-table th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.7em; }
.al-table tr:last-child td { border-bottom: none; }
.al-table td.muted { color: #8a8a8a; background: rgba(128, 128, 128, 0.08); font-style: italic; }
.al-table td.bar { background-image: linear-gradient(to right, rgba(74, 132, 196, 0.25) var(--share), transparent 0); }
"""

_JS = """
export default function ({ parentElement, data }) {
  const root = parentElement.querySelector(".al-table");
  root.style.setProperty("--max-height", data.max_height ? data.max_height + "px" : "none");
  const columns = data.columns, values = data.values, text = data.text;
  const muted = new Set(data.muted.map(([r, c]) => r + ":" + c));
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  const body = table.createTBody();
  const rows = values.map((row, r) => {
    const tr = document.createElement("tr");
    row.forEach((value, c) => {
      const td = tr.insertCell();
      td.textContent = text[r][c];
      const classes = [];
      if (columns[c].numeric) classes.push("num");
      if (columns[c].bar && typeof value === "number") {
        classes.push("bar");
        td.style.setProperty("--share", Math.max(0, Math.min(1, value)) * 100 + "%");
      }
      if (muted.has(r + ":" + c)) classes.push("muted");
      td.className = classes.join(" ");
    });
    return { tr, row, order: r };
  });
  const compare = (c, direction) => (a, b) => {
    const x = a.row[c], y = b.row[c];
    if (x === null || y === null) return (x === null) - (y === null) || a.order - b.order;
    const d = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return d * direction || a.order - b.order;
  };
  const draw = () => {
    const { column, direction } = parentElement.__sort || {};
    const shown = column === undefined ? rows : [...rows].sort(compare(column, direction));
    body.replaceChildren(...shown.map((r) => r.tr));
    head.querySelectorAll("th").forEach((th, c) => {
      if (c === column) th.setAttribute("aria-sort", direction > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  };
  const sortBy = (c) => {  // ascending, descending, then the page's own order
    const now = parentElement.__sort || {};
    parentElement.__sort = now.column !== c ? { column: c, direction: 1 }
      : now.direction > 0 ? { column: c, direction: -1 } : {};
    draw();
  };
  columns.forEach((column, c) => {
    const th = document.createElement("th");
    th.textContent = column.label;
    th.tabIndex = 0;
    if (column.numeric) th.className = "num";
    th.title = "Sort by " + column.label;
    th.addEventListener("click", () => sortBy(c));
    th.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(c); }
    });
    head.appendChild(th);
  });
  if (parentElement.__sort && parentElement.__sort.column >= columns.length) parentElement.__sort = {};
  draw();
  root.replaceChildren(table);
}
"""

_TABLE = st.components.v2.component("affectlens_table", html='<div class="al-table" data-testid="alTable"></div>',
                                    css=_CSS, js=_JS, isolate_styles=False)

#: Rows shown before the table scrolls inside its frame (its header stays in view).
MAX_ROWS_SHOWN = 20
ROW_HEIGHT_PX = 31

Format = str | Callable[[object], str]


def _raw(value) -> object:
    """The value as JSON carries it: numbers as numbers, missing as null, anything else as its text."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if math.isnan(value):
            return None
        return float(value) if math.isfinite(value) else math.copysign(sys.float_info.max, value)  # JSON has no inf
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _text(value: object, fmt: Format | None, missing: str = "–") -> str:
    if _raw(value) is None:
        return missing
    if fmt is not None:
        return fmt(value) if callable(fmt) else fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def payload(frame: pd.DataFrame, *, formats: Mapping[str, Format] | None = None,
            labels: Mapping[str, str] | None = None, missing: Mapping[str, str] | None = None,
            bars: Collection[str] = (), muted: pd.DataFrame | None = None,
            max_rows: int | None = MAX_ROWS_SHOWN) -> dict:
    """What the browser gets: per column its label and kind, per cell its raw value (for sorting) and its text,
    and the (row, column) cells to grey. `formats` maps a column to a format string ("{:.3f}") or a function;
    `missing` gives a column's text for an empty cell (default "–"); `bars` names share columns in [0, 1] shown as
    a percentage over a bar; `muted` is a boolean frame of the same shape (True: greyed); beyond `max_rows` rows
    the table scrolls inside its frame (None: every row in the page)."""
    formats, labels, missing = dict(formats or {}), dict(labels or {}), dict(missing or {})
    for column in bars:
        formats.setdefault(column, "{:.0%}")
    columns = [{"name": str(c), "label": labels.get(c, str(c)), "bar": c in bars,
                "numeric": pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
               for c in frame.columns]
    rows = list(frame.itertuples(index=False, name=None))
    values = [[_raw(v) for v in row] for row in rows]
    text = [[_text(v, formats.get(c), missing.get(c, "–")) for v, c in zip(row, frame.columns)] for row in rows]
    grey = [] if muted is None else [[int(r), int(c)] for r, c in zip(*muted.to_numpy(dtype=bool).nonzero())]
    height = ROW_HEIGHT_PX * (max_rows + 1) if max_rows and len(frame) > max_rows else None
    return {"columns": columns, "values": values, "text": text, "muted": grey, "max_height": height}


def sortable(frame: pd.DataFrame, *, key: str, **options) -> None:
    """Draw `frame` as a light table sortable by its headers (see `payload` for the options)."""
    _TABLE(data=payload(frame, **options), key=key, width="stretch")
