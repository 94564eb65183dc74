"""One call policy for every model call: admission, timeout, retries, budget and cost, no journal needed.

The runner's `ModelClient` adds caching, de-duplication, the breaker and the journal on top of it;
the judge fallback (`engine.runner.judge`) and the dashboard's image analysis (`dashboard.upload`)
use it directly, so their calls are retried, rate-limited, priced and stopped by `--max-cost` the
same way as an experiment's.

    policy = CallPolicy.from_spec(adapter, budget=Budget(max_cost=1.0))
    sent = await policy.send(request)      # sent.response, sent.attempts, sent.cost
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from engine.models.base import ErrorClass, ModelAdapter, ModelRequest, ModelResponse
from engine.runner.limits import Admission, RetryPolicy, send_with_retries, timeout_failure
from engine.secrets import scrub_text

__all__ = ["Budget", "CallPolicy", "Sent", "not_sent"]


@dataclass
class Budget:
    """Spend of this invocation against `--max-cost` (USD); `None` means no cap."""

    max_cost: float | None = None
    spent: float = 0.0

    @property
    def exhausted(self) -> bool:
        return self.max_cost is not None and self.spent >= self.max_cost

    def add(self, cost: float | None) -> None:
        if cost:
            self.spent += cost


@dataclass
class Sent:
    """What one policed call gave: the last response, how many provider calls it took, and its USD cost."""

    response: ModelResponse
    attempts: int
    cost: float | None


def not_sent() -> ModelResponse:
    return ModelResponse.failure(ErrorClass.BUDGET, "not sent: the cost budget (--max-cost) is spent")


class CallPolicy:
    """Calls to one model with its limits: concurrency, rpm/tpm, timeout, retries with backoff, budget, price."""

    def __init__(self, adapter: ModelAdapter, *, concurrency: int = 8, rpm: float | None = None,
                 tpm: float | None = None, timeout_s: float = 120.0, max_attempts: int = 6, backoff_s: float = 1.0,
                 backoff_max_s: float = 60.0, price: Any = None, prices: dict[str, Any] | None = None,
                 budget: Budget | None = None, guard: Callable[[], None] | None = None,
                 transport: Callable[[ModelRequest, Admission], Awaitable[ModelResponse]] | None = None):
        self.adapter = adapter
        self.limits = (max(1, int(concurrency)), rpm, tpm)
        self.timeout_s = timeout_s
        self.retry = RetryPolicy(max_attempts, backoff_s, backoff_max_s)
        self.own_price = price
        self.prices = prices or {}
        self.budget = budget if budget is not None else Budget()
        self.guard = guard  # called inside the slot before each send; may raise to stop the call
        self.transport = transport or self.send_once  # one provider call (a batch client queues it instead)
        self._admission: tuple[asyncio.AbstractEventLoop | None, Admission] | None = None
        self._price_cache: dict[str | None, Any] = {}

    @classmethod
    def from_config(cls, config: Any, adapter: ModelAdapter, *, budget: Budget | None = None,
                    prices: dict[str, Any] | None = None, **kw: Any) -> "CallPolicy":
        """From a `models:` entry (`engine.runner.config.ModelConfig`)."""
        own = config.price or config.options.get("price")
        return cls(adapter, concurrency=config.concurrency, rpm=config.rpm, tpm=config.tpm, timeout_s=config.timeout_s,
                   max_attempts=config.max_attempts, backoff_s=config.backoff_s, backoff_max_s=config.backoff_max_s,
                   price=own.model_dump() if hasattr(own, "model_dump") else own, prices=prices, budget=budget, **kw)

    @classmethod
    def from_spec(cls, adapter: ModelAdapter, *, budget: Budget | None = None, prices: dict[str, Any] | None = None,
                  backoff_s: float = 1.0, backoff_max_s: float = 60.0, concurrency: int | None = None) -> "CallPolicy":
        """From the adapter's own `ModelSpec` (concurrency, rpm, tpm, timeout, attempts, `options.price`)."""
        spec = adapter.spec
        return cls(adapter, concurrency=concurrency or spec.concurrency, rpm=spec.rpm, tpm=spec.tpm,
                   timeout_s=spec.timeout_s, max_attempts=spec.max_attempts, backoff_s=backoff_s,
                   backoff_max_s=backoff_max_s, price=(spec.options or {}).get("price"), prices=prices, budget=budget)

    @property
    def admission(self) -> Admission:
        """The admission of the running event loop (asyncio primitives belong to one loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if self._admission is None or (loop is not None and self._admission[0] not in (loop, None)):
            self._admission = (loop, Admission(*self.limits))
        elif self._admission[0] is None and loop is not None:
            self._admission = (loop, self._admission[1])
        return self._admission[1]

    async def send(self, request: ModelRequest) -> Sent:
        """Send `request` under the policy; a spent budget answers `ErrorClass.BUDGET` without a call."""
        if self.budget.exhausted:
            return Sent(not_sent(), 0, None)
        admission = self.admission
        response, attempts = await send_with_retries(lambda: self.transport(request, admission), self.retry,
                                                     admission.cool_down)
        if response.error_class in (ErrorClass.BUDGET, ErrorClass.PENDING):
            # the budget ran out while it waited for a slot, or the request waits in a vendor batch
            return Sent(response, attempts - 1, None)
        # A server may echo a key back: what the caller parses, shows or stores is already clean.
        response.text = scrub_text(response.text)
        response.error_message = scrub_text(response.error_message)
        cost = self.cost(response)
        self.budget.add(cost)
        return Sent(response, attempts, cost)

    async def send_once(self, request: ModelRequest, admission: Admission) -> ModelResponse:
        """One provider call inside the admission (rate buckets, a concurrency slot) with the timeout."""
        await admission.wait_turn(request)
        async with admission.slots:
            if self.guard is not None:
                self.guard()
            if self.budget.exhausted:
                return not_sent()
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self.adapter.generate(request)
            except TimeoutError:
                response = timeout_failure(self.timeout_s)
            except Exception as exc:  # noqa: BLE001 - an adapter bug must not take the caller down
                response = ModelResponse.failure(ErrorClass.BAD_REQUEST, f"adapter raised {type(exc).__name__}: {exc}")
            if response.latency_ms is None:
                response.latency_ms = (time.perf_counter() - started) * 1000.0
            return response

    def cost(self, response: ModelResponse) -> float | None:
        """USD for one call from the reported usage: the model's own price, the `prices:` mapping, then
        `engine.models.pricing`'s table (resolved id first). 0 for local models; None when unpriced."""
        if self.adapter.local:
            return 0.0
        if response.input_tokens is None and response.output_tokens is None:
            return None
        from engine.models.pricing import response_cost
        return response_cost(self.price(response.model_id_resolved), response)

    def price(self, resolved: str | None):
        """The price of the model (its own, the `prices:` mapping, then the table; resolved id first)."""
        if resolved not in self._price_cache:
            from engine.models.pricing import as_price, price_for
            if self.own_price is not None:
                found = as_price(self.own_price)
            else:
                found = None
                for model_id in filter(None, (resolved, self.adapter.model_id)):
                    found = price_for(model_id, self.prices)
                    if found is not None:
                        break
            self._price_cache[resolved] = found
        return self._price_cache[resolved]
