"""OpenAI and OpenAI-compatible servers (vLLM, SGLang, Ollama, LM Studio) through the official `openai` SDK.

Chat Completions wire format: images as `data:` URLs in `image_url` parts, structured output as
`response_format={"type": "json_schema", ...}`. `openai-compatible` takes a `base_url` or a list of
them (one per server or GPU) and sends each request to the one with the fewest requests in flight;
its key is optional.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from engine.errors import ConfigError
from engine.models._cloud import CloudAdapter, is_schema_wrapper, merge_extra
from engine.models._errors import decode_json, http_failure
from engine.models._http import HTTPStatusFailure, direct_timeout
from engine.models.base import ErrorClass, ImagePart, ModelRequest, ModelResponse, ModelSpec, TextPart

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "EMPTY"  # local servers started without --api-key accept any bearer token


def response_format(schema: dict) -> dict:
    """OpenAI `response_format` for a JSON schema: a bare schema, or `{name, schema, strict}` as is."""
    if is_schema_wrapper(schema):
        return {"type": "json_schema", "json_schema": schema}
    name = str(schema.get("title") or "answer").replace(" ", "_")[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


class OpenAIAdapter(CloudAdapter):
    """OpenAI's Chat Completions API (`AsyncOpenAI`)."""

    name = "openai"
    max_tokens_param = "max_completion_tokens"  # OpenAI's current name; reasoning models reject max_tokens

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        self.base_urls = self._base_urls(spec)
        self._in_flight = [0] * len(self.base_urls)
        self._next = 0

    def _base_urls(self, spec: ModelSpec) -> list[str | None]:
        if isinstance(spec.base_url, (list, tuple)):
            return [str(u).rstrip("/") for u in spec.base_url] or [None]
        return [spec.base_url.rstrip("/")] if spec.base_url else [None]

    # -- payload --------------------------------------------------------------------------------------
    def build_payload(self, request: ModelRequest) -> dict:
        """The `/chat/completions` JSON body (images inline as base64 data URLs)."""
        detail = self.spec.options.get("image_detail")
        messages: list[dict] = []
        for message in request.messages:
            if message.role != "user" or not message.images:
                messages.append({"role": message.role, "content": message.text})
                continue
            content: list[dict] = []
            for part in message.parts:
                if isinstance(part, TextPart):
                    content.append({"type": "text", "text": part.text})
                elif isinstance(part, ImagePart):
                    image_url = {"url": part.data_url()}
                    if detail:
                        image_url["detail"] = detail
                    content.append({"type": "image_url", "image_url": image_url})
            messages.append({"role": "user", "content": content})
        config = request.config
        payload: dict[str, Any] = {"model": self.model_id, "messages": messages,
                                   self.max_tokens_param: config.max_tokens, "temperature": config.temperature}
        if config.top_p is not None:
            payload["top_p"] = config.top_p
        if config.seed is not None:
            payload["seed"] = config.seed
        if config.json_schema:
            payload["response_format"] = response_format(config.json_schema)
        return merge_extra(payload, dict(config.extra))

    # -- SDK ------------------------------------------------------------------------------------------
    def _make_clients(self, http_client: Any) -> list[Any]:
        if self.http_client_kind == "direct":
            default = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
            return [url or default for url in self.base_urls]
        kwargs = {"http_client": http_client} if http_client is not None else {}
        return [openai.AsyncOpenAI(api_key=self.api_key or PLACEHOLDER_KEY, base_url=url, max_retries=0,
                                   timeout=self.spec.timeout_s, **kwargs) for url in self.base_urls]

    def _pick_client(self, clients: list[Any]) -> tuple[int, Any]:
        """Least requests in flight; ties go round robin."""
        n = len(clients)
        start = self._next
        index = min(range(n), key=lambda i: (self._in_flight[(start + i) % n], i))
        index = (start + index) % n
        self._next = (index + 1) % n
        self._in_flight[index] += 1
        return index, clients[index]

    def _release_client(self, index: int) -> None:
        self._in_flight[index] -= 1

    def base_urls_in_use(self) -> list[str]:
        return [u for u in self.base_urls if u] if len(self.base_urls) > 1 else []

    async def _send(self, client: Any, payload: dict, request: ModelRequest) -> dict:
        if not hasattr(client, "post"):  # "direct": `client` is the base URL
            return await self._post_direct(str(client).rstrip("/") + "/chat/completions", payload)
        # The SDK's documented low-level `post` (auth, headers, timeouts, status errors) with our own
        # payload: the typed `chat.completions.create` re-walks every message part against its
        # TypedDict annotations, which costs more CPU per request than the whole HTTP exchange
        # (bench/bench_clients.py).
        response = await client.post("/chat/completions", cast_to=httpx2.Response, body=payload,
                                     options={"timeout": self.spec.timeout_s})
        return response.json()  # a truncated body raises here: a CONNECTION failure

    async def _post_direct(self, url: str, payload: dict) -> dict:
        """POST the payload with the shared aiohttp session; statuses >= 400 raise `HTTPStatusFailure`."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        async with self._http.session().post(url, data=json.dumps(payload).encode(), headers=headers,
                                             timeout=direct_timeout(self.spec.timeout_s)) as resp:
            data = await resp.read()
            if resp.status >= 400:
                raise HTTPStatusFailure(resp.status, resp.headers, data)
        return json.loads(data)  # a body cut short fails here or in read(): a CONNECTION failure

    def _read(self, body: dict) -> ModelResponse:
        choices = body.get("choices") or []
        usage = body.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        common = {"input_tokens": usage.get("prompt_tokens"), "output_tokens": usage.get("completion_tokens"),
                  "model_id_resolved": body.get("model"), "cached_input_tokens": details.get("cached_tokens")}
        if not choices:
            return ModelResponse.failure(ErrorClass.SERVER, "the response has no choices", **common)
        choice = choices[0]
        message = choice.get("message") or {}
        content = message.get("content")
        if isinstance(content, list):  # some compatible servers return content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        finish = choice.get("finish_reason")
        refusal = message.get("refusal")
        if refusal or finish == "content_filter":
            return ModelResponse.failure(ErrorClass.REFUSAL, refusal or "blocked by the content filter",
                                         text=refusal or content, stop_reason=finish, **common)
        return ModelResponse(text=content or "", stop_reason=finish, **common)

    def _status_error(self, exc: BaseException) -> ModelResponse | None:
        if isinstance(exc, HTTPStatusFailure):
            return http_failure(exc.status, exc.headers, decode_json(exc.body) or exc.body.decode("utf-8", "replace"),
                                key_env=self.key_env, secrets=self.secrets)
        if not isinstance(exc, openai.APIStatusError):
            return None
        body = decode_json(exc.response.content) if exc.response is not None else None
        return http_failure(exc.status_code, exc.response.headers, body if body is not None else exc.body,
                            key_env=self.key_env, secrets=self.secrets, fallback_message=exc.message)


class OpenAICompatibleAdapter(OpenAIAdapter):
    """Any server speaking the OpenAI Chat Completions format; `base_url` may list several servers."""

    name = "openai-compatible"
    max_tokens_param = "max_tokens"  # what vLLM, SGLang, Ollama and LM Studio all accept

    def _base_urls(self, spec: ModelSpec) -> list[str | None]:
        urls = spec.base_url if isinstance(spec.base_url, (list, tuple)) else [spec.base_url]
        urls = [str(u).strip().rstrip("/") for u in urls if u]
        if not urls:
            raise ConfigError(f"model {spec.name!r} (openai-compatible adapter) needs base_url, e.g. "
                              "http://127.0.0.1:8000/v1, or a list of them to balance across servers")
        fixed = []
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"model {spec.name!r}: base_url {url!r} is not an http(s) URL, "
                                  "e.g. http://127.0.0.1:8000/v1")
            fixed.append(url if parts.path not in ("", "/") else url + "/v1")  # servers mount the API at /v1
        return fixed

    @property
    def key_env(self) -> str:
        return self.spec.api_key_env or "the server's key variable (set api_key_env)"
