"""The sidebar on every page: global filters, the run set, settings (the results file, image blurring), sign-in,
and the panels that run a small analysis or analyse an uploaded image. Each panel draws its widgets only while
open (`layout.panel`); what was chosen in it holds while it is closed (`state.keep`).

Filters can also come from the URL (`?dataset=emotion6&model=gpt-4o&strategy=cot`, repeatable or
comma-separated) so a view can be shared as a link; a value the store does not hold stays selected and
simply matches nothing.
"""

from __future__ import annotations

import streamlit as st

from pathlib import PurePath

from dashboard import data, exposure, settings
from dashboard.components import address, auth, layout, run_panel, upload_panel
from dashboard.state import BLUR_KEY, FILTER_KEYS, PINNED_KEY, STORE_KEY, current_view, keep

URL_PARAMS = {"datasets": "dataset", "models": "model", "strategies": "strategy"}


def _from_url(name: str) -> list[str]:
    return address.list_from_address(URL_PARAMS[name])


def _chosen_filters() -> dict[str, list[str]]:
    """Each filter's values (the link's on a session's first run), also written to the address: they hold, and
    the address carries them, whether or not the Filters panel is open."""
    chosen = {}
    for name, key in FILTER_KEYS.items():
        if key not in st.session_state:  # first run of the session: take the link's filters
            st.session_state[key] = _from_url(name)
        chosen[name] = list(st.session_state.get(key) or [])
        address.write(URL_PARAMS[name], chosen[name])
    return chosen


def _filters(options: dict[str, list[str]], chosen: dict[str, list[str]]) -> None:
    """The filter pickers (their values already read and written to the address by `_chosen_filters`)."""
    for name, key in FILTER_KEYS.items():
        choices = sorted(set(options.get(name, [])) | set(chosen[name]))
        st.multiselect(name.capitalize(), choices, key=key, placeholder="all")


def _store_picker(allowed: bool) -> None:
    """Which results file the pages read (fixed, and named only, for a viewer who has not signed in)."""
    if allowed:
        st.text_input("Results file", key=STORE_KEY,
                      help="A DuckDB store written by `affectlens run`, `affectlens demo` or `import-predictions`.")
    else:
        st.text_input("Results file", value=PurePath(settings.default_store()).name, disabled=True,
                      key="store-name-shown", help="Sign in to choose another file.")


def _pinned() -> list[str]:
    """The older runs pinned to stand for their cells (the address's `run` on a session's first run)."""
    if PINNED_KEY not in st.session_state:
        st.session_state[PINNED_KEY] = address.list_from_address("run")
    return list(st.session_state.get(PINNED_KEY) or [])


def _run_set(view) -> None:
    """Which run stands for each cell on every page: the newest complete one, unless an older run is pinned
    here (`?run=ID` in the address pins it too). Drawn only while its panel is open; the choice holds when closed."""
    try:
        history = data.run_history(view.db, view.filters)
    except (data.StoreMissing, data.StoreBusy):
        history = None
    chosen = _pinned()
    labels = {} if history is None else {
        row.run_id: f"{row.model} · {row.strategy} · {row.eval_set_name} · {row.status} ({row.run_id[:8]})"
        for row in history.itertuples()}
    st.multiselect("Older runs to show instead", sorted(set(labels) | set(chosen)), key=PINNED_KEY,
                   format_func=lambda run_id: labels.get(run_id, run_id), placeholder="newest complete run per cell",
                   help="Every page shows, per dataset, evaluation set, model, strategy and dimension, the newest "
                        "complete run. Pick older runs here to see them instead, on every page.")


def render() -> None:
    """Draw the sidebar; pages read its choices through `dashboard.state.current_view()`. Its panels draw their
    widgets only while open (a first page draws fast); their choices hold while closed, and a panel whose choice
    is on (a filter, a pinned run) opens itself."""
    keep(*FILTER_KEYS.values(), STORE_KEY, PINNED_KEY, BLUR_KEY, *run_panel.FORM_KEYS, *upload_panel.FORM_KEYS)
    with st.sidebar:
        st.markdown("### :material/mood: AffectLens")
        allowed = auth.can_act()
        if not allowed:  # viewer mode, not signed in: the configured store
            st.session_state.pop(STORE_KEY, None)
        elif STORE_KEY not in st.session_state:
            st.session_state[STORE_KEY] = settings.default_store()
        view = current_view()
        try:
            options = data.filter_options(view.db)
        except (data.StoreMissing, data.StoreBusy) as exc:
            st.caption(exposure.public_text(str(exc)))
            options = {}
        chosen = _chosen_filters()
        on = sum(bool(values) for values in chosen.values())
        with layout.panel("Filters", "panel-filters", icon=":material/filter_alt:", expanded=bool(on)) as shown:
            if shown:
                _filters(options, chosen)
        if on:
            st.caption(f":material/filter_alt: {on} filter{'s' if on > 1 else ''} on: " + "; ".join(
                f"{name} {', '.join(values)}" for name, values in chosen.items() if values))
        pinned = _pinned()
        with layout.panel("Run set", "panel-run-set", icon=":material/history:", expanded=bool(pinned)) as shown:
            if shown:
                _run_set(view)
        address.write("run", pinned)
        if BLUR_KEY not in st.session_state:
            st.session_state[BLUR_KEY] = settings.blur_default()
        with layout.panel("Settings", "panel-settings", icon=":material/settings:") as shown:
            if shown:
                _store_picker(allowed)
                st.toggle("Blur images until clicked", key=BLUR_KEY,
                          help="For sensitive material: gallery images stay blurred until you click 'Show image'.")
                # The query cache is shared by every session: in viewer mode only a signed-in person may clear it.
                if allowed:
                    st.button("Reload results", icon=":material/refresh:", type="tertiary",
                              on_click=data.clear_caches,
                              help="Forget cached query results (they also refresh whenever the store file changes).")
        auth.sign_in_box()
        run_panel.render(view, enabled=allowed)
        upload_panel.render(enabled=allowed)
