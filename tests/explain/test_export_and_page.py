"""Overlay export (CLI) and the dashboard's Explain page on a store with maps, probes and reasoning traces."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main

APP = __import__("pathlib").Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def test_export_writes_one_png_per_map_and_an_index(explain_store, tmp_path, capsys):
    db, grid4, grid2x4, attention, _ = explain_store
    out = tmp_path / "overlays"
    assert main(["explain", "export", "--out", str(out), "--db", str(db)]) == 0
    assert "overlay PNG" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "maps.csv")))
    assert len(rows) >= len(grid4.maps) + len(grid2x4.maps) + len(attention)
    for row in rows:
        assert row["file"], row
        with Image.open(out / row["file"]) as image:
            assert image.format == "PNG" and max(image.size) >= 256
        values = np.array([float(v) for v in row["cell_values"].split()])
        rows_, cols = (int(v) for v in row["grid"].split("x"))
        assert values.size == rows_ * cols
    hot = [r for r in rows if r["item_id"] == "positive/hot_3_1.png" and r["method"] == "occlusion"][0]
    assert hot["peak_cell"] == "3,1"


def test_occlusion_cli_json(hotspots, tmp_path, capsys):
    db = tmp_path / "r.duckdb"
    status = main(["explain", "occlusion", "--model-adapter", "color-affect", "--dataset", str(hotspots),
                   "--dataset-format", "folder", "--dataset-name", "hotspots", "--items", "positive/hot_3_1.png",
                   "--grid", "4x4", "--dimensions", "valence", "--db", str(db), "--json"])
    assert status == 0
    (m,) = json.loads(capsys.readouterr().out)
    assert (m["item_id"], m["grid"], m["peak"]) == ("positive/hot_3_1.png", [4, 4], [3, 1])
    assert main(["explain", "occlusion", "--model-adapter", "color-affect", "--dataset", str(hotspots),
                 "--dataset-format", "folder", "--db", str(db)]) == 2
    assert "--items" in capsys.readouterr().err


@pytest.fixture
def page(explain_store, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    db, *_ = explain_store
    monkeypatch.setenv("AFFECTLENS_DB", str(db))
    monkeypatch.setenv("AFFECTLENS_THUMBNAIL_DIR", str(tmp_path / "thumbnails"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/explain.py").run()
    yield at
    from dashboard.connection import close_all
    close_all()


def test_explain_page_renders_maps_probes_and_reasoning(page):
    assert not page.exception, [e.value for e in page.exception]
    assert page.title[0].value == "Explain"
    assert [t.label for t in page.tabs] == ["Heatmaps", "Reasoning", "Probes"]
    assert len(page.image) >= 1  # the first item's overlays
    texts = " ".join(str(m.value) for m in page.markdown) + " ".join(str(c.value) for c in page.caption)
    assert "color-affect" in texts
    tables = [frame.value for frame in page.dataframe]
    assert any("change_rate" in t.columns and set(t["probe"]) == {"darker", "grayscale"} for t in tables)
    assert any("n_inconsistent" in t.columns for t in tables)
    assert len(page.get("vega_lite_chart")) >= 3  # inconsistency, cues, shift, probes


def test_explain_maps_share_a_scale_and_count_cells_from_zero_as_the_cli_does(page, explain_store):
    from engine.explain import queries
    from engine.explain.export import peak

    db, *_ = explain_store
    assert [t.value for t in page.toggle if t.label.startswith("Same colour scale")] == [True]
    item = [s for s in page.selectbox if s.label == "Item"][0].value
    dataset = [s for s in page.selectbox if s.label == "Dataset"][0].value
    captions = " ".join(str(c.value) for c in page.caption)
    assert "counted from 0 at the top left" in captions
    for row in queries.item_maps(db, dataset, item).to_dict("records"):
        top = peak(row["values"])
        if top is not None and row["values"][top] > 0:
            assert f"peak: row {top[0]}, column {top[1]} " in captions  # `affectlens explain` prints the same


def test_explain_page_item_picker_shows_every_model_side_by_side(page):
    picker = [s for s in page.selectbox if s.label == "Item"][0]
    picker.set_value("positive/hot_1_2.png").run()
    assert not page.exception
    captions = " ".join(str(c.value) for c in page.caption)
    assert "attention" in captions and "occlusion" in captions  # tiny-llava's attention beside color-affect
    assert len(page.image) >= 2


def _gallery_script(db: str, item: str, blur: bool) -> None:
    from dashboard.components import heatmaps

    heatmaps.gallery_section(db, "hotspots", item, blur=blur)


def test_gallery_detail_section_respects_the_blur_setting(explain_store, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from engine.store import connect

    db, *_ = explain_store
    monkeypatch.setenv("AFFECTLENS_THUMBNAIL_DIR", str(tmp_path / "thumbnails"))
    with connect(db, read_only=True) as con:
        methods = [r[0] for r in con.execute("SELECT method FROM explanations WHERE item_id = ?",
                                             ["positive/hot_1_2.png"]).fetchall()]
    assert {"occlusion", "attention"} <= set(methods)
    shown = AppTest.from_function(_gallery_script, args=(str(db), "positive/hot_1_2.png", False), default_timeout=60)
    shown.run()
    assert not shown.exception and len(shown.image) == 1 + len(methods)  # the image, then every map
    hidden = AppTest.from_function(_gallery_script, args=(str(db), "positive/hot_1_2.png", True), default_timeout=60)
    hidden.run()
    assert not hidden.exception and len(hidden.image) == 0
    hidden.button[0].click().run()
    assert len(hidden.image) == 1 + len(methods)
    nothing = AppTest.from_function(_gallery_script, args=(str(db), "negative/dark_0.png", False), default_timeout=60)
    nothing.run()
    assert not nothing.exception and not nothing.markdown  # an item without maps adds nothing to the detail view
