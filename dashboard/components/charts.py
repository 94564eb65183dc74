"""Altair charts for the pages: each a function from a query's DataFrame to a chart, nothing else."""

from __future__ import annotations

import altair as alt
import pandas as pd

DIVERGING = "redblue"
#: The categorical palette of every chart, on screen and in PNG/SVG exports alike: Paul Tol's colour-blind safe
#: "bright" scheme (distinct in hue, so neighbours stay apart in print and grey scale), then his "muted" tones.
#: Streamlit's own chart theme is not used: it would recolour the screen only.
PALETTE = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#332288", "#882255",
           "#999933", "#44aa99", "#000000"]
#: Screen and export share this config: no legend or discrete-axis label is cut or dropped (long strategy names
#: such as "structured(shuffle_labels=True)" show whole); legends sit under the chart, two columns wide.
CONFIG = {
    "range": {"category": PALETTE},
    "legend": {"labelLimit": 0, "titleLimit": 0, "orient": "bottom", "columns": 2, "symbolDirection": "vertical",
               "gradientDirection": "horizontal", "gradientLength": 220, "labelFontSize": 11, "titleFontSize": 11,
               "symbolLimit": 0},
    "axisDiscrete": {"labelLimit": 0, "labelOverlap": False},
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "font": "Source Sans Pro, Helvetica, Arial, sans-serif",
    "view": {"stroke": None},
}


def _tips(fields: list) -> list:
    """Tooltip channels as objects. Altair turns each shorthand string in an encoding into a channel with
    `from_dict`, which rebuilds its schema lookup on every call (about 10 ms each: most of a chart's build time)."""
    return [alt.Tooltip(field) if isinstance(field, str) else field for field in fields]


def _ink(dark: str) -> alt.ColorValue:
    """Label colour: white where the Vega expression `dark` holds (a dark cell), black elsewhere."""
    return alt.ColorValue("black", condition={"test": dark, "value": "white"})


def styled(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """`chart` with the dashboard's config (`CONFIG`: palette, legends, labels). Apply once, to the top level."""
    out = chart.copy(deep=False)
    out.config = alt.Config(**CONFIG)  # not `from_dict`: it validates and hashes the whole schema on every call
    return out


BOUNDED = {"accuracy", "accuracy_strict", "coverage", "macro_f1", "weighted_f1", "uar", "majority_agreement",
           "cosine", "accuracy_mapped"}


def metric_with_ci(frame: pd.DataFrame, metric: str, *, color: str = "strategy") -> alt.Chart:
    """Points with 95% CI error bars, one row per model (and colour per strategy). Rows without a value are left
    out (not drawn at 0); shares such as accuracy are drawn on their whole [0, 1] range."""
    frame = frame[pd.to_numeric(frame["value"], errors="coerce").notna()]
    base = alt.Chart(frame).encode(
        y=alt.Y("model:N", title=None, sort=alt.EncodingSortField("value", op="max", order="descending")),
        yOffset=alt.YOffset(f"{color}:N"),
        color=alt.Color(f"{color}:N", title=color),
    )
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=metric,
                scale=alt.Scale(domain=[0, 1]) if metric in BOUNDED else alt.Scale(zero=False)),
        x2=alt.X2("ci_high:Q"))
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("value:Q"),
        tooltip=_tips(["model", color, alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f"),
                       alt.Tooltip("ci_high:Q", format=".3f"), "n:Q", "n_total:Q"]))
    return (bars + points).properties(height=alt.Step(18))


def matrix(frame: pd.DataFrame, value: str, *, text: str | None = None, title: str = "",
           scheme: str = DIVERGING, domain_mid: float | None = 0.0, x: str = "model_b", y: str = "model_a",
           value_format: str = ".3f", tooltip: list | None = None, domain: tuple[float, float] | None = None,
           y_title: str | None = None) -> alt.LayerChart:
    """A heatmap of `value` over (`y`, `x`) with an optional text label per cell. A diverging scale is centred on
    `domain_mid` and symmetric around it (so +0.02 is pale where -0.24 is strong); labels are white on dark cells."""
    values = pd.to_numeric(frame[value], errors="coerce")
    if domain is None and domain_mid is not None:
        reach = float((values - domain_mid).abs().max()) if values.notna().any() else 1.0
        reach = reach if reach > 0 else 1.0
        domain = (domain_mid - reach, domain_mid + reach)
    scale = alt.Scale(scheme=scheme, domain=list(domain)) if domain is not None else alt.Scale(scheme=scheme)
    low, high = domain if domain is not None else (float(values.min()), float(values.max()))
    mid = domain_mid if domain_mid is not None else (low + high) / 2
    strong = 0.6 * max(abs(high - mid), abs(mid - low)) or 1.0
    # diverging: both ends are dark; sequential (blues, oranges): the top half is dark
    dark = ((values - mid).abs() >= strong) if domain_mid is not None else (values - low) >= (high - low) / 2
    data = frame.assign(_dark=dark)
    base = alt.Chart(data).encode(x=alt.X(f"{x}:N", title=x.replace("_", " "),
                                          axis=alt.Axis(labelLimit=0, labelAngle=-30)),
                                  y=alt.Y(f"{y}:N", title=y_title or y.replace("_", " "), axis=alt.Axis(labelLimit=0)))
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=title or value, scale=scale),
        tooltip=_tips(tooltip or [y, x, alt.Tooltip(f"{value}:Q", format=value_format)]))
    layers = [cells]
    if text:
        layers.append(base.mark_text(fontSize=12).encode(
            text=alt.Text(f"{text}:N"), color=_ink("datum._dark")))
    return alt.layer(*layers).properties(height=alt.Step(36))


def confusion_heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """Counts of gold (rows) against predicted (columns); unanswered outcomes in their own columns."""
    totals = frame.groupby("gold")["n"].transform("sum")
    data = frame.assign(share=frame["n"] / totals)
    base = alt.Chart(data).encode(x=alt.X("predicted:N", title="predicted"), y=alt.Y("gold:N", title="gold"))
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="share of gold row", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=_tips(["gold", "predicted", "n:Q", alt.Tooltip("share:Q", format=".1%")]))
    labels = base.mark_text(fontSize=12).encode(
        text=alt.Text("n:Q"), color=_ink("datum.share > 0.5"))
    return (cells + labels).properties(height=alt.Step(32))


def per_class_bars(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("f1:Q", title="F1", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("label:N", title=None, sort="-x"),
        tooltip=_tips(["label", alt.Tooltip("precision:Q", format=".3f"), alt.Tooltip("recall:Q", format=".3f"),
                       alt.Tooltip("f1:Q", format=".3f"), "support:Q"])).properties(height=alt.Step(22))


def circumplex(points: pd.DataFrame, labels: pd.DataFrame, *, raw: bool = False) -> alt.LayerChart:
    """Per gold class (column `gold_class`; all items together when there is none): the mean gold (hollow) and
    mean predicted (filled) valence-arousal position with ±1 standard deviation bars, joined by an arrow-like
    rule; the taxonomy's label positions on Russell's circumplex in grey; the raw items faintly with `raw`."""
    scale_x = alt.Scale(domain=[-1, 1])
    scale_y = alt.Scale(domain=[0, 1])
    klass = points["gold_class"].fillna("(no class)") if "gold_class" in points else "all items"
    long = pd.concat([
        points.assign(group=klass, valence=points["gold_valence"], arousal=points["gold_arousal"], source="gold"),
        points.assign(group=klass, valence=points["predicted_valence"], arousal=points["predicted_arousal"],
                      source="predicted")])[["item_id", "group", "source", "valence", "arousal"]]
    colour = alt.Color("group:N", title="gold class")
    shape = alt.Shape("source:N", title=None,
                      scale=alt.Scale(domain=["gold", "predicted"], range=["circle", "triangle"]))
    base = alt.Chart(long)
    means = base.mark_point(size=140, strokeWidth=2, filled=True).encode(
        x=alt.X("mean(valence):Q", title="valence [-1, 1]", scale=scale_x),
        y=alt.Y("mean(arousal):Q", title="arousal [0, 1]", scale=scale_y), color=colour, shape=shape,
        tooltip=_tips(["group:N", "source:N", alt.Tooltip("mean(valence):Q", format=".2f"),
                       alt.Tooltip("mean(arousal):Q", format=".2f"), alt.Tooltip("count():Q", title="items")]))
    spread_x = base.mark_errorbar(extent="stdev", opacity=0.6).encode(x=alt.X("valence:Q", scale=scale_x,
                                                                                  title="valence [-1, 1]"),
                                                                     y=alt.Y("mean(arousal):Q"), color=colour)
    spread_y = base.mark_errorbar(extent="stdev", opacity=0.6).encode(y=alt.Y("arousal:Q", scale=scale_y,
                                                                                  title="arousal [0, 1]"),
                                                                     x=alt.X("mean(valence):Q"), color=colour)
    anchors = alt.Chart(labels).mark_text(fontSize=11, fontStyle="italic", color="#666", dy=-8).encode(
        x=alt.X("valence:Q"), y=alt.Y("arousal:Q"), text=alt.Text("label:N"))
    layers = [spread_x, spread_y, means, anchors]
    if raw:
        layers.insert(0, base.mark_circle(size=12, opacity=0.25).encode(x=alt.X("valence:Q"), y=alt.Y("arousal:Q"),
                                                                          color=colour))
    return alt.layer(*layers).properties(height=460)


def bias_bars(frame: pd.DataFrame) -> alt.HConcatChart:
    """Mean signed bias (predicted - gold) with its 95% CI per model and strategy, one panel per dimension on its
    own axis, symmetric around the zero line (valence and arousal have different ranges), and n beside each
    interval."""
    panels = []
    for dimension, block in frame.groupby("dimension", sort=True):
        data = block.assign(run=block["model"] + " · " + block["strategy"], n_text="n = " + block["n"].astype(str))
        ends = pd.concat([data["value"], data["ci_low"], data["ci_high"]]).abs()
        reach = max(float(ends.max()) if ends.notna().any() else 0.0, 0.05) * 1.25
        x = alt.Scale(domain=[-reach, reach])
        base = alt.Chart(data).encode(y=alt.Y("run:N", title=None, axis=alt.Axis(labelLimit=0)))
        zero = alt.Chart(data).mark_rule(color="black", strokeWidth=1).encode(x=alt.XDatum(0, scale=x))
        rules = base.mark_rule(strokeWidth=2).encode(
            x=alt.X("ci_low:Q", scale=x, title=f"{dimension}: mean signed bias (predicted − gold)",
                    axis=alt.Axis(format="+.2f")), x2=alt.X2("ci_high:Q"), color=alt.Color("strategy:N"))
        points = base.mark_point(filled=True, size=60).encode(
            x=alt.X("value:Q", scale=x), color=alt.Color("strategy:N"),
            tooltip=_tips(["model", "strategy", "dimension", "n:Q", alt.Tooltip("value:Q", format="+.3f"),
                           alt.Tooltip("ci_low:Q", format="+.3f"), alt.Tooltip("ci_high:Q", format="+.3f")]))
        counts = base.mark_text(align="left", dx=6, fontSize=10, color="#444").encode(
            x=alt.X("ci_high:Q", scale=x), text=alt.Text("n_text:N"))
        panels.append(alt.layer(zero, rules, points, counts).properties(height=alt.Step(22), width=300))
    return alt.hconcat(*panels)


def intensity_levels(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("intensity:O", title="predicted intensity"), y=alt.Y("n:Q", title="answers"),
        xOffset=alt.XOffset("strategy:N"), color=alt.Color("strategy:N"), column=alt.Column("model:N", title=None),
        tooltip=_tips(["model", "strategy", "intensity", "n"])).properties(width=160, height=180)


def reliability(frame: pd.DataFrame) -> alt.FacetChart:
    """Reliability diagrams as small multiples, one per model · strategy: accuracy against mean stated
    confidence per bin with the diagonal (perfect calibration), each bin's count of answers above its point,
    and the panel's ECE."""
    data = frame.assign(series=frame["model"] + " · " + frame["strategy"] + " · ECE "
                        + frame["ece"].map(lambda e: f"{e:.3f}" if e == e else "–"))
    unit = alt.Scale(domain=[0, 1])
    diagonal = alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(
        x=alt.XDatum(0, scale=unit), y=alt.YDatum(0, scale=unit), x2=alt.X2Datum(1), y2=alt.Y2Datum(1))
    base = alt.Chart().encode(x=alt.X("mean_confidence:Q", title="stated confidence", scale=unit),
                              y=alt.Y("accuracy:Q", title="accuracy", scale=unit))
    curve = base.mark_line(point=True).encode(
        tooltip=_tips(["model", "strategy", alt.Tooltip("mean_confidence:Q", format=".2f"),
                       alt.Tooltip("accuracy:Q", format=".2f"), "n:Q", alt.Tooltip("ece:Q", format=".3f")]))
    counts = base.mark_text(dy=-9, fontSize=9, color="#444").encode(text=alt.Text("n:Q"))
    return alt.layer(diagonal, curve, counts, data=data).properties(width=220, height=200).facet(
        facet=alt.Facet("series:N", title=None, header=alt.Header(labelLimit=0)), columns=3)


def pareto(frame: pd.DataFrame, cost: str, front: str, cost_title: str, *, quality: str = "accuracy",
           per_thousand: bool = False) -> alt.LayerChart:
    """`quality` (strict accuracy by default on the comparison page) against cost or latency; the Pareto front
    joined by a line. With `per_thousand` the x axis is dollars per 1,000 items (`cost` × 1000, e.g. "$0.42"), so
    a cost of a fraction of a cent per item still reads; an all-zero axis keeps the range [0, 1]."""
    data = frame.assign(series=frame["model"] + " · " + frame["strategy"])
    axis, scale = alt.Axis(), alt.Scale(zero=True, nice=True)
    if per_thousand:
        data[f"{cost}_per_1k"] = pd.to_numeric(data[cost], errors="coerce") * 1000
        cost = f"{cost}_per_1k"
        axis = alt.Axis(format="$,.3~g", tickCount=5)
        if not (data[cost].fillna(0) > 0).any():
            scale = alt.Scale(domain=[0, 1])
    title = quality.replace("_", " ")
    points = alt.Chart(data).mark_point(filled=True, size=90).encode(
        x=alt.X(f"{cost}:Q", title=cost_title, axis=axis, scale=scale),
        y=alt.Y(f"{quality}:Q", title=title, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", legend=alt.Legend(columns=1)),
        shape=alt.Shape("strategy:N", legend=alt.Legend(columns=1)),
        tooltip=_tips(["model", "strategy", alt.Tooltip(f"{quality}:Q", format=".3f"),
                       alt.Tooltip(f"{cost}:Q", format=".4g"), alt.Tooltip("coverage:Q", format=".1%"), front]))
    line = alt.Chart(data[data[front]].sort_values(cost)).mark_line(color="gray", strokeDash=[3, 3]).encode(
        x=alt.X(f"{cost}:Q"), y=alt.Y(f"{quality}:Q"))
    return (line + points).properties(height=320)


def stacked_shares(frame: pd.DataFrame, columns: list[str]) -> alt.Chart:
    """Stacked bars of the shares of failed predictions (unparsed, refused, API error), one bar per
    model and strategy."""
    long = frame.melt(id_vars=["model", "strategy"], value_vars=columns, var_name="outcome", value_name="share")
    long["run"] = long["model"] + " · " + long["strategy"]
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("share:Q", title="share of predictions", axis=alt.Axis(format="%"), stack="zero"),
        y=alt.Y("run:N", title=None), color=alt.Color("outcome:N"),
        tooltip=_tips(["model", "strategy", "outcome", alt.Tooltip("share:Q", format=".1%")])
    ).properties(height=alt.Step(18))


def grouped_bars(frame: pd.DataFrame, value: str, title: str, *, y: str = "strategy", color: str = "model") -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=title), y=alt.Y(f"{y}:N", title=None), yOffset=alt.YOffset(f"{color}:N"),
        color=alt.Color(f"{color}:N"), tooltip=_tips([y, color, alt.Tooltip(f"{value}:Q", format=".4g")])
    ).properties(height=alt.Step(14))


def distribution(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Shares over labels (a rater distribution or a predicted one)."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("share:Q", title=title, axis=alt.Axis(format="%")), y=alt.Y("label:N", title=None, sort="-x"),
        tooltip=_tips(["label", alt.Tooltip("share:Q", format=".1%")])).properties(height=alt.Step(18))


def position_bias(frame: pd.DataFrame) -> alt.Chart:
    """Share of answers at each candidate position, against the uniform share."""
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("position:O", title="position of the chosen label in the presented list", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("share:Q", title="share of answers", axis=alt.Axis(format="%")), color=alt.Color("model:N"),
        xOffset=alt.XOffset("model:N"),
        tooltip=_tips(["model", "strategy", "position", "n", alt.Tooltip("share:Q", format=".1%")]))
    uniform = alt.Chart(frame).mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.Y("mean(uniform):Q"))
    return (bars + uniform).properties(height=260)


def slice_intervals(frame: pd.DataFrame, key: str, metric: str) -> alt.LayerChart:
    """One row per slice, a point and 95% CI per model · strategy (column `cell`), no label cut. With an offset
    channel Vega-Lite's height step is the offset band's: 14 px per cell, so a slice is 14 px × its cells."""
    base = alt.Chart(frame).encode(
        y=alt.Y("slice:N", title=key, axis=alt.Axis(labelLimit=0)), yOffset=alt.YOffset("cell:N"),
        color=alt.Color("cell:N", title="model · strategy", legend=alt.Legend(orient="bottom", columns=2,
                                                                             labelLimit=0)))
    return (base.mark_rule().encode(x=alt.X("ci_low:Q", title=metric), x2=alt.X2("ci_high:Q"))
            + base.mark_point(filled=True, size=60).encode(
                x=alt.X("value:Q"),
                tooltip=_tips(["model", "strategy", "slice", alt.Tooltip("value:Q", format=".3f"),
                               alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f"),
                               "n", "n_total"]))).properties(height=alt.Step(14))
