"""Vendor batch APIs through the official SDKs: OpenAI Files + Batches, Anthropic Message Batches,
Gemini batch mode (inlined requests).

Each request is the very payload the synchronous adapter would send (`adapter.build_payload`), in
the vendor's batch envelope, named by a `custom_id` (the request hash). A `VendorBatches` object
submits a chunk, reads its status and reads its results back as `ModelResponse`s through the
adapter's own `_read`, so a batch answer is read exactly as a synchronous one. Per-request failures
are classified as in synchronous mode (an HTTP status inside the result file is the same failure);
expired and cancelled requests come back as transient failures, so the runner retries them.

Limits per batch (count, bytes): OpenAI 50,000 requests and a 200 MB input file; Anthropic 100,000
requests and 256 MB; Gemini inlined requests 20 MB. Creating a batch is never retried by an SDK
(`max_retries=0`): a retried create could submit the same requests twice. Each batch carries our
own key (OpenAI `metadata`, Gemini `display_name`), so a run killed between the create call and
recording its answer can find the batch again (`find`) instead of submitting it a second time.
"""

from __future__ import annotations

import abc
import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.models._errors import http_failure
from engine.models.base import ErrorClass, ModelRequest, ModelResponse

__all__ = ["BatchStatus", "VendorBatches", "batches_for"]

MB = 1024 * 1024
ANTHROPIC_ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                          "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
                          "api_error": 500, "overloaded_error": 529}


@dataclass
class BatchStatus:
    """A batch's state as the vendor reports it, in common words."""

    vendor_status: str
    finished: bool  # results (or the failure) are final
    failed: bool = False  # the whole batch failed (e.g. validation); every request is to be retried
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    processing: int = 0
    message: str | None = None


def expired_failure(batch_id: str) -> ModelResponse:
    return ModelResponse.failure(ErrorClass.TIMEOUT, f"expired unanswered in batch {batch_id} (the vendor's "
                                 "24-hour window); retried")


class VendorBatches(abc.ABC):
    """One vendor's batch endpoints, bound to a cloud adapter (its key, base URL, payloads, reader)."""

    max_requests: int = 50_000
    max_bytes: int = 190 * MB

    def __init__(self, adapter: Any):
        self.adapter = adapter
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = self._make_client(), loop
        return self._client

    @abc.abstractmethod
    def _make_client(self) -> Any:
        """An SDK client with retries off (a retried create could submit twice)."""

    @abc.abstractmethod
    def entry(self, custom_id: str, payload: dict, request: ModelRequest) -> Any:
        """One request in the vendor's batch format."""

    def entry_bytes(self, entry: Any) -> int:
        return len(json.dumps(entry, separators=(",", ":"), default=str)) + 1

    @abc.abstractmethod
    async def submit(self, entries: list[Any], batch_key: str) -> str:
        """Create the batch; returns the vendor's batch id."""

    async def find(self, batch_key: str, n_requests: int, since: datetime) -> str | None:
        """The id of a batch created with `batch_key` (a create whose answer was lost), else None.
        `since` (naive local time) is when we began creating it."""
        return None

    @abc.abstractmethod
    async def status(self, batch_id: str) -> BatchStatus:
        ...

    @abc.abstractmethod
    async def results(self, batch_id: str) -> dict[str, ModelResponse]:
        """custom_id -> response for every request the finished batch accounts for."""

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await self._close(client)
            except RuntimeError:
                pass

    async def _close(self, client: Any) -> None:
        await client.close()

    def _read(self, body: dict, batch_id: str) -> ModelResponse:
        response = self.adapter._read_safely(body)
        response.batch_id = batch_id
        return response

    def _failure(self, status: int, body: Any, batch_id: str) -> ModelResponse:
        response = http_failure(status, None, body, key_env=self.adapter.key_env, secrets=self.adapter.secrets)
        response.batch_id = batch_id
        return response


class OpenAIBatches(VendorBatches):
    """`client.files.create(purpose="batch")` + `client.batches.create(endpoint="/v1/chat/completions")`."""

    max_requests = 50_000
    max_bytes = 190 * MB

    def _make_client(self) -> Any:
        import openai
        base = next((u for u in getattr(self.adapter, "base_urls", [None]) if u), None)
        return openai.AsyncOpenAI(api_key=self.adapter.api_key or "EMPTY", base_url=base, max_retries=0,
                                  timeout=self.adapter.spec.timeout_s)

    def entry(self, custom_id: str, payload: dict, request: ModelRequest) -> dict:
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": payload}

    async def submit(self, entries: list[dict], batch_key: str) -> str:
        data = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in entries).encode()
        upload = await self.client.files.create(file=(f"{batch_key}.jsonl", data, "application/jsonl"),
                                                purpose="batch")
        batch = await self.client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions",
                                                 completion_window="24h", metadata={"affectlens_batch": batch_key})
        return batch.id

    async def find(self, batch_key: str, n_requests: int, since: datetime) -> str | None:
        async for batch in self.client.batches.list(limit=100):
            if (batch.metadata or {}).get("affectlens_batch") == batch_key:
                return batch.id
            if batch.created_at < since.timestamp() - 60:
                break  # newest first: older batches cannot be ours
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        batch = await self.client.batches.retrieve(batch_id)
        counts = batch.request_counts
        done, failed = counts.completed if counts else 0, counts.failed if counts else 0
        total = counts.total if counts else 0
        finished = batch.status in ("completed", "failed", "expired", "cancelled")
        message = None
        if batch.status == "failed" and batch.errors and batch.errors.data:
            message = "; ".join(e.message or e.code or "" for e in batch.errors.data)
        return BatchStatus(batch.status, finished, failed=batch.status in ("failed", "cancelled") and not done,
                           succeeded=done, errored=failed, processing=max(0, total - done - failed),
                           message=message)

    async def results(self, batch_id: str) -> dict[str, ModelResponse]:
        batch = await self.client.batches.retrieve(batch_id)
        out: dict[str, ModelResponse] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self.client.files.content(file_id)
            for line in content.text.splitlines():
                if line.strip():
                    record = json.loads(line)
                    out[record["custom_id"]] = self._line(record, batch_id)
        return out

    def _line(self, record: dict, batch_id: str) -> ModelResponse:
        error = record.get("error")
        if error:
            if error.get("code") == "batch_expired":
                return expired_failure(batch_id)
            return self._failure(500, {"error": error}, batch_id)
        response = record.get("response") or {}
        status = int(response.get("status_code") or 0)
        if status >= 400 or status == 0:
            return self._failure(status or 500, response.get("body"), batch_id)
        return self._read(response.get("body") or {}, batch_id)


class AnthropicBatches(VendorBatches):
    """`client.messages.batches.create(requests=[{custom_id, params}])`, `.retrieve`, `.results`."""

    max_requests = 100_000
    max_bytes = 250 * MB

    def _make_client(self) -> Any:
        import anthropic
        return anthropic.AsyncAnthropic(api_key=self.adapter.api_key, base_url=self.adapter.spec.base_url or None,
                                        max_retries=0, timeout=self.adapter.spec.timeout_s)

    def entry(self, custom_id: str, payload: dict, request: ModelRequest) -> dict:
        return {"custom_id": custom_id, "params": payload}

    async def submit(self, entries: list[dict], batch_key: str) -> str:
        batch = await self.client.messages.batches.create(requests=entries)
        return batch.id

    async def find(self, batch_key: str, n_requests: int, since: datetime) -> str | None:
        # Message batches carry no metadata: a batch created after we began submitting, with the same
        # number of requests, is taken for ours.
        cutoff = since.timestamp() - 5  # `since` is local time, as recorded
        async for batch in self.client.messages.batches.list(limit=100):
            counts = batch.request_counts
            total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if batch.created_at.timestamp() >= cutoff and total == n_requests:
                return batch.id
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        batch = await self.client.messages.batches.retrieve(batch_id)
        c = batch.request_counts
        return BatchStatus(batch.processing_status, batch.processing_status == "ended", succeeded=c.succeeded,
                           errored=c.errored + c.canceled, expired=c.expired, processing=c.processing)

    async def results(self, batch_id: str) -> dict[str, ModelResponse]:
        out: dict[str, ModelResponse] = {}
        decoder = await self.client.messages.batches.results(batch_id)
        async for line in decoder:
            result = line.result
            if result.type == "succeeded":
                out[line.custom_id] = self._read(result.message.model_dump(mode="json"), batch_id)
            elif result.type == "errored":
                body = result.error.model_dump(mode="json")
                kind = (body.get("error") or {}).get("type", "api_error")
                out[line.custom_id] = self._failure(ANTHROPIC_ERROR_STATUS.get(kind, 500), body, batch_id)
            elif result.type == "expired":
                out[line.custom_id] = expired_failure(batch_id)
            else:  # canceled
                out[line.custom_id] = ModelResponse.failure(ErrorClass.SERVER, f"cancelled in batch {batch_id}",
                                                            batch_id=batch_id)
        return out


class GeminiBatches(VendorBatches):
    """`client.aio.batches.create(model=..., src=[InlinedRequest...])` and `.get(name=...)`."""

    max_requests = 50_000
    max_bytes = 19 * MB  # inlined requests: the whole create call stays under 20 MB

    def _make_client(self) -> Any:
        return self.adapter._make_clients(None)[0]

    async def _close(self, client: Any) -> None:
        await client.aio.aclose()

    def entry(self, custom_id: str, payload: dict, request: ModelRequest) -> Any:
        from google.genai import types
        contents, config = self.adapter._sdk_arguments(payload, request)
        config = config.model_copy(update={"should_return_http_response": None})
        return types.InlinedRequest(model=self.adapter.model_id, contents=contents, config=config,
                                    metadata={"custom_id": custom_id})

    def entry_bytes(self, entry: Any) -> int:
        images = sum(len(p.inline_data.data) * 4 // 3 for c in entry.contents for p in c.parts if p.inline_data)
        return images + len(entry.model_dump_json(exclude={"contents"})) + 256

    async def submit(self, entries: list[Any], batch_key: str) -> str:
        job = await self.client.aio.batches.create(model=self.adapter.model_id, src=entries,
                                                   config={"display_name": batch_key})
        return job.name

    async def find(self, batch_key: str, n_requests: int, since: datetime) -> str | None:
        pager = await self.client.aio.batches.list(config={"page_size": 100})
        async for job in pager:
            if job.display_name == batch_key:
                return job.name
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        job = await self.client.aio.batches.get(name=batch_id)
        state = job.state.value if hasattr(job.state, "value") else str(job.state)
        finished = state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED")
        message = job.error.message if getattr(job, "error", None) else None
        return BatchStatus(state, finished, failed=state in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"),
                           message=message)

    async def results(self, batch_id: str) -> dict[str, ModelResponse]:
        job = await self.client.aio.batches.get(name=batch_id)
        state = job.state.value if hasattr(job.state, "value") else str(job.state)
        if state == "JOB_STATE_EXPIRED":
            return {}  # nothing answered: every request is expired (the caller fills them in)
        out: dict[str, ModelResponse] = {}
        for answer in (job.dest.inlined_responses if job.dest else None) or []:
            custom_id = (answer.metadata or {}).get("custom_id")
            if custom_id is None:
                continue
            if answer.error is not None:
                error = answer.error.model_dump(mode="json", exclude_none=True)
                out[custom_id] = self._failure(int(error.get("code") or 500), {"error": error}, batch_id)
            elif answer.response is not None:
                body = answer.response.model_dump(mode="json", by_alias=True, exclude_none=True)
                out[custom_id] = self._read(body, batch_id)
        return out


def batches_for(adapter: Any) -> VendorBatches:
    """The batch endpoints of a cloud adapter (its registry entry's `batch_api`); a clear error for an adapter
    without a batch API."""
    import importlib

    from engine.models.registry import ADAPTERS
    info = ADAPTERS.find(adapter.name)
    if info is None or not info.batch_api:
        from engine.errors import ConfigError
        able = [entry.name for entry in ADAPTERS.entries() if entry.batch_api]
        raise ConfigError(f"model {adapter.spec.name!r}: the {adapter.name} adapter has no batch API; batch: true "
                          f"works with {', '.join(able)}; remove `batch:` from this model")
    module, _, name = info.batch_api.partition(":")
    return getattr(importlib.import_module(module), name)(adapter)
