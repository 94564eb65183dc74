"""Prompt caching: the stable prefix marked (Anthropic), cached tokens read from every vendor's usage,
priced at their own rates; batch prices."""

from __future__ import annotations

import duckdb
import pytest

from engine.models.anthropic_api import mark_stable_prefix
from engine.models.pricing import Price, price_for
from engine.runner import run_experiment
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset


def test_published_cache_and_batch_rates():
    claude = price_for("claude-sonnet-4-5-20250929")
    assert (claude.input_per_mtok, claude.cached_input_per_mtok, claude.cache_write_per_mtok, claude.batch_factor) \
        == (3.0, 0.3, 3.75, 0.5)
    assert price_for("gpt-4o").cached_input_per_mtok == 1.25 and price_for("gpt-4.1").cached_input_per_mtok == 0.5
    assert price_for("gpt-5-mini").cached_input_per_mtok == pytest.approx(0.025)
    assert price_for("gemini-2.5-flash").cached_input_per_mtok == pytest.approx(0.075)
    # an override of input/output keeps the family's ratios unless it names its own
    assert price_for("claude-x", {"claude-x": {"input": 1, "output": 5}}).cached_input_per_mtok == 0.1
    assert price_for("claude-x", {"claude-x": {"input": 1, "output": 5, "batch": 1}}).batch_factor == 1.0


def test_cost_of_cached_written_and_batch_tokens():
    price = Price(3.0, 15.0, 0.3, 3.75, 0.5)
    # 10,000 prompt tokens of which 8,000 read from cache and 1,000 written; 100 output tokens
    plain = (1_000 * 3.0 + 8_000 * 0.3 + 1_000 * 3.75 + 100 * 15.0) / 1e6
    assert price.cost(10_000, 100, cached_input_tokens=8_000, cache_write_tokens=1_000) == pytest.approx(plain)
    assert price.cost(10_000, 100, cached_input_tokens=8_000, cache_write_tokens=1_000, batch=True) \
        == pytest.approx(plain / 2)
    assert price.cost(10_000, 100) == pytest.approx((10_000 * 3 + 100 * 15) / 1e6)


def test_the_stable_prefix_is_marked_before_the_judged_image():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AA=="}}
    text = lambda t: {"type": "text", "text": t}  # noqa: E731
    payload = {"system": "Be brief.", "messages": [{"role": "user", "content": [
        text("intro"), text("Example 1:"), image, text("Answer 1"), text("Now the image:"), image, text("JSON")]}]}
    mark_stable_prefix(payload)
    blocks = payload["messages"][0]["content"]
    assert payload["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert [i for i, b in enumerate(blocks) if "cache_control" in b] == [4]
    single = {"messages": [{"role": "user", "content": [image, text("Which emotion?")]}]}
    mark_stable_prefix(single)  # zero-shot: nothing before the judged image to cache
    assert not any("cache_control" in b for b in single["messages"][0]["content"])


@pytest.mark.parametrize("adapter,model", [("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o"),
                                           ("gemini", "gemini-2.5-flash")])
def test_few_shot_runs_record_cached_tokens_and_price_them(tmp_path, monkeypatch, adapter, model):
    monkeypatch.setenv("AFFECTLENS_TEST_KEY", "k")
    manifest = write_dataset(tmp_path / "data", 10)
    with FakeVendorServer(adapter, answer='{"polarity": "positive"}', image_tokens=600) as fake:
        config = experiment(manifest, models=[{"name": "m", "adapter": adapter, "model": model,
                                               "base_url": fake.base_url, "api_key_env": "AFFECTLENS_TEST_KEY",
                                               "concurrency": 1}])
        config["strategies"] = [{"name": "few-shot", "k_shot": 2}]
        config["datasets"][0]["holdout"] = 4
        assert run_experiment(config, tmp_path / "r.duckdb", quiet=True).ok
        seen = [(r.cached_tokens, r.cache_write_tokens, r.prefix_tokens) for r in fake.requests]
    assert seen[0][0] == 0 and all(cached > 1024 for cached, _, _ in seen[1:])
    assert (seen[0][1] > 0) == (adapter == "anthropic")  # only Anthropic reports (and bills) cache writes
    with duckdb.connect(str(tmp_path / "r.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cost_usd, "
                           "saving_usd FROM responses ORDER BY created_at").fetchall()
    price = price_for(model)
    assert [r[2] or 0 for r in rows] == [c for c, _, _ in seen]
    for n_in, n_out, cached, written, cost, saving in rows:
        expected = price.cost(n_in, n_out, cached_input_tokens=cached, cache_write_tokens=written)
        assert cost == pytest.approx(expected) and saving == pytest.approx(price.cost(n_in, n_out) - expected)
    assert sum(r[5] for r in rows) > 0  # caching paid off over the run
