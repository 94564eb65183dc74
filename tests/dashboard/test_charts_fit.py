"""Charts fit to print: one palette on screen and in exports, legends and labels never cut or dropped, a readable
cost axis, one CSV per distinct table, prompt-blind baselines out of the ablation matrix, a confusion matrix
that tells out-of-set answers from unparsed ones and resolves tied gold as the engine does."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import seed
from dashboard import data
from dashboard.components import charts, export, labels
from engine.metrics import compare
from tests.dashboard.conftest import APP, PAGES


def _specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _scope(store, dimension: str = "emotion") -> data.Scope:
    row = data.scopes(store, data.Filters()).iloc[0]
    return data.Scope(seed.DATASET, row["eval_set"], dimension)


@pytest.mark.parametrize("page", [p for p in PAGES if p.endswith(("comparison.py", "dimensions.py", "ablations.py",
                                                                   "overview.py"))])
def test_every_chart_on_screen_carries_the_export_palette_and_uncut_labels(app, page):
    app.session_state["leaderboard_view"] = "Chart"  # the Overview draws its leaderboard chart in a tab of its own
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    specs = _specs(app)
    assert specs, f"{page}: no chart"
    for chart, spec in zip(app.get("vega_lite_chart"), specs):
        assert chart.proto.theme == "", "Streamlit's theme would recolour the screen but not the export"
        config = spec["config"]
        assert config["range"]["category"] == charts.PALETTE
        assert config["legend"]["labelLimit"] == 0 and config["legend"]["orient"] == "bottom"
        assert config["axisDiscrete"] == {"labelLimit": 0, "labelOverlap": False}


def test_the_exported_svg_is_drawn_in_the_on_screen_palette():
    frame = pd.DataFrame({"model": ["a", "b", "c"], "strategy": ["zero-shot", "cot", "structured(shuffle_labels=True)"],
                          "value": [0.2, 0.5, 0.7], "ci_low": [0.1, 0.4, 0.6], "ci_high": [0.3, 0.6, 0.8],
                          "n": [10, 10, 10], "n_total": [10, 10, 10]})
    chart = charts.styled(charts.metric_with_ci(frame, "accuracy"))
    svg = export.chart_svg(chart).lower()
    used = {colour for colour in charts.PALETTE[:3] if colour in svg}
    assert used == set(charts.PALETTE[:3])  # one colour per strategy, from the palette
    assert "#4c78a8" not in svg and "#f58518" not in svg  # Vega's default scheme would be these
    assert "structured(shuffle_labels=true)" in svg  # the legend label whole, not "structured(shuffle_labe…"
    assert chart.to_dict()["config"]["range"] == {"category": charts.PALETTE}


def test_the_cost_axis_reads_in_dollars_per_thousand_items():
    frame = pd.DataFrame({"model": ["cheap", "dear", "local"], "strategy": ["zero-shot"] * 3,
                          "accuracy_strict": [0.5, 0.7, 0.3], "coverage": [1.0] * 3,
                          "cost_per_item_usd": [0.0004, 0.0021, 0.0], "pareto_cost": [True, True, True]})
    chart = charts.styled(charts.pareto(frame, "cost_per_item_usd", "pareto_cost", "cost per 1,000 items (USD)",
                                        quality="accuracy_strict", per_thousand=True))
    svg = export.chart_svg(chart)
    ticks = re.findall(r"\$[0-9.,]+", svg)
    assert "$2" in ticks and len(set(ticks)) >= 3, ticks  # $0 … $2 and steps between: more than one tick
    assert "0.000000" not in svg
    zero = charts.pareto(frame.assign(cost_per_item_usd=0.0), "cost_per_item_usd", "pareto_cost", "cost",
                         quality="accuracy_strict", per_thousand=True).to_dict()
    assert zero["layer"][1]["encoding"]["x"]["scale"]["domain"] == [0, 1]  # no single "0" tick


def _csv_buttons(at) -> list[str]:
    """The keys of the page's CSV buttons (the element id ends with the key)."""
    return sorted(re.sub(r"^\$\$ID-[0-9a-f]+-", "", b.proto.id) for b in at.get("download_button")
                  if b.proto.label == "CSV")


def test_one_csv_download_per_distinct_table_on_the_comparison_and_ablation_pages(app):
    app.switch_page("pages/comparison.py").run()
    assert _csv_buttons(app) == ["chartcsv-agreement", "chartcsv-metric-by-model", "csv-cost-quality",
                                 "csv-significance-table"]
    app.switch_page("pages/ablations.py").run()
    assert _csv_buttons(app) == ["csv-effects-table", "csv-failures-table", "csv-positions-table"]


def _add_baseline_runs(db, adapter: str = "majority") -> None:
    """Two runs of a prompt-blind baseline (same answers under both strategies, as such a model gives)."""
    from engine.store import connect
    from engine.store.writes import write_predictions, write_run

    with connect(db) as con:
        eval_set = con.execute("SELECT eval_set FROM runs LIMIT 1").fetchall()[0][0]
        for strategy in ("zero-shot", "cot"):
            rid = f"run-{adapter}-{strategy}"
            write_run(con, {"run_id": rid, "experiment": "seed", "dataset": seed.DATASET, "model": adapter,
                            "eval_set": eval_set, "purpose": "benchmark", "adapter": adapter, "model_id": adapter,
                            "strategy": strategy, "dimensions": ["emotion"], "taxonomy": "ekman7",
                            "status": "complete", "n_items": len(seed.GOLD), "started_at": datetime(2026, 1, 2),
                            "finished_at": datetime(2026, 1, 2, 0, 1)})
            write_predictions(con, [{"run_id": rid, "dataset": seed.DATASET, "item_id": seed.item_id(stem),
                                     "dimension": "emotion", "label": "sadness", "raw_label": "sadness",
                                     "status": "ok", "method": "baseline", "parser_version": "1.0.0"}
                                    for stem in seed.GOLD])
    seed._score(db)


def test_prompt_blind_baselines_are_left_out_of_the_ablation_matrix_with_a_note(fresh_store, monkeypatch):
    _add_baseline_runs(fresh_store)
    scope = _scope(fresh_store)
    assert data.prompt_blind_models(fresh_store, data.Filters(), scope) == {"majority": "majority"}
    everything = data.strategy_effects(fresh_store, data.Filters(), scope, "zero-shot")
    assert everything.loc[everything["model"] == "majority", "difference"].tolist() == [0.0]

    monkeypatch.setenv("AFFECTLENS_DB", str(fresh_store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/ablations.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(f.value for f in at.dataframe if "accuracy_baseline" in f.value.columns)
    assert set(table["model"]) == {"alpha", "beta"}
    kept = everything[everything["model"] != "majority"]
    # Holm over the cells shown, not over cells that cannot differ
    assert table["p_holm"].tolist() == pytest.approx(compare.holm(kept["p_value"].to_numpy(dtype=float)).tolist())
    notes = " ".join(i.value for i in at.info)
    assert "Left out: **majority** (majority)" in notes and "never read the prompt" in notes


def _rewrite_for_confusion(db) -> None:
    """f05 answered "Concentration" (a word outside ekman7, kept by the parser as failed); f06's gold becomes a
    tie of fear and sadness."""
    from engine.store import connect

    with connect(db) as con:
        con.execute("UPDATE predictions SET status = 'failed', label = NULL, raw_label = 'Concentration' "
                    "WHERE run_id = 'run-alpha-zero-shot' AND item_id = 'f05.png' AND dimension = 'emotion'")
        con.execute("UPDATE gold SET label = NULL, labels = ['fear', 'sadness'] "
                    "WHERE item_id = 'f06.png' AND dimension = 'emotion'")
    seed._score(db)


def test_confusion_names_out_of_set_answers_and_never_shows_a_tie_as_a_gold_class(fresh_store):
    _rewrite_for_confusion(fresh_store)
    scope = _scope(fresh_store)
    alpha = data.confusion(fresh_store, data.Filters(), scope, "alpha", "zero-shot")
    assert not alpha["gold"].str.contains(r"\||tie").any()
    assert alpha.loc[alpha["predicted"] == data.OUT_OF_SET, "gold"].tolist() == ["anger"]
    assert data.UNPARSED not in set(alpha["predicted"])
    # alpha answered fear on f06: one of the tied labels, so it counts on the diagonal as the engine scores it
    fear = alpha[(alpha["gold"] == "fear") & (alpha["predicted"] == "fear")]
    assert fear[["n", "tied"]].values.tolist() == [[1, 1]]
    # beta's f05 answer could not be read at all ("The picture is hard to read."): unparsed, not out of set
    beta = data.confusion(fresh_store, data.Filters(), scope, "beta", "zero-shot")
    assert beta.loc[beta["predicted"] == data.UNPARSED, "gold"].tolist() == ["anger"]
    # beta-cot answered sadness on f06: the other tied label, also on the diagonal
    cot = data.confusion(fresh_store, data.Filters(), scope, "beta", "cot")
    assert cot[(cot["gold"] == "sadness") & (cot["predicted"] == "sadness")]["tied"].sum() == 1
    from dashboard.connection import close_all
    from engine.store import connect

    close_all()  # the dashboard's read-only connections, before a read-write one
    with connect(fresh_store) as con:
        stored = con.execute("SELECT value FROM scores WHERE run_id = 'run-beta-cot' AND dimension = 'emotion' "
                             "AND metric = 'accuracy_strict' AND coalesce(eval_set, '') = ?",
                             [scope.eval_set or ""]).fetchall()[0][0]
    diagonal = cot.loc[cot["gold"] == cot["predicted"], "n"].sum()
    assert diagonal / cot["n"].sum() == pytest.approx(stored)  # the matrix agrees with the engine's score


def test_short_labels_are_distinct_and_probe_cells_say_why_they_are_empty():
    names = ["tiny-llava-untrained · zero-shot+blur", "tiny-llava-untrained · zero-shot+grayscale",
             "tiny-llava-untrained · zero-shot+darker", "alpha · cot", "alpha · cot"]
    short = labels.short_labels(names, width=24)
    assert len(set(short)) == 4 and short[3] == short[4] == "alpha · cot"
    assert all(len(s) <= 24 for s in short[:3]) and all(s.endswith(("blur", "yscale", "darker")) for s in short[:3])
    assert labels.probe_text(float("nan"), float("nan"), "", True) == "—"
    assert labels.probe_text(0.37, float("nan"), "", True) == "37%"
    assert labels.probe_text(0.37, -0.03, "*", True) == "37% (-0.03*)"
    assert "answered both" in labels.probe_gap({"n_common": 5, "n_both_answered": 0})


def _add_rerun_and_probe(db) -> dict[str, str]:
    """A newer complete rerun of alpha · zero-shot answering "disgust" everywhere (it replaces the older run in its
    cell) and a probe run of the same model; returns the rerun's answers."""
    from engine.store import connect
    from engine.store.writes import write_predictions, write_run

    rerun = {stem: "disgust" for stem in seed.GOLD}
    with connect(db) as con:
        eval_set = con.execute("SELECT eval_set FROM runs LIMIT 1").fetchall()[0][0]
        for rid, strategy, purpose in (("run-alpha-rerun", "zero-shot", "benchmark"),
                                       ("run-alpha-probe", "zero-shot+blur", "probe")):
            write_run(con, {"run_id": rid, "experiment": "seed", "dataset": seed.DATASET, "model": "alpha",
                            "eval_set": eval_set, "purpose": purpose, "adapter": "replay", "model_id": "alpha-1",
                            "strategy": strategy, "dimensions": ["emotion"], "taxonomy": "ekman7",
                            "status": "complete", "n_items": len(seed.GOLD), "started_at": datetime(2026, 2, 1),
                            "finished_at": datetime(2026, 2, 1, 0, 1)})
            write_predictions(con, [{"run_id": rid, "dataset": seed.DATASET, "item_id": seed.item_id(stem),
                                     "dimension": "emotion", "label": answer, "raw_label": answer, "status": "ok",
                                     "confidence": 0.95, "method": "rule", "parser_version": "1.0.0"}
                                    for stem, answer in rerun.items()])
    seed._score(db)
    return rerun


def test_gallery_hardness_counts_distinct_cells_and_confidence_orders_the_confidently_wrong_first(fresh_store):
    rerun = _add_rerun_and_probe(fresh_store)
    cells = {**seed.ANSWERS, ("alpha", "zero-shot"): rerun}  # the rerun stands for its cell; the probe is no cell
    page = data.gallery_page(fresh_store, data.Filters(), data.GalleryQuery(_scope(fresh_store), page_size=50))
    assert set(page.items["n_runs"]) == {len(seed.ANSWERS)}
    expected = {seed.item_id(s): sum(not seed.correct(s, answers[s]) for answers in cells.values()) for s in seed.GOLD}
    assert dict(zip(page.items["item_id"], page.items["n_failed"])) == expected
    confident = data.gallery_page(fresh_store, data.Filters(),
                                  data.GalleryQuery(_scope(fresh_store), sort="confidence", page_size=50))
    stated = confident.items["wrong_confidence"].tolist()
    assert stated == [0.95] * len(seed.GOLD)  # every item has the rerun's confidently wrong answer
    with pytest.raises(ValueError, match="use one of"):
        data.gallery_page(fresh_store, data.Filters(), data.GalleryQuery(_scope(fresh_store), sort="x"))


def test_continuous_gallery_hardness_counts_cells_off_by_more_than_the_tolerance(seeded):
    scope = _scope(seeded, "valence")
    page = data.continuous_gallery_page(seeded, data.Filters(),
                                        data.ContinuousGalleryQuery(scope, sort="hardness", tolerance=0.1,
                                                                    page_size=50))
    # beta answers one point high on 1-9 (0.25 on [-1, 1], more than 10% of its width); alpha is exact
    expected = {seed.item_id(s): sum(m == "beta" or not seed.answered(answers[s])
                                     for (m, _), answers in seed.ANSWERS.items()
                                     if not (m == "beta" and seed.GOLD[s][1] == 9.0)) for s in seed.GOLD}
    shown = dict(zip(page.items["item_id"], page.items["n_failed"]))
    assert shown == expected
    assert list(page.items["n_failed"]) == sorted(page.items["n_failed"], reverse=True)
    loose = data.continuous_gallery_page(seeded, data.Filters(),
                                         data.ContinuousGalleryQuery(scope, sort="hardness", tolerance=0.2,
                                                                     page_size=50))
    unanswered = {seed.item_id(s): sum(not seed.answered(a[s]) for a in seed.ANSWERS.values()) for s in seed.GOLD}
    assert dict(zip(loose.items["item_id"], loose.items["n_failed"])) == unanswered


def test_the_significance_matrix_draws_each_pair_of_models_once(app):
    import pyarrow as pa

    app.switch_page("pages/comparison.py").run()
    chart = next(c for c in app.get("vega_lite_chart") if "accuracy difference" in c.proto.spec)
    rows = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    drawn = pd.concat(rows) if rows else pd.DataFrame()
    assert len(drawn) == 1 and {drawn["model_a"].iloc[0], drawn["model_b"].iloc[0]} == {"alpha", "beta"}


@pytest.mark.parametrize("page", [p for p in PAGES if p.endswith(("comparison.py", "dimensions.py", "ablations.py",
                                                                   "overview.py", "slices.py"))])
def test_charts_are_built_from_channel_objects(app, page, monkeypatch):
    """No chart on these pages goes through altair's `from_dict` while it is built (each call rebuilds altair's
    schema lookup: about 10 ms, most of a chart's build time before encodings were written as objects)."""
    from altair.utils import schemapi

    built = schemapi.SchemaBase.from_dict.__func__
    calls = []

    def counted(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return built(cls, *args, **kwargs)

    monkeypatch.setattr(schemapi.SchemaBase, "from_dict", classmethod(counted))
    app.session_state["leaderboard_view"] = "Chart"
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.get("vega_lite_chart"), f"{page}: no chart"
    assert calls == [], f"{page}: from_dict for {sorted(set(calls))}"
