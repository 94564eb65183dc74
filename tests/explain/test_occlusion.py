"""Occlusion maps on the offline `color-affect` baseline: the grid's shape, and the peak where the colour is."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

import explain_fixtures as fx
from engine.explain.occlusion import cell_effect, choose_measure, maps_for_run, overlay, overlay_png, scaled
from engine.perturb import grid_cells, occlude
from engine.prompts.probing import parse_grid
from engine.parsing import DimensionParse, ParseResult
from engine.store import connect


def test_every_square_item_has_a_4x4_map_peaking_at_its_coloured_cell(explain_store):
    db, grid4, *_ = explain_store
    by_item = {m.item_id: m for m in grid4.maps}
    assert set(by_item) == {item for item, spec in fx.HOTSPOTS.items() if spec[:2] == (4, 4)}
    for item, m in by_item.items():
        _, _, hot_row, hot_col, *_ = fx.HOTSPOTS[item]
        assert m.values.shape == (4, 4) and np.isfinite(m.values).all()
        assert m.measure == "valence_change" and m.method == "occlusion" and m.model == "color-affect"
        assert np.unravel_index(np.argmax(m.values), m.values.shape) == (hot_row, hot_col), m.values.round(4)
        others = np.delete(m.values.ravel(), hot_row * 4 + hot_col)
        assert m.values[hot_row, hot_col] > 5 * others.max()  # masking grey on grey changes (almost) nothing
        assert m.meta["cells_asked"] == m.meta["cells_total"] == 16


def test_non_square_grid_and_mean_fill(explain_store):
    _, _, grid2x4, *_ = explain_store
    (m,) = grid2x4.maps
    assert m.values.shape == (2, 4)
    assert np.unravel_index(np.nanargmax(m.values), m.values.shape) == (1, 3)
    assert m.meta["fill"] == "mean" and m.strategy == "zero-shot+occlusion[2x4,mean]"


def test_maps_are_stored_and_the_run_is_an_ordinary_scored_run(explain_store):
    db, grid4, *_ = explain_store
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT item_id, grid_rows, grid_cols, cell_values, strategy FROM explanations "
                           "WHERE method = 'occlusion' AND strategy = 'zero-shot+occlusion'").fetchall()
        stages = con.execute("SELECT count(*) FROM responses WHERE run_id = ? AND stage LIKE 'occlude:%'",
                             [grid4.experiment.runs[0].run_id]).fetchone()[0]
        predictions = con.execute("SELECT count(DISTINCT item_id) FROM predictions WHERE run_id = ?",
                                  [grid4.experiment.runs[0].run_id]).fetchone()[0]
    assert len(rows) == 3 and all((r[1], r[2], len(r[3])) == (4, 4, 16) for r in rows)
    assert stages == 3 * 16 and predictions == 3  # one answer per item, one response per masked cell
    # re-reading the stored responses gives the same maps
    again = {m.item_id: m.values for m in maps_for_run(db, grid4.experiment.runs[0].run_id)}
    for m in grid4.maps:
        np.testing.assert_allclose(again[m.item_id], m.values)


def test_occlusion_config_keeps_models_and_dimensions_and_chooses_items():
    from engine.errors import ConfigError
    from engine.explain.experiments import occlusion_config

    base = {"name": "study", "dimensions": ["emotion", "valence"], "prices": {"m": {"input": 1, "output": 2}},
            "datasets": [{"name": "d", "path": "x"}], "strategies": ["cot", "zero-shot"],
            "models": [{"name": "m", "adapter": "color-affect", "strategies": ["cot"]}]}
    config = occlusion_config(base, items=["a", "b"], strategy="cot", grid="3x3", fill="blur")
    assert config["strategies"] == [{"name": "cot+occlusion", "label": "cot+occlusion[3x3,blur]",
                                     "extra": {"grid": "3x3", "fill": "blur"}}]
    assert config["datasets"] == [{"name": "d", "path": "x", "items": ["a", "b"]}]
    assert config["dimensions"] == ["emotion", "valence"] and config["prices"] == base["prices"]
    assert "strategies" not in config["models"][0] and config["name"] == "study-occlusion"
    assert occlusion_config(base, limit=2)["strategies"][0]["label"] == "zero-shot+occlusion"
    with pytest.raises(ConfigError, match="--items"):
        occlusion_config(base)
    with pytest.raises(ValueError, match="fill"):
        occlusion_config(base, items=["a"], fill="pink")


def test_cell_effect_measures_by_hand():
    def result(**dims):
        return ParseResult({k: DimensionParse(v, "ok") for k, v in dims.items()})

    assert cell_effect("valence_change", result(valence=7.0), result(valence=3.0), (1.0, 9.0)) == pytest.approx(1.0)
    assert cell_effect("probability_drop", result(distribution={"joy": 0.8, "sadness": 0.2}),
                       result(distribution={"joy": 0.3, "sadness": 0.7})) == pytest.approx(0.5)
    assert cell_effect("probability_drop", result(distribution={"joy": 0.6, "fear": 0.4}),
                       result(distribution={"joy": 0.9, "fear": 0.1})) == 0.0
    assert cell_effect("rank_drop", result(ranking=["joy", "awe", "fear", "anger"]),
                       result(ranking=["awe", "fear", "joy", "anger"])) == pytest.approx(2 / 4)
    assert cell_effect("rank_drop", result(ranking=["joy", "awe"]), result(ranking=["awe"])) == 1.0
    assert cell_effect("label_flip", result(emotion="joy", polarity="positive"),
                       result(emotion="surprise", polarity="positive")) == 1.0
    assert cell_effect("label_flip", result(polarity="negative"), result(polarity="negative")) == 0.0
    unread = ParseResult({"valence": DimensionParse(None, "failed")})
    assert math.isnan(cell_effect("valence_change", result(valence=5.0), unread, (1.0, 9.0)))
    assert choose_measure(("polarity", "valence")) == "valence_change"
    assert choose_measure(("emotion", "ranking")) == "rank_drop"
    assert choose_measure(("emotion",)) == "label_flip"
    # a model that gives no valence although asked is mapped by its labels, not left blank
    assert choose_measure(("polarity", "valence"), result(polarity="positive")) == "label_flip"
    assert choose_measure(("polarity", "valence"), result(polarity="positive", valence=6.0)) == "valence_change"


def test_grid_cells_tile_the_image_and_occlusion_masks_exactly_one_cell():
    image = fx.hotspot_image(4, 4, 2, 1, 64, 64)
    cells = grid_cells(image.size, 3, 5)
    covered = np.zeros((64, 64), int)
    for cell in cells:
        left, top, right, bottom = cell.box
        covered[top:bottom, left:right] += 1
    assert (covered == 1).all() and len(cells) == 15
    masked = np.asarray(occlude(image, grid_cells(image.size, 4, 4)[2 * 4 + 1], "grey"))
    assert (masked == 128).all()  # the only coloured cell, painted grey
    with pytest.raises(ValueError, match="grey, blur or mean"):
        occlude(image, cells[0], "pink")
    assert parse_grid("3x5") == (3, 5)
    with pytest.raises(ValueError, match="ROWSxCOLS"):
        parse_grid("four")
    with pytest.raises(ValueError, match="between 1 and 16"):
        parse_grid("0x4")


def test_overlay_keeps_the_image_size_colours_only_known_cells_and_scales_from_zero():
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    values = np.array([[0.0, np.nan], [0.5, 1.0]])
    out = overlay(image, values, alpha=1.0)
    assert out.size == image.size
    pixels = np.asarray(out)
    assert (pixels[2, 30] == 0).all()  # the NaN cell (top right) is left as the image
    assert pixels[2, 5, 2] > pixels[2, 5, 0]  # zero effect is blue
    assert pixels[15, 35, 0] > pixels[15, 35, 2]  # the largest is red
    np.testing.assert_allclose(scaled(np.zeros((2, 2))), 0.0)  # no effect anywhere: all blue, not mid-scale
    np.testing.assert_allclose(scaled(np.array([[0.2, 0.4]]), vmax=0.8), [[0.25, 0.5]])
    assert Image.open(io.BytesIO(overlay_png(image, values))).format == "PNG"
