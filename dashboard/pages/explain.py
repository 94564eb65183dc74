"""Explain: what each model looked at (occlusion and attention maps side by side), how it argued (cues cited,
reasoning that contradicts the answer), and how its answers move when the image is perturbed (probes)."""

import streamlit as st

from dashboard import explain_data
from dashboard.components import address, charts, export, heatmaps, labels, layout
from dashboard.state import current_view, store_guard

view = current_view()
layout.header("Explain", "What models look at, how they argue, and what their answers depend on.")


def _selected(frame, column: str, chosen: tuple[str, ...]):
    return frame[frame[column].isin(chosen)] if chosen and column in frame else frame


def _stars(p: float) -> str:
    return "" if p != p else "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def heatmap_section() -> None:
    everything = explain_data.overview(view.db)
    overview = _selected(_selected(everything, "dataset", view.filters.datasets), "model", view.filters.models)
    if overview.empty:
        st.info("No maps match the filters." if len(everything) else
                "No maps yet. Occlusion (any model): `affectlens explain occlusion --config CONFIG.yaml --items "
                "ID1,ID2`; attention (local models): `affectlens explain attention --model PATH --dataset PATH "
                "--items ID1,ID2`.")
        return
    left, right = st.columns(2)
    dataset = layout.pick("Dataset", sorted(overview["dataset"].unique()), "explain-map-dataset", param="map_dataset",
                          container=left)
    items = explain_data.items(view.db, dataset)
    if view.filters.models:
        items = items[[bool(set(m) & set(view.filters.models)) for m in items["models"]]]
    if items.empty:
        st.info("No maps of the selected models on this dataset.")
        return
    names = {row.item_id: f"{row.item_id} ({row.n_maps} maps)" for row in items.itertuples()}
    item_id = layout.pick("Item", list(names), "explain-map-item", param="map_item", container=right, format_func=names.get)
    heatmaps.item_heatmaps(view.db, dataset, item_id, models=view.filters.models, key="explain-maps", blur=view.blur)
    with st.expander("What the store holds"):
        export.table(overview, "explanations-overview", key="explain-overview")


def reasoning_section() -> None:
    stored = explain_data.reasoning_datasets(view.db)
    datasets = [d for d in stored if not view.filters.datasets or d in view.filters.datasets]
    if not datasets:
        st.info("No reasoning traces match the filters." if stored else
                "No reasoning traces yet: run a strategy that reasons (cot, scene, self-consistency).")
        return
    left, right = st.columns(2)
    dataset = layout.pick("Dataset", datasets, "explain-reasoning-dataset", param="reasoning_dataset",
                          container=left)
    baseline = address.from_address("cue_baseline") or st.session_state.get("explain-baseline", "zero-shot")
    tables = explain_data.reasoning(view.db, dataset, baseline)
    cues = _selected(_selected(tables["cues"], "model", view.filters.models), "strategy", view.filters.strategies)
    strategies = sorted(cues["strategy"].unique())
    layout.pick("Baseline for the cue shift", strategies, "explain-baseline", param="cue_baseline",
                default="zero-shot", container=right)
    if cues.empty:
        st.info("No reasoning traces match the filters.")
        return

    st.subheader("Reasoning that contradicts its own answer")
    inconsistency = _selected(_selected(tables["inconsistency"], "model", view.filters.models), "strategy",
                              view.filters.strategies)
    decided = inconsistency[inconsistency["n_decidable"] > 0]
    st.caption("Share of answers whose reasoning is clearly positive while the final polarity is negative, or the "
               "reverse, among answers with clearly signed reasoning (95% exact CI). Method: engine/explain/cues.py.")
    if decided.empty:
        st.info("No answer has clearly signed reasoning and a positive or negative final polarity.")
    else:
        export.chart(charts.metric_with_ci(decided.assign(value=decided["rate"], n_total=decided["n"],
                                                          n=decided["n_decidable"]), "inconsistency rate"),
                     f"inconsistency-{dataset}", key="explain-inconsistency")
    export.table(inconsistency, f"inconsistency-{dataset}", key="explain-inconsistency-table")

    st.subheader("Cues cited")
    emotions = sorted(cues["emotion"].unique())
    emotion = st.selectbox("Predicted emotion", ["(all emotions)", *emotions], key="explain-emotion")
    if emotion == "(all emotions)":
        shown = (cues.groupby(["model", "strategy", "category"], as_index=False)
                 .agg(n=("n", "sum"), n_citing=("n_citing", "sum")))
        shown["share"] = shown["n_citing"] / shown["n"]
    else:
        shown = cues[cues["emotion"] == emotion]
    shown = shown.assign(run=shown["model"] + " · " + shown["strategy"],
                         label=[f"{s:.0%}" if s == s else "—" for s in shown["share"]])
    shown["row"] = labels.short_labels(shown["run"])
    st.caption("Share of answered items whose reasoning cites each kind of cue (lexicon matching; items without "
               "reasoning cite nothing).")
    export.chart(charts.matrix(shown, "share", text="label", x="category", y="row", title="share citing",
                               y_title="model · strategy",
                               scheme="blues", domain_mid=None, tooltip=["run", "category", "n", "n_citing", "share"]),
                 f"cues-{dataset}-{emotion}", shown.drop(columns=["row"]), key="explain-cues")

    shift = _selected(_selected(tables["shift"], "model", view.filters.models), "strategy", view.filters.strategies)
    baseline = st.session_state.get("explain-baseline", "zero-shot")
    st.subheader(f"How a strategy changes the cues cited (against {baseline})")
    if shift.empty:
        st.info(f"No model ran both {baseline} and another strategy on {dataset}.")
    else:
        shift = shift.assign(run=shift["model"] + " · " + shift["strategy"],
                             label=[f"{d:+.0%}{_stars(p)}" if d == d else "—"
                                    for d, p in zip(shift["difference"], shift["p_holm"])])
        shift["row"] = labels.short_labels(shift["run"])
        st.caption("Share citing under the strategy minus under the baseline, same items; stars: McNemar exact, "
                   "Holm-adjusted per model (* p<.05, ** p<.01, *** p<.001).")
        export.chart(charts.matrix(shift, "difference", text="label", x="category", y="row", title="difference",
                                   y_title="model · strategy",
                                   tooltip=["run", "category", "n_common", "share", "share_baseline", "p_holm"]),
                     f"cue-shift-{dataset}", shift.drop(columns=["label", "row"]), key="explain-shift")
    with st.expander("Example reasonings (contradicting ones first)"):
        examples = _selected(_selected(tables["examples"], "model", view.filters.models), "strategy",
                             view.filters.strategies)
        export.table(examples, f"reasoning-examples-{dataset}", key="explain-examples")


def probe_section() -> None:
    everything = explain_data.probes(view.db)
    report = _selected(_selected(everything, "dataset", view.filters.datasets), "model", view.filters.models)
    if report.empty:
        st.info("No probe comparisons match the filters." if len(everything) else
                "No probe runs yet: `affectlens explain probes --config CONFIG.yaml --probes "
                "grayscale,blur,no-centre,caption-only`.")
        return
    left, right = st.columns(2)
    dataset = layout.pick("Dataset", sorted(report["dataset"].unique()), "explain-probe-dataset", param="probe_dataset",
                          container=left)
    dims = sorted(report.loc[report["dataset"] == dataset, "dimension"].unique())
    dimension = layout.pick("Dimension", dims, "explain-probe-dimension", param="probe_dimension",
                            container=right,
                            default="emotion" if "emotion" in dims else None)
    shown = report[(report["dataset"] == dataset) & (report["dimension"] == dimension)].copy()
    categorical = shown["change_rate"].notna().any()
    value = "change_rate" if categorical else "mean_abs_change"
    shown["run"] = shown["model"] + " · " + shown["base_strategy"]
    shown["row"] = labels.short_labels(shown["run"])
    shown["label"] = [labels.probe_text(v, d, _stars(p), categorical)
                      for v, d, p in zip(shown[value], shown["difference"], shown["p_holm"])]
    shown["why"] = [labels.probe_gap(row) for row in shown.to_dict("records")]
    st.caption("How often the answer changes under each perturbation (same items as the unperturbed run); in "
               "brackets the accuracy difference, stars: McNemar exact (continuous: permutation test on absolute "
               "errors), Holm-adjusted over each model's probes. caption-only: the describe-then-judge control. "
               "—: not measurable (the tooltip says why).")
    export.chart(charts.matrix(shown, value, text="label", x="probe", y="row", scheme="oranges", domain_mid=None,
                               y_title="model · strategy",
                               title="answers changed" if categorical else "mean |change|",
                               tooltip=["run", "probe", "n_common", value, "accuracy_base", "accuracy_probe",
                                        "difference", "p_value", "p_holm", "why"]),
                 f"probes-{dataset}-{dimension}", key="explain-probes")
    export.table(shown.drop(columns=["run", "row", "label", "why"]), f"probes-{dataset}-{dimension}",
                 key="explain-probes-table")


with store_guard():
    maps_tab, reasoning_tab, probes_tab = st.tabs(["Heatmaps", "Reasoning", "Probes"])
    with maps_tab:
        heatmap_section()
    with reasoning_tab:
        reasoning_section()
    with probes_tab:
        probe_section()
