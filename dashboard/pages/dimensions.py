"""Dimensions: confusion matrices, per-class F1, the valence-arousal circumplex, intensity bias and calibration."""

import streamlit as st

from dashboard import data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Dimensions", "Where each model goes wrong, dimension by dimension.")

with store_guard():
    runs = data.runs_table(view.db, view.filters)
    if runs.empty:
        st.info("No runs match the filters.")
        st.stop()
    top = st.columns(3)
    datasets = data.datasets_table(view.db, view.filters)
    continuous = set(datasets.loc[datasets["dimensions"].fillna("").str.contains("valence"), "dataset"])
    counts = runs["dataset"].value_counts()  # open on the dataset with most runs, preferring valence gold
    default = max(counts.index, key=lambda d: (d in continuous, counts[d]))
    dataset = layout.pick("Dataset", sorted(runs["dataset"].unique()), "dims-dataset", default=default,
                          container=top[0])
    in_dataset = runs[runs["dataset"] == dataset]
    model = layout.pick("Model", sorted(in_dataset["model"].unique()), "dims-model", container=top[1])
    strategy = layout.pick("Strategy", sorted(in_dataset.loc[in_dataset["model"] == model, "strategy"].unique()),
                           "dims-strategy", default="zero-shot", container=top[2])

    categorical = data.judged_dimensions(view.db, view.filters)
    dims = categorical.loc[categorical["dataset"] == dataset, "dimension"].tolist()
    st.subheader("Confusion matrix and per-class F1")
    if not dims:
        st.info("This dataset has no categorical gold labels with predictions.")
    else:
        dimension = layout.pick("Dimension", dims, "dims-dimension", default="emotion")
        matrix = data.confusion(view.db, view.filters, dataset, dimension, model, strategy)
        left, right = st.columns([3, 2])
        with left:
            if matrix.empty:
                st.info(f"{model} · {strategy} has no {dimension} answers on {dataset}.")
            else:
                export.chart(charts.confusion_heatmap(matrix), f"confusion-{dataset}-{dimension}-{model}-{strategy}",
                             matrix, key="confusion")
        with right:
            scores = data.per_class(view.db, view.filters, dataset, dimension, model, strategy)
            if len(scores):
                export.chart(charts.per_class_bars(scores), f"per-class-f1-{dataset}-{dimension}-{model}-{strategy}",
                             scores, key="per-class")

    st.subheader("Valence and arousal on the circumplex")
    points = data.valence_arousal(view.db, view.filters, dataset, model, strategy, 2000)
    if points.empty:
        st.info(f"No item of {dataset} has both gold and predicted valence and arousal from {model} · {strategy}.")
    else:
        taxonomy = next(iter(datasets.loc[datasets["dataset"] == dataset, "taxonomy"]), None)
        st.caption(f"{len(points)} items (a fixed sample when there are more). Hollow: gold; filled: predicted; "
                   "labels: the taxonomy's positions on Russell's circumplex. Valence in [-1, 1], arousal in [0, 1].")
        export.chart(charts.circumplex(points, data.circumplex(taxonomy)),
                     f"circumplex-{dataset}-{model}-{strategy}", points, key="circumplex")

    st.subheader("Bias on continuous dimensions")
    bias = data.continuous_bias(view.db, view.filters, dataset)
    if bias.empty:
        st.info("No continuous predictions (valence, arousal, intensity) with gold on this dataset.")
    else:
        st.caption("Mean of predicted minus gold on the normalised scale (valence [-1, 1], arousal and intensity "
                   "[0, 1]); positive means the model overestimates.")
        export.chart(charts.bias_bars(bias), f"bias-{dataset}", bias, key="bias")
    intensity = data.intensity_levels(view.db, view.filters, dataset)
    if len(intensity):
        st.caption("Predicted intensity levels (source scale).")
        export.chart(charts.intensity_levels(intensity), f"intensity-{dataset}", intensity, key="intensity")

    st.subheader("Calibration of stated confidence")
    if dims:
        bins = data.calibration(view.db, view.filters, dataset, dimension, 10)
        if bins.empty:
            st.info("No answer in this selection stated a confidence.")
        else:
            st.caption("Accuracy against stated confidence in ten bins; the diagonal is perfect calibration. "
                       "ECE (expected calibration error) per model in the tooltip and table.")
            export.chart(charts.reliability(bins), f"calibration-{dataset}-{dimension}", bins, key="calibration")
            ece = bins.groupby(["model", "strategy"], as_index=False).agg(ece=("ece", "first"), answers=("n", "sum"))
            export.table(ece, f"ece-{dataset}-{dimension}", key="ece")
