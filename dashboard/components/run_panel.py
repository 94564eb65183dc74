"""Sidebar panel: run a small analysis (a dataset subset, models, a strategy) in the background, show its
progress, and make the results appear when it is done."""

from __future__ import annotations

import streamlit as st

from dashboard import data, jobs, settings
from dashboard.components import layout
from dashboard.state import View

PANEL_KEY = "panel-analysis"
JOB_KEY = "analysis-job"
SAVED_KEY = "analysis-saved"  # the values the last analysis was started with (named in its result)
FORM_KEYS = ("analysis-dataset", "analysis-n", "analysis-seed", "analysis-models", "analysis-strategy")


@st.fragment(run_every="1s")
def _progress() -> None:
    """Polls the running job once a second without rerunning the page; reruns the app when it ends."""
    job_id = st.session_state.get(JOB_KEY)
    if not job_id:
        return
    current = jobs.status(job_id)
    if not current.finished:
        st.progress(current.fraction, text=f"{current.done} of {current.total} items · {current.errors} errors · "
                                           f"${current.spend:.4f}")
        st.button("Stop", key="analysis-stop", type="tertiary", icon=":material/stop_circle:",
                  on_click=jobs.stop, args=(job_id,))
        return
    st.session_state.pop(JOB_KEY)
    st.session_state["analysis-last"] = current
    data.clear_caches()
    st.rerun(scope="app")


def _last_result() -> None:
    last = st.session_state.get("analysis-last")
    if last is None:
        return
    if last.state == "done":
        saved = st.session_state.get(SAVED_KEY) or {}
        drawn = (f" on a random sample of {saved['analysis-n']} items of {saved['analysis-dataset']} (seed "
                 f"{saved['analysis-seed']})" if "analysis-seed" in saved else "")
        st.success(f"Analysis {last.message}{drawn}: " + ", ".join(
            f"{run['model']} ({run['answered']} answered)" for run in last.runs), icon=":material/task_alt:")
        # an analysis stands for no benchmark cell: its result is shown here, on its own
        try:
            result = data.analysis_results(st.session_state.get("store_path") or "", tuple(
                run["run_id"] for run in last.runs if run.get("run_id")))
        except (data.StoreMissing, data.StoreBusy):
            result = None
        if result is not None and len(result):
            st.dataframe(result[["model", "dimension", "metric", "value", "n", "eval_set_name"]], hide_index=True)
    else:
        st.error(f"Analysis failed: {last.message}")


def render(view: View, *, enabled: bool) -> None:
    """The panel, drawn only while open; it opens itself while an analysis runs or has just ended."""
    if st.session_state.get(JOB_KEY) or st.session_state.get("analysis-last"):
        st.session_state[PANEL_KEY] = True
    with layout.panel("Run a small analysis", PANEL_KEY, icon=":material/play_circle:") as shown:
        if not shown:
            return
        if not enabled:
            st.caption("Sign in to run analyses on this deployment.")
            return
        if st.session_state.get(JOB_KEY):
            _progress()
            return
        _last_result()
        try:
            stored = data.analysis_datasets(view.db)
        except (data.StoreMissing, data.StoreBusy) as exc:
            st.caption(str(exc))
            return
        if stored.empty:
            st.caption("The store holds no dataset loaded from files; run `affectlens run` or `affectlens demo` first.")
            return
        rows = {row["dataset"]: row for row in stored.to_dict("records")}
        limit = settings.max_analysis_items()
        choices = jobs.model_choices()
        if st.session_state.get("analysis-dataset") not in rows:
            st.session_state.pop("analysis-dataset", None)
        state = st.session_state
        with st.form("analysis-form", border=False):
            st.selectbox("Dataset", list(rows), key="analysis-dataset")
            st.number_input("Images", 1, limit, **({} if "analysis-n" in state else {"value": min(10, limit)}),
                            key="analysis-n", help=f"A random sample of N items (at most {limit}, "
                                                   "AFFECTLENS_MAX_ANALYSIS_ITEMS).")
            st.number_input("Sample seed", 0, 2**31 - 1, **({} if "analysis-seed" in state else {"value": 0}),
                            key="analysis-seed", help="The same seed draws the same items from the same store.")
            layout.kept_multiselect("Models", list(choices), "analysis-models", [next(iter(choices))],
                                    help="Offline baselines always; cloud models when their key is configured.")
            st.selectbox("Strategy", jobs.STRATEGIES, key="analysis-strategy")
            st.form_submit_button("Run", icon=":material/play_arrow:", type="primary", on_click=_start,
                                  args=(view.db, rows, choices))
        if st.session_state.get("analysis-refused"):
            st.warning(st.session_state.pop("analysis-refused"))


def _start(db: str, rows: dict, choices: dict) -> None:
    """Form callback (runs before the next script run): start the worker with the form's values."""
    state = st.session_state
    models = state.get("analysis-models") or []
    if not models:
        state["analysis-refused"] = "Choose at least one model."
        return
    state[SAVED_KEY] = {key: state.get(key) for key in FORM_KEYS}
    row = rows[state["analysis-dataset"]]
    stored = row.get("dimensions")
    stored = list(stored) if stored is not None else []
    dims = [d for d in ("polarity", "emotion", "valence", "arousal") if d in stored]
    request = jobs.AnalysisRequest(db=db, dataset=jobs.dataset_entry(row), models=[choices[m] for m in models],
                                   strategy=state["analysis-strategy"], n_images=int(state["analysis-n"]),
                                   sample_seed=int(state.get("analysis-seed") or 0),
                                   dimensions=dims or ["polarity", "emotion"])
    state[JOB_KEY] = jobs.start(request)
    state.pop("analysis-last", None)
