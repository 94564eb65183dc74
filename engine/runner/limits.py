"""Per-model admission (concurrency, requests and tokens per minute) and retries of transient errors.

Rates use `aiolimiter`'s leaky bucket, refilled per second (rpm/60 per second) so a run never
bursts a whole minute's allowance at once. Retries use `tenacity`: only `ErrorClass.transient`
failures are retried, up to `max_attempts` calls, waiting with exponential backoff and full jitter
(AWS Architecture Blog, "Exponential Backoff And Jitter", 2015) -- or at least the server's
`Retry-After` when it sent one. A Retry-After also pauses the model's other requests (a cooldown),
since they would meet the same limit. Backoff sleeps hold no concurrency slot.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt
from tenacity.wait import wait_base

from engine.models.base import ErrorClass, ModelRequest, ModelResponse

__all__ = ["Admission", "RetryPolicy", "send_with_retries", "estimate_tokens"]

IMAGE_TOKENS = 800
MAX_RETRY_AFTER_S = 600.0  # a longer Retry-After is taken as this (an hour-long wait is a misconfigured proxy)  # rough per-image input tokens for the tokens-per-minute budget


def estimate_tokens(request: ModelRequest) -> int:
    """A cheap upper-ish estimate of a request's tokens (4 characters a token, a fixed cost per image)."""
    chars = images = 0
    for message in request.messages:
        for part in message.parts:
            if part.type == "text":
                chars += len(part.text)
            else:
                images += 1
    return chars // 4 + images * IMAGE_TOKENS + request.config.max_tokens


class Admission:
    """What a request waits for before it is sent: cooldown, rate buckets, then a concurrency slot."""

    def __init__(self, concurrency: int, rpm: float | None = None, tpm: float | None = None):
        self.slots = asyncio.Semaphore(concurrency)
        self.requests = AsyncLimiter(max(rpm / 60.0, 1.0), 1.0) if rpm else None
        self.tokens = AsyncLimiter(max(tpm / 60.0, 1.0), 1.0) if tpm else None
        self.cooldown_until = 0.0

    def cool_down(self, seconds: float) -> None:
        self.cooldown_until = max(self.cooldown_until, time.monotonic() + seconds)

    async def wait_turn(self, request: ModelRequest) -> None:
        while (pause := self.cooldown_until - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        if self.requests is not None:
            await self.requests.acquire()
        if self.tokens is not None:
            await self.tokens.acquire(min(estimate_tokens(request), self.tokens.max_rate))


class RetryPolicy:
    def __init__(self, max_attempts: int = 6, backoff_s: float = 1.0, backoff_max_s: float = 60.0):
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s

    def delay(self, attempt: int, response: ModelResponse | None) -> float:
        """Seconds before retry number `attempt` (1 = the first retry)."""
        retry_after = response.retry_after_s if response is not None else None
        if retry_after is not None:  # the server's word wins over our own backoff cap
            retry_after = min(retry_after, MAX_RETRY_AFTER_S)
            return retry_after + random.uniform(0, 0.1 * retry_after)
        window = min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))
        return random.uniform(0, window)


class _Wait(wait_base):
    def __init__(self, policy: RetryPolicy, offset: int = 0):
        self.policy = policy
        self.offset = offset  # attempts made before tenacity took over

    def __call__(self, retry_state) -> float:
        outcome = retry_state.outcome
        response = outcome.result() if outcome is not None and not outcome.failed else None
        return self.policy.delay(retry_state.attempt_number + self.offset, response)


async def send_with_retries(send: Callable[[], Awaitable[ModelResponse]], policy: RetryPolicy,
                            on_retry_after: Callable[[float], None] | None = None) -> tuple[ModelResponse, int]:
    """Call `send` until it answers with anything but a transient failure, or attempts run out.

    Returns the last response and the number of calls made. The first call is made directly (the
    common case costs nothing extra); retries go through tenacity.
    """
    calls = 0

    async def attempt() -> ModelResponse:
        nonlocal calls
        calls += 1
        response = await send()
        if response.transient and response.retry_after_s and on_retry_after is not None:
            on_retry_after(min(response.retry_after_s, MAX_RETRY_AFTER_S))
        return response

    first = await attempt()
    if not first.transient or policy.max_attempts <= 1:
        return first, calls
    await asyncio.sleep(policy.delay(1, first))
    retrying = AsyncRetrying(stop=stop_after_attempt(policy.max_attempts - 1),
                             wait=_Wait(policy, offset=1), retry=retry_if_result(lambda r: r.transient),
                             retry_error_callback=lambda state: state.outcome.result(), reraise=True)
    response = await retrying(attempt)
    return response, calls


def timeout_failure(timeout_s: float) -> ModelResponse:
    return ModelResponse.failure(ErrorClass.TIMEOUT, f"no answer within {timeout_s:g} s (timeout_s); "
                                 "raise timeout_s for slow models")
