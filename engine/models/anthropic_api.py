"""Anthropic's Messages API through the official `anthropic` SDK (`AsyncAnthropic`).

Images travel as base64 `image` source blocks, system prompts in the separate `system` field.
Structured output uses the API's `output_config.format` JSON schema, or a forced tool call with
`options: {structured_output: tool}`. No sampling parameters are sent by default: the API version
this SDK speaks rejects `temperature`/`top_p` on current models; `generate.extra` can still send
them to a model that takes them.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2

from engine.errors import ConfigError
from engine.models._cloud import CloudAdapter, bare_schema, merge_extra
from engine.models._errors import decode_json, http_failure
from engine.models.base import ErrorClass, ImagePart, ModelRequest, ModelResponse, ModelSpec, TextPart

ANSWER_TOOL = "record_answer"


CACHE_MARK = {"type": "ephemeral"}


def mark_stable_prefix(payload: dict) -> None:
    """Prompt caching: a `cache_control` breakpoint after the system prompt and after the stable part
    of the last user turn -- every block before its final image (few-shot: the instructions and the
    k exemplars with their answers; only the image to judge and what follows it change per item).

    The prefix is cached from the second request on and read at a tenth of the input price; a prefix
    shorter than the model's minimum (1,024 tokens on most models) is simply not cached. The answer
    does not depend on caching, so the request hash and run id do not either.
    """
    if payload.get("system"):
        payload["system"] = [{"type": "text", "text": payload["system"], "cache_control": CACHE_MARK}]
    messages = payload.get("messages") or []
    if not messages or not isinstance(messages[-1].get("content"), list):
        return
    blocks = messages[-1]["content"]
    images = [i for i, block in enumerate(blocks) if block.get("type") == "image"]
    if len(images) >= 2 and images[-1] >= 1:  # exemplar images before the one judged
        blocks[images[-1] - 1] = {**blocks[images[-1] - 1], "cache_control": CACHE_MARK}


class AnthropicAdapter(CloudAdapter):
    """Claude models (`POST /v1/messages`)."""

    name = "anthropic"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.structured_output = self.typed_options.structured_output  # native | tool (engine.models.catalog)
        if isinstance(spec.base_url, (list, tuple)):
            raise ConfigError(f"model {spec.name!r}: the anthropic adapter takes one base_url, not a list")
        self.prompt_cache = self.typed_options.prompt_cache

    def build_payload(self, request: ModelRequest) -> dict:
        """The `/v1/messages` JSON body: system apart, images as base64 source blocks."""
        system = "\n\n".join(m.text for m in request.messages if m.role == "system")
        messages: list[dict] = []
        for message in request.messages:
            if message.role == "system":
                continue
            if not message.images:
                messages.append({"role": message.role, "content": message.text})
                continue
            blocks: list[dict] = []
            for part in message.parts:
                if isinstance(part, ImagePart):
                    blocks.append({"type": "image", "source": {"type": "base64", "media_type": part.mime,
                                                               "data": part.b64()}})
                elif isinstance(part, TextPart):
                    blocks.append({"type": "text", "text": part.text})
            messages.append({"role": message.role, "content": blocks})
        payload: dict[str, Any] = {"model": self.model_id, "max_tokens": request.config.max_tokens,
                                   "messages": messages}
        if system:
            payload["system"] = system
        if self.prompt_cache:
            mark_stable_prefix(payload)
        schema = request.config.json_schema
        if schema:
            schema = bare_schema(schema)
            if self.structured_output == "tool":
                payload["tools"] = [{"name": ANSWER_TOOL, "description": "Record the answer in the required structure.",
                                     "input_schema": schema}]
                payload["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
            else:
                payload["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        return merge_extra(payload, dict(request.config.extra))

    def _make_clients(self, http_client: Any) -> list[Any]:
        kwargs = {"http_client": http_client} if http_client is not None else {}
        return [anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.spec.base_url or None, max_retries=0,
                                         timeout=self.spec.timeout_s, **kwargs)]

    async def _send(self, client: Any, payload: dict, request: ModelRequest) -> dict:
        # The SDK's documented low-level `post`: its auth, version header, timeouts and status errors,
        # without re-validating our payload against the typed parameters (CPU, see bench/).
        response = await client.post("/v1/messages", cast_to=httpx2.Response, body=payload,
                                     options={"timeout": self.spec.timeout_s})
        return response.json()

    def _read(self, body: dict) -> ModelResponse:
        usage = body.get("usage") or {}
        input_tokens = usage.get("input_tokens")
        if input_tokens is not None:  # cached prompt tokens are reported apart; they are still input
            input_tokens += ((usage.get("cache_creation_input_tokens") or 0)
                             + (usage.get("cache_read_input_tokens") or 0))
        common = {"input_tokens": input_tokens, "output_tokens": usage.get("output_tokens"),
                  "model_id_resolved": body.get("model"), "stop_reason": body.get("stop_reason"),
                  "cached_input_tokens": usage.get("cache_read_input_tokens"),
                  "cache_write_tokens": usage.get("cache_creation_input_tokens")}
        blocks = body.get("content") or []
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        tool_inputs = [b.get("input") for b in blocks if b.get("type") == "tool_use" and b.get("name") == ANSWER_TOOL]
        if tool_inputs:
            text = json.dumps(tool_inputs[0], ensure_ascii=False)
        if body.get("stop_reason") == "refusal":
            message = text or "the model declined to answer (stop_reason refusal)"
            return ModelResponse.failure(ErrorClass.REFUSAL, message, text=text or None, **common)
        return ModelResponse(text=text, **common)

    def _status_error(self, exc: BaseException) -> ModelResponse | None:
        if not isinstance(exc, anthropic.APIStatusError):
            return None
        body = decode_json(exc.response.content)
        return http_failure(exc.status_code, exc.response.headers, body if body is not None else exc.body,
                            key_env=self.key_env, secrets=self.secrets, fallback_message=exc.message)
