"""Each strategy's rendered requests, built into each cloud vendor's wire format by the real adapters.

Checks the shape each vendor documents (OpenAI Chat Completions `image_url` data URLs, Anthropic
Messages `image` blocks with a separate `system`, Gemini `contents[].parts[]` with inline data), that
the images arrive in the order the strategy meant (few-shot: exemplars, then the query) and that the
describe-then-judge judge request carries no image at all.
"""

from __future__ import annotations

import base64
import importlib

import pytest

from prompt_fixtures import images, make_context  # noqa: F401 - images is a fixture
from engine.models import ModelSpec, create_adapter
from engine.prompts import answer_schema, get_strategy, strategy_names

VENDORS = {"openai": "engine.models.openai_api", "anthropic": "engine.models.anthropic_api",
           "gemini": "engine.models.gemini_api"}
KEY_ENV = "AFFECTLENS_WIRE_TEST_KEY"  # a dummy key: build_payload never sends anything


def adapter_for(vendor: str, monkeypatch):
    try:
        importlib.import_module(VENDORS[vendor])
    except ModuleNotFoundError as exc:
        if exc.name == VENDORS[vendor]:
            pytest.skip(f"{VENDORS[vendor]} is not in this build yet")
        raise
    monkeypatch.setenv(KEY_ENV, "test-key-not-a-secret")
    return create_adapter(ModelSpec(name=f"{vendor}-wire", adapter=vendor, model=f"{vendor}-model",
                                    api_key_env=KEY_ENV))


def _b64(data: str) -> bytes:
    return base64.b64decode(data, validate=True)


def openai_view(payload: dict) -> tuple[str, list[tuple[str, bytes]], str]:
    """(system text, [(mime, bytes)] in order, all user text) from a Chat Completions body."""
    system, found, text = "", [], []
    for message in payload["messages"]:
        assert message["role"] in ("system", "user", "assistant")
        if message["role"] == "system":
            system += message["content"] if isinstance(message["content"], str) else \
                "".join(p["text"] for p in message["content"])
            continue
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for part in parts:
            assert part["type"] in ("text", "image_url"), part
            if part["type"] == "image_url":
                url = part["image_url"]["url"]
                head, data = url.split(",", 1)
                assert head.startswith("data:image/") and head.endswith(";base64")
                found.append((head[5:-7], _b64(data)))
            else:
                text.append(part["text"])
    return system, found, "\n".join(text)


def anthropic_view(payload: dict) -> tuple[str, list[tuple[str, bytes]], str]:
    """The same view of a Messages API body; `system` must be top level, never a message role."""
    system = payload.get("system", "")
    if isinstance(system, list):
        system = "".join(block["text"] for block in system)
    found, text = [], []
    for message in payload["messages"]:
        assert message["role"] in ("user", "assistant")
        blocks = [{"type": "text", "text": message["content"]}] if isinstance(message["content"], str) \
            else message["content"]
        for block in blocks:
            assert block["type"] in ("text", "image"), block
            if block["type"] == "image":
                source = block["source"]
                assert source["type"] == "base64" and source["media_type"].startswith("image/")
                found.append((source["media_type"], _b64(source["data"])))
            else:
                text.append(block["text"])
    return system, found, "\n".join(text)


def gemini_view(payload: dict) -> tuple[str, list[tuple[str, bytes]], str]:
    """The same view of a generateContent body (snake_case or camelCase keys)."""
    instruction = payload.get("systemInstruction") or payload.get("system_instruction") or \
        (payload.get("config") or {}).get("system_instruction") or {}
    if isinstance(instruction, str):
        system = instruction
    else:
        system = "".join(part.get("text", "") for part in instruction.get("parts", []))
    found, text = [], []
    for content in payload["contents"]:
        assert content.get("role", "user") in ("user", "model")
        for part in content["parts"]:
            inline = part.get("inline_data") or part.get("inlineData")
            if inline is not None:
                mime = inline.get("mime_type") or inline.get("mimeType")
                assert mime.startswith("image/")
                data = inline["data"]
                found.append((mime, data if isinstance(data, bytes) else _b64(data)))
            else:
                assert "text" in part, part
                text.append(part["text"])
    return system, found, "\n".join(text)


VIEWS = {"openai": openai_view, "anthropic": anthropic_view, "gemini": gemini_view}


def expected_requests(strategy: str, context):
    """(request, the images it should carry in order) for every request the strategy makes."""
    impl = get_strategy(strategy)
    requests = impl.render(context)
    if strategy == "few-shot":
        order = [image for image, _ in context.exemplars[:context.options.k_shot]] + [context.image]
    else:
        order = [context.image]
    pairs = [(request, order) for request in requests]
    if strategy == "describe-then-judge":
        pairs.append((impl.render_judge(context, "A child holds a red balloon in a grey street."), []))
    return pairs


@pytest.mark.parametrize("vendor", list(VENDORS))
@pytest.mark.parametrize("strategy", strategy_names())
def test_rendered_requests_in_vendor_wire_format(images, monkeypatch, vendor, strategy):
    adapter = adapter_for(vendor, monkeypatch)
    exemplars = [(images[1], {"emotion": "sadness"}), (images[2], {"emotion": "awe"}),
                 (images[3], {"emotion": "fear"})]
    context = make_context(images[0], ("polarity", "emotion", "valence"), k_shot=3, exemplars=exemplars,
                           n_samples=3, system_prompt="You rate the emotions images convey.",
                           shuffle_labels=True, seed=9)
    for request, images_in_order in expected_requests(strategy, context):
        payload = adapter.build_payload(request)
        system, found, text = VIEWS[vendor](payload)
        assert system == "You rate the emotions images convey."
        assert [data for _, data in found] == [image.data for image in images_in_order]
        assert [mime for mime, _ in found] == ["image/jpeg"] * len(images_in_order)
        user_text = "\n".join(part.text for m in request.messages if m.role == "user"
                              for part in m.parts if hasattr(part, "text"))
        for line in user_text.splitlines():
            assert line in text  # the whole prompt arrives, labels in the presented order included
        assert "You rate the emotions" not in text  # the system prompt is not repeated in user turns


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_structured_strategy_uses_the_vendor_schema_mode(images, monkeypatch, vendor):
    adapter = adapter_for(vendor, monkeypatch)
    context = make_context(images[0], ("emotion", "arousal"), "emotion6")
    (request,) = get_strategy("structured").render(context)
    payload = adapter.build_payload(request)
    schema = answer_schema(context)
    enum = repr(schema["properties"]["emotion"]["enum"])  # a list literal: absent from the prompt text
    assert enum in repr(payload)
    if vendor == "openai":
        assert payload["response_format"]["type"] == "json_schema"
        assert payload["response_format"]["json_schema"]["schema"] == schema
    elif vendor == "gemini":
        config = payload.get("generationConfig") or payload.get("generation_config") or payload.get("config") or {}
        assert (config.get("responseMimeType") or config.get("response_mime_type")) == "application/json"
    (plain,) = get_strategy("zero-shot").render(context)
    assert enum not in repr(adapter.build_payload(plain))  # no schema unless asked for
