"""Slices: a metric per slice of item metadata, image property (tertiles) or gold class, for every model and
strategy, with intervals and n; the worst slices found automatically; each slice opens the gallery filtered to it."""

from urllib.parse import urlencode

import streamlit as st

from dashboard import data, slices_data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard
from engine.metrics.cells import DEFAULT_METRIC

view = current_view()
layout.header("Slices", "Where each model is weaker: the metric on each part of the data, and the worst parts.")


def gallery_link(chosen, model: str, key: str, value: str) -> str:
    """The gallery's address for one slice of one model's answers (relative, so it works under any base path)."""
    return "gallery?" + urlencode({"view_dataset": chosen.dataset, "eval_set": chosen.eval_set,
                                   "dimension": chosen.dimension, "view_model": model, "slice_key": key,
                                   "slice": value})


with store_guard():
    scopes = data.scopes(view.db, view.filters)
    chosen = layout.scope(scopes, "slices", layout.NO_SCORES)
    if chosen is None:
        st.stop()
    keys = slices_data.slice_keys(view.db, view.filters, chosen)
    if not keys:
        st.info("The items of this set have no metadata key with 2 or more values, no image properties and no gold "
                "classes to slice by.")
        st.stop()
    metrics = sorted(set(data.scores_long(view.db, view.filters, chosen)["metric"]))
    left, middle, right = st.columns(3)
    key = layout.pick("Slice by", keys, "slices-key", param="slice_key", container=left,
                      format_func=lambda k: "gold class or value" if k == slices_data.GOLD_KEY else k)
    metric = layout.pick("Metric", metrics, "slices-metric", param="metric", container=middle,
                         default=DEFAULT_METRIC.get(chosen.dimension, "accuracy_strict"))
    min_n = int(right.number_input("Worst slices: at least n items", 1, 10_000, value=slices_data.DEFAULT_MIN_N,
                                 key="slices-min-n"))
    with st.spinner("Scoring every slice…"):
        report = slices_data.slice_report(view.db, view.filters, chosen, key, metric, min_n)
    st.caption(f"Over **{layout.scope_caption(scopes, chosen)}** · {chosen.dimension}; one run per model and strategy "
               f"(the newest complete one, or the one pinned). {metric} with a 95% bootstrap CI "
               f"({slices_data.RESAMPLES} resamples) within each slice; numeric keys are cut into tertiles (low / mid / "
               "high, edges in the name).")

    st.subheader(f"{metric} by {key}")
    table = report.table
    if table.empty:
        st.info("No cell of this scope has answers to slice.")
    else:
        table = table.assign(cell=table["model"] + " · " + table["strategy"],
                             gallery=[gallery_link(chosen, m, key, v) for m, v in zip(table["model"], table["slice"])])
        export.chart(charts.slice_intervals(table, key, metric),
                     f"slices-{chosen.dataset}-{chosen.dimension}-{key}-{metric}", table.drop(columns=["gallery"]),
                     key="slices-chart")
        st.dataframe(table.drop(columns=["cell"]), hide_index=True, key="table-slices",
                     height=35 * (len(table) + 1) + 3, column_config={
                         "value": st.column_config.NumberColumn(metric, format="%.3f"),
                         "ci_low": st.column_config.NumberColumn(format="%.3f"),
                         "ci_high": st.column_config.NumberColumn(format="%.3f"),
                         "gallery": st.column_config.LinkColumn("gallery", display_text="open items")})

    st.subheader("Worst slices")
    worst = report.worst
    if worst.empty:
        st.info(f"No slice of any key has at least {min_n} items here; lower the minimum to see smaller slices.")
    else:
        st.caption(f"Over every key, the slices where a model and strategy is furthest below its own overall {metric} "
                   f"(gap: slice − overall, negative is worse), slices of at least {min_n} items, worst first.")
        worst = worst.assign(gallery=[gallery_link(chosen, m, k, v)
                                      for m, k, v in zip(worst["model"], worst["key"], worst["slice"])])
        shown = worst.head(50)
        st.dataframe(shown, hide_index=True, key="table-worst-slices", height=35 * (len(shown) + 1) + 3,
                     column_config={"value": st.column_config.NumberColumn(metric, format="%.3f"),
                                    "overall": st.column_config.NumberColumn(format="%.3f"),
                                    "gap": st.column_config.NumberColumn(format="%+.3f"),
                                    "ci_low": st.column_config.NumberColumn(format="%.3f"),
                                    "ci_high": st.column_config.NumberColumn(format="%.3f"),
                                    "gallery": st.column_config.LinkColumn("gallery", display_text="open items")})
        st.download_button("CSV", export.table_csv(worst.drop(columns=["gallery"])),
                           file_name=f"worst-slices-{chosen.dataset}-{chosen.dimension}-{metric}.csv", mime="text/csv",
                           key="csv-worst-slices", icon=":material/download:", on_click="ignore", type="tertiary")
