"""The gallery of a continuous dimension: ordered by absolute error or disagreement from the engine's outcomes,
per-model filter, right/wrong by the stated tolerance, and the per-call record of an item."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import seed
from dashboard import data
from tests.dashboard.conftest import APP


def _scope(store) -> data.Scope:
    row = data.scopes(store, data.Filters()).iloc[0]
    return data.Scope(seed.DATASET, row["eval_set"], "valence")


def _norm(value: float) -> float:
    return (value - 1) / 8 * 2 - 1


def _expected_errors(model: str | None) -> dict[str, float]:
    """Largest |answer - gold| (normalised valence) per item over the runs of `model` (every model: None)."""
    out = {}
    for (m, _strategy), answers in seed.ANSWERS.items():
        if model and m != model:
            continue
        for stem, answer in answers.items():
            if seed.answered(answer):
                gold = seed.GOLD[stem][1]
                predicted = min(9.0, gold + (1.0 if m == "beta" else 0.0))
                out[seed.item_id(stem)] = max(out.get(seed.item_id(stem), 0.0), abs(_norm(predicted) - _norm(gold)))
    return out


def test_items_are_ordered_by_largest_absolute_error_from_the_outcomes(seeded):
    page = data.continuous_gallery_page(seeded, data.Filters(), data.ContinuousGalleryQuery(_scope(seeded)))
    expected = _expected_errors(None)
    shown = dict(zip(page.items["item_id"], page.items["worst_error"]))
    assert shown == pytest.approx(expected)
    assert list(page.items["worst_error"]) == sorted(page.items["worst_error"], reverse=True)
    # beta's one-point overestimate on the 1-9 scale, read from error_scale
    assert page.items["worst_error_scale"].max() == pytest.approx(1.0)


def test_a_model_filter_keeps_only_its_answers_and_disagreement_orders_the_other_way(seeded):
    alpha = data.continuous_gallery_page(seeded, data.Filters(),
                                         data.ContinuousGalleryQuery(_scope(seeded), model="alpha"))
    assert alpha.items["worst_error"].fillna(0).max() == pytest.approx(0.0)
    assert {a["model"] for answers in alpha.items["answers"] for a in answers} == {"alpha"}
    spread = data.continuous_gallery_page(seeded, data.Filters(),
                                          data.ContinuousGalleryQuery(_scope(seeded), sort="disagreement"))
    values = spread.items["disagreement"].fillna(-1).tolist()
    assert values == sorted(values, reverse=True)
    with pytest.raises(ValueError, match="use one of"):
        data.continuous_gallery_page(seeded, data.Filters(), data.ContinuousGalleryQuery(_scope(seeded), sort="x"))


def test_the_page_colours_answers_by_the_tolerance_in_the_address(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"dimension": "valence", "view_model": "beta", "tolerance": "20"})
    at.switch_page("pages/gallery.py").run()
    assert not at.exception, [e.value for e in at.exception]
    lines = [m.value for m in at.markdown if "beta ·" in m.value]
    assert lines, "the beta answers are listed"
    # beta is off by 0.25 on [-1, 1]: 12.5% of the width, right within 20%
    assert all(":green[✓ beta" in line and ":red[" not in line for line in lines)
    assert not any("alpha ·" in m.value for m in at.markdown)
    at.slider(key="gallery-tolerance").set_value(10).run()
    assert all(":red[✗ beta" in m.value for m in at.markdown if "beta ·" in m.value)
    assert at.query_params["tolerance"] == "10"


def test_the_item_record_shows_prompt_highlighted_span_parsed_values_and_run(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["item"] = seed.item_id("f03")
    at.switch_page("pages/gallery.py").run()
    assert not at.exception, [e.value for e in at.exception]
    titles = [e.label for e in at.expander]
    assert any(f"run {seed.run_id('alpha', 'cot')}" in t for t in titles), titles
    assert any(seed.PROMPT["cot"] in c.value for c in at.code)
    assert any(':orange-background[**"sadness"**]' in m.value for m in at.markdown)
    caption = next(c.value for c in at.caption if seed.run_id("beta", "cot") in c.value and "latency" in c.value)
    assert f"{seed.LATENCY_MS['beta']:,.0f} ms" in caption and f"${seed.COST_PER_CALL['beta']:.4f}" in caption
    assert "100 in / 80 out" in caption
    parsed = [f.value for f in at.dataframe if "span" in f.value.columns]
    assert parsed and any((p["span"] == '"sadness"').any() for p in parsed)
