"""Model comparison: a metric by model with CIs, pairwise significance, agreement, and accuracy against
cost and latency with the Pareto front."""

import pandas as pd
import streamlit as st

from dashboard import analysis, data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Model comparison", "Which model is better, by how much, and is the difference real?")


@st.fragment
def by_strategy(chosen) -> None:
    """Pairwise significance and agreement under the chosen strategy: a strategy change reruns this section
    only (the metric chart above and the cost charts below do not depend on it)."""
    with store_guard():
        st.subheader("Pairwise significance")
        cells = data.cell_models(view.db, view.filters, chosen)
        strategy = layout.pick("Strategy", sorted(cells["strategy"].unique()), "compare-strategy",
                               param="view_strategy", default="zero-shot")
        st.caption("Strict accuracy (unanswered counts as wrong) on the items of the set. Cell: row model minus column "
                   f"model; stars: exact McNemar test, Holm-corrected over {data.HOLM_FAMILY['pairwise']} "
                   "(* p<.05, ** p<.01, *** p<.001).")
        significance = data.pairwise_significance(view.db, view.filters, chosen, strategy)
        if significance.empty:
            st.info("Fewer than two models answered these items under this strategy.")
        else:
            significance["label"] = [f"{d:+.3f}{m}" for d, m in zip(significance["difference"], significance["mark"])]
            significance["p"] = significance["p_value"].map(analysis.p_text)
            significance["p (Holm)"] = significance["p_holm"].map(analysis.p_text)
            # row minus column: one triangle says it all (the other is the same with the sign flipped); the table
            # may list a pair in one order or in both, so keep each unordered pair once
            pair = [tuple(sorted(p)) for p in zip(significance["model_a"], significance["model_b"])]
            triangle = significance[~pd.Series(pair, index=significance.index).duplicated()]
            export.chart(charts.matrix(triangle, "difference", text="label", title="accuracy difference",
                                       tooltip=["model_a", "model_b", "n_common", "only_a", "only_b",
                                                "p_value", "p_holm"]),
                         f"significance-{chosen.dataset}-{chosen.dimension}-{strategy}", key="significance")
            export.light_table(significance.drop(columns=["label"]),
                               f"significance-{chosen.dataset}-{chosen.dimension}-{strategy}",
                               key="significance-table", formats={"p_value": "{:.2e}", "p_holm": "{:.2e}"})

        st.subheader("Agreement between models")
        agreement = data.model_agreement(view.db, view.filters, chosen, strategy)
        if agreement.empty:
            st.info("Fewer than two models answered the same items under this strategy.")
        else:
            agreement["label"] = agreement["kappa"].map(lambda k: f"{k:.2f}")
            group = data.group_agreement(view.db, view.filters, chosen, strategy)
            st.metric("Krippendorff's alpha, all models",
                      f"{group['alpha']:.3f}" if group["alpha"] == group["alpha"] else "–",
                      help=f"Nominal alpha over {group['models']} models and {group['items']} items.",
                      width="content")
            st.caption("Cohen's kappa on the items both models answered (1: always the same label; 0: chance).")
            export.chart(charts.matrix(agreement, "kappa", text="label", title="Cohen's kappa", domain=(-1, 1),
                                       domain_mid=0.0,
                                       tooltip=["model_a", "model_b", "n_common", "agreement", "kappa"]),
                         f"agreement-{chosen.dataset}-{chosen.dimension}-{strategy}", agreement, key="agreement")


with store_guard():
    st.subheader("Metric by model")
    scopes = data.scopes(view.db, view.filters)
    chosen = layout.scope(scopes, "compare", layout.NO_SCORES)
    if chosen is None:
        st.stop()
    st.caption(f"Over **{layout.scope_caption(scopes, chosen)}**; each cell is the newest complete run of its "
               "model and strategy.")
    scores = data.scores_long(view.db, view.filters, chosen)
    metrics = sorted(scores["metric"].unique())
    metric = layout.pick("Metric", metrics, "compare-metric", param="metric",
                         default=data.PRIMARY_METRIC.get(chosen.dimension))
    picked = scores[scores["metric"] == metric]
    export.chart(charts.metric_with_ci(picked, metric), f"{metric}-by-model-{chosen.dataset}-{chosen.dimension}",
                 picked, key="metric-by-model")
    if chosen.dimension not in data.CATEGORICAL:
        st.info("Pairwise tests, agreement and cost against accuracy are drawn for categorical dimensions "
                "(polarity, emotion); choose one above.")
        st.stop()

    by_strategy(chosen)

    st.subheader("Accuracy against cost and latency")
    quality = data.cost_quality(view.db, view.filters, chosen)
    spent = quality["cost_per_item_usd"].fillna(0).gt(0)
    st.caption("Strict accuracy (unanswered counts as wrong); the dashed line joins the Pareto front (nothing is "
               "both cheaper or faster and more accurate). Cost in US dollars per 1,000 items of the set"
               + ("." if spent.all() else
                  f"; {', '.join(sorted(quality.loc[~spent, 'model'].unique()))} recorded no spend (local or "
                  "offline models, or calls served from the cache) and sit at $0."))
    left, right = st.columns(2)
    with left:
        export.chart(charts.pareto(quality, "cost_per_item_usd", "pareto_cost", "cost per 1,000 items (USD)",
                                   quality="accuracy_strict", per_thousand=True),
                     f"pareto-cost-{chosen.dataset}-{chosen.dimension}", key="pareto-cost")
    with right:
        export.chart(charts.pareto(quality, "mean_latency_ms", "pareto_latency", "mean latency per call (ms)",
                                   quality="accuracy_strict"),
                     f"pareto-latency-{chosen.dataset}-{chosen.dimension}", key="pareto-latency")
    export.table(quality, f"cost-quality-{chosen.dataset}-{chosen.dimension}", key="cost-quality")
