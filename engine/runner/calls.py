"""One model's calls: cache, de-duplication, then the call policy (admission, timeout, retries, cost), journal.

`ModelClient.call` is what a prompt strategy receives as its `call(stage, request, sample_index)`.
In order it:
1. looks the request up by `ModelRequest.request_hash(adapter, model_id, identity)` among every earlier `ok`
   or `refused` answer (store and this process) and reuses it without calling the provider;
2. joins an identical request already in flight instead of sending a second one;
3. refuses to start a new call once the budget is spent (`ErrorClass.BUDGET`, not stored);
4. waits for its turn (cooldown, rate buckets, a concurrency slot), sends with a timeout, and
   retries transient failures with backoff;
5. appends the response row to the journal and returns only once it is on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.models.base import ErrorClass, ModelAdapter, ModelRequest, ModelResponse
from engine.runner.cache import CachedAnswer, ResponseCache
from engine.runner.config import ModelConfig
from engine.runner.journal import Journal
from engine.runner.policy import Budget, CallPolicy, not_sent
from engine.secrets import redact_keys, scrub_text

__all__ = ["Budget", "ModelClient", "ModelUnavailableError", "RunCounters", "response_row"]

# After this many consecutive failures of these classes with no success at all, the model is
# unusable as configured (wrong key, server down, unknown model name): stop instead of burning
# through every item.
BREAKER_CLASSES = (ErrorClass.AUTH, ErrorClass.CONNECTION, ErrorClass.BAD_REQUEST)
BREAKER_THRESHOLD = 3
# Row ids: 128 random bits from a generator seeded once by the OS (uuid4 pays a syscall per id).
_IDS = random.Random(os.urandom(16))


def new_id() -> str:
    return f"{_IDS.getrandbits(128):032x}"


class ModelUnavailableError(RuntimeError):
    """Every call to a model fails the same way; the message says what to check."""


@dataclass
class RunCounters:
    """What one run did in this invocation (the progress bar and the summary read these)."""

    calls: int = 0  # provider calls (attempts included)
    cached: int = 0
    errors: int = 0  # responses stored with status error
    items_done: int = 0
    items_failed: int = 0
    cost: float = 0.0
    resolved_model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def response_row(*, run_id: str, dataset: str, item_id: str, stage: str, sample_index: int, request_hash: str | None,
                 response: ModelResponse, attempts: int, cost: float | None, cached: bool = False,
                 raw_request: dict | None = None, saving: float | None = None) -> dict[str, Any]:
    """One `responses` row, scrubbed: secret-looking keys out of the raw request, and every known secret
    value, key shape or URL credential masked in the text, the error and the raw exchange. `saving` is what
    caching and the batch price saved against plain synchronous rates."""
    return {
        "response_id": new_id(), "run_id": run_id, "dataset": dataset, "item_id": item_id,
        "sample_index": sample_index, "stage": stage, "request_hash": request_hash, "status": response.status,
        "error_class": response.error_class.value if response.error_class else None,
        "error_message": scrub_text(response.error_message), "text": scrub_text(response.text),
        "raw_request": scrub_text(_json(redact_keys(raw_request if raw_request is not None else response.raw_request,
                                                     skip=("messages",)))),
        "raw_response": scrub_text(_json(response.raw_response)), "model_id_resolved": response.model_id_resolved,
        "input_tokens": response.input_tokens, "output_tokens": response.output_tokens, "cost_usd": cost,
        "latency_ms": response.latency_ms, "attempts": attempts, "cached": cached,
        "cached_input_tokens": response.cached_input_tokens, "cache_write_tokens": response.cache_write_tokens,
        "batch_id": response.batch_id, "saving_usd": saving, "created_at": datetime.now(),
    }


def _json(value: Any) -> str | None:
    """JSON text for a JSON column, made once: the journal line and the bulk insert both take it as is."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _from_cache(hit: CachedAnswer) -> ModelResponse:
    return ModelResponse(text=hit.text, status=hit.status, error_class=ErrorClass(hit.error_class)
                         if hit.error_class else None, error_message=hit.error_message,
                         input_tokens=hit.input_tokens, output_tokens=hit.output_tokens, latency_ms=0.0,
                         model_id_resolved=hit.model_id_resolved, raw_response={"cached_from": hit.response_id})


class ModelClient:
    """Calls to one configured model, shared by every run that uses it."""

    def __init__(self, config: ModelConfig, adapter: ModelAdapter, journal: Journal, cache: ResponseCache,
                 budget: Budget, prices: dict[str, Any] | None = None):
        self.config = config
        self.adapter = adapter
        self.journal = journal
        self.cache = cache
        self.budget = budget
        self.prices = prices or {}
        self.calls = CallPolicy.from_config(config, adapter, budget=budget, prices=self.prices, guard=self._guard,
                                            transport=self._transport)
        self.inflight: dict[str, asyncio.Future] = {}
        self.successes = 0
        self.fatal_streak: list[ModelResponse] = []
        self.unavailable: str | None = None
        self.identity = adapter.cache_identity()  # options that decide answers: part of every cache key

    @property
    def model_id(self) -> str:
        return self.adapter.model_id

    async def call(self, run_id: str, dataset: str, item_id: str, stage: str, request: ModelRequest,
                   sample_index: int, counters: RunCounters) -> tuple[ModelResponse, str | None]:
        """The response to `request` and the id of the `responses` row that records it (None: not stored)."""
        key = request.request_hash(self.config.adapter, self.model_id, self.identity)
        while True:
            hit = self.cache.get(key)
            if hit is not None:
                return await self._reuse(hit, key, run_id, dataset, item_id, stage, sample_index, counters)
            pending = self.inflight.get(key)
            if pending is None:
                break
            shared: ModelResponse = await asyncio.shield(pending)
            if shared.status == "error":
                continue  # the first caller failed; try ourselves (it is out of `inflight` by now)
        if self.unavailable:
            raise ModelUnavailableError(self.unavailable)
        if self.budget.exhausted:
            return not_sent(), None
        future = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            sent = await self.calls.send(request)  # spends from the shared budget
            response, attempts, cost = sent.response, sent.attempts, sent.cost
            if response.error_class in (ErrorClass.BUDGET, ErrorClass.PENDING):
                # the budget ran out while it waited for a slot, or it waits in a vendor batch (--no-wait)
                counters.calls += attempts
                future.set_result(response)
                return response, None
            self._watch(response)  # before any await: calls queued for a slot see a tripped breaker
            row = response_row(run_id=run_id, dataset=dataset, item_id=item_id, stage=stage,
                               sample_index=sample_index, request_hash=key, response=response, attempts=attempts,
                               cost=cost, raw_request=response.raw_request or request.describe(),
                               saving=self._saving(response, cost))
            counters.calls += attempts
            counters.cost += cost or 0.0
            if response.model_id_resolved:
                counters.resolved_model = response.model_id_resolved
            await self.journal.append(run_id, {"kind": "response", "row": row})
            if response.status == "error":
                counters.errors += 1
            else:
                self.cache.put(key, CachedAnswer.from_row(row))
            future.set_result(response)
            return response, row["response_id"]
        except BaseException as exc:
            if not future.done():
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
                    future.exception()  # retrieved: no warning when nobody else waited on it
            raise
        finally:
            self.inflight.pop(key, None)

    async def _reuse(self, hit: CachedAnswer, key: str, run_id: str, dataset: str, item_id: str, stage: str,
                     sample_index: int, counters: RunCounters) -> tuple[ModelResponse, str]:
        response = _from_cache(hit)
        if (hit.run_id, hit.item_id, hit.stage, hit.sample_index) == (run_id, item_id, stage, sample_index):
            return response, hit.response_id  # already stored for this very slot (a resumed item)
        counters.cached += 1
        row = response_row(run_id=run_id, dataset=dataset, item_id=item_id, stage=stage, sample_index=sample_index,
                           request_hash=key, response=response, attempts=0, cost=0.0, cached=True,
                           raw_request=None)
        await self.journal.append(run_id, {"kind": "response", "row": row})
        return response, row["response_id"]

    def _guard(self) -> None:
        if self.unavailable:  # tripped while this call waited for its slot
            raise ModelUnavailableError(self.unavailable)

    async def _transport(self, request: ModelRequest, admission: Any) -> ModelResponse:
        """One provider call for the call policy (which owns retries, budget and cost): `_send_once`, which a
        client that sends through vendor batches replaces."""
        return await self._send_once(request)

    async def _send_once(self, request: ModelRequest) -> ModelResponse:
        return await self.calls.send_once(request, self.calls.admission)

    def _cost(self, response: ModelResponse) -> float | None:
        return self.calls.cost(response)

    def _price(self, resolved: str | None):
        return self.calls.price(resolved)

    def _saving(self, response: ModelResponse, cost: float | None) -> float | None:
        """What caching and the batch price saved: the call at plain synchronous, uncached rates minus `cost`."""
        if cost is None or self.adapter.local:
            return None
        price = self._price(response.model_id_resolved)
        if price is None:
            return None
        return price.cost(response.input_tokens, response.output_tokens) - cost

    def _watch(self, response: ModelResponse) -> None:
        """Trip the breaker when a model has never answered and keeps failing the same fatal way."""
        if response.status != "error":
            self.successes += 1
            self.fatal_streak.clear()
            return
        if self.successes or response.error_class not in BREAKER_CLASSES:
            self.fatal_streak.clear()
            return
        self.fatal_streak.append(response)
        if len(self.fatal_streak) >= BREAKER_THRESHOLD and not self.unavailable:
            self.unavailable = self.explain(response)

    def explain(self, response: ModelResponse) -> str:
        """Why this model cannot be used (scrubbed: URLs and provider messages may carry credentials)."""
        return scrub_text(self._explain(response))

    def _explain(self, response: ModelResponse) -> str:
        name = f"model {self.config.name!r} ({self.config.adapter} adapter, model {self.model_id!r})"
        if response.error_class is ErrorClass.CONNECTION:
            urls = self.config.base_url or "the provider's API"
            urls = ", ".join(urls) if isinstance(urls, list) else urls
            return f"cannot reach {urls} — is the server running? ({name}: {response.error_message})"
        if response.error_class is ErrorClass.AUTH:
            return f"{name}: the provider rejected the API key: {response.error_message}"
        return (f"{name}: every request was rejected ({response.error_message}); check the model name "
                "and settings")
