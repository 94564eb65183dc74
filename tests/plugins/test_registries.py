"""Every registered model adapter -- built-in or from the installed toy plugin -- is declared once with typed
options that refuse an unknown key with a did-you-mean, and capabilities that agree with its class; the
`affectlens models list|show` commands print them."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from engine.cli.main import main
from engine.errors import ConfigError
from engine.models import ADAPTERS, adapter_names, create_adapter, validate_options
from engine.models.base import ModelAdapter, ModelSpec
from engine.runner.config import parse_config


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _typo(word: str) -> str:
    """`word` with its last two letters swapped (devcie for device): close enough for a did-you-mean."""
    return word[:-2] + word[-1] + word[-2]


def test_every_registered_adapter_refuses_an_unknown_option(installed):
    names = adapter_names()
    assert "toy-echo" in names and {"openai", "hf", "replay", "uniform"} <= set(names)
    for name in names:
        info = ADAPTERS.get(name)
        validate_options("m", name, {})  # every option has a default: an entry without options is valid
        with pytest.raises(ConfigError, match=rf"model 'm' \({name}\): unknown option 'no_such_option'"):
            validate_options("m", name, {"no_such_option": 1})
        own = [field for field in info.options.model_fields if field != "price"]
        for field in own:  # a misspelt option suggests the one meant
            with pytest.raises(ConfigError, match=rf"unknown option '{_typo(field)}'; did you mean '{field}'\?"):
                validate_options("m", name, {_typo(field): None})


def test_a_misspelt_option_in_a_config_names_the_model_adapter_and_fix():
    with pytest.raises(ConfigError) as caught:
        parse_config({"datasets": [{"path": "x.csv"}],
                      "models": [{"name": "x", "adapter": "hf", "options": {"devcie": "cuda"}}]})
    assert "model 'x' (hf): unknown option 'devcie'; did you mean 'device'?" in str(caught.value)
    with pytest.raises(ConfigError, match=r"option 'batch_size': Input should be a valid integer"):
        parse_config({"datasets": [{"path": "x.csv"}],
                      "models": [{"name": "x", "adapter": "hf", "options": {"batch_size": "many"}}]})
    with pytest.raises(ConfigError, match=r"option 'classifier': Input should be 'logistic', 'svm'"):
        parse_config({"datasets": [{"path": "x.csv"}],
                      "models": [{"name": "f", "adapter": "features", "options": {"classifier": "tree"}}]})
    with pytest.raises(ConfigError, match=r"model 'x' \(hf\): no vendor batch API; batch works with openai, "
                                          r"anthropic, gemini"):
        parse_config({"datasets": [{"path": "x.csv"}], "models": [{"name": "x", "adapter": "hf", "batch": True}]})
    config = parse_config({"datasets": [{"path": "x.csv"}],
                           "models": [{"name": "u", "adapter": "uniform", "options": {"seed": 3}}]})
    assert config.models[0].options == {"seed": 3}


def test_a_nested_secret_is_refused_before_the_option_names_are_checked():
    with pytest.raises(ConfigError) as caught:
        parse_config({"datasets": [{"path": "x.csv"}], "models": [
            {"name": "m", "adapter": "openai", "options": {"extra_body": {"auth": {"api_key": "val-canary-9"}}}}]})
    message = str(caught.value)
    assert "options.extra_body.auth.api_key" in message and "api_key_env" in message
    assert "val-canary-9" not in message and "unknown option" not in message


def test_creating_an_adapter_checks_its_options_too(installed):
    with pytest.raises(ConfigError, match=r"model 'e' \(toy-echo\): unknown option 'prefx'; did you mean 'prefix'"):
        create_adapter(ModelSpec(name="e", adapter="toy-echo", options={"prefx": "P"}))
    assert create_adapter(ModelSpec(name="e", adapter="toy-echo", options={"prefix": "P"})).spec.options == {
        "prefix": "P"}


def test_capabilities_agree_with_the_adapter_classes(installed):
    for info in ADAPTERS.entries():
        if not info.sdk_available():
            continue
        cls = info.load()
        assert issubclass(cls, ModelAdapter) and cls.name == info.name
        assert bool(cls.local) == (not info.remote), info.name  # the runner prices and rate-limits by `local`
        if info.training:
            assert cls.prepare is not ModelAdapter.prepare, f"{info.name} trains but has no prepare()"
        if info.key_required:
            assert info.remote and info.key_envs, info.name


def test_the_registry_imports_no_sdk():
    code = ("import sys, engine.models as m; m.adapter_names(); [m.adapter_info(n) for n in m.adapter_names()];"
            "import engine.cli.models_cmd;"
            "heavy = {'openai', 'anthropic', 'google.genai', 'torch', 'transformers'} & set(sys.modules);"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_models_list_shows_every_adapter_with_its_capabilities(installed):
    code, out, _ = _cli("models", "list", "--json")
    assert code == 0
    records = {r["name"]: r for r in json.loads(out)}
    assert set(records) == set(adapter_names())
    assert records["openai"]["key_env"] == "OPENAI_API_KEY" and records["openai"]["batch_api"] is True
    assert records["features"]["training"] == "images" and records["majority"]["training"] == "labels"
    assert records["uniform"]["prompt_blind"] is True and records["hf"]["remote"] is False
    assert records["toy-echo"]["dimensions"] == ["polarity"]
    code, out, _ = _cli("models", "list")
    assert code == 0 and "ANTHROPIC_API_KEY" in out and "toy-echo" in out


def test_models_show_prints_the_typed_options(installed):
    code, out, _ = _cli("models", "show", "hf")
    assert code == 0
    assert "device: str (default \"auto\")" in out and "dtype: auto | float32 | bfloat16 | float16" in out
    code, out, _ = _cli("models", "show", "toy-echo", "--json")
    shown = json.loads(out)
    assert shown["options"]["properties"]["prefix"]["default"] == "Polarity"
    assert shown["options"]["additionalProperties"] is False and shown["target"] == "toy_plugin.adapter:EchoAdapter"
    code, _, err = _cli("models", "show", "opnai")
    assert code == 2 and "unknown adapter 'opnai' (did you mean 'openai'?)" in err


def test_the_extending_guide_shows_the_toy_plugin_as_it_is():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "extending.md").read_text()
    for part in ("adapter", "loader", "strategy", "metric"):
        source = (root / "tests" / "plugins" / "toy_plugin" / f"{part}.py").read_text()
        declared = [line.strip() for line in source.splitlines() if line.startswith(("@", "def ", "class "))]
        assert declared, part
        for line in declared:  # every decorator, function and class of the plugin, as the guide prints it
            assert line in guide, f"docs/extending.md does not show {part}.py's {line!r}"


def test_a_plugin_cannot_take_over_a_built_in_name_and_an_undecorated_one_is_described(installed, tmp_path,
                                                                                       monkeypatch):
    from engine import plugins
    site = tmp_path / "other"
    info = site / "other_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[affectlens.adapters]\nopenai = toy_plugin.adapter:EchoAdapter\n"
                                           "plain = other_plugin_plain:PlainAdapter\n")
    (site / "other_plugin_plain.py").write_text(PLAIN_ADAPTER)
    monkeypatch.syspath_prepend(str(site))
    plugins.refresh()
    assert ADAPTERS.get("openai").target == "engine.models.openai_api:OpenAIAdapter"
    assert adapter_names().count("openai") == 1
    plain = ADAPTERS.get("plain")
    assert plain.remote is False and plain.description == "An adapter declared without the decorator."
    with pytest.raises(ConfigError, match=r"model 'p' \(plain\): unknown option 'device'; known options: price"):
        validate_options("p", "plain", {"device": "cpu"})


PLAIN_ADAPTER = """
from engine.models.base import ModelAdapter, ModelResponse


class PlainAdapter(ModelAdapter):
    \"\"\"An adapter declared without the decorator.\"\"\"

    name = "plain"
    local = True

    async def generate(self, request):
        return ModelResponse(text="Polarity: positive")
"""


def test_run_help_lists_what_a_config_may_name_from_the_registries(installed):
    with pytest.raises(SystemExit) as exited:  # argparse exits after printing the help
        _cli_out = io.StringIO()
        with contextlib.redirect_stdout(_cli_out):
            main(["run", "--help"])
    assert exited.value.code == 0
    out = _cli_out.getvalue()
    listed = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in out.splitlines()
              if line.startswith(("adapters", "strategies", "dataset formats", "probes"))}
    assert set(listed) == {"adapters", "strategies", "dataset formats", "probes (as strategy BASE+PROBE)"}
    # the plugin's adapter, strategy and loader appear beside the built-ins: the help reads the registries
    assert "toy-echo" in listed["adapters"] and "openai" in listed["adapters"]
    assert "toy-prompt" in listed["strategies"] and "toy-csv" in listed["dataset formats"]
    assert "grayscale" in listed["probes (as strategy BASE+PROBE)"]
