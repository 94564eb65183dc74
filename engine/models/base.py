"""The one interface every model adapter implements, and the request/response types it speaks.

An adapter turns a `ModelRequest` (messages of text and images, generation settings, the task) into
a `ModelResponse` (text, usage, latency, resolved model id, raw request/response with secrets
removed, status and error class). It never retries: it classifies the error, and the runner owns
retries, backoff, concurrency, caching and storage.
"""

from __future__ import annotations

import abc
import base64
import copy
import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal


class ErrorClass(str, enum.Enum):
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    REFUSAL = "refusal"
    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    IMAGE = "image"  # the item's image could not be read or encoded
    BUDGET = "budget"  # not sent: the run's cost cap was reached
    PENDING = "pending"  # submitted in a vendor batch whose results are not collected yet (--no-wait)

    @property
    def transient(self) -> bool:
        """Worth retrying: the same request may succeed later."""
        return self in (ErrorClass.RATE_LIMIT, ErrorClass.SERVER, ErrorClass.TIMEOUT, ErrorClass.CONNECTION)


@dataclass(frozen=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class ImagePart:
    """An encoded image, addressed by the sha256 of the bytes sent."""

    data: bytes
    mime: str = "image/jpeg"
    sha256: str = ""
    type: Literal["image"] = "image"

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())

    def b64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{self.b64()}"


Part = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    parts: tuple[Part, ...]

    @classmethod
    def user(cls, *parts: Part | str) -> "Message":
        return cls("user", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))

    @classmethod
    def system(cls, text: str) -> "Message":
        return cls("system", (TextPart(text),))

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> list[ImagePart]:
        return [p for p in self.parts if isinstance(p, ImagePart)]


@dataclass(frozen=True)
class GenerateConfig:
    temperature: float = 0.0
    max_tokens: int = 512
    top_p: float | None = None
    seed: int | None = None
    json_schema: dict | None = None  # ask for structured output where the vendor supports it
    extra: dict = field(default_factory=dict)  # vendor-specific pass-through settings

    def as_dict(self) -> dict:
        """The settings as a plain dict: what `dataclasses.asdict` gives, copying only the two dicts."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "top_p": self.top_p,
                "seed": self.seed, "json_schema": copy.deepcopy(self.json_schema) if self.json_schema else None,
                "extra": copy.deepcopy(self.extra) if self.extra else {}}


@dataclass(frozen=True)
class TaskSpec:
    """What is being judged: lets offline baselines answer without reading a prompt."""

    dimensions: tuple[str, ...] = ("polarity",)
    taxonomy: str = "ekman7"
    scales: dict = field(default_factory=dict)  # {"valence": (1, 9), ...}


@dataclass(frozen=True)
class ModelRequest:
    messages: tuple[Message, ...]
    config: GenerateConfig = GenerateConfig()
    task: TaskSpec = TaskSpec()
    item_key: str = ""  # "dataset/item_id": lets baselines and replay find the item; not part of the hash

    def request_hash(self, adapter: str, model_id: str, identity: dict | None = None) -> str:
        """Cache key: adapter, model, the adapter's answer-deciding options (`ModelAdapter.cache_identity`),
        settings, prompt text and image hashes (never image bytes)."""
        body = {
            "adapter": adapter,
            "model": model_id,
            "config": self.config.as_dict(),
            "task": {"dimensions": list(self.task.dimensions), "taxonomy": self.task.taxonomy,
                     "scales": {k: list(v) for k, v in sorted(self.task.scales.items())}},
            "messages": [
                {"role": m.role, "parts": [p.text if isinstance(p, TextPart) else f"image:{p.sha256}" for p in m.parts]}
                for m in self.messages
            ],
        }
        if identity:  # left out when empty, so keys of adapters without options stay as they were
            body["identity"] = identity
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def describe(self) -> dict:
        """JSON-safe view for `responses.raw_request`: images as their sha256, no secrets."""
        return {
            "config": self.config.as_dict(),
            "messages": [
                {"role": m.role, "parts": [{"text": p.text} if isinstance(p, TextPart)
                                           else {"image_sha256": p.sha256, "mime": p.mime} for p in m.parts]}
                for m in self.messages
            ],
        }


@dataclass
class ModelResponse:
    text: str | None = None
    status: Literal["ok", "refused", "error"] = "ok"
    error_class: ErrorClass | None = None
    error_message: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float | None = None
    model_id_resolved: str | None = None
    raw_request: dict | None = None
    raw_response: dict | None = None
    retry_after_s: float | None = None  # from a Retry-After header, for the runner's backoff
    stop_reason: str | None = None
    cached_input_tokens: int | None = None  # input tokens read from the vendor's prompt cache (part of input_tokens)
    cache_write_tokens: int | None = None  # input tokens written to the prompt cache (part of input_tokens)
    batch_id: str | None = None  # the vendor batch that answered it (batch mode), priced at the batch rate

    @classmethod
    def failure(cls, error_class: ErrorClass, message: str, **kw: Any) -> "ModelResponse":
        status = "refused" if error_class is ErrorClass.REFUSAL else "error"
        return cls(status=status, error_class=error_class, error_message=message, **kw)

    @property
    def transient(self) -> bool:
        return self.status == "error" and self.error_class is not None and self.error_class.transient


@dataclass
class ModelSpec:
    """One `models:` entry of an experiment: adapter, model id, generation and client settings."""

    name: str
    adapter: str
    model: str = ""
    base_url: str | list[str] | None = None
    api_key_env: str | None = None
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    timeout_s: float = 120.0
    max_attempts: int = 6
    generate: GenerateConfig = GenerateConfig()
    options: dict = field(default_factory=dict)  # adapter-specific (device, dtype, replay file, ...)


#: Options that change how requests are served, never what is answered: left out of the cache key, so the
#: same model on a GPU and on a CPU, or with another batch size, shares its answers.
SERVING_OPTIONS = frozenset({"device", "device_map", "batch_size", "batch_window_ms", "threads", "http_client",
                             "max_connections", "timeout_s", "warmup"})


def _content_address(value: Any) -> Any:
    """A file path as the sha256 of the file's bytes (a changed file is another configuration); other values
    as they are, recursively."""
    if isinstance(value, dict):
        return {str(k): _content_address(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_content_address(v) for v in value]
    if isinstance(value, str) and 0 < len(value) < 4096 and "\0" not in value:
        from pathlib import Path
        try:
            path = Path(value).expanduser()
            if path.is_file():
                digest = hashlib.sha256()
                with path.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                return f"file-sha256:{digest.hexdigest()}"
        except (OSError, ValueError):
            pass
    return value


class ModelAdapter(abc.ABC):
    """Base class of every adapter. Subclasses set `name` and implement `generate`."""

    name: str = ""
    #: offline adapters take no prompt cost and no key
    local: bool = False

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    @property
    def model_id(self) -> str:
        return self.spec.model or self.spec.name

    @property
    def typed_options(self) -> Any:
        """`spec.options` as this adapter's typed options model (`engine.models.catalog`), defaults filled in;
        an unknown key or a wrong value is a ConfigError naming the model and the fix."""
        if getattr(self, "_typed_options", None) is None:
            from engine.models.registry import ADAPTERS, validate_options
            adapter = self.spec.adapter if self.spec.adapter in ADAPTERS else self.name
            self._typed_options = validate_options(self.spec.name, adapter, self.spec.options)
        return self._typed_options

    def cache_identity(self) -> dict:
        """Everything besides the request that decides this adapter's answers, for the response cache key:
        its options (seed, revision, dtype, a replay file by the sha256 of its content, ...) except those in
        `SERVING_OPTIONS`. A changed configuration is never served another's answers."""
        return {str(k): _content_address(v) for k, v in sorted(self.spec.options.items(), key=lambda kv: str(kv[0]))
                if k not in SERVING_OPTIONS}

    async def prepare(self, context: "PrepareContext") -> None:  # noqa: B027 - optional hook
        """Called once before a run: baselines train on the dataset's train split here."""

    @abc.abstractmethod
    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Send one request; never raises for provider errors, returns a classified failure instead."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release clients, sessions and model weights."""


@dataclass
class PrepareContext:
    """What `ModelAdapter.prepare` may look at: the training items only, never the evaluated ones."""

    dataset: Any  # engine.datasets.Dataset restricted to training items
    task: TaskSpec
    load_image: Any  # callable(item) -> ImagePart | None
    seed: int = 0
