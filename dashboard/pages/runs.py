"""Runs: provenance, configuration, cost, duration and errors of every run."""

import pandas as pd
import streamlit as st

from dashboard import data, exposure
from dashboard.components import address, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Runs", "Every run with its provenance: what was asked, of which model, how it went and what it cost.")

with store_guard():
    runs = data.runs_table(view.db, view.filters)
    if runs.empty:
        st.info("No runs match the filters.")
        st.stop()
    statuses = sorted(runs["status"].fillna("unknown").unique())
    linked = address.from_address("status")
    if linked is not None or "runs-status" not in st.session_state:
        st.session_state["runs-status"] = [s for s in (linked or "").split(",") if s in statuses]
    chosen_status = st.pills("Status", statuses, selection_mode="multi", key="runs-status",
                             help="Show only runs with these statuses; none chosen: every run.")
    address.write("status", list(chosen_status or ()))
    if chosen_status:
        runs = runs[runs["status"].fillna("unknown").isin(chosen_status)].reset_index(drop=True)
    failed = int((runs["status"] == "failed").sum())
    st.caption(f"{len(runs):,} runs" + (f" · **{failed} failed** (red; the reason first)" if failed else "")
               + ". Run duration: first to last stored call of the run; call time: the calls' summed latency; "
                 "invocation: the whole command's wall time, shared by the runs it started.")
    ordered = ["status", "message", "model", "strategy", "dataset", "eval_set_name", "purpose", "run_duration_s",
               "call_time_s", "invocation_s"]
    runs = runs[ordered + [c for c in runs.columns if c not in ordered]]
    shown = runs.style.apply(lambda row: ["background-color: #fde2e1; color: #7a1010"
                                          if row["status"] == "failed" else "" for _ in row], axis=1)
    export.table(shown, "runs", key="runs", column_config={
        "spend_usd": st.column_config.NumberColumn("spend (USD)", format="$%.4f"),
        "run_duration_s": st.column_config.NumberColumn("run duration (s)", format="%.1f"),
        "call_time_s": st.column_config.NumberColumn("call time (s)", format="%.1f"),
        "invocation_s": st.column_config.NumberColumn("invocation (s)", format="%.1f"),
        "mean_latency_ms": st.column_config.NumberColumn("mean latency (ms)", format="%.0f"),
        "started_at": st.column_config.DatetimeColumn("started"),
        "finished_at": st.column_config.DatetimeColumn("finished")})

    labels = {row.run_id: f"{row.model} · {row.strategy} · {row.dataset} ({row.run_id[:10]})"
              for row in runs.itertuples()}
    run_id = layout.pick("Run", list(labels), "runs-selected", param="show_run", format_func=labels.get)
    detail = data.run_detail(view.db, run_id)
    if detail is None:
        st.stop()
    row = runs[runs["run_id"] == run_id].iloc[0]
    if isinstance(row["message"], str) and row["message"]:
        (st.error if row["status"] == "failed" else st.warning)(row["message"], icon=":material/info:")
    st.caption(f"Purpose: **{row['purpose']}** · evaluation set: **{row['eval_set_name']}**"
               + (f" (n = {int(row['eval_set_size'])})" if pd.notna(row["eval_set_size"]) else "")
               + (" · stands for its cell" if row["stands_for_cell"] else " · history (not shown on the result pages "
                  "unless pinned in the sidebar's run set)"))
    cells = st.columns(4)
    cells[0].metric("Status", row["status"] or "–", border=True)
    cells[1].metric("Run duration", f"{row['run_duration_s']:.1f} s" if row["run_duration_s"] == row["run_duration_s"]
                    else "–", border=True, help="First to last stored call of this run.")
    cells[2].metric("Spend", layout.usd(row["spend_usd"]), border=True)
    cells[3].metric("Errors / calls", f"{row['errors']:,} / {row['calls']:,}", border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("**Configuration** (secrets removed)")
        st.json(exposure.public_record(detail["config"] or {}), expanded=1)
    with right:
        st.markdown("**Provenance**")
        st.json(exposure.public_record(detail["provenance"] or {}), expanded=1)
    savings = data.cache_savings(view.db, run_id)
    if not savings.empty and (savings["cached_tokens"].iloc[0] or savings["batch_calls"].iloc[0]):
        st.markdown("**Prompt caching and batch pricing**")
        export.table(savings, f"savings-{run_id[:12]}", key="run-savings", column_config={
            "spend_usd": st.column_config.NumberColumn("spend (USD)", format="$%.4f"),
            "saving_usd": st.column_config.NumberColumn("saved (USD)", format="$%.4f")})
    batches = data.run_batches(view.db, run_id)
    if not batches.empty:
        st.markdown("**Vendor batches** (batch mode; a rerun of the run command collects pending ones)")
        export.table(batches, f"batches-{run_id[:12]}", key="run-batches", column_config={
            "worst_cost_usd": st.column_config.NumberColumn("worst case (USD)", format="$%.4f"),
            "cost_usd": st.column_config.NumberColumn("cost (USD)", format="$%.4f")})
    st.markdown("**Errors by class**")
    if detail["errors"].empty:
        st.caption("No failed calls." if row["calls"] else "No call was stored for this run"
                   + (": the reason it failed is above." if row["status"] == "failed" else "."))
    else:
        export.table(detail["errors"], f"errors-{run_id[:12]}", key="run-errors")
    st.markdown("**Parse outcomes by dimension**")
    export.table(detail["parses"], f"parses-{run_id[:12]}", key="run-parses")
