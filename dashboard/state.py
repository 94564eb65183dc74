"""The sidebar's choices as one typed value the pages read: which store, which global filters.

The sidebar (rendered by `app.py` on every page) owns the widgets; their keys are defined here so
pages never reach into `st.session_state` by string.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import streamlit as st

from dashboard import settings
from dashboard.data import Filters, StoreBusy, StoreMissing

STORE_KEY = "store_path"
FILTER_KEYS = {"datasets": "filter_datasets", "models": "filter_models", "strategies": "filter_strategies"}
PINNED_KEY = "pinned_runs"  # older runs chosen to stand for their cells instead of the newest complete one
BLUR_KEY = "blur_images"


@dataclass(frozen=True)
class View:
    db: str
    filters: Filters
    blur: bool


def _route_through_app() -> None:
    """Make sure the page runs inside `app.py`'s navigation (with its sidebar).

    Streamlit treats a `pages/` folder beside the entry script as the old multipage layout until the
    entry script has called `st.navigation` once in the process; a first visit straight to a page URL
    would run that page alone. Switching the flag off and rerunning routes it through `app.py`.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the flag has no such mode
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_view() -> View:
    """The store path and global filters chosen in the sidebar (defaults before it has rendered).

    Every page starts with this call."""
    _route_through_app()
    state = st.session_state
    filters = Filters(**{name: tuple(state.get(key) or ()) for name, key in FILTER_KEYS.items()},
                      pinned=tuple(state.get(PINNED_KEY) or ()))
    return View(db=str(state.get(STORE_KEY) or settings.default_store()), filters=filters,
                blur=bool(state.get(BLUR_KEY, settings.blur_default())))


def keep(*keys: str) -> None:
    """Keep these widgets' values through runs in which the widgets are not drawn (a closed panel): Streamlit
    forgets a widget's value at the end of a run that did not draw it, unless the run set it itself."""
    state = st.session_state
    for key in keys:
        if key in state:
            state[key] = state[key]


@contextlib.contextmanager
def store_guard() -> Iterator[None]:
    """Turn a missing or busy store into a short message on the page instead of a traceback."""
    try:
        yield
    except StoreMissing as exc:
        from dashboard.exposure import public_text
        st.info(public_text(str(exc)), icon=":material/folder_open:")
        st.stop()
    except StoreBusy as exc:
        from dashboard.exposure import public_text
        st.info(public_text(f"{exc}. This page shows the new results on the next refresh."),
                icon=":material/hourglass_top:")
        st.stop()
