"""The sidebar: running a small analysis in the background, analysing an upload, viewer mode and sign-in,
keys never shown, and the export buttons."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import seed
from tests.dashboard.conftest import APP, PAGES, figures, open_panels, table_with, tables, texts
from dashboard.components import auth


def _everything_shown(at) -> str:
    """The serialised protos of every element on the page and in the sidebar."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    return "\n".join(out)


def _png(colour=(200, 180, 40), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    picture = Image.new("RGB", size, colour)
    picture.paste((20, 20, 20), (10, 10, 30, 30))
    picture.save(out, "PNG")
    return out.getvalue()


def test_run_a_small_analysis_without_freezing_and_see_it_appear(fresh_store, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(fresh_store))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    open_panels(at.switch_page("pages/runs.py"), "analysis")
    before = set(next(f.value for f in at.dataframe if "run_id" in f.value.columns)["model"])
    assert "color-affect" not in before
    at.selectbox(key="analysis-dataset").set_value(seed.DATASET)
    at.number_input(key="analysis-n").set_value(5)
    at.number_input(key="analysis-seed").set_value(7)
    at.multiselect(key="analysis-models").set_value(["color-affect"])
    at.selectbox(key="analysis-strategy").set_value("zero-shot")
    started = time.monotonic()
    next(b for b in at.button if b.label == "Run").click().run()
    assert time.monotonic() - started < 20  # the script returned while the worker runs
    assert "analysis-job" in at.session_state or "analysis-last" in at.session_state, texts(at)
    deadline = time.monotonic() + 180
    while "analysis-job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()  # what the fragment's one-second poll does in a browser
        assert not at.exception, [e.value for e in at.exception]
    assert "analysis-job" not in at.session_state, "the analysis did not finish"
    assert at.session_state["analysis-last"].state == "done", at.session_state["analysis-last"].message
    at.run()
    runs = next(f.value for f in at.dataframe if "run_id" in f.value.columns)
    added = runs[runs["model"] == "color-affect"]
    assert len(added) == 1 and added["status"].iloc[0] == "complete" and added["n_items"].iloc[0] == 5
    assert "color-affect" in texts(at)  # the success message names the model
    assert f"random sample of 5 items of {seed.DATASET} (seed 7)" in texts(at)
    assert added["purpose"].iloc[0] == "analysis"
    # the items are the seeded sample, not the first five; the form kept its values
    from engine.runner.small import sample_items
    from engine.store import connect

    with connect(fresh_store, read_only=True) as con:
        used = sorted(r[0] for r in con.execute("SELECT DISTINCT item_id FROM responses WHERE run_id = ?",
                                                 [added["run_id"].iloc[0]]).fetchall())
    assert used == sample_items(fresh_store, seed.DATASET, 5, 7)
    assert used != sorted(seed.item_id(s) for s in seed.GOLD)[:5]
    assert at.number_input(key="analysis-n").value == 5 and at.number_input(key="analysis-seed").value == 7
    assert at.multiselect(key="analysis-models").value == ["color-affect"]
    at.switch_page("pages/overview.py").run()
    # an analysis is shown on its own: it never joins the benchmark models, cells or leaderboard
    assert figures(at)["models"] == "2"
    board = table_with(at, "95% CI")
    assert "color-affect" not in set(board["model"])


def test_upload_is_checked_and_analysed_with_an_offline_baseline(app):
    open_panels(app, "upload")
    uploader = app.sidebar.file_uploader[0]
    uploader.set_value(("notes.png", b"this is not an image", "image/png")).run()
    assert any("not a readable image" in e.value for e in app.error)
    app.sidebar.file_uploader[0].set_value(("scene.png", _png(), "image/png")).run()
    assert not app.error
    app.multiselect(key="upload-models").set_value(["color-affect", "uniform"])
    app.button(key="upload-run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    # laid out in the main area, under the page's title, with the scale of every answer stated
    assert not [f for f in app.sidebar.dataframe if "answer" in f.value.columns]
    answers = next(f.value for f in app.main.dataframe if "answer" in f.value.columns)
    assert set(answers["model"]) == {"color-affect", "uniform"}
    scales = answers.drop_duplicates("dimension").set_index("dimension")["scale"]
    assert scales["valence"].startswith("1–9 (1 very negative · 5 neutral · 9 very positive)")
    assert scales["arousal"].startswith("1–9 (1 calm")
    assert any("Valence on 1–9" in c.value for c in app.main.caption)
    assert all(1 <= float(v) <= 9 for v in answers.loc[answers["dimension"].isin(["valence", "arousal"]) &
                                                       answers["answer"].notna(), "answer"])
    polarity = answers[(answers["model"] == "color-affect") & (answers["dimension"] == "polarity")].iloc[0]
    assert polarity["answer"] in ("positive", "negative") and polarity["status"] == "ok"


def test_upload_size_limit(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    monkeypatch.setenv("AFFECTLENS_MAX_UPLOAD_MB", "0.001")
    app = open_panels(AppTest.from_file(str(APP), default_timeout=60).run(), "upload")
    import numpy as np

    noise = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(noise, "PNG")
    assert len(noise.getvalue()) > 0.001 * 1024 * 1024
    app.sidebar.file_uploader[0].set_value(("big.png", noise.getvalue(), "image/png")).run()
    assert any("limit is 0.001 MB" in e.value for e in app.error), [e.value for e in app.error] + [e.value for e in app.exception]


def test_viewer_mode_turns_analyses_and_uploads_off_until_the_password(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    monkeypatch.setenv("AFFECTLENS_VIEWER_MODE", "1")
    monkeypatch.setenv("AFFECTLENS_PASSWORD", "correct horse")
    from dashboard import guard
    monkeypatch.setattr(guard, "THROTTLE", guard.Throttle(base_delay_s=0.001))  # the throttle has its own tests
    at = open_panels(AppTest.from_file(str(APP), default_timeout=60).run(), "settings", "analysis", "upload")
    assert at.sidebar.text_input[0].disabled  # the store path is fixed for viewers
    assert at.sidebar.text_input[0].value == seeded.name  # by its name, not the server path
    assert not any(b.label == "Reload results" for b in at.button)  # the shared cache is not theirs to clear
    assert not at.sidebar.file_uploader
    assert "Sign in to run analyses" in texts(at)
    password = next(t for t in at.sidebar.text_input if t.label == "Password")
    password.input("wrong")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert any("Wrong password" in e.value for e in at.error)
    assert not at.sidebar.file_uploader
    password = next(t for t in at.sidebar.text_input if t.label == "Password")
    assert password.value == ""  # what was typed is not kept
    password.input("correct horse")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert at.sidebar.file_uploader and not at.sidebar.text_input[0].disabled
    assert at.sidebar.text_input[0].value == str(seeded)
    assert any(b.label == "Reload results" for b in at.button)
    assert "correct horse" not in _everything_shown(at)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception


def test_viewer_mode_offers_oidc_sign_in_when_configured(seeded, monkeypatch):
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    monkeypatch.setenv("AFFECTLENS_VIEWER_MODE", "1")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "s", "server_metadata_url":
                          "http://127.0.0.1:9/.well-known/openid-configuration"}
    at.run()
    import importlib.util

    if importlib.util.find_spec("authlib") is None:
        assert "pip install 'streamlit[auth]'" in texts(at)
    else:
        assert any(b.label == "Sign in" for b in at.sidebar.button)
    assert not open_panels(at, "upload").sidebar.file_uploader


def test_password_comparison():
    assert auth.password_matches("s3cret", "s3cret")
    assert not auth.password_matches("s3cre", "s3cret")
    assert not auth.password_matches("", "")
    assert not auth.password_matches("anything", None)


def test_cloud_keys_enable_cloud_models_and_are_never_shown(seeded, monkeypatch):
    secret = "sk-test-DO-NOT-SHOW-1234567890"
    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    at = open_panels(AppTest.from_file(str(APP), default_timeout=60).run(), "analysis", "upload")
    assert any(o.startswith("openai:") for o in at.multiselect(key="analysis-models").options)
    for page in PAGES:
        at.switch_page(page).run()
        assert secret not in _everything_shown(at)


def test_every_chart_has_png_svg_and_every_table_csv(app):
    from dashboard.components import export

    for page in PAGES[:4]:
        app.switch_page(page).run()
        labels = [b.label for b in app.download_button]
        charts = len(app.get("vega_lite_chart"))
        assert labels.count("PNG") == charts and labels.count("SVG") == charts
        assert labels.count("CSV") >= len(tables(app))
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_point().encode(x="x", y="y")
    assert export.chart_png(chart).startswith(b"\x89PNG")
    assert "<svg" in export.chart_svg(chart)
    assert export.table_csv(pd.DataFrame({"a": [1]})) == b"a\n1\n"


def test_secret_values_are_redacted_from_messages(monkeypatch):
    from dashboard import settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdef123456")
    monkeypatch.setenv("AFFECTLENS_PASSWORD", "hunter22")
    assert settings.redact("401: Incorrect API key provided: sk-test-abcdef123456; pw hunter22") == \
        "401: Incorrect API key provided: ***; pw ***"
