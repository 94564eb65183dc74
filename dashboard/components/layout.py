"""Small layout helpers shared by the pages: headers, number formats and the dataset/dimension pickers."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st


def header(title: str, caption: str) -> None:
    st.title(title)
    st.caption(caption)


def pick(label: str, options: Sequence[str], key: str, *, default: str | None = None, container=st,
         help: str | None = None, format_func=str) -> str | None:
    """A selectbox that keeps its choice across pages and falls back to the first option."""
    options = list(options)
    if not options:
        return None
    current = st.session_state.get(key)
    if current not in options:
        st.session_state.pop(key, None)
        index = options.index(default) if default in options else 0
        return container.selectbox(label, options, index=index, key=key, help=help, format_func=format_func)
    return container.selectbox(label, options, key=key, help=help, format_func=format_func)


NO_JUDGED = "No categorical predictions with gold labels match the filters."
NO_SCORES = ("No scores match the filters. Scores are materialised after every run; `affectlens scores` "
             "recomputes them.")


def dataset_dimension(pairs: pd.DataFrame, key: str, empty: str) -> tuple[str | None, str | None]:
    """Dataset and dimension pickers side by side over the available (dataset, dimension) pairs; the
    first pair (the queries list the richest first) is the default. With no pairs: the `empty` notice
    and (None, None)."""
    if pairs.empty:
        st.info(empty)
        return None, None
    left, right = st.columns(2)
    first = pairs.iloc[0]
    dataset = pick("Dataset", sorted(pairs["dataset"].unique()), f"{key}-dataset", default=first["dataset"],
                   container=left)
    dims = pairs.loc[pairs["dataset"] == dataset, "dimension"].tolist()
    preferred = "emotion" if "emotion" in dims else None
    dimension = pick("Dimension", sorted(dims), f"{key}-dimension", default=preferred, container=right)
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
