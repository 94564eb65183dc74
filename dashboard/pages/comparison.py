"""Model comparison: a metric by model with CIs, pairwise significance, agreement, and accuracy against
cost and latency with the Pareto front."""

import streamlit as st

from dashboard import data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Model comparison", "Which model is better, by how much, and is the difference real?")

with store_guard():
    st.subheader("Metric by model")
    pairs = data.scored_pairs(view.db, view.filters)
    dataset, dimension = layout.dataset_dimension(pairs, "compare", layout.NO_SCORES)
    if dataset is not None:
        scores = data.scores_long(view.db, view.filters, dataset, dimension)
        metrics = sorted(scores["metric"].unique())
        metric = layout.pick("Metric", metrics, "compare-metric", default=data.PRIMARY_METRIC.get(dimension))
        chosen = scores[scores["metric"] == metric]
        export.chart(charts.metric_with_ci(chosen, metric), f"{metric}-by-model-{dataset}-{dimension}", chosen,
                     key="metric-by-model")

    judged = data.judged_dimensions(view.db, view.filters)
    st.subheader("Pairwise significance")
    j_dataset, j_dimension = layout.dataset_dimension(judged, "compare-paired", layout.NO_JUDGED)
    if j_dataset is None:
        st.stop()
    runs = data.runs_table(view.db, view.filters)
    strategies = sorted(runs.loc[runs["dataset"] == j_dataset, "strategy"].unique())
    strategy = layout.pick("Strategy", strategies, "compare-strategy", default="zero-shot")
    st.caption("Strict accuracy (unanswered counts as wrong) on the items both models were asked. Cell: row "
               "model minus column model; stars: exact McNemar test, Holm-corrected over all pairs "
               "(* p<.05, ** p<.01, *** p<.001).")
    significance = data.pairwise_significance(view.db, view.filters, j_dataset, j_dimension, strategy)
    if significance.empty:
        st.info("Fewer than two models answered these items under this strategy.")
    else:
        significance["label"] = [f"{d:+.3f}{m}" for d, m in zip(significance["difference"], significance["mark"])]
        export.chart(charts.matrix(significance, "difference", text="label", title="accuracy difference",
                                   tooltip=["model_a", "model_b", "n_common", "only_a", "only_b",
                                            "p_value", "p_holm"]),
                     f"significance-{j_dataset}-{j_dimension}-{strategy}", significance, key="significance")
        export.table(significance.drop(columns=["label"]), f"significance-{j_dataset}-{j_dimension}-{strategy}",
                     key="significance-table")

    st.subheader("Agreement between models")
    agreement = data.model_agreement(view.db, view.filters, j_dataset, j_dimension, strategy)
    if agreement.empty:
        st.info("Fewer than two models answered the same items under this strategy.")
    else:
        agreement["label"] = agreement["kappa"].map(lambda k: f"{k:.2f}")
        group = data.group_agreement(view.db, view.filters, j_dataset, j_dimension, strategy)
        st.metric("Krippendorff's alpha, all models", f"{group['alpha']:.3f}" if group["alpha"] == group["alpha"]
                  else "–", help=f"Nominal alpha over {group['models']} models and {group['items']} items.",
                  width="content")
        st.caption("Cohen's kappa on the items both models answered (1: always the same label; 0: chance).")
        export.chart(charts.matrix(agreement, "kappa", text="label", title="Cohen's kappa", scheme="viridis",
                                   domain_mid=None, tooltip=["model_a", "model_b", "n_common", "agreement", "kappa"]),
                     f"agreement-{j_dataset}-{j_dimension}-{strategy}", agreement, key="agreement")

    st.subheader("Accuracy against cost and latency")
    quality = data.cost_quality(view.db, view.filters, j_dataset, j_dimension)
    st.caption("Accuracy over answered items; the dashed line joins the Pareto front (nothing is both cheaper "
               "or faster and more accurate).")
    left, right = st.columns(2)
    with left:
        export.chart(charts.pareto(quality, "cost_per_item_usd", "pareto_cost", "cost per item (USD)"),
                     f"pareto-cost-{j_dataset}-{j_dimension}", quality, key="pareto-cost")
    with right:
        export.chart(charts.pareto(quality, "mean_latency_ms", "pareto_latency", "mean latency per call (ms)"),
                     f"pareto-latency-{j_dataset}-{j_dimension}", quality, key="pareto-latency")
    export.table(quality, f"cost-quality-{j_dataset}-{j_dimension}", key="cost-quality")
