"""Shared helpers of the cloud adapters: error classification, Retry-After parsing, secret scrubbing.

Every vendor SDK raises its own exception types; the adapters turn them into one `ModelResponse`
failure with an `ErrorClass`, so the runner can decide what to retry (only transient classes) and
how long to wait (`retry_after_s`). Keys never appear in what is returned: messages and raw bodies
pass through `scrub_secrets` first.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import ConfigError
from engine.models.base import ErrorClass, ModelResponse, ModelSpec

from engine.secrets import MASK, scrub  # noqa: F401 - MASK is part of this module's interface


def read_api_key(spec: ModelSpec, default_envs: Iterable[str], *, required: bool = True) -> str | None:
    """The key from `spec.api_key_env` or the first set default variable; a clear error if none is set.

    Raises `ConfigError` naming the variable(s) to set when `required` (or when the user named a
    variable with `api_key_env` and it is empty).
    """
    envs = [spec.api_key_env] if spec.api_key_env else list(default_envs)
    for env in envs:
        value = os.environ.get(env, "").strip()
        if value:
            return value
    if required or spec.api_key_env:
        names = " or ".join(envs)
        raise ConfigError(
            f"model {spec.name!r} ({spec.adapter} adapter) needs an API key: set the {names} environment "
            f"variable (or name another variable with `api_key_env:` in the model's config)")
    return None


def key_hint(spec: ModelSpec, default_envs: Iterable[str]) -> str:
    """Which environment variable holds this model's key, for authentication error messages."""
    envs = [spec.api_key_env] if spec.api_key_env else list(default_envs)
    return " or ".join(envs) if envs else "the key's environment variable"


def scrub_secrets(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """A copy of `value` (str, dict, list, nested) with the given secrets, every known secret value and
    key-shaped strings masked (`engine.secrets.scrub`, the one redaction)."""
    return scrub(value, secrets, keys=False)


def parse_retry_after(headers: Mapping[str, str] | None, body: Any = None) -> float | None:
    """Seconds to wait before retrying, from `retry-after-ms`, `Retry-After` (seconds or an HTTP date)
    or a Google `RetryInfo.retryDelay` ("37s") in the error body; None when none is given.

    See RFC 9110 section 10.2.3 for Retry-After.
    """
    if headers is not None:
        lower = {str(k).lower(): str(v) for k, v in headers.items()}
        milliseconds = lower.get("retry-after-ms")
        if milliseconds:
            try:
                return max(0.0, float(milliseconds) / 1000.0)
            except ValueError:
                pass
        value = lower.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                    return max(0.0, when.timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
    return _google_retry_delay(body)


def _google_retry_delay(body: Any) -> float | None:
    error = body.get("error", body) if isinstance(body, Mapping) else None
    details = error.get("details") if isinstance(error, Mapping) else None
    for detail in details or []:
        delay = detail.get("retryDelay") if isinstance(detail, Mapping) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                continue
    return None


def status_error_class(status: int, body: Any = None) -> ErrorClass:
    """HTTP status (and, for Google's 400 "API key not valid", the body) to an error class."""
    if status == 429:
        return ErrorClass.RATE_LIMIT
    if status in (401, 403) or _google_key_invalid(body):
        return ErrorClass.AUTH
    if status == 408:
        return ErrorClass.TIMEOUT
    if status >= 500:  # includes Anthropic's 529 "overloaded"
        return ErrorClass.SERVER
    return ErrorClass.BAD_REQUEST


def _google_key_invalid(body: Any) -> bool:
    error = body.get("error", body) if isinstance(body, Mapping) else None
    details = error.get("details") if isinstance(error, Mapping) else None
    return any(isinstance(d, Mapping) and d.get("reason") == "API_KEY_INVALID" for d in details or [])


def body_message(body: Any) -> str | None:
    """The human message inside a vendor error body ({"error": {"message": ...}} in all three APIs)."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
    return None


def decode_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def http_failure(status: int, headers: Mapping[str, str] | None, body: Any, *, key_env: str,
                 secrets: Iterable[str | None], fallback_message: str = "") -> ModelResponse:
    """A classified failure for an HTTP error response."""
    error_class = status_error_class(status, body)
    message = body_message(body) or fallback_message or f"HTTP {status}"
    message = f"HTTP {status}: {message}"
    if error_class is ErrorClass.AUTH:
        message += f" (check the API key in the {key_env} environment variable)"
    retry_after = parse_retry_after(headers, body)
    raw = body if isinstance(body, (dict, list)) else ({"text": body} if body else None)
    return ModelResponse.failure(error_class, scrub_secrets(message, secrets),
                                 raw_response=scrub_secrets(raw, secrets), retry_after_s=retry_after)


def transport_failure(exc: BaseException, *, secrets: Iterable[str | None]) -> ModelResponse | None:
    """A classified failure for timeouts, resets and truncated bodies, whichever library raised them.

    Returns None for exceptions that are not transport problems (the caller classifies those).
    """
    error_class = _transport_class(exc)
    if error_class is None:
        return None
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({type(cause).__name__}: {cause})"
    label = "timed out" if error_class is ErrorClass.TIMEOUT else "connection failed"
    return ModelResponse.failure(error_class, scrub_secrets(f"{label}: {text}", secrets))


def _transport_class(exc: BaseException) -> ErrorClass | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or names & {
            "APITimeoutError", "TimeoutException", "ServerTimeoutError", "ReadTimeout", "ConnectTimeout"}:
        return ErrorClass.TIMEOUT
    if isinstance(exc, (ConnectionError, OSError, json.JSONDecodeError, EOFError)) or names & {
            "APIConnectionError", "TransportError", "NetworkError", "RemoteProtocolError", "ProtocolError",
            "ClientConnectionError", "ClientPayloadError", "ServerDisconnectedError", "DecodingError"}:
        return ErrorClass.CONNECTION
    return None


def unexpected_failure(exc: BaseException, *, secrets: Iterable[str | None]) -> ModelResponse:
    """Anything else the SDK raised (a bad setting it rejected before sending): not worth retrying."""
    message = f"{type(exc).__name__}: {exc}"
    return ModelResponse.failure(ErrorClass.BAD_REQUEST, scrub_secrets(message, secrets))
