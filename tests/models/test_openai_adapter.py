"""The `openai` adapter through the real `openai` SDK against a loopback server speaking Chat Completions."""

from __future__ import annotations

import importlib
import json

import pytest

import engine.models as models
from engine.errors import ConfigError
from engine.models import ErrorClass, GenerateConfig, ModelSpec, create_adapter
from engine.models.openai_api import OpenAIAdapter
from tests.fakes import REFUSAL_TEXT, FakeVendorServer, Fault
from tests.fakes.helpers import FAULT_CASES, assert_fault_matrix, generate_all, image_request, jpeg, run

KEY = "sk-test-4f9a2c7e1b3d5a6f8e0c"


@pytest.fixture(autouse=True)
def openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def spec_for(fake: FakeVendorServer, **kw) -> ModelSpec:
    return ModelSpec(name="gpt", adapter="openai", model=kw.pop("model", "gpt-4o"), base_url=fake.base_url,
                     timeout_s=kw.pop("timeout_s", 5.0), **kw)


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk"])
def test_image_and_text_in_usage_and_answer_out(http_client):
    image = jpeg(7)
    request = image_request("Which emotion? One word.", image=image)
    with FakeVendorServer("openai", answer=lambda r: f"sadness ({len(r.images)} image)",
                          model_id="gpt-4o-2024-08-06") as fake:
        adapter = create_adapter(spec_for(fake, options={"http_client": http_client}))
        [response] = run(generate_all(adapter, [request]))
    seen = fake.requests[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.api_key == KEY and seen.headers["authorization"] == f"Bearer {KEY}"
    assert [(i.mime, i.sha256) for i in seen.images] == [("image/jpeg", image.sha256)]
    assert seen.prompt == "Which emotion? One word." and seen.system == "You rate the emotions images convey."
    assert seen.body == adapter.build_payload(request)  # build_payload is exactly what went out
    assert seen.body["max_completion_tokens"] == 64 and seen.body["temperature"] == 0.0
    assert (response.status, response.text) == ("ok", "sadness (1 image)")
    assert (response.input_tokens, response.output_tokens) == (seen.input_tokens, seen.output_tokens)
    assert response.model_id_resolved == "gpt-4o-2024-08-06" and response.stop_reason == "stop"
    assert response.raw_response["object"] == "chat.completion"
    assert response.raw_request["messages"][1]["parts"][1] == {"image_sha256": image.sha256, "mime": "image/jpeg"}
    assert response.raw_request["vendor_params"]["model"] == "gpt-4o"
    assert KEY not in json.dumps(response.raw_request) and image.b64() not in json.dumps(response.raw_request)


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk", "direct"])
def test_fault_matrix_classified(http_client):
    script = [Fault.parse("delay:5") if f == "hang" else f for f, *_ in FAULT_CASES]
    with FakeVendorServer("openai", script=script) as fake:
        adapter = create_adapter(spec_for(fake, timeout_s=0.4, options={"http_client": http_client}))
        responses = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(len(FAULT_CASES))]))
    assert [r.fault for r in fake.requests] == [f.split(":")[0] if f != "hang" else "delay" for f, *_ in FAULT_CASES]
    assert_fault_matrix(responses, "OPENAI_API_KEY", KEY)
    rate_limited = responses[1]
    assert rate_limited.raw_response["error"]["code"] == "rate_limit_exceeded"
    assert responses[11].text == REFUSAL_TEXT


def test_echoed_key_is_scrubbed_from_error_and_raw_response():
    script = [Fault("status", 401, message=f"Incorrect API key provided: {KEY}.")]
    with FakeVendorServer("openai", script=script) as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake)), [image_request()]))
    assert response.error_class is ErrorClass.AUTH
    assert KEY not in response.error_message and KEY not in json.dumps(response.raw_response)
    assert "***" in response.error_message and "OPENAI_API_KEY" in response.error_message


def test_wrong_key_is_an_auth_error_naming_the_override_variable(monkeypatch):
    monkeypatch.setenv("MY_PROXY_KEY", "sk-wrong-0000000000")
    with FakeVendorServer("openai", api_key=KEY) as fake:
        adapter = create_adapter(spec_for(fake, api_key_env="MY_PROXY_KEY"))
        [response] = run(generate_all(adapter, [image_request()]))
    assert fake.requests[0].api_key == "sk-wrong-0000000000"
    assert response.error_class is ErrorClass.AUTH and not response.transient
    assert "MY_PROXY_KEY" in response.error_message


def test_json_schema_becomes_response_format():
    schema = {"title": "emotion answer", "type": "object", "properties": {"emotion": {"type": "string"}},
              "required": ["emotion"]}
    request = image_request(config=GenerateConfig(json_schema=schema, seed=3, top_p=0.9,
                                                  extra={"temperature": None, "reasoning_effort": "low"}))
    with FakeVendorServer("openai", answer='{"emotion": "awe"}') as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake)), [request]))
    body = fake.requests[0].body
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "emotion_answer", "schema": schema, "strict": False}}
    assert body["seed"] == 3 and body["top_p"] == 0.9 and body["reasoning_effort"] == "low"
    assert "temperature" not in body  # a None in `extra` removes a setting
    assert json.loads(response.text) == {"emotion": "awe"}


def test_content_filter_finish_is_a_refusal():
    adapter = OpenAIAdapter(ModelSpec(name="gpt", adapter="openai", model="gpt-4o"))
    body = {"id": "x", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "content_filter",
                         "message": {"role": "assistant", "content": ""}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}}
    response = adapter._read_safely(body)
    assert (response.status, response.error_class, response.stop_reason) == ("refused", ErrorClass.REFUSAL,
                                                                             "content_filter")
    assert adapter._read_safely({"object": "chat.completion", "choices": []}).error_class is ErrorClass.SERVER


def test_adapter_survives_a_new_event_loop():
    with FakeVendorServer("openai") as fake:
        adapter = create_adapter(spec_for(fake))
        first = run(generate_all(adapter, [image_request()], close=False))
        second = run(generate_all(adapter, [image_request()]))
    assert [r.status for r in first + second] == ["ok", "ok"]


def test_missing_key_fails_at_creation_with_the_variable_to_set(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        create_adapter(ModelSpec(name="gpt-4o", adapter="openai", model="gpt-4o"))
    with pytest.raises(ConfigError, match="AZURE_KEY"):
        create_adapter(ModelSpec(name="gpt-4o", adapter="openai", model="gpt-4o", api_key_env="AZURE_KEY"))


def test_unknown_http_client_option_is_a_config_error():
    with pytest.raises(ConfigError, match="http_client"):
        create_adapter(ModelSpec(name="g", adapter="openai", options={"http_client": "curl"}))


def test_missing_sdk_names_the_extra_to_install(monkeypatch):
    real_import = importlib.import_module

    def without_openai(name, *args):
        if name == "openai" or name.startswith("openai."):
            raise ModuleNotFoundError("No module named 'openai'")
        return real_import(name, *args)

    monkeypatch.setattr(models.registry.importlib, "import_module", without_openai)
    with pytest.raises(models.MissingDependencyError, match=r"pip install 'affectlens\[openai\]'"):
        create_adapter(ModelSpec(name="gpt-4o", adapter="openai", model="gpt-4o"))
