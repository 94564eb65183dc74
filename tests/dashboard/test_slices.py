"""The Slices page: the metric per slice from engine.metrics.slices on the runs that stand for the cells, the worst
slices, and a link that opens the gallery filtered to a slice."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

import pytest
from streamlit.testing.v1 import AppTest

import seed
from tests.dashboard.conftest import APP


def _open(seeded, monkeypatch, page, params) -> AppTest:
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _strict_by_gold(model: str, strategy: str) -> dict[str, float]:
    answers = seed.ANSWERS[(model, strategy)]
    out = {}
    for emotion in {g for g, _, _ in seed.GOLD.values()}:
        stems = [s for s, (g, _, _) in seed.GOLD.items() if g == emotion]
        out[emotion] = sum(seed.correct(s, answers[s]) for s in stems) / len(stems)
    return out


def test_slices_by_gold_class_show_the_fixture_accuracy_with_interval_and_n(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/slices.py", {"dimension": "emotion"})
    table = next(f.value for f in at.dataframe if "slice" in f.value.columns and "overall" not in f.value.columns)
    assert len(table) == len(seed.ANSWERS) * 4
    for row in table.itertuples():
        expected = _strict_by_gold(row.model, row.strategy)[row.slice]
        assert row.value == pytest.approx(expected)
        assert row.n_total == sum(g == row.slice for g, _, _ in seed.GOLD.values())
        assert row.ci_low <= row.value <= row.ci_high


def test_worst_slices_are_ordered_by_gap_and_link_to_the_filtered_gallery(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/slices.py", {"dimension": "emotion"})
    at.number_input(key="slices-min-n").set_value(1).run()
    worst = next(f.value for f in at.dataframe if "gap" in f.value.columns)
    assert list(worst["gap"]) == sorted(worst["gap"])
    first = worst.iloc[0]
    overall = sum(seed.correct(s, seed.ANSWERS[(first["model"], first["strategy"])][s]) for s in seed.GOLD) / len(seed.GOLD)
    assert first["gap"] == pytest.approx(first["value"] - overall) and first["gap"] < 0
    params = dict(parse_qsl(urlparse(first["gallery"]).query))
    assert urlparse(first["gallery"]).path == "gallery"
    gallery = _open(seeded, monkeypatch, "pages/gallery.py", params)
    members = [seed.item_id(s) for s, (g, _, _) in seed.GOLD.items() if g == first["slice"]]
    assert any(f"Only the {len(members)} items of the slice gold = {first['slice']}" in i.value for i in gallery.info)
    shown = {m.value.split("**")[1] for m in gallery.markdown if m.value.startswith("**")}
    assert shown and shown <= set(members)


def test_continuous_slices_cut_gold_values_into_tertiles(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/slices.py", {"dimension": "valence", "metric": "mae"})
    table = next(f.value for f in at.dataframe if "slice" in f.value.columns and "overall" not in f.value.columns)
    assert {s.split()[0] for s in table["slice"]} == {"low", "mid", "high"}
    alpha = table[table["model"] == "alpha"]
    assert alpha["value"].fillna(0).abs().max() == pytest.approx(0.0)  # alpha answers gold valence exactly


def test_worst_slices_from_the_tables_scores_equal_a_fresh_search(seeded):
    """The page scores the chosen key once and hands it to `worst_slices`: the worst list is the same as scoring
    every key afresh, slices under the minimum n left out alike."""
    import pandas as pd

    from dashboard import data, slices_data
    from engine.metrics.slices import slice_scores, worst_slices
    from engine.store import connect

    scope = next(data.Scope(r.dataset, r.eval_set, r.dimension) for r in data.scopes(str(seeded), data.Filters())
                 .itertuples() if r.dimension == "emotion")
    with connect(seeded, read_only=True) as con:
        meta = slices_data._meta(con, scope)
        groups = slices_data._groups(con, data.Filters(), scope)
    assert groups
    for group in groups:
        ev = group.evaluation
        table = slice_scores(ev, meta, slices_data.GOLD_KEY, metrics=["accuracy_strict"], n_resamples=50)
        min_n = int(table["n_total"].median()) + 1  # some gold classes fall under it
        assert (table["n_total"] < min_n).any() and (table["n_total"] >= min_n).any()
        reused = worst_slices(ev, meta, metric="accuracy_strict", min_n=min_n, n_resamples=50,
                              scored={slices_data.GOLD_KEY: table})
        fresh = worst_slices(ev, meta, metric="accuracy_strict", min_n=min_n, n_resamples=50)
        assert len(fresh) > 0
        pd.testing.assert_frame_equal(reused.reset_index(drop=True), fresh.reset_index(drop=True))
