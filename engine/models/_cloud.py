"""What the OpenAI, Anthropic and Gemini adapters share: keys, HTTP clients, timing, error handling.

A subclass says how to build the vendor payload (`build_payload`, pure), how to send it through
the vendor SDK (`_send`, returning the JSON body), how to read a body (`_read`) and how to classify
the SDK's exceptions (`_status_error`). This class owns the rest: the key check at creation, one
SDK client per event loop (SDK clients and connection pools are bound to the loop that made them),
the hard per-request deadline, latency, and the secret-free `raw_request` / `raw_response`.
"""

from __future__ import annotations

import abc
import asyncio
import time
from typing import Any

from engine.models._errors import (key_hint, read_api_key, scrub_secrets, transport_failure,
                                   unexpected_failure)
from engine.models._http import make_http_client
from engine.models.base import ErrorClass, ModelAdapter, ModelRequest, ModelResponse, ModelSpec

# payload keys that carry the prompt and images; everything else is a generation setting
PROMPT_KEYS = frozenset({"messages", "contents", "system", "systemInstruction"})


def merge_extra(payload: dict, extra: dict) -> dict:
    """`GenerateConfig.extra` on top of the payload; a None value removes a setting (e.g. temperature
    for models that reject it)."""
    for key, value in extra.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def is_schema_wrapper(schema: dict) -> bool:
    """True for OpenAI's `{name, schema, strict}` wrapper, False for a bare JSON schema."""
    return "schema" in schema and "name" in schema and isinstance(schema["schema"], dict)


def bare_schema(schema: dict) -> dict:
    """The JSON schema itself, whether given bare or in OpenAI's `{name, schema}` wrapper."""
    return schema["schema"] if is_schema_wrapper(schema) else schema


class CloudAdapter(ModelAdapter):
    """Base of the SDK-backed adapters."""

    key_envs: tuple[str, ...] = ()
    key_required: bool = True
    #: extra seconds past `timeout_s` before the hard deadline cuts a slow-drip response
    deadline_grace_s: float = 1.0

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        from engine.models.registry import ADAPTERS
        declared = ADAPTERS.find(self.name)  # the key variables are declared once, in the adapter registry
        if declared is not None:
            self.key_envs, self.key_required = declared.key_envs, declared.key_required
        self.api_key = read_api_key(spec, self.key_envs, required=self.key_required)
        self.http_client_kind = str(self.typed_options.http_client)  # its choices and default: the options model
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: Any = None
        self._clients: list[Any] = []

    # -- to implement ----------------------------------------------------------------------------
    @abc.abstractmethod
    def build_payload(self, request: ModelRequest) -> dict:
        """The JSON body this adapter sends for `request`, in the vendor's wire format (pure)."""

    @abc.abstractmethod
    def _make_clients(self, http_client: Any) -> list[Any]:
        """SDK client(s) using `http_client` (None: the SDK's own), retries off."""

    @abc.abstractmethod
    async def _send(self, client: Any, payload: dict, request: ModelRequest) -> dict:
        """Send through the SDK and return the response's JSON body (raises the SDK's exceptions)."""

    @abc.abstractmethod
    def _read(self, body: dict) -> ModelResponse:
        """Text, usage, stop reason, resolved model id and refusal status from a success body."""

    @abc.abstractmethod
    def _status_error(self, exc: BaseException) -> ModelResponse | None:
        """A classified failure for the SDK's HTTP status exceptions; None for anything else."""

    # -- shared ------------------------------------------------------------------------------------
    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.api_key,)

    @property
    def key_env(self) -> str:
        return key_hint(self.spec, self.key_envs)

    def _clients_for_loop(self) -> list[Any]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or not self._clients:
            self._http = make_http_client(self.http_client_kind, concurrency=self.spec.concurrency,
                                          timeout_s=self.spec.timeout_s)
            self._clients = self._make_clients(self._http)
            self._loop = loop
        return self._clients

    def _pick_client(self, clients: list[Any]) -> tuple[int, Any]:
        return 0, clients[0]

    def _release_client(self, index: int) -> None:
        """Called when the request sent through `clients[index]` is done (load balancing)."""

    def describe_request(self, request: ModelRequest, payload: dict) -> dict:
        """`raw_request`: the request with images as sha256, plus the vendor settings sent (never a key)."""
        settings = {k: v for k, v in payload.items() if k not in PROMPT_KEYS}
        described = {**request.describe(), "adapter": self.name, "vendor_params": settings}
        return scrub_secrets(described, self.secrets)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Send one request; provider errors come back as classified failures, never as exceptions."""
        try:
            payload = self.build_payload(request)
        except (ValueError, TypeError) as exc:
            return ModelResponse.failure(ErrorClass.BAD_REQUEST, f"cannot build the request: {exc}",
                                         raw_request=request.describe())
        raw_request = self.describe_request(request, payload)
        clients = self._clients_for_loop()
        index, client = self._pick_client(clients)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.spec.timeout_s + self.deadline_grace_s):
                body = await self._send(client, payload, request)
            response = self._read_safely(body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes data
            response = (self._status_error(exc) or transport_failure(exc, secrets=self.secrets)
                        or unexpected_failure(exc, secrets=self.secrets))
        finally:
            self._release_client(index)
        response.latency_ms = (time.perf_counter() - started) * 1000.0
        response.raw_request = raw_request
        if self.base_urls_in_use():
            response.raw_request = {**raw_request, "base_url": self.base_urls_in_use()[index]}
        response.raw_response = scrub_secrets(response.raw_response, self.secrets)
        return response

    def base_urls_in_use(self) -> list[str]:
        return []

    def _read_safely(self, body: Any) -> ModelResponse:
        if not isinstance(body, dict):
            return ModelResponse.failure(ErrorClass.SERVER, "the response body is not a JSON object",
                                         raw_response={"body": body})
        try:
            response = self._read(body)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            return ModelResponse.failure(ErrorClass.SERVER, f"unexpected response shape ({type(exc).__name__}: {exc})",
                                         raw_response=body)
        response.raw_response = body
        return response

    async def _close_client(self, client: Any) -> None:
        """Close an SDK client that owns its HTTP client (kind "sdk")."""
        await client.close()

    async def aclose(self) -> None:
        """Close the HTTP client(s) of the current event loop."""
        http, clients = self._http, self._clients
        self._http, self._clients, self._loop = None, [], None
        try:
            if http is not None:
                await http.aclose()
            else:
                for client in clients:
                    await self._close_client(client)
        except RuntimeError:  # closed from another loop than its own
            pass
