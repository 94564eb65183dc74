"""Altair charts for the pages: each a function from a query's DataFrame to a chart, nothing else."""

from __future__ import annotations

import altair as alt
import pandas as pd

DIVERGING = "redblue"


def metric_with_ci(frame: pd.DataFrame, metric: str, *, color: str = "strategy") -> alt.Chart:
    """Points with 95% CI error bars, one row per model (and colour per strategy)."""
    base = alt.Chart(frame).encode(
        y=alt.Y("model:N", title=None, sort=alt.EncodingSortField("value", op="max", order="descending")),
        yOffset=alt.YOffset(f"{color}:N"),
        color=alt.Color(f"{color}:N", title=color),
    )
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=metric, scale=alt.Scale(zero=False)), x2="ci_high:Q")
    points = base.mark_point(filled=True, size=70).encode(
        x="value:Q",
        tooltip=["model", color, alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f"),
                 alt.Tooltip("ci_high:Q", format=".3f"), "n:Q", "n_total:Q"])
    return (bars + points).properties(height=alt.Step(18))


def matrix(frame: pd.DataFrame, value: str, *, text: str | None = None, title: str = "",
           scheme: str = DIVERGING, domain_mid: float | None = 0.0, x: str = "model_b", y: str = "model_a",
           value_format: str = ".3f", tooltip: list | None = None) -> alt.LayerChart:
    """A heatmap of `value` over (`y`, `x`) with an optional text label per cell."""
    scale = alt.Scale(scheme=scheme, domainMid=domain_mid) if domain_mid is not None else alt.Scale(scheme=scheme)
    base = alt.Chart(frame).encode(x=alt.X(f"{x}:N", title=x.replace("_", " ")),
                                   y=alt.Y(f"{y}:N", title=y.replace("_", " ")))
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=title or value, scale=scale),
        tooltip=tooltip or [y, x, alt.Tooltip(f"{value}:Q", format=value_format)])
    layers = [cells]
    if text:
        layers.append(base.mark_text(fontSize=12).encode(text=f"{text}:N"))
    return alt.layer(*layers).properties(height=alt.Step(36))


def confusion_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """Counts of gold (rows) against predicted (columns); unanswered outcomes in their own columns."""
    totals = frame.groupby("gold")["n"].transform("sum")
    data = frame.assign(share=frame["n"] / totals)
    base = alt.Chart(data).encode(x=alt.X("predicted:N", title="predicted"), y=alt.Y("gold:N", title="gold"))
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="share of gold row", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["gold", "predicted", "n:Q", alt.Tooltip("share:Q", format=".1%")])
    labels = base.mark_text(fontSize=12).encode(
        text="n:Q", color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")))
    return (cells + labels).properties(height=alt.Step(32))


def per_class_bars(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("f1:Q", title="F1", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("label:N", title=None, sort="-x"),
        tooltip=["label", alt.Tooltip("precision:Q", format=".3f"), alt.Tooltip("recall:Q", format=".3f"),
                 alt.Tooltip("f1:Q", format=".3f"), "support:Q"]).properties(height=alt.Step(22))


def circumplex(points: pd.DataFrame, labels: pd.DataFrame) -> alt.LayerChart:
    """Gold (hollow) and predicted (filled) valence-arousal points joined per item, over the taxonomy's
    label positions on Russell's circumplex."""
    scale_x = alt.Scale(domain=[-1, 1])
    scale_y = alt.Scale(domain=[0, 1])
    links = alt.Chart(points).mark_rule(opacity=0.25).encode(
        x=alt.X("gold_valence:Q", title="valence", scale=scale_x), x2="predicted_valence:Q",
        y=alt.Y("gold_arousal:Q", title="arousal", scale=scale_y), y2="predicted_arousal:Q")
    long = pd.concat([
        points.rename(columns={"gold_valence": "valence", "gold_arousal": "arousal"})
        .assign(source="gold")[["item_id", "valence", "arousal", "source"]],
        points.rename(columns={"predicted_valence": "valence", "predicted_arousal": "arousal"})
        .assign(source="predicted")[["item_id", "valence", "arousal", "source"]],
    ])
    encoding = dict(x=alt.X("valence:Q", scale=scale_x), y=alt.Y("arousal:Q", scale=scale_y),
                    color=alt.Color("source:N", title=None, scale=alt.Scale(domain=["gold", "predicted"])),
                    tooltip=["item_id", "source", alt.Tooltip("valence:Q", format=".2f"),
                             alt.Tooltip("arousal:Q", format=".2f")])
    gold = alt.Chart(long[long["source"] == "gold"]).mark_point(size=60, strokeWidth=2).encode(**encoding)
    predicted = alt.Chart(long[long["source"] == "predicted"]).mark_circle(size=45, opacity=0.8).encode(**encoding)
    dots = gold + predicted
    anchors = alt.Chart(labels).mark_text(fontSize=11, fontStyle="italic", color="gray").encode(
        x="valence:Q", y="arousal:Q", text="label:N")
    return alt.layer(links, dots, anchors).properties(height=420)


def bias_bars(frame: pd.DataFrame) -> alt.Chart:
    """Mean signed bias (predicted - gold, normalised scale) per model and strategy, faceted by dimension."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("mean_bias:Q", title="mean signed bias (predicted - gold)"),
        y=alt.Y("model:N", title=None), yOffset="strategy:N", color=alt.Color("strategy:N"),
        row=alt.Row("dimension:N", title=None),
        tooltip=["model", "strategy", "dimension", "n:Q", alt.Tooltip("mean_bias:Q", format="+.3f"),
                 alt.Tooltip("mae:Q", format=".3f")]).properties(height=alt.Step(16))


def intensity_levels(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("intensity:O", title="predicted intensity"), y=alt.Y("n:Q", title="answers"),
        xOffset="strategy:N", color="strategy:N", column=alt.Column("model:N", title=None),
        tooltip=["model", "strategy", "intensity", "n"]).properties(width=160, height=180)


def reliability(frame: pd.DataFrame) -> alt.LayerChart:
    """Reliability diagram: accuracy against mean stated confidence per bin, with the diagonal."""
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="x:Q", y="y:Q")
    label = frame.assign(series=frame["model"] + " · " + frame["strategy"])
    curve = alt.Chart(label).mark_line(point=True).encode(
        x=alt.X("mean_confidence:Q", title="stated confidence", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", title=None),
        tooltip=["model", "strategy", alt.Tooltip("mean_confidence:Q", format=".2f"),
                 alt.Tooltip("accuracy:Q", format=".2f"), "n:Q", alt.Tooltip("ece:Q", format=".3f")])
    return (diagonal + curve).properties(height=360)


def pareto(frame: pd.DataFrame, cost: str, front: str, cost_title: str, *, quality: str = "accuracy") -> alt.LayerChart:
    """`quality` (strict accuracy by default on the comparison page) against cost or latency; the Pareto front
    joined by a line."""
    data = frame.assign(series=frame["model"] + " · " + frame["strategy"])
    title = quality.replace("_", " ")
    points = alt.Chart(data).mark_point(filled=True, size=90).encode(
        x=alt.X(f"{cost}:Q", title=cost_title), y=alt.Y(f"{quality}:Q", title=title, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N"), shape=alt.Shape("strategy:N"),
        tooltip=["model", "strategy", alt.Tooltip(f"{quality}:Q", format=".3f"), alt.Tooltip(f"{cost}:Q", format=".4g"),
                 alt.Tooltip("coverage:Q", format=".1%"), front])
    line = alt.Chart(data[data[front]].sort_values(cost)).mark_line(color="gray", strokeDash=[3, 3]).encode(
        x=f"{cost}:Q", y=f"{quality}:Q")
    return (line + points).properties(height=320)


def stacked_shares(frame: pd.DataFrame, columns: list[str]) -> alt.Chart:
    """Stacked bars of the shares of failed predictions (unparsed, refused, API error), one bar per
    model and strategy."""
    long = frame.melt(id_vars=["model", "strategy"], value_vars=columns, var_name="outcome", value_name="share")
    long["run"] = long["model"] + " · " + long["strategy"]
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("share:Q", title="share of predictions", axis=alt.Axis(format="%"), stack="zero"),
        y=alt.Y("run:N", title=None), color=alt.Color("outcome:N"),
        tooltip=["model", "strategy", "outcome", alt.Tooltip("share:Q", format=".1%")]).properties(height=alt.Step(18))


def grouped_bars(frame: pd.DataFrame, value: str, title: str, *, y: str = "strategy", color: str = "model") -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=title), y=alt.Y(f"{y}:N", title=None), yOffset=f"{color}:N",
        color=f"{color}:N", tooltip=[y, color, alt.Tooltip(f"{value}:Q", format=".4g")]).properties(height=alt.Step(14))


def distribution(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Shares over labels (a rater distribution or a predicted one)."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("share:Q", title=title, axis=alt.Axis(format="%")), y=alt.Y("label:N", title=None, sort="-x"),
        tooltip=["label", alt.Tooltip("share:Q", format=".1%")]).properties(height=alt.Step(18))


def position_bias(frame: pd.DataFrame) -> alt.Chart:
    """Share of answers at each candidate position, against the uniform share."""
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("position:O", title="position of the chosen label in the presented list"),
        y=alt.Y("share:Q", title="share of answers", axis=alt.Axis(format="%")), color="model:N",
        xOffset="model:N", tooltip=["model", "strategy", "position", "n", alt.Tooltip("share:Q", format=".1%")])
    uniform = alt.Chart(frame).mark_rule(strokeDash=[4, 4], color="gray").encode(y="mean(uniform):Q")
    return (bars + uniform).properties(height=260)


def slice_intervals(frame: pd.DataFrame, key: str, metric: str) -> alt.LayerChart:
    """One row per slice, a point and 95% CI per model · strategy (column `cell`), no label cut."""
    height = max(160, 26 * frame["slice"].nunique() * max(1, frame["cell"].nunique()) // 2 + 60)
    base = alt.Chart(frame).encode(
        y=alt.Y("slice:N", title=key, axis=alt.Axis(labelLimit=0)), yOffset=alt.YOffset("cell:N"),
        color=alt.Color("cell:N", title="model · strategy", legend=alt.Legend(orient="bottom", columns=2,
                                                                             labelLimit=0)))
    return (base.mark_rule().encode(x=alt.X("ci_low:Q", title=metric), x2="ci_high:Q")
            + base.mark_point(filled=True, size=60).encode(
                x="value:Q", tooltip=["model", "strategy", "slice", alt.Tooltip("value:Q", format=".3f"),
                                      alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f"),
                                      "n", "n_total"])).properties(height=height)
