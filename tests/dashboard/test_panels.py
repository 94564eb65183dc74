"""The sidebar panels and the Overview's chart are drawn only while open (a first page sends and draws less),
and what was chosen in a panel holds while it is closed: pinned runs (and their `run` in the address), the blur
setting, the upload form's models."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

import seed
from dashboard.state import BLUR_KEY, PINNED_KEY
from tests.dashboard.conftest import APP, PANELS, open_panels, tables, texts


def _close(at, *names: str):
    for name in names:
        at.session_state[PANELS[name]] = False
    return at.run()


def test_a_first_page_draws_no_closed_panel_and_no_chart(app):
    assert not app.exception, [e.value for e in app.exception]
    assert not app.sidebar.multiselect and not app.sidebar.text_input  # no filter is on: the panels are closed
    assert not app.sidebar.toggle and not app.sidebar.file_uploader and not app.sidebar.number_input
    assert not app.get("vega_lite_chart")  # the leaderboard opens on its table
    assert any("95% CI" in t.columns for t in tables(app))
    open_panels(app, "filters", "run set", "settings", "analysis", "upload")
    assert not app.exception, [e.value for e in app.exception]
    assert [m.label for m in app.sidebar.multiselect][:4] == ["Datasets", "Models", "Strategies",
                                                              "Older runs to show instead"]
    assert app.sidebar.text_input[0].label == "Results file"
    assert app.sidebar.toggle and app.sidebar.file_uploader and app.sidebar.number_input
    app.session_state["leaderboard_view"] = "Chart"
    app.run()
    assert len(app.get("vega_lite_chart")) == 1
    assert not any("95% CI" in t.columns for t in tables(app))  # only the open tab is drawn


def test_a_pinned_run_holds_while_its_panel_is_closed(app):
    pinned = seed.run_id("alpha", "zero-shot")
    open_panels(app, "run set")
    next(m for m in app.sidebar.multiselect if m.label == "Older runs to show instead").set_value([pinned]).run()
    assert app.query_params["run"] == pinned
    _close(app, "run set")
    assert "Older runs to show instead" not in [m.label for m in app.sidebar.multiselect]
    for page in ("pages/runs.py", "pages/overview.py"):
        app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]
        assert list(app.session_state[PINNED_KEY]) == [pinned]
        assert app.query_params["run"] == pinned  # still in the address a copied link carries


def test_a_link_with_pinned_runs_opens_the_run_set(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    pinned = seed.run_id("beta", "cot")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["run"] = pinned
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = next(m for m in at.sidebar.multiselect if m.label == "Older runs to show instead")
    assert picker.value == [pinned]


def test_settings_and_upload_choices_hold_while_closed(app, tmp_path):
    open_panels(app, "settings", "upload")
    app.sidebar.toggle[0].set_value(True).run()
    app.sidebar.text_input[0].set_value(str(tmp_path / "other.duckdb")).run()
    app.multiselect(key="upload-models").set_value(["uniform"]).run()
    _close(app, "settings", "upload")
    app.switch_page("pages/gallery.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state[BLUR_KEY] is True
    assert "no results store" in texts(app)  # the other file chosen in Settings is still the one read
    open_panels(app, "settings", "upload")
    assert app.sidebar.toggle[0].value is True
    assert app.multiselect(key="upload-models").value == ["uniform"]


def test_the_leaderboard_tab_is_in_the_address(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["leaderboard_view"] = "Chart"  # a copied address of the chart view
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("vega_lite_chart")) == 1
    assert not any("95% CI" in t.columns for t in tables(at))
