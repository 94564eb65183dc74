"""Prompt ablations: each strategy's effect against zero-shot per model, failures and tokens per strategy,
and label-order position bias where candidate labels were shuffled."""

import streamlit as st

from dashboard import data
from dashboard.components import charts, export, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Prompt ablations", "What each prompt strategy changes, for each model.")

with store_guard():
    scopes = data.judged_dimensions(view.db, view.filters)
    chosen = layout.scope(scopes, "ablate", layout.NO_JUDGED)
    if chosen is None:
        st.stop()
    dataset, dimension = chosen.dataset, chosen.dimension
    st.caption(f"Over **{layout.scope_caption(scopes, chosen)}**; each model and strategy is the newest complete "
               "benchmark run of its cell (probes and occlusion runs are on the Explain page).")
    cells = data.cell_models(view.db, view.filters, chosen)
    baseline = layout.pick("Baseline strategy", sorted(cells["strategy"].unique()), "ablate-baseline", param="baseline",
                           default="zero-shot")

    st.subheader(f"Difference from {baseline}")
    effects = data.strategy_effects(view.db, view.filters, chosen, baseline)
    blind = data.prompt_blind_models(view.db, view.filters, chosen)
    left_out = sorted(set(effects["model"]) & set(blind))
    effects = data.without_models(effects, blind)
    if left_out:
        st.info("Left out: " + ", ".join(f"**{m}** ({blind[m]})" for m in left_out) + ". These adapters answer "
                "from the image alone and never read the prompt, so every strategy gives them the same answers "
                "and a difference of exactly 0; the Holm correction runs over the cells shown. Their failures and "
                "tokens are still shown below.",
                icon=":material/filter_alt:")
    if effects.empty:
        st.info(f"No model that reads the prompt ran both {baseline} and another strategy on this set."
                if left_out else f"No model ran both {baseline} and another strategy on this set.")
    else:
        st.caption(f"Strict accuracy of the strategy minus the same model's {baseline} accuracy on the set; stars: "
                   f"exact McNemar test, Holm-corrected over {data.HOLM_FAMILY['ablation']} "
                   "(* p<.05, ** p<.01, *** p<.001).")
        effects["label"] = [f"{d:+.3f}{m}" for d, m in zip(effects["difference"], effects["mark"])]
        export.chart(charts.matrix(effects, "difference", text="label", x="model", y="strategy",
                                   title=f"accuracy - {baseline}",
                                   tooltip=["model", "strategy", "n_common", "accuracy", "accuracy_baseline",
                                            "gains", "losses", "p_value", "p_holm"]),
                     f"strategy-effects-{dataset}-{dimension}", key="effects")
        export.table(effects.drop(columns=["label"]), f"strategy-effects-{dataset}-{dimension}", key="effects-table")

    st.subheader("Failures, refusals and tokens per strategy")
    failures = data.strategy_failures(view.db, view.filters, chosen)
    if failures.empty:
        st.info("No predictions match the filters.")
    else:
        export.chart(charts.stacked_shares(failures, ["unparsed", "refused", "api_error"]),
                     f"failures-{dataset}-{dimension}", key="failures")
        left, right = st.columns(2)
        with left:
            export.chart(charts.grouped_bars(failures, "output_tokens_per_item", "output tokens per item"),
                         f"output-tokens-{dataset}-{dimension}", key="tokens")
        with right:
            export.chart(charts.grouped_bars(failures, "calls_per_item", "calls per item"),
                         f"calls-{dataset}-{dimension}", key="calls")
        export.table(failures, f"strategy-failures-{dataset}-{dimension}", key="failures-table")

    st.subheader("Label-order position bias")
    positions = data.position_bias(view.db, view.filters, chosen)
    if positions.empty:
        st.info("Not measured here: run a strategy with `shuffle_labels: true` so the candidate labels are "
                "presented in a different order per item.")
    else:
        st.caption("Share of answers choosing the label shown at each position (dashed: no preference). "
                   "p_uniform: chi-square test against equal shares.")
        export.chart(charts.position_bias(positions), f"position-bias-{dataset}-{dimension}", key="positions")
        export.table(positions, f"position-bias-{dataset}-{dimension}", key="positions-table")
