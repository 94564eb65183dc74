"""The `gemini` adapter through the real `google-genai` SDK against a loopback generateContent server."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json

import pytest

import engine.models as models
from engine.errors import ConfigError
from engine.models import ErrorClass, GenerateConfig, ModelSpec, create_adapter
from engine.models.gemini_api import GeminiAdapter
from tests.fakes import FakeVendorServer, Fault
from tests.fakes.helpers import FAULT_CASES, assert_fault_matrix, generate_all, image_request, jpeg, run

KEY = "AIzaSyTEST-0123456789abcdefghijklmnopq"


@pytest.fixture(autouse=True)
def gemini_key(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


def spec_for(fake: FakeVendorServer, **kw) -> ModelSpec:
    return ModelSpec(name="gemini", adapter="gemini", model="gemini-2.5-flash", base_url=fake.base_url,
                     timeout_s=kw.pop("timeout_s", 5.0), **kw)


def normalised(body: dict) -> dict:
    """Images as the sha256 of their bytes: the SDK writes URL-safe base64 and `mime_type`, which the
    API accepts beside standard base64 and `mimeType`."""
    body = json.loads(json.dumps(body))
    for content in body["contents"]:
        for part in content["parts"]:
            blob = part.get("inlineData")
            if blob:
                data = blob["data"]
                raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)) if "-" in data or "_" in data \
                    else base64.b64decode(data)
                part["inlineData"] = {"mimeType": blob.get("mimeType") or blob["mime_type"],
                                      "sha256": hashlib.sha256(raw).hexdigest()}
    return body


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk"])
def test_image_and_text_in_usage_and_answer_out(http_client):
    image = jpeg(5)
    request = image_request("Valence from 1 to 9?", image=image, config=GenerateConfig(max_tokens=32, seed=4))
    with FakeVendorServer("gemini", answer="7", model_id="gemini-2.5-flash-001") as fake:
        adapter = create_adapter(spec_for(fake, options={"http_client": http_client}))
        [response] = run(generate_all(adapter, [request]))
    seen = fake.requests[0]
    assert seen.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert seen.headers["x-goog-api-key"] == KEY
    assert [(i.mime, i.sha256) for i in seen.images] == [("image/jpeg", image.sha256)]
    assert seen.system == "You rate the emotions images convey." and seen.prompt == "Valence from 1 to 9?"
    assert normalised(seen.body) == normalised(adapter.build_payload(request))
    assert seen.body["generationConfig"] == {"temperature": 0.0, "maxOutputTokens": 32, "seed": 4}
    assert (response.status, response.text, response.stop_reason) == ("ok", "7", "STOP")
    assert (response.input_tokens, response.output_tokens) == (seen.input_tokens, seen.output_tokens)
    assert response.model_id_resolved == "gemini-2.5-flash-001"
    assert "candidates" in response.raw_response and KEY not in json.dumps(response.raw_request)


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx2", "sdk"])
def test_fault_matrix_classified(http_client):
    script = [Fault.parse("delay:5") if f == "hang" else f for f, *_ in FAULT_CASES]
    with FakeVendorServer("gemini", script=script) as fake:
        adapter = create_adapter(spec_for(fake, timeout_s=0.4, options={"http_client": http_client}))
        responses = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(len(FAULT_CASES))]))
    assert_fault_matrix(responses, "GEMINI_API_KEY", KEY)
    assert responses[1].raw_response["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert responses[11].stop_reason == "SAFETY"  # promptFeedback.blockReason


def test_invalid_key_400_is_an_auth_error():
    with FakeVendorServer("gemini", api_key="AIzaSyTHE-RIGHT-ONE-0123456789abcdefgh") as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake)), [image_request()]))
    assert fake.requests[0].api_key == KEY
    assert response.error_class is ErrorClass.AUTH and "API key not valid" in response.error_message
    assert "GEMINI_API_KEY" in response.error_message


def test_json_schema_asks_for_json_with_the_schema():
    schema = {"type": "object", "properties": {"valence": {"type": "number"}}, "required": ["valence"]}
    request = image_request(config=GenerateConfig(json_schema=schema, extra={
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "thinkingConfig": {"thinkingBudget": 0}}))
    with FakeVendorServer("gemini", answer='{"valence": 6.5}') as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake)), [request]))
    body = fake.requests[0].body
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["responseJsonSchema"] == schema
    # the SDK re-spells nested keys in snake_case, which the API accepts too
    assert body["generationConfig"]["thinkingConfig"] in ({"thinkingBudget": 0}, {"thinking_budget": 0})
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"
    assert json.loads(response.text) == {"valence": 6.5}


def test_safety_finish_reason_and_thinking_tokens():
    adapter = GeminiAdapter(ModelSpec(name="g", adapter="gemini", model="gemini-2.5-pro"))
    blocked = adapter._read_safely({"candidates": [{"finishReason": "SAFETY", "index": 0}],
                                    "usageMetadata": {"promptTokenCount": 9}, "modelVersion": "gemini-2.5-pro"})
    assert (blocked.status, blocked.error_class, blocked.stop_reason) == ("refused", ErrorClass.REFUSAL, "SAFETY")
    thought = adapter._read_safely({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "thinking...", "thought": True}, {"text": "anger"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1, "thoughtsTokenCount": 40}})
    assert (thought.text, thought.output_tokens) == ("anger", 41)


def test_google_api_key_is_accepted_and_missing_keys_named(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(ConfigError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        create_adapter(ModelSpec(name="g", adapter="gemini", model="gemini-2.5-flash"))
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert create_adapter(ModelSpec(name="g", adapter="gemini", model="gemini-2.5-flash")).api_key == KEY


def test_missing_sdk_names_the_extra_to_install(monkeypatch):
    real_import = importlib.import_module

    def without_genai(name, *args):
        if name.startswith("google.genai"):
            raise ModuleNotFoundError("No module named 'google.genai'")
        return real_import(name, *args)

    monkeypatch.setattr(models.registry.importlib, "import_module", without_genai)
    with pytest.raises(models.MissingDependencyError, match=r"pip install 'affectlens\[gemini\]'"):
        create_adapter(ModelSpec(name="g", adapter="gemini", model="gemini-2.5-flash"))
