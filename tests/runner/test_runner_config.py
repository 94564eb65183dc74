"""Experiment config: validation messages, YAML loading, run ids that decide resumption, redaction."""

from __future__ import annotations

import pytest
import yaml

from engine.errors import ConfigError
from engine.runner import load_config, parse_config
from engine.runner.plan import load_datasets, plan_runs
from tests.runner.helpers import experiment, write_dataset


def _run_ids(config: dict) -> list[str]:
    parsed = parse_config(config)
    return [plan.run_id for plan in plan_runs(parsed, load_datasets(parsed))]


def test_run_id_depends_on_what_decides_answers_only(tmp_path):
    manifest = write_dataset(tmp_path / "data", 4)
    base = experiment(manifest, "http://127.0.0.1:9/v1")
    (reference,) = _run_ids(base)
    same = [
        experiment(manifest, "http://127.0.0.1:9/v1", concurrency=99, rpm=10, tpm=1000, timeout_s=3,
                   max_attempts=2, api_key_env="OTHER_KEY", price={"input": 1, "output": 2}),
        experiment(manifest, ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]),
        {**base, "max_cost": 3.0, "name": "renamed experiment"},
        {**base, "datasets": [{**base["datasets"][0], "limit": 4}]},  # the same four items
    ]
    for config in same:
        assert _run_ids(config) == [reference]
    different = [
        experiment(manifest, "http://127.0.0.1:9/v1", temperature=0.5),
        experiment(manifest, "http://127.0.0.1:9/v1", max_tokens=64),
        experiment(manifest, "http://127.0.0.1:9/v1", model="other-model"),
        {**base, "seed": 1},
        {**base, "dimensions": ["polarity", "emotion"]},
        {**base, "image_max_side": 128},
        {**base, "strategies": [{"name": "zero-shot", "language": "zh"}]},
        {**base, "strategies": [{"name": "zero-shot", "system_prompt": "Be brief."}]},
        {**base, "datasets": [{**base["datasets"][0], "limit": 2}]},  # another evaluation set: another run
    ]
    ids = [_run_ids(config)[0] for config in different]
    assert reference not in ids and len(set(ids)) == len(ids)
    # a changed dataset (one image replaced) is a different run
    write_dataset(tmp_path / "data", 4, bad={1: (tmp_path / "data" / "images" / "item-000.jpg").read_bytes()})
    assert _run_ids(base) != [reference]


@pytest.mark.parametrize("change, message", [
    ({"models": [{"name": "m", "adapter": "openai", "concurrency": 0}]},
     "models[0].concurrency: Input should be greater than or equal to 1"),
    ({"models": [{"name": "m", "adapter": "openai", "base_url": "127.0.0.1:8000"}]},
     "must start with http:// or https://"),
    ({"models": [{"name": "m", "adapter": "openai", "options": {"api_key": "sk-123"}}]},
     "never put a secret in the config"),
    ({"models": [{"name": "m", "adapter": "hf"}, {"name": "m", "adapter": "uniform"}]},
     "'m' appears twice"),
    ({"scales": {"valence": [9, 1]}}, "scale low 9 must be below high 1"),
    ({"scales": {"polarity": [1, 2]}}, "only valence, arousal and intensity take a scale"),
    ({"taxonomy": "mikels"}, "unknown taxonomy 'mikels' (did you mean 'mikels8'?)"),
    ({"strategies": [{"name": "cot", "language": "fr"}]}, "language 'fr' has no templates"),
    ({"datasets": []}, "datasets: List should have at least 1 item"),
    ({"modles": []}, "unknown key 'modles'; did you mean 'models'?"),
    ({"models": [{"name": "m", "adapter": "uniform", "price": {"input": 1, "ouput": 2}}]},
     "models[0].price.ouput: unknown key 'ouput'; did you mean 'output'?"),
    ({"models": [{"name": "m", "adapter": "uniform", "strategies": ["cot"]}]},
     "models.m.strategies: cot not among the experiment's strategies"),
])
def test_invalid_configs_name_the_key_and_the_fix(change, message):
    config = {"datasets": [{"path": "x.csv", "format": "csv"}], "models": [{"name": "u", "adapter": "uniform"}]}
    with pytest.raises(ConfigError) as info:
        parse_config({**config, **change})
    assert message in str(info.value)


def test_load_config_resolves_paths_and_placeholders(tmp_path):
    manifest = write_dataset(tmp_path / "exp" / "data", 2)
    (tmp_path / "exp" / "run.yaml").write_text(yaml.safe_dump({
        "datasets": [{"name": "mine", "format": "csv", "path": "data/manifest.csv", "image_col": "{col}"}],
        "models": [{"name": "u", "adapter": "uniform"}],
        "strategies": "zero-shot", "dimensions": "polarity, emotion"}))
    config = load_config(tmp_path / "exp" / "run.yaml", {"col": "image"})
    assert config.datasets[0].path == str(manifest) and config.datasets[0].loader_options == {"image_col": "image"}
    assert config.dimensions == ["polarity", "emotion"] and config.strategies[0].name == "zero-shot"
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("datasets: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")


def test_redacted_config_keeps_no_secret(monkeypatch):
    # a dataset loader's free-form options are not refused, but never stored as given
    config = parse_config({"datasets": [{"path": "x.csv", "format": "csv",
                                         "headers": {"Authorization": "Bearer abcdefgh12345"}}],
                           "models": [{"name": "m", "adapter": "openai-compatible", "api_key_env": "MY_KEY",
                                       "options": {"image_detail": "low"}}]})
    text = repr(config.redacted())
    assert "abcdefgh12345" not in text and "MY_KEY" in text and "'image_detail': 'low'" in text
    assert config.redacted()["models"][0]["max_tokens"] == 512


@pytest.mark.parametrize("options, path", [
    ({"headers": {"x-api-key": "val-canary-1"}}, "options.headers.x-api-key"),
    ({"extra_headers": {"Authorization": "Bearer val-canary-1"}}, "options.extra_headers.Authorization"),
    ({"extra_body": {"key": "val-canary-1"}}, "options.extra_body.key"),
    ({"extra_body": {"tools": [{"auth": {"access_token": "val-canary-1"}}]}},
     "options.extra_body.tools[0].auth.access_token"),
])
def test_secret_keys_are_refused_at_any_depth(options, path):
    with pytest.raises(ConfigError) as caught:
        parse_config({"datasets": [{"path": "x.csv"}], "models": [{"name": "m", "adapter": "openai-compatible",
                                                                    "options": options}]})
    message = str(caught.value)
    assert path in message and "api_key_env" in message
    assert "val-canary-1" not in message


@pytest.mark.parametrize("url, what", [
    ("http://user:canary-pass-123@127.0.0.1:8000/v1", "user name or password"),
    ("https://host.example/v1?api-key=canary-pass-123", "'api-key'"),
    ("https://host.example/v1?x=1&key=canary-pass-123", "'key'"),
])
def test_credentials_in_a_url_are_refused_without_echoing_them(url, what):
    with pytest.raises(ConfigError) as caught:
        parse_config({"datasets": [{"path": "x.csv"}], "models": [{"name": "m", "adapter": "openai-compatible",
                                                                    "base_url": url}]})
    message = str(caught.value)
    assert what in message and "api_key_env" in message and "canary-pass-123" not in message
    with pytest.raises(ConfigError) as caught:
        parse_config({"datasets": [{"path": "x.csv"}], "models": [{"name": "m", "adapter": "openai-compatible",
                                                                    "options": {"proxy": url}}]})
    assert "options.proxy" in str(caught.value) and "canary-pass-123" not in str(caught.value)


def test_strategy_labels_show_non_default_options():
    config = parse_config({"datasets": [{"path": "x.csv", "format": "csv"}],
                           "models": [{"name": "u", "adapter": "uniform"}],
                           "strategies": ["cot", {"name": "few-shot", "k_shot": 5}, {"name": "cot", "language": "zh"},
                                          {"name": "zero-shot", "label": "zs-mine", "shuffle_labels": True}]})
    assert [s.run_label for s in config.strategies] == ["cot", "few-shot[k_shot=5]", "cot[language=zh]", "zs-mine"]
