"""Fixtures for the interpretability tests: a synthetic dataset, the tiny local model, and one store
holding occlusion maps, attention maps, probe runs and reasoning traces (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import explain_fixtures as fx  # noqa: E402


@pytest.fixture(scope="session")
def hotspots(tmp_path_factory) -> Path:
    return fx.make_dataset(tmp_path_factory.mktemp("hotspots"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from engine.models.tiny import build_tiny_llava
    return build_tiny_llava(tmp_path_factory.mktemp("models") / "tiny-llava")


@pytest.fixture(scope="session")
def explain_store(tmp_path_factory, hotspots, tiny_model):
    """(store path, occlusion result 4x4, occlusion result 2x4, attention maps, probe experiment result)."""
    from engine.explain.attention import attention_config, attention_maps
    from engine.explain.experiments import occlusion_config, probe_config, run_occlusion
    from engine.runner import run_experiment

    db = tmp_path_factory.mktemp("store") / "results.duckdb"
    base = {"name": "explain-test", "dimensions": ["polarity", "valence"],
            "datasets": [fx.dataset_entry(hotspots)], "models": [{"name": "color-affect", "adapter": "color-affect"}]}
    square = [item for item, spec in fx.HOTSPOTS.items() if spec[:2] == (4, 4)]
    grid4 = run_occlusion(occlusion_config(base, items=square, grid="4x4", fill="grey"), db, quiet=True,
                          refresh_scores=False)
    grid2x4 = run_occlusion(occlusion_config(base, items=["positive/wide_1_3.png"], grid="2x4", fill="mean"), db,
                            quiet=True, refresh_scores=False)
    attention = attention_maps(attention_config(str(tiny_model), fx.dataset_entry(hotspots),
                                                items=["positive/hot_1_2.png"], name="tiny-llava",
                                                options={"device": "cpu"}, max_tokens=8), db)
    probe_base = {**base, "dimensions": ["polarity"],
                  "datasets": [fx.dataset_entry(hotspots, items=fx.PALE + fx.DARK)], "strategies": ["zero-shot"]}
    probes = run_experiment(probe_config(probe_base, ["darker", "grayscale"]), db, quiet=True, refresh_scores=False)
    fx.write_reasoning_runs(db)
    return db, grid4, grid2x4, attention, probes
