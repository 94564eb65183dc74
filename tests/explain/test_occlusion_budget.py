"""`--max-cost` stops an occlusion run of a priced cloud model part-way, and a rerun finishes it without
asking any cell twice. The model is the openai-compatible adapter (the real `openai` SDK) against the
loopback fake server, which answers a valence from the mean brightness of the image it received."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

import explain_fixtures as fx
from engine.explain.experiments import occlusion_config, run_occlusion
from engine.store import connect
from tests.fakes import FakeVendorServer

PRICE = {"input": 1000.0, "output": 1000.0}  # USD per 1M tokens: every call costs about 0.1 USD


def _answer(request) -> str:
    image = Image.open(io.BytesIO(request.images[0].data)).convert("L")
    brightness = float(np.asarray(image, dtype=float).mean()) / 255
    return json.dumps({"valence": round(1 + 8 * brightness, 3)})


@pytest.fixture
def server():
    with FakeVendorServer("openai", answer=_answer) as fake:
        yield fake


def _config(hotspots, fake) -> dict:
    base = {"name": "budget", "dimensions": ["valence"], "datasets": [fx.dataset_entry(hotspots)],
            "models": [{"name": "vision-api", "adapter": "openai-compatible", "model": "vision-1",
                        "base_url": fake.base_url, "concurrency": 1, "max_attempts": 1, "price": PRICE}]}
    return occlusion_config(base, items=[fx.MOSAIC], grid="4x4", fill="grey")


def test_the_cost_cap_stops_an_occlusion_run_and_a_rerun_finishes_it(hotspots, server, tmp_path):
    db = tmp_path / "results.duckdb"
    config = _config(hotspots, server)
    first = run_occlusion(config, db, max_cost=0.25, quiet=True, refresh_scores=False)
    (run,) = first.experiment.runs
    asked = [r for r in server.requests if r.fault == "ok"]
    per_call = run.cost_usd / len(asked)
    assert per_call > 0
    cells_asked = len(asked) - 1  # the first call is the intact image
    assert 0 < cells_asked < 16  # stopped part-way through the grid
    assert run.status == "stopped" and "--max-cost" in run.message
    assert first.stopped
    (partial,) = first.maps  # the unfinished item's map so far: the cells not asked are NaN
    assert partial.values.shape == (4, 4) and int(np.isfinite(partial.values).sum()) == cells_asked
    assert partial.meta["cells_asked"] == cells_asked
    assert first.experiment.spent_usd < 0.25 + 8 * per_call  # overshoot bounded by the cells in flight
    with connect(db, read_only=True) as con:
        status = con.execute("SELECT status FROM runs WHERE run_id = ?", [run.run_id]).fetchone()[0]
        stored = con.execute("SELECT count(*) FROM responses WHERE run_id = ? AND stage LIKE 'occlude:%'",
                             [run.run_id]).fetchone()[0]
    assert status == "stopped" and stored == cells_asked

    second = run_occlusion(config, db, max_cost=10.0, quiet=True, refresh_scores=False)
    assert second.experiment.runs[0].status == "complete"
    sent = [r for r in server.requests if r.fault == "ok"]
    # every distinct image was sent once over both invocations (the intact one and each distinct masked one)
    assert len({r.images[0].sha256 for r in sent}) == len(sent)
    assert len(sent) == 17  # the intact image and 16 different masked copies, each sent once
    (m,) = second.maps
    assert m.values.shape == (4, 4) and np.isfinite(m.values).all()
    assert np.unravel_index(np.argmax(m.values), m.values.shape) == fx.MOSAIC_HOT


def test_identical_masked_images_are_sent_once(hotspots, server, tmp_path):
    config = _config(hotspots, server)
    config["datasets"][0]["items"] = ["positive/hot_1_2.png"]
    result = run_occlusion(config, tmp_path / "r.duckdb", quiet=True, refresh_scores=False)
    (m,) = result.maps
    assert m.model == "vision-api" and m.measure == "valence_change"
    assert np.unravel_index(np.argmax(m.values), m.values.shape) == (1, 2)
    # masking a grey cell away from the coloured one with the grey fill gives the same image each time:
    # it is sent once and the repeats are answered from the cache
    sent = [r.images[0].sha256 for r in server.requests]
    assert len(set(sent)) == len(sent) < 17
    assert result.experiment.runs[0].cached == 17 - len(sent)
