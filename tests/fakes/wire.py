"""The three vendors' wire formats as the fake server speaks them: request parsing and response bodies.

Bodies follow the public API references: OpenAI chat completions (`chat.completion` object), the
Anthropic Messages API (`message` object, `{"type": "error", ...}` errors) and the Gemini API
(`GenerateContentResponse`, `google.rpc.Status` errors).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

VENDORS = ("openai", "anthropic", "gemini")


@dataclass(frozen=True)
class RecordedImage:
    mime: str
    data: bytes  # decoded from the base64 that arrived
    sha256: str


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    index: int  # arrival order, from 0
    vendor: str
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # the parsed JSON body (None when it was not JSON)
    model: str = ""
    system: str = ""
    prompt: str = ""  # every text part of user/assistant turns, joined by newlines
    images: list[RecordedImage] = field(default_factory=list)
    fault: str = "ok"  # what the server did with it
    input_tokens: int = 0  # the usage the server reported back (0 when it failed the request)
    output_tokens: int = 0
    answer: str | None = None
    cached_tokens: int = 0  # of input_tokens, read from the (simulated) prompt cache
    cache_write_tokens: int = 0  # of input_tokens, written to it (Anthropic reports these apart)
    prefix_tokens: int = 0  # the cacheable prefix (see `cacheable_prefix`)
    prefix_key: str = ""
    batch_id: str | None = None  # the batch it came in (batch endpoints), else None

    @property
    def api_key(self) -> str | None:
        """The key as sent: Bearer token, x-api-key or x-goog-api-key."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return self.headers.get("x-api-key") or self.headers.get("x-goog-api-key")


def vendor_for_path(path: str) -> str | None:
    if path.endswith("/chat/completions"):
        return "openai"
    if path.endswith("/messages"):
        return "anthropic"
    if ":generateContent" in path:
        return "gemini"
    return None


def parse_request(vendor: str, path: str, body: Any, into: RecordedRequest) -> None:
    """Fill model, system, prompt and images of `into` from a vendor request body."""
    texts: list[str] = []
    if not isinstance(body, dict):
        return
    if vendor == "openai":
        into.model = str(body.get("model", ""))
        system: list[str] = []
        for message in body.get("messages", []):
            target = system if message.get("role") in ("system", "developer") else texts
            content = message.get("content")
            if isinstance(content, str):
                target.append(content)
                continue
            for part in content or []:
                if part.get("type") == "text":
                    target.append(part.get("text", ""))
                elif part.get("type") == "image_url":
                    url = part.get("image_url", {}).get("url", "")
                    match = re.match(r"data:([^;]+);base64,(.*)", url, re.S)
                    if match:
                        into.images.append(_image(match.group(1), match.group(2)))
        into.system = "\n".join(system)
    elif vendor == "anthropic":
        into.model = str(body.get("model", ""))
        system_value = body.get("system", "")
        into.system = system_value if isinstance(system_value, str) else "\n".join(
            b.get("text", "") for b in system_value)
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                texts.append(content)
                continue
            for block in content or []:
                if block.get("type") == "text":
                    texts.append(block.get("text", ""))
                elif block.get("type") == "image" and block.get("source", {}).get("type") == "base64":
                    into.images.append(_image(block["source"].get("media_type", ""), block["source"].get("data", "")))
    else:
        match = re.search(r"/models/([^/:]+):generateContent", path)
        into.model = match.group(1) if match else ""
        instruction = body.get("systemInstruction") or body.get("system_instruction") or {}
        into.system = "\n".join(p.get("text", "") for p in instruction.get("parts", []) if "text" in p)
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                if "text" in part:
                    texts.append(part["text"])
                inline = part.get("inlineData") or part.get("inline_data")
                if inline:
                    into.images.append(_image(inline.get("mimeType") or inline.get("mime_type", ""),
                                              inline.get("data", "")))
    into.prompt = "\n".join(texts)


def _image(mime: str, b64: str) -> RecordedImage:
    """Decode standard or URL-safe base64 (protobuf JSON, hence the Gemini API, accepts both)."""
    if "-" in b64 or "_" in b64:
        data = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    else:
        data = base64.b64decode(b64, validate=True)
    return RecordedImage(mime=mime, data=data, sha256=hashlib.sha256(data).hexdigest())


IMAGE_TOKENS = 85


def count_tokens(request: RecordedRequest, image_tokens: int = IMAGE_TOKENS) -> int:
    """A deterministic stand-in for tokenisation: words plus `image_tokens` (85) per image."""
    return len((request.system + " " + request.prompt).split()) + image_tokens * len(request.images)


def cacheable_prefix(vendor: str, body: Any, image_tokens: int = IMAGE_TOKENS) -> tuple[int, str]:
    """(tokens, key) of the prompt prefix a vendor's cache could serve, as the vendors describe it.

    Anthropic caches up to the last block marked `cache_control` (nothing unmarked); OpenAI and Gemini
    cache implicitly the longest previously seen prefix: here, everything before the last image (the
    image judged), i.e. system prompt, instructions and few-shot exemplars. The key hashes its content.
    """
    if not isinstance(body, dict):
        return 0, ""
    pieces: list[tuple[str, Any, bool]] = []  # (kind, content, marked)
    if vendor == "anthropic":
        system = body.get("system")
        for block in ([{"type": "text", "text": system}] if isinstance(system, str) else (system or [])):
            pieces.append(("text", block.get("text", ""), "cache_control" in block))
        for message in body.get("messages", []):
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for block in blocks:
                kind = "image" if block.get("type") == "image" else "text"
                value = block.get("source", {}).get("data", "") if kind == "image" else block.get("text", "")
                pieces.append((kind, value, "cache_control" in block))
        marked = [i for i, p in enumerate(pieces) if p[2]]
        pieces = pieces[: marked[-1] + 1] if marked else []
    else:
        if vendor == "openai":
            for message in body.get("messages", []):
                content = message.get("content")
                parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
                for part in parts:
                    if part.get("type") == "image_url":
                        pieces.append(("image", part.get("image_url", {}).get("url", ""), False))
                    else:
                        pieces.append(("text", part.get("text", ""), False))
        else:
            instruction = body.get("systemInstruction") or body.get("system_instruction") or {}
            pieces += [("text", p.get("text", ""), False) for p in instruction.get("parts", [])]
            for content in body.get("contents", []):
                for part in content.get("parts", []):
                    inline = part.get("inlineData") or part.get("inline_data")
                    pieces.append(("image", inline.get("data", ""), False) if inline
                                  else ("text", part.get("text", ""), False))
        images = [i for i, p in enumerate(pieces) if p[0] == "image"]
        pieces = pieces[: images[-1]] if images else []
    tokens = sum(image_tokens if kind == "image" else len(str(value).split()) for kind, value, _ in pieces)
    key = hashlib.sha256(json.dumps([[k, str(v)] for k, v, _ in pieces]).encode()).hexdigest() if pieces else ""
    return tokens, key


def ok_body(vendor: str, request: RecordedRequest, text: str, model_id: str) -> dict:
    """A complete success response carrying `text`."""
    n_in, n_out = request.input_tokens, request.output_tokens
    cached, written = request.cached_tokens, request.cache_write_tokens
    if vendor == "openai":
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": model_id, "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text, "refusal": None}}],
                "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out,
                          "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0,
                                                        "rejected_prediction_tokens": 0}}}
    if vendor == "anthropic":
        content: list[dict] = [{"type": "text", "text": text}]
        stop_reason = "end_turn"
        forced = (request.body or {}).get("tool_choice") or {}
        if forced.get("type") == "tool":  # a forced tool call answers with the tool's input
            try:
                tool_input = json.loads(text)
            except ValueError:
                tool_input = {"answer": text}
            content = [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}", "name": forced.get("name"),
                        "input": tool_input}]
            stop_reason = "tool_use"
        return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model_id,
                "content": content, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {"input_tokens": n_in - cached - written, "output_tokens": n_out,
                          "cache_creation_input_tokens": written, "cache_read_input_tokens": cached}}
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP",
                            "index": 0}],
            "usageMetadata": {"promptTokenCount": n_in, "candidatesTokenCount": n_out,
                              "totalTokenCount": n_in + n_out,
                              **({"cachedContentTokenCount": cached} if cached else {})},
            "modelVersion": model_id, "responseId": uuid.uuid4().hex[:20]}


REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


def refusal_body(vendor: str, request: RecordedRequest, model_id: str) -> dict:
    """The vendor's refusal: OpenAI `message.refusal`, Anthropic stop_reason "refusal", Gemini SAFETY block."""
    body = ok_body(vendor, request, REFUSAL_TEXT, model_id)
    if vendor == "openai":
        body["choices"][0]["message"].update(content=None, refusal=REFUSAL_TEXT)
    elif vendor == "anthropic":
        body.update(stop_reason="refusal", content=[])
    else:
        body.pop("candidates")
        body["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]}
        body["usageMetadata"] = {"promptTokenCount": request.input_tokens, "totalTokenCount": request.input_tokens}
    return body


_OPENAI_ERRORS = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
                  403: ("invalid_request_error", "unsupported_country_region_territory"),
                  404: ("invalid_request_error", "model_not_found"), 429: ("requests", "rate_limit_exceeded")}
_ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                     404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                     500: "api_error", 529: "overloaded_error"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {400: "Invalid request.", 401: "Invalid API key.", 403: "Permission denied.",
             404: "The model does not exist or you do not have access to it.", 413: "Request too large.",
             429: "Rate limit reached. Please try again later.", 500: "The server had an error processing the request.",
             503: "The service is temporarily unavailable.", 529: "Overloaded"}


def error_body(vendor: str, status: int, *, retry_after_s: float | None = None, key_invalid: bool = False,
               message: str | None = None) -> dict:
    """The vendor's JSON error body for an HTTP status (`message` replaces the stock text)."""
    custom = message
    message = custom or _MESSAGES.get(status, f"HTTP {status}")
    if vendor == "openai":
        kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
        if status == 401 and not custom:
            message = "Incorrect API key provided: sk-fake*****1234. You can find your API key in your account."
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
    if vendor == "anthropic":
        kind = _ANTHROPIC_ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message},
                "request_id": f"req_{uuid.uuid4().hex[:20]}"}
    error: dict[str, Any] = {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}
    if key_invalid:
        error.update(message="API key not valid. Please pass a valid API key.", details=[
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com"}])
    elif status == 429 and retry_after_s is not None:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after_s:g}s"}]
    return {"error": error}
