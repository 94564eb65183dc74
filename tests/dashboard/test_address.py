"""Shared views: every page's pickers are read from the address and written back to it, and a picker never
shows a value other than the one the page draws."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import seed
from tests.dashboard.conftest import APP, open_panels, table_with


def _box(at, label: str):
    boxes = [box for box in at.selectbox if box.label == label]
    assert boxes, f"no {label!r} picker; pickers: {[b.label for b in at.selectbox]}"
    return boxes[0]


def _open(seeded, monkeypatch, page: str | None, params: dict[str, str]) -> AppTest:
    """A new session that opens `page` from an address holding `params` (as a copied link would)."""
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_link_opens_the_overview_scope_it_names(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, None, {"dimension": "valence"})
    assert _box(at, "Dimension").value == "valence"
    board = table_with(at, "95% CI")
    assert "ccc" in board.columns, "the valence leaderboard is drawn (ranked on CCC)"
    assert at.query_params["dimension"] == "valence"
    assert at.query_params["view_dataset"] == seed.DATASET


def test_a_choice_is_written_to_the_address_and_a_new_session_reopens_it(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/dimensions.py", {})
    _box(at, "Model").select("beta").run()
    _box(at, "Strategy").select("cot").run()
    assert (_box(at, "Model").value, _box(at, "Strategy").value) == ("beta", "cot")
    shared = dict(at.query_params)
    assert shared["view_model"] == "beta" and shared["view_strategy"] == "cot"
    assert shared["dimension"] == "emotion"

    again = _open(seeded, monkeypatch, "pages/dimensions.py", shared)
    assert (_box(again, "Model").value, _box(again, "Strategy").value) == ("beta", "cot")


def test_a_dependent_picker_resets_to_a_value_that_exists_and_shows_it(seeded, monkeypatch):
    # the address names a strategy the chosen model never ran: the box falls back and shows the drawn one
    at = _open(seeded, monkeypatch, "pages/dimensions.py", {"view_model": "alpha", "view_strategy": "no-such"})
    strategy = _box(at, "Strategy")
    assert strategy.value in {"cot", "zero-shot"}
    assert at.query_params["view_strategy"] == strategy.value


def test_the_comparison_metric_and_strategy_round_trip(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/comparison.py", {"metric": "coverage", "view_strategy": "cot"})
    assert _box(at, "Metric").value == "coverage"
    assert _box(at, "Strategy").value == "cot"
    table = table_with(at, "p_holm")
    answers_a, answers_b = seed.ANSWERS[("alpha", "cot")], seed.ANSWERS[("beta", "cot")]
    row = table[(table["model_a"] == "alpha") & (table["model_b"] == "beta")].iloc[0]
    only_a = sum(seed.correct(s, answers_a[s]) and not seed.correct(s, answers_b[s]) for s in seed.GOLD)
    assert row["only_a"] == only_a, "the pairwise table is the cot one the box names"


def test_sidebar_filters_are_written_to_the_address(seeded, monkeypatch):
    at = open_panels(_open(seeded, monkeypatch, None, {}), "filters")
    filters = [m for m in at.multiselect if m.label == "Models"][0]
    filters.select("alpha").run()
    assert at.query_params["model"] == "alpha"
    again = _open(seeded, monkeypatch, None, {"model": "alpha"})
    board = table_with(again, "95% CI")
    assert set(board["model"]) == {"alpha"}


def test_gallery_filters_round_trip(seeded, monkeypatch):
    at = _open(seeded, monkeypatch, "pages/gallery.py", {"gold": "sadness", "errors": "wrong", "search": "f0"})
    assert _box(at, "Gold label").value == "sadness"
    assert [t for t in at.text_input if t.label == "Item id contains"][0].value == "f0"
    shown = {c.value for c in at.caption}
    stems = [s for s, (emotion, _, _) in seed.GOLD.items() if emotion == "sadness"
             and any(seed.answered(a[s]) and not seed.correct(s, a[s]) for a in seed.ANSWERS.values())]
    assert any(f"{len(stems):,} items match" in text for text in shown), shown
    assert at.query_params["gold"] == "sadness" and at.query_params["errors"] == "wrong"


@pytest.mark.parametrize("page, param", [("pages/runs.py", "show_run"), ("pages/ablations.py", "baseline")])
def test_other_pages_write_their_picker(seeded, monkeypatch, page, param):
    at = _open(seeded, monkeypatch, page, {})
    assert param in at.query_params
