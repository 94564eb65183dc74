"""AffectLens dashboard entry point: routes to the pages and draws the shared sidebar, nothing else.

Run with `streamlit run dashboard/app.py`. Adding a page is one line in PAGES; a listed page whose file
is missing is an error naming it, never a page silently left out.
"""

import logging
import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run dashboard/app.py` from a source checkout
    sys.path.insert(0, str(HERE.parent))

from dashboard import guard, settings  # noqa: E402
from engine.secrets import scrubbed_stderr_logging  # noqa: E402
from dashboard.components import sidebar  # noqa: E402

# (file, title, icon): the navigation in order
PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/comparison.py", "Model comparison", ":material/compare_arrows:"),
    ("pages/dimensions.py", "Dimensions", ":material/grid_on:"),
    ("pages/ablations.py", "Prompt ablations", ":material/science:"),
    ("pages/gallery.py", "Error gallery", ":material/photo_library:"),
    ("pages/slices.py", "Slices", ":material/pie_chart:"),
    ("pages/explain.py", "Explain", ":material/visibility:"),
    ("pages/runs.py", "Runs", ":material/history:"),
]

scrubbed_stderr_logging("affectlens", "engine", "dashboard")  # the server's log lines pass the one scrub
st.set_page_config(page_title="AffectLens", page_icon=":material/mood:", layout="wide")
hosted = settings.viewer_mode()
guard.set_error_details(hosted)  # hosted: no tracebacks, exception types or messages in the browser
guard.install_upload_gate(settings.viewer_mode)
missing = [file for file, _title, _icon in PAGES if not (HERE / file).exists()]
if missing:
    raise FileNotFoundError(f"dashboard page(s) {', '.join(missing)} missing under {HERE}; reinstall AffectLens")
navigation = st.navigation([st.Page(HERE / file, title=title, icon=icon) for file, title, icon in PAGES])
sidebar.render()
try:
    navigation.run()
except Exception as exc:  # noqa: BLE001 - the page's bug: a short note instead of a traceback
    if not hosted:
        raise
    logging.getLogger("affectlens.dashboard").exception("page failed")
    st.error("This page could not be drawn. The error has been logged on the server; try another page or "
             "reload.", icon=":material/error:")
