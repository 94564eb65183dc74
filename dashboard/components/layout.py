"""Small layout helpers shared by the pages: headers, number formats and the dataset/dimension pickers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pandas as pd
import streamlit as st

from dashboard.components import address


def header(title: str, caption: str) -> None:
    """The page's title and caption, then the last uploaded image's answers when there are any (the sidebar's
    upload panel lays them out here, in the main area)."""
    from dashboard.components import upload_panel

    st.title(title)
    st.caption(caption)
    upload_panel.show_result()


def pick(label: str, options: Sequence[str], key: str, *, param: str | None = None, default: str | None = None,
         container=st, help: str | None = None, format_func=str) -> str | None:
    """A selectbox whose value is the one the page draws: read from the address (`param`) when a link set it,
    else the session's last choice, else `default` or the first option; written back to the address.
    With no options the name leaves the address and None is returned."""
    options = list(options)
    if not options:
        if param:
            address.write(param, None)
        return None
    address.resolve(key, options, param, default)
    value = container.selectbox(label, options, key=key, help=help, format_func=format_func)
    if param:
        address.write(param, value)
    return value


@contextlib.contextmanager
def panel(label: str, key: str, *, icon: str | None = None, expanded: bool = False) -> Iterator[bool]:
    """An expander whose content is drawn only while it is open; yields whether it is. Opening or closing it reruns
    the script (Streamlit's lazy expander), so a closed panel costs the page nothing to send or draw. Values of
    widgets inside that must outlive a closed panel are kept with `state.keep`."""
    box = st.expander(label, expanded=expanded, key=key, icon=icon, on_change="rerun")
    with box:
        yield bool(box.open)


def kept_multiselect(label: str, options: Sequence[str], key: str, default: list[str], **kwargs) -> list[str]:
    """A multiselect whose choice outlives runs that do not draw it (`state.keep`): the default only until the
    person chooses; a kept choice the options no longer hold (a key removed since) falls back to the default."""
    if any(value not in options for value in st.session_state.get(key) or []):
        st.session_state.pop(key)
    return st.multiselect(label, options, key=key, **kwargs, **({} if key in st.session_state else
                                                                 {"default": default}))


def figures(pairs: Sequence[tuple[str, str]]) -> None:
    """Headline figures as one line, "**3** datasets · **1.2k** items · ..." (one element for the page to draw)."""
    escaped = {ord("$"): "\\$"}  # a dollar sign Markdown shows as itself (two bare ones would open LaTeX)
    st.markdown(" · ".join(f"**{value.translate(escaped)}** {label}" for label, value in pairs))


NO_JUDGED = "No categorical predictions with gold labels match the filters."
NO_SCORES = ("No scores match the filters. Scores are materialised after every run; `affectlens scores` "
             "recomputes them.")


def scope(scopes: pd.DataFrame, key: str, empty: str):
    """Dataset, evaluation set and dimension pickers over the available scopes (`data.scopes`); the first
    row (the richest) is the default. Returns a `data.Scope`, or None with the `empty` notice. Each page
    states the set it shows: its name and size."""
    from dashboard.data import Scope, default_dimension, sets_by_size
    if scopes.empty:
        st.info(empty)
        return None
    left, middle, right = st.columns([2, 3, 2])
    first = scopes.iloc[0]
    dataset = pick("Dataset", sorted(scopes["dataset"].unique()), f"{key}-dataset", param="view_dataset",
                   default=first["dataset"], container=left)
    in_dataset = scopes[scopes["dataset"] == dataset]
    sets = sets_by_size(scopes, dataset)
    names = {row.eval_set: f"{row.eval_set_name} (n = {int(row.eval_set_size)})" for row in sets.itertuples()}
    eval_set = pick("Evaluation set", list(names), f"{key}-eval-set", param="eval_set", container=middle,
                    format_func=names.get,
                    help="The fixed items every number on this page is over. Rows over different sets are never "
                         "ranked together.")
    dims = in_dataset.loc[in_dataset["eval_set"] == eval_set, "dimension"].tolist()
    dimension = pick("Dimension", sorted(dims), f"{key}-dimension", param="dimension",
                     default=default_dimension(dims), container=right)
    return Scope(dataset, eval_set, dimension)


def scope_caption(scopes: pd.DataFrame, chosen) -> str:
    """'emotion6 · first 150 (n = 150)': which items a page's numbers are over."""
    row = scopes[(scopes["dataset"] == chosen.dataset) & (scopes["eval_set"] == chosen.eval_set)]
    if row.empty:
        return chosen.dataset
    return f"{row['eval_set_name'].iloc[0]} (n = {int(row['eval_set_size'].iloc[0])})"


def dataset_dimension(pairs: pd.DataFrame, key: str, empty: str) -> tuple[str | None, str | None]:
    """Dataset and dimension pickers side by side over the available (dataset, dimension) pairs; the
    first pair (the queries list the richest first) is the default. With no pairs: the `empty` notice
    and (None, None)."""
    if pairs.empty:
        st.info(empty)
        return None, None
    left, right = st.columns(2)
    first = pairs.iloc[0]
    dataset = pick("Dataset", sorted(pairs["dataset"].unique()), f"{key}-dataset", param="view_dataset",
                   default=first["dataset"], container=left)
    from dashboard.data import default_dimension
    dims = pairs.loc[pairs["dataset"] == dataset, "dimension"].tolist()
    dimension = pick("Dimension", sorted(dims), f"{key}-dimension", param="dimension",
                     default=default_dimension(dims), container=right)
    return dataset, dimension


def usd(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def compact(value: float) -> str:
    value = float(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:,.0f}"


def ci_text(value: float, low: float, high: float) -> str:
    if pd.isna(value):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"
