"""Google's Gemini API through the current `google-genai` SDK (`genai.Client(...).aio.models.generate_content`).

Images travel as `inlineData` parts with their MIME type, the system prompt as `systemInstruction`,
structured output as `responseMimeType: application/json` plus `responseJsonSchema` (standard
JSON Schema; the SDK's `response_schema` takes only an OpenAPI subset). The SDK's own retries are
off (one attempt), and it is given our HTTP client, which also keeps it off its aiohttp path that
re-sends silently after a dropped connection.
"""

from __future__ import annotations

import json
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from engine.errors import ConfigError
from engine.models._cloud import CloudAdapter, bare_schema
from engine.models._errors import http_failure
from engine.models.base import ErrorClass, ImagePart, ModelRequest, ModelResponse, ModelSpec, TextPart

# finishReason / blockReason values that mean the answer was withheld
BLOCKED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                     "IMAGE_PROHIBITED_CONTENT", "OTHER"})
# `generate.extra` keys that belong at the top of the request, not in generationConfig
TOP_LEVEL = frozenset({"safetySettings", "tools", "toolConfig", "cachedContent", "labels"})


class GeminiAdapter(CloudAdapter):
    """Gemini models (`POST /{version}/models/{model}:generateContent`)."""

    name = "gemini"

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        if isinstance(spec.base_url, (list, tuple)):
            raise ConfigError(f"model {spec.name!r}: the gemini adapter takes one base_url, not a list")

    def build_payload(self, request: ModelRequest) -> dict:
        """The `generateContent` JSON body (camelCase, images base64 in `inlineData`)."""
        contents = []
        for message in request.messages:
            if message.role == "system":
                continue
            parts = []
            for part in message.parts:
                if isinstance(part, ImagePart):
                    parts.append({"inlineData": {"mimeType": part.mime, "data": part.b64()}})
                elif isinstance(part, TextPart):
                    parts.append({"text": part.text})
            contents.append({"role": "model" if message.role == "assistant" else "user", "parts": parts})
        config = request.config
        generation: dict[str, Any] = {"temperature": config.temperature, "maxOutputTokens": config.max_tokens}
        if config.top_p is not None:
            generation["topP"] = config.top_p
        if config.seed is not None:
            generation["seed"] = config.seed
        if config.json_schema:
            generation["responseMimeType"] = "application/json"
            generation["responseJsonSchema"] = bare_schema(config.json_schema)
        payload: dict[str, Any] = {"contents": contents}
        system = "\n\n".join(m.text for m in request.messages if m.role == "system")
        if system:
            payload["systemInstruction"] = {"parts": [{"text": system}]}
        for key, value in config.extra.items():
            target = payload if key in TOP_LEVEL else generation
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        payload["generationConfig"] = generation
        return payload

    def _make_clients(self, http_client: Any) -> list[Any]:
        options: dict[str, Any] = {"timeout": int(self.spec.timeout_s * 1000),
                                   "retry_options": types.HttpRetryOptions(attempts=1)}
        if self.spec.base_url:
            options["base_url"] = str(self.spec.base_url)
        if self.spec.options.get("api_version"):
            options["api_version"] = str(self.spec.options["api_version"])
        if http_client is not None:
            options["httpx_async_client"] = http_client
        return [genai.Client(api_key=self.api_key, http_options=types.HttpOptions(**options))]

    async def _close_client(self, client: Any) -> None:
        await client.aio.aclose()

    def _sdk_arguments(self, payload: dict, request: ModelRequest) -> tuple[list, types.GenerateContentConfig]:
        """The SDK's typed contents and config for a wire payload (images from the request, as bytes)."""
        images = iter([p for m in request.messages if m.role != "system" for p in m.images])
        contents = []
        for content in payload["contents"]:
            parts = []
            for part in content["parts"]:
                if "inlineData" in part:
                    image = next(images)
                    parts.append(types.Part(inline_data=types.Blob(mime_type=image.mime, data=image.data)))
                else:
                    parts.append(types.Part.model_validate(part))
            contents.append(types.Content(role=content["role"], parts=parts))
        settings = dict(payload.get("generationConfig", {}))
        settings.update({k: v for k, v in payload.items() if k not in ("contents", "generationConfig")})
        settings["shouldReturnHttpResponse"] = True  # the raw JSON body, not re-parsed into models
        return contents, types.GenerateContentConfig.model_validate(settings)

    async def _send(self, client: Any, payload: dict, request: ModelRequest) -> dict:
        contents, config = self._sdk_arguments(payload, request)
        response = await client.aio.models.generate_content(model=self.model_id, contents=contents, config=config)
        return json.loads(response.sdk_http_response.body)

    def _read(self, body: dict) -> ModelResponse:
        usage = body.get("usageMetadata") or {}
        output_tokens = usage.get("candidatesTokenCount")
        if usage.get("thoughtsTokenCount"):  # thinking tokens are billed as output
            output_tokens = (output_tokens or 0) + usage["thoughtsTokenCount"]
        common = {"input_tokens": usage.get("promptTokenCount"), "output_tokens": output_tokens,
                  "model_id_resolved": body.get("modelVersion"),
                  "cached_input_tokens": usage.get("cachedContentTokenCount")}
        candidates = body.get("candidates") or []
        block = (body.get("promptFeedback") or {}).get("blockReason")
        if not candidates:
            if block:
                return ModelResponse.failure(ErrorClass.REFUSAL, f"prompt blocked ({block})", stop_reason=block,
                                             **common)
            return ModelResponse.failure(ErrorClass.SERVER, "the response has no candidates", **common)
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        text = "".join(p.get("text", "") for p in parts if not p.get("thought"))
        finish = candidate.get("finishReason")
        if finish in BLOCKED:
            return ModelResponse.failure(ErrorClass.REFUSAL, f"answer withheld (finishReason {finish})",
                                         text=text or None, stop_reason=finish, **common)
        return ModelResponse(text=text, stop_reason=finish, **common)

    def _status_error(self, exc: BaseException) -> ModelResponse | None:
        if not isinstance(exc, genai_errors.APIError):
            return None
        headers = getattr(exc.response, "headers", None)
        return http_failure(int(exc.code or 0), headers, exc.details, key_env=self.key_env, secrets=self.secrets,
                            fallback_message=exc.message or "")
