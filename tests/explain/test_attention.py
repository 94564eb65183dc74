"""Attention maps of the tiny local LLaVA-architecture model: the patch-grid shape, finite shares."""

from __future__ import annotations

import json

import numpy as np
import pytest

import explain_fixtures as fx
from engine.cli.main import main
from engine.errors import ConfigError
from engine.explain.attention import attention_config, attention_maps
from engine.models.tiny import IMAGE_SIZE, PATCH_SIZE
from engine.store import connect

GRID = IMAGE_SIZE // PATCH_SIZE  # the tiny vision tower's patch grid side


def test_attention_map_has_the_patch_grid_shape_and_is_stored(explain_store):
    db, _, _, attention, _ = explain_store
    (m,) = attention
    assert m.values.shape == (GRID, GRID) and np.isfinite(m.values).all()
    assert (m.values >= 0).all() and m.values.sum() == pytest.approx(1.0)
    assert (m.method, m.measure, m.model, m.strategy) == ("attention", "attention_mean", "tiny-llava", "zero-shot")
    assert m.meta["answer_source"] == "generated"
    with connect(db, read_only=True) as con:
        row = con.execute("SELECT grid_rows, grid_cols, cell_values, meta FROM explanations "
                          "WHERE method = 'attention' AND item_id = ?", ["positive/hot_1_2.png"]).fetchone()
    assert (row[0], row[1]) == (GRID, GRID)
    np.testing.assert_allclose(np.array(row[2]).reshape(GRID, GRID), m.values)
    assert json.loads(row[3])["aggregate"] == "mean"


def test_rollout_through_the_cli_beside_the_mean_map(explain_store, hotspots, tiny_model, capsys):
    db, *_ = explain_store
    status = main(["explain", "attention", "--model", str(tiny_model), "--name", "tiny-llava", "--dataset",
                   str(hotspots), "--dataset-format", "folder", "--dataset-name", "hotspots", "--items",
                   "positive/hot_1_2.png", "--aggregate", "rollout", "--device", "cpu", "--db", str(db), "--json"])
    assert status == 0
    (printed,) = json.loads(capsys.readouterr().out)
    values = np.array(printed["values"], dtype=float)
    assert values.shape == (GRID, GRID) and np.isfinite(values).all() and values.sum() == pytest.approx(1.0)
    with connect(db, read_only=True) as con:
        measures = {r[0] for r in con.execute("SELECT measure FROM explanations WHERE method = 'attention'").fetchall()}
    assert measures == {"attention_mean", "attention_rollout"}  # both kept, one per measure


def test_attention_needs_a_local_model(hotspots, tmp_path):
    config = attention_config("gpt-4o", fx.dataset_entry(hotspots), items=["positive/hot_1_2.png"])
    config["models"][0].update(adapter="openai")
    with pytest.raises(ConfigError, match="adapter reads out attention"):
        attention_maps(config, tmp_path / "r.duckdb")
    with pytest.raises(ConfigError, match="--items"):
        attention_config("m", fx.dataset_entry(hotspots))
