"""The sidebar on every page: the results file, global filters, display settings, sign-in, and the panels
that run a small analysis or analyse an uploaded image.

Filters can also come from the URL (`?dataset=emotion6&model=gpt-4o&strategy=cot`, repeatable or
comma-separated) so a view can be shared as a link; a value the store does not hold stays selected and
simply matches nothing.
"""

from __future__ import annotations

import streamlit as st

from pathlib import PurePath

from dashboard import data, exposure, settings
from dashboard.components import address, auth, run_panel, upload_panel
from dashboard.state import BLUR_KEY, FILTER_KEYS, PINNED_KEY, STORE_KEY, current_view

URL_PARAMS = {"datasets": "dataset", "models": "model", "strategies": "strategy"}


def _from_url(name: str) -> list[str]:
    return address.list_from_address(URL_PARAMS[name])


def _filters(options: dict[str, list[str]]) -> None:
    for name, key in FILTER_KEYS.items():
        if key not in st.session_state:  # first run of the session: take the link's filters
            st.session_state[key] = _from_url(name)
        chosen = list(st.session_state.get(key) or [])
        choices = sorted(set(options.get(name, [])) | set(chosen))
        chosen = st.multiselect(name.capitalize(), choices, key=key, placeholder="all")
        address.write(URL_PARAMS[name], chosen)


def _run_set(view) -> None:
    """Which run stands for each cell on every page: the newest complete one, unless an older run is pinned
    here (`?run=ID` in the address pins it too)."""
    if PINNED_KEY not in st.session_state:
        st.session_state[PINNED_KEY] = address.list_from_address("run")
    try:
        history = data.run_history(view.db, view.filters)
    except (data.StoreMissing, data.StoreBusy):
        history = None
    chosen = list(st.session_state.get(PINNED_KEY) or [])
    labels = {} if history is None else {
        row.run_id: f"{row.model} · {row.strategy} · {row.eval_set_name} · {row.status} ({row.run_id[:8]})"
        for row in history.itertuples()}
    pinned = st.multiselect("Older runs to show instead", sorted(set(labels) | set(chosen)), key=PINNED_KEY,
                   format_func=lambda run_id: labels.get(run_id, run_id), placeholder="newest complete run per cell",
                   help="Every page shows, per dataset, evaluation set, model, strategy and dimension, the newest "
                        "complete run. Pick older runs here to see them instead, on every page.")
    address.write("run", pinned)


def render() -> None:
    """Draw the sidebar; pages read its choices through `dashboard.state.current_view()`."""
    with st.sidebar:
        st.markdown("### :material/mood: AffectLens")
        allowed = auth.can_act()
        if allowed:
            if STORE_KEY not in st.session_state:
                st.session_state[STORE_KEY] = settings.default_store()
            st.text_input("Results file", key=STORE_KEY,
                          help="A DuckDB store written by `affectlens run`, `affectlens demo` or `import-predictions`.")
        else:  # viewer mode, not signed in: the configured store, by its name only
            st.session_state.pop(STORE_KEY, None)
            st.text_input("Results file", value=PurePath(settings.default_store()).name, disabled=True,
                          key="store-name-shown", help="Sign in to choose another file.")
        view = current_view()
        try:
            options = data.filter_options(view.db)
        except (data.StoreMissing, data.StoreBusy) as exc:
            st.caption(exposure.public_text(str(exc)))
            options = {}
        with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
            _filters(options)
        with st.expander("Run set", icon=":material/history:"):
            _run_set(view)
        with st.expander("Settings", icon=":material/settings:"):
            if BLUR_KEY not in st.session_state:
                st.session_state[BLUR_KEY] = settings.blur_default()
            st.toggle("Blur images until clicked", key=BLUR_KEY,
                      help="For sensitive material: gallery images stay blurred until you click 'Show image'.")
            # The query cache is shared by every session: in viewer mode only a signed-in person may clear it.
            if allowed:
                st.button("Reload results", icon=":material/refresh:", type="tertiary", on_click=data.clear_caches,
                          help="Forget cached query results (they also refresh whenever the store file changes).")
        auth.sign_in_box()
        run_panel.render(view, enabled=allowed)
        upload_panel.render(enabled=allowed)
