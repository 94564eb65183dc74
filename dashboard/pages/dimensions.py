"""Dimensions: confusion matrices, per-class F1, the valence-arousal circumplex, intensity bias and calibration."""

import streamlit as st

from dashboard import data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Dimensions", "Where each model goes wrong, dimension by dimension.")


@st.fragment
def by_model(chosen) -> None:
    """The model and strategy pickers and what depends on them (the confusion matrix and per-class F1, or the
    circumplex): a picker change reruns this section only (calibration and bias cover every model)."""
    with store_guard():
        cells = data.cell_models(view.db, view.filters, chosen)
        top = st.columns(2)
        model = layout.pick("Model", sorted(cells["model"].unique()), "dims-model", param="view_model",
                             container=top[0])
        strategy = layout.pick("Strategy", sorted(cells.loc[cells["model"] == model, "strategy"].unique()),
                               "dims-strategy", param="view_strategy", default="zero-shot", container=top[1])
        if chosen.dimension in data.CATEGORICAL:
            st.subheader("Confusion matrix and per-class F1")
            matrix = data.confusion(view.db, view.filters, chosen, model, strategy)
            left, right = st.columns([3, 2])
            with left:
                if matrix.empty:
                    st.info(f"{model} · {strategy} has no {chosen.dimension} answers in this set.")
                else:
                    tied = int(matrix["tied"].sum())
                    st.caption(f"Rows: gold; columns: the answer. {data.OUT_OF_SET}: the answer named a word "
                               f"outside the label set; {data.UNPARSED}: no label could be read."
                               + (f" {tied:,} items have a tied gold (several majority labels): each counts under the "
                                  "answer when it is one of them, else under the first, as the engine scores accuracy."
                                  if tied else ""))
                    export.chart(charts.confusion_heatmap(matrix),
                                 f"confusion-{chosen.dataset}-{chosen.dimension}-{model}-{strategy}", matrix,
                                 key="confusion")
            with right:
                scores = data.per_class(view.db, view.filters, chosen, model, strategy)
                if scores.empty or not scores["f1"].fillna(0).any():
                    st.info("No class has a correct answer here: every F1 is 0 or undefined, so there is no bar to "
                            "draw. The confusion matrix shows where the answers went.")
                elif len(scores):
                    export.chart(charts.per_class_bars(scores),
                                 f"per-class-f1-{chosen.dataset}-{chosen.dimension}-{model}-{strategy}", scores,
                                 key="per-class")
        else:
            datasets = data.datasets_table(view.db, view.filters)
            st.subheader("Valence and arousal on the circumplex")
            points = data.valence_arousal(view.db, view.filters, chosen.dataset, chosen.eval_set, model, strategy,
                                          2000)
            if points.empty:
                st.info(f"No item of this set has both gold and predicted valence and arousal from {model} · "
                        f"{strategy}.")
            else:
                taxonomy = next(iter(datasets.loc[datasets["dataset"] == chosen.dataset, "taxonomy"]), None)
                raw = st.toggle("Show every item", key="dims-raw-points", help="The items themselves, faintly, under "
                                                                                "the per-class means.")
                st.caption(f"{len(points)} items (a fixed sample when there are more), grouped by gold class: circle = "
                           "mean gold position, triangle = mean predicted position, bars = ±1 standard deviation; grey "
                           "labels: the taxonomy's positions on Russell's circumplex. Valence in [-1, 1], arousal in "
                           "[0, 1].")
                export.chart(charts.circumplex(points, data.circumplex(taxonomy), raw=raw),
                             f"circumplex-{chosen.dataset}-{model}-{strategy}", points, key="circumplex")


with store_guard():
    scopes = data.scopes(view.db, view.filters)
    chosen = layout.scope(scopes, "dims", "No scored predictions match the filters.")
    if chosen is None:
        st.stop()
    st.caption(f"Over **{layout.scope_caption(scopes, chosen)}**; each model and strategy is the newest complete "
               "run of its cell.")

    by_model(chosen)

    if chosen.dimension in data.CATEGORICAL:
        st.subheader("Calibration of stated confidence")
        bins = data.calibration(view.db, view.filters, chosen, 10)
        if bins.empty:
            st.info("No answer in this selection stated a confidence.")
        else:
            st.caption("One panel per model and strategy: accuracy against stated confidence in ten equal-width bins "
                       "(the number over each point: answers in the bin); the dashed diagonal is perfect calibration; "
                       "ECE (expected calibration error) in each panel's title and in the table.")
            export.chart(charts.reliability(bins), f"calibration-{chosen.dataset}-{chosen.dimension}", bins,
                         key="calibration")
            ece = bins.groupby(["model", "strategy"], as_index=False).agg(ece=("ece", "first"), answers=("n", "sum"))
            export.table(ece, f"ece-{chosen.dataset}-{chosen.dimension}", key="ece")
    else:
        st.subheader("Bias on continuous dimensions")
        bias = data.continuous_bias(view.db, view.filters, chosen.dataset, chosen.eval_set)
        bias_ci = data.bias_scores(view.db, view.filters, chosen.dataset, chosen.eval_set)
        if bias.empty:
            st.info("No continuous predictions (valence, arousal, intensity) with gold in this set.")
        else:
            st.caption("Mean of predicted minus gold (positive: the model overestimates) with its 95% CI and n, each "
                       "dimension on its own axis (normalised: valence [-1, 1], arousal [0, 1]); the black line is 0. "
                       "The table gives it on the dataset's own scale too (column unit).")
            if len(bias_ci):
                export.chart(charts.bias_bars(bias_ci), f"bias-{chosen.dataset}", key="bias")
            export.table(bias, f"bias-{chosen.dataset}", key="bias-table")
        intensity = data.intensity_levels(view.db, view.filters, chosen.dataset, chosen.eval_set)
        if len(intensity):
            st.caption("Predicted intensity levels (source scale).")
            export.chart(charts.intensity_levels(intensity), f"intensity-{chosen.dataset}", intensity, key="intensity")
