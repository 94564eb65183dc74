"""The `anthropic` adapter through the real `anthropic` SDK against a loopback Messages API server."""

from __future__ import annotations

import importlib
import json

import pytest

import engine.models as models
from engine.errors import ConfigError
from engine.models import ErrorClass, GenerateConfig, Message, ModelRequest, ModelSpec, TextPart, create_adapter
from tests.fakes import FakeVendorServer, Fault
from tests.fakes.helpers import FAULT_CASES, assert_fault_matrix, generate_all, image_request, jpeg, run

KEY = "sk-ant-api03-test-7c1e9b2a4d6f8e0a"
SCHEMA = {"type": "object", "properties": {"emotion": {"type": "string"}}, "required": ["emotion"]}


@pytest.fixture(autouse=True)
def anthropic_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def spec_for(fake: FakeVendorServer, **kw) -> ModelSpec:
    return ModelSpec(name="claude", adapter="anthropic", model="claude-sonnet-4-5", base_url=fake.base_url,
                     timeout_s=kw.pop("timeout_s", 5.0), **kw)


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk"])
def test_image_and_text_in_usage_and_answer_out(http_client):
    image = jpeg(11)
    request = image_request("Name the emotion.", image=image)
    with FakeVendorServer("anthropic", answer=lambda r: f"fear; prompt had {len(r.prompt.split())} words",
                          model_id="claude-sonnet-4-5-20250929") as fake:
        adapter = create_adapter(spec_for(fake, options={"http_client": http_client}))
        [response] = run(generate_all(adapter, [request]))
    seen = fake.requests[0]
    assert seen.path == "/v1/messages"
    assert seen.api_key == KEY and seen.headers["anthropic-version"]
    assert [(i.mime, i.sha256) for i in seen.images] == [("image/jpeg", image.sha256)]
    assert seen.body["messages"][0]["content"][1]["source"]["type"] == "base64"
    assert seen.system == "You rate the emotions images convey." and seen.prompt == "Name the emotion."
    assert seen.body == adapter.build_payload(request)
    assert "temperature" not in seen.body  # the current Messages API rejects sampling parameters
    assert (response.status, response.text) == ("ok", "fear; prompt had 3 words")
    assert (response.input_tokens, response.output_tokens) == (seen.input_tokens, seen.output_tokens)
    assert response.model_id_resolved == "claude-sonnet-4-5-20250929" and response.stop_reason == "end_turn"
    assert response.raw_response["type"] == "message"
    assert KEY not in json.dumps(response.raw_request)
    assert response.raw_request["messages"][1]["parts"][1]["image_sha256"] == image.sha256


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk"])
def test_fault_matrix_classified(http_client):
    script = [Fault.parse("delay:5") if f == "hang" else f for f, *_ in FAULT_CASES]
    with FakeVendorServer("anthropic", script=script) as fake:
        adapter = create_adapter(spec_for(fake, timeout_s=0.4, options={"http_client": http_client}))
        responses = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(len(FAULT_CASES))]))
    assert_fault_matrix(responses, "ANTHROPIC_API_KEY", KEY)
    assert responses[4].raw_response["error"]["type"] == "overloaded_error"  # 529
    assert responses[11].stop_reason == "refusal"


def test_structured_output_native_and_as_a_forced_tool():
    request = image_request(config=GenerateConfig(json_schema=SCHEMA))
    with FakeVendorServer("anthropic", answer='{"emotion": "contentment"}') as fake:
        native = create_adapter(spec_for(fake))
        tool = create_adapter(spec_for(fake, options={"structured_output": "tool"}))
        [first] = run(generate_all(native, [request]))
        [second] = run(generate_all(tool, [request]))
    assert fake.requests[0].body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert fake.requests[1].body["tool_choice"] == {"type": "tool", "name": "record_answer"}
    assert fake.requests[1].body["tools"][0]["input_schema"] == SCHEMA
    assert json.loads(first.text) == json.loads(second.text) == {"emotion": "contentment"}
    assert second.stop_reason == "tool_use"


def test_few_shot_turns_keep_roles_and_every_image():
    shots = [jpeg(1), jpeg(2)]
    request = ModelRequest(messages=(Message.user("Example:", shots[0]), Message("assistant", (TextPart("awe"),)),
                                     Message.user("Now this one:", shots[1])))
    with FakeVendorServer("anthropic") as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake)), [request]))
    body = fake.requests[0].body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == "awe" and "system" not in body
    assert [i.sha256 for i in fake.requests[0].images] == [s.sha256 for s in shots]
    assert response.status == "ok"


def test_retry_after_header_on_rate_limit_and_overload():
    with FakeVendorServer("anthropic", script=["429:7", "529:3"]) as fake:
        responses = run(generate_all(create_adapter(spec_for(fake)), [image_request(), image_request()]))
    assert [(r.error_class, r.retry_after_s) for r in responses] == [(ErrorClass.RATE_LIMIT, 7.0),
                                                                     (ErrorClass.SERVER, 3.0)]


def test_missing_key_fails_at_creation(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        create_adapter(ModelSpec(name="claude", adapter="anthropic", model="claude-sonnet-4-5"))


def test_missing_sdk_names_the_extra_to_install(monkeypatch):
    real_import = importlib.import_module

    def without_anthropic(name, *args):
        if name.split(".")[0] == "anthropic":
            raise ModuleNotFoundError("No module named 'anthropic'")
        return real_import(name, *args)

    monkeypatch.setattr(models.registry.importlib, "import_module", without_anthropic)
    with pytest.raises(models.MissingDependencyError, match=r"pip install 'affectlens\[anthropic\]'"):
        create_adapter(ModelSpec(name="claude", adapter="anthropic", model="claude-sonnet-4-5"))
