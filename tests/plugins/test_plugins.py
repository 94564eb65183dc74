"""A separately installed package adds an adapter, a loader, a strategy and a metric through entry points,
and an experiment uses all four without any change to AffectLens.

The package (tests/plugins/toy_plugin) is installed by the `installed` fixture (conftest.py) the way pip
installs one: its `.dist-info` with an `entry_points.txt` on the import path.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from PIL import Image

from engine import plugins
from engine.cli.main import main


def _cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def test_an_installed_plugin_adds_all_four_extension_points(installed, tmp_path):
    data = tmp_path / "toy"
    data.mkdir()
    labels = ["positive", "negative", "positive", "positive"]
    for number, label in enumerate(labels):
        Image.new("RGB", (16, 16), (40 * number, 90, 160)).save(data / f"t{number}.jpg")
    (data / "labels.txt").write_text("".join(f"t{n},{label}\n" for n, label in enumerate(labels)))
    config = tmp_path / "plugin.yaml"
    config.write_text(json.dumps({"name": "plugin", "dimensions": ["polarity"], "image_max_side": 32,
                                  "datasets": [{"name": "toy", "format": "toy-csv", "path": str(data)}],
                                  "models": [{"name": "echo", "adapter": "toy-echo"}],
                                  "strategies": ["toy-prompt"]}))
    db = tmp_path / "r.duckdb"
    _cli("run", str(config), "--db", str(db), "--quiet")
    scores = {r["metric"]: r for r in json.loads(_cli("scores", "--db", str(db), "--json", "--resamples", "50"))}
    assert scores["accuracy_strict"]["value"] == pytest.approx(3 / 4)  # the echo always says positive
    assert scores["toy_positive_share"]["value"] == 1.0 and scores["toy_positive_share"]["n"] == 4
    assert {r["strategy"] for r in scores.values()} == {"toy-prompt"}
    from engine.datasets import loader_names
    from engine.models import adapter_names
    from engine.prompts import strategy_names
    assert "toy-echo" in adapter_names() and "toy-csv" in loader_names() and "toy-prompt" in strategy_names()


def test_a_broken_plugin_is_an_error_naming_it(installed, tmp_path, monkeypatch):
    site = tmp_path / "broken"
    info = site / "broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[affectlens.adapters]\nbroken = no_such_module.adapter:Nothing\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.refresh()
    from engine.models import create_adapter
    from engine.models.base import ModelSpec
    with pytest.raises(ImportError, match="plugin 'broken'.*broken-plugin.*fix or uninstall"):
        create_adapter(ModelSpec(name="m", adapter="broken"))
