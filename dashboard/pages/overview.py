"""Overview: what the store holds, the results matrix (models x datasets), and a leaderboard per dataset, evaluation
set and dimension with 95% CIs and coverage."""

import streamlit as st

from dashboard import data, exposure
from dashboard.components import charts, export, layout, matrix
from dashboard.state import current_view, store_guard
from engine.metrics import cells as ranking

SPEND_LABEL = {"spend_usd": "spend (USD)"}

view = current_view()
layout.header("Overview", f"Results store `{exposure.public_path(view.db)}`")


@st.fragment
def results_matrix() -> None:
    """The results matrix with its metric and strategy pickers: a picker change reruns this section only."""
    with store_guard():
        matrix.render(view)


@st.fragment
def leaderboard() -> None:
    """The leaderboard with its own scope pickers: a picker change reruns this section only (the summary,
    matrix and tables above and below are not rebuilt or redrawn)."""
    with store_guard():
        st.subheader("Leaderboard")
        scopes = data.scopes(view.db, view.filters)
        chosen = layout.scope(scopes, "overview", layout.NO_SCORES)
        if chosen is not None:
            board = data.leaderboard(view.db, view.filters, chosen)
            metric = board["metric"].iloc[0] if len(board) else "accuracy_strict"
            st.caption(f"**{layout.scope_caption(scopes, chosen)}** · {chosen.dimension}: {metric} with its 95% "
                       f"CI (bootstrap; Wilson where the bootstrap degenerates), coverage (share of the set answered) "
                       f"and n. Ranked on strict accuracy by default (an unanswered item counts as wrong); on any "
                       f"other metric only rows with coverage ≥ {ranking.MIN_COVERAGE:.0%} and n ≥ {ranking.MIN_N} "
                       f"are ranked — the others are listed last, unranked. Each row is the newest complete run of "
                       f"its cell.")
            table_tab, chart_tab = st.tabs(["Table", "Chart"], key="leaderboard_view", bind="query-params")
            if table_tab.open:  # only the open tab is drawn (the chart's library loads when it is first asked for)
                with table_tab:
                    _leaderboard_table(board, metric, chosen)
            if chart_tab.open and len(board):
                with chart_tab:
                    export.chart(charts.metric_with_ci(board, metric), f"leaderboard-{chosen.dataset}-"
                                 f"{chosen.dimension}", key="leaderboard-chart")


def _leaderboard_table(board, metric: str, chosen) -> None:
    """The leaderboard's rows: rank, value with its CI, coverage, n and the run that stands for the cell."""
    shown = board.assign(**{"95% CI": [layout.ci_text(v, lo, hi) for v, lo, hi in
                                       zip(board["value"], board["ci_low"], board["ci_high"])]})
    shown = shown.rename(columns={"value": metric})
    ordered = ["rank", "model", "strategy", metric, "95% CI", "coverage", "n", "n_total", "derived", "run_id"]
    rest = [c for c in shown.columns if c not in ordered + ["metric", "ci_low", "ci_high", "eligible", "best",
                                                             "ci_method"]]
    export.light_table(shown[[c for c in ordered if c in shown.columns] + rest],
                       f"leaderboard-{chosen.dataset}-{chosen.dimension}", key="leaderboard", max_rows=None,
                       formats={metric: "{:.4f}", "rank": "{:.0f}"}, missing={"rank": "below threshold"},
                       bars=["coverage"])


with store_guard():
    summary = data.store_summary(view.db, view.filters)
    layout.figures([
        ("datasets", layout.compact(summary["datasets"])), ("items", layout.compact(summary["items"])),
        ("models", layout.compact(summary["models"])), ("strategies", layout.compact(summary["strategies"])),
        ("runs", layout.compact(summary["runs"])), ("responses", layout.compact(summary["responses"])),
        ("predictions", layout.compact(summary["predictions"])), ("spent", layout.usd(summary["spend_usd"]))])

    st.subheader("Results matrix")
    results_matrix()

    leaderboard()

    st.subheader("What the store holds")
    datasets_tab, spend_tab = st.tabs(["Datasets", "Spend by model"], key="store_view", bind="query-params")
    if datasets_tab.open:
        with datasets_tab:
            export.light_table(data.datasets_table(view.db, view.filters), "datasets", key="datasets",
                               formats={"spend_usd": layout.usd}, labels=SPEND_LABEL)
    if spend_tab.open:
        with spend_tab:
            export.light_table(data.spend_by_model(view.db, view.filters), "spend-by-model", key="spend",
                               formats={"spend_usd": layout.usd, "mean_latency_ms": "{:,.0f}"},
                               labels={**SPEND_LABEL, "mean_latency_ms": "mean latency (ms)"})
