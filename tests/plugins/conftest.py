"""The toy plugin package (tests/plugins/toy_plugin) installed the way pip installs one: its `.dist-info` with an
`entry_points.txt` on the import path, which `importlib.metadata` discovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import plugins

HERE = Path(__file__).resolve().parent
ENTRY_POINTS = """[affectlens.adapters]
toy-echo = toy_plugin.adapter:EchoAdapter

[affectlens.loaders]
toy-csv = toy_plugin.loader:load_toy

[affectlens.strategies]
toy-prompt = toy_plugin.strategy:AlwaysPositive

[affectlens.metrics]
toy_positive_share = toy_plugin.metric:positive_share
"""


@pytest.fixture
def installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    info = site / "toy_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(HERE))
    plugins.refresh()
    yield
    plugins.refresh()
