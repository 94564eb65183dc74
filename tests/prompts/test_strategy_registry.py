"""Prompt strategies and probes are declared once in their registries; the runner's and the dashboard's
choices come from the declared capabilities, not from lists of names."""

from __future__ import annotations

import pytest
from PIL import Image

from engine.perturb import PROBE_REGISTRY, PROBES, probe_names
from engine.prompts import STRATEGY_REGISTRY, StrategyOptions, get_strategy, strategy_info, strategy_names
from engine.runner.config import StrategyConfig


def test_every_registered_strategy_is_its_class_under_its_name():
    for name in strategy_names():
        info = strategy_info(name)
        strategy = get_strategy(name)
        assert isinstance(strategy, info.cls) and strategy.name == name
        for alias in info.aliases:
            assert get_strategy(alias).name == name
        if name != "self-consistency":  # which one it samples is itself an option
            assert len(strategy.template_hash(StrategyOptions())) == 64


def test_capabilities_decide_the_pool_the_labels_and_the_dashboard_choices():
    from dashboard import jobs
    assert [n for n in strategy_names() if strategy_info(n).uses_pool] == ["few-shot"]
    assert set(jobs.STRATEGIES) == {n for n in strategy_names()
                                    if not strategy_info(n).uses_pool and not strategy_info(n).samples}
    assert "few-shot" not in jobs.STRATEGIES and "self-consistency" not in jobs.STRATEGIES
    assert StrategyConfig(name="fewshot", k_shot=5).run_label == "fewshot[k_shot=5]"
    assert StrategyConfig(name="cot", k_shot=5).run_label == "cot"  # k_shot does not change cot's prompt
    assert StrategyConfig(name="sc", n_samples=3).run_label == "sc[n_samples=3]"
    with pytest.raises(KeyError, match=r"unknown prompt strategy 'zero-shoot' \(did you mean 'zero-shot'\?\)"):
        get_strategy("zero-shoot")


def test_every_registered_probe_changes_the_image():
    assert list(PROBES) == PROBE_REGISTRY.names() and probe_names()[-1] == "caption-only"
    image = Image.new("RGB", (40, 30), (200, 60, 30))
    for x in range(0, 40, 4):
        for y in range(30):
            image.putpixel((x, y), (20, 180, 240))
    for info in PROBE_REGISTRY.entries():
        assert info.changes in ("colour", "brightness", "detail", "subject"), info.name
        changed = PROBES[info.name](image)
        assert changed.mode == "RGB" and changed.tobytes() != image.tobytes(), info.name
