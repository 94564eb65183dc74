"""Judge fallback: a model maps answers the rules could not read onto the label set or scale.

Any `engine.models` adapter can judge (an openai-compatible local server, `hf`, a cloud model, or
`replay`), so no key is needed. The judge sees only the answer text and the label list, with a
short fixed prompt (`JUDGE_PROMPT_VERSION`). Its reply is read with the same rules as any answer
slot; a judged reading has `method="judge"`, so scores can be reported with and without judged
parses. Each call is stored as a `responses` row with stage "parse_judge" (prompt in `raw_request`,
verdict in `text`, with its attempts and `cost_usd`), which `reparse` reuses instead of calling again.
Calls go through the runner's call policy (`engine.runner.policy.CallPolicy`): retries with backoff,
the judge model's rate limits, its price, and the shared `--max-cost` budget.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from engine.models import (GenerateConfig, Message, ModelAdapter, ModelRequest, ModelResponse, ModelSpec, TaskSpec,
                           create_adapter)
from engine.parsing.labels import NONE_WORDS, read_slot
from engine.parsing.scales import read_number
from engine.parsing.types import DimensionParse, ParseResult, ParseSpec
from engine.taxonomy import get_taxonomy

JUDGE_STAGE = "parse_judge"
JUDGE_PROMPT_VERSION = "1"
JUDGED_DIMENSIONS = ("polarity", "emotion", "valence", "arousal", "intensity")

_LABEL_PROMPT = (
    "Another model was asked which {what} an image conveys. Map its answer onto this label set: {labels}.\n"
    "Reply with exactly one label from the set, spelled as listed, or NONE if the answer neither states nor "
    "clearly implies one of them. Reply with the label only.\n\nAnswer:\n<<<\n{answer}\n>>>")
_NUMBER_PROMPT = (
    "Another model was asked to rate the {what} of an image on a scale from {low:g} to {high:g}. Read the "
    "rating its answer gives, converted to that scale.\nReply with one number only, or NONE if the answer "
    "gives no rating.\n\nAnswer:\n<<<\n{answer}\n>>>")


@dataclass
class Verdict:
    """One judge call: the prompt sent, the reply, and the reading taken from it."""

    dimension: str
    request: ModelRequest
    request_hash: str
    response: ModelResponse | None
    reading: DimensionParse
    reused: bool = False
    attempts: int = 1
    cost: float | None = None


def judge_prompt(text: str, dimension: str, spec: ParseSpec, max_chars: int = 4000) -> str:
    """The judge's prompt for one dimension (the answer is cut to its last `max_chars` characters)."""
    answer = text if len(text) <= max_chars else "…" + text[-max_chars:]
    if dimension in ("polarity", "emotion"):
        taxonomy = spec.polarity_taxonomy if dimension == "polarity" else spec.taxonomy
        what = "sentiment polarity" if dimension == "polarity" else "emotion"
        return _LABEL_PROMPT.format(what=what, labels=", ".join(get_taxonomy(taxonomy).names), answer=answer)
    low, high = spec.scale(dimension)
    return _NUMBER_PROMPT.format(what=dimension, low=low, high=high, answer=answer)


def read_verdict(reply: str | None, dimension: str, spec: ParseSpec) -> DimensionParse:
    """The reading a judge's reply gives (method "judge"); "failed" for NONE or an unreadable reply."""
    text = (reply or "").strip()
    if not text or text.strip(" .").lower() in NONE_WORDS:
        return DimensionParse(None, "failed", text or None, text or None, "judge")
    if dimension in ("polarity", "emotion"):
        taxonomy = spec.polarity_taxonomy if dimension == "polarity" else spec.taxonomy
        reading = read_slot(text, taxonomy)
    else:
        reading = read_number(text, dimension, spec.scale(dimension))
    if reading is None or reading.value is None:
        return DimensionParse(None, "failed", text[:240], text[:240], "judge")
    return DimensionParse(reading.value, "ok", text[:240], reading.raw, "judge")


class Judge:
    """Wraps a model adapter that judges unreadable answers."""

    def __init__(self, adapter: ModelAdapter, *, max_chars: int = 4000, concurrency: int | None = None,
                 policy: Any = None, budget: Any = None, prices: dict[str, Any] | None = None):
        """`policy`: a `CallPolicy` for the adapter (default: one from its spec, spending from `budget`)."""
        from engine.runner.policy import CallPolicy

        self.adapter = adapter
        self.max_chars = max_chars
        self.policy = policy or CallPolicy.from_spec(adapter, budget=budget, prices=prices,
                                                     concurrency=concurrency or max(1, adapter.spec.concurrency))

    @classmethod
    def from_spec(cls, spec: ModelSpec, **kw: Any) -> "Judge":
        """A judge from a `models:`-style entry, e.g. ModelSpec("judge", "openai-compatible", model=..., base_url=...)."""
        return cls(create_adapter(spec), **kw)

    @property
    def name(self) -> str:
        return f"{self.adapter.spec.adapter}:{self.adapter.model_id}"

    def request(self, text: str, dimension: str, spec: ParseSpec) -> ModelRequest:
        return ModelRequest(
            messages=(Message.user(judge_prompt(text, dimension, spec, self.max_chars)),),
            config=GenerateConfig(temperature=0.0, max_tokens=16),
            task=TaskSpec(dimensions=(dimension,), taxonomy=spec.taxonomy, scales=dict(spec.scales)))

    def request_hash(self, request: ModelRequest) -> str:
        return request.request_hash(self.adapter.spec.adapter, self.adapter.model_id, self.adapter.cache_identity())

    async def judge(self, text: str, dimension: str, spec: ParseSpec) -> Verdict:
        """Ask the judge about one dimension of one answer; never raises for provider errors."""
        request = self.request(text, dimension, spec)
        sent = await self.policy.send(request)  # retries, rate limits, budget, cost; never raises for the provider
        response = sent.response
        reading = read_verdict(response.text if response.status == "ok" else None, dimension, spec)
        return Verdict(dimension, request, self.request_hash(request), response, reading, attempts=sent.attempts,
                       cost=sent.cost)

    async def fill(self, text: str, result: ParseResult, spec: ParseSpec,
                   stored: dict[str, str] | None = None) -> list[Verdict]:
        """Judge every dimension the rules left "failed"; judged readings replace them in `result`.

        `stored` maps judge prompts to earlier verdict texts: those are reused, not asked again.
        """
        verdicts: list[Verdict] = []
        pending = []
        for dimension in failed_dimensions(result, spec):
            request = self.request(text, dimension, spec)
            prompt = request.messages[0].text
            if stored and prompt in stored:
                verdicts.append(Verdict(dimension, request, self.request_hash(request), None,
                                        read_verdict(stored[prompt], dimension, spec), reused=True))
            else:
                pending.append(self.judge(text, dimension, spec))
        verdicts += await asyncio.gather(*pending)
        for verdict in verdicts:
            if verdict.reading.status == "ok":
                result.dimensions[verdict.dimension] = verdict.reading
        return verdicts

    def response_row(self, verdict: Verdict, run_id: str, dataset: str, item_id: str) -> dict[str, Any] | None:
        """The `responses` row recording one new judge call, scrubbed (None for a reused verdict or one the
        budget stopped before it was sent)."""
        from engine.models.base import ErrorClass
        from engine.secrets import scrub, scrub_text

        if verdict.reused or verdict.response is None or verdict.response.error_class is ErrorClass.BUDGET:
            return None
        response = verdict.response
        raw_request = {**verdict.request.describe(), "judge_for": verdict.dimension, "judge": self.name,
                       "prompt_version": JUDGE_PROMPT_VERSION}
        return {
            "response_id": judge_response_id(run_id, item_id, verdict.request_hash),
            "run_id": run_id, "dataset": dataset, "item_id": item_id, "sample_index": 0, "stage": JUDGE_STAGE,
            "request_hash": verdict.request_hash, "status": response.status,
            "error_class": response.error_class.value if response.error_class else None,
            "error_message": scrub_text(response.error_message), "text": scrub_text(response.text),
            "raw_request": scrub(raw_request), "raw_response": scrub(response.raw_response, keys=False),
            "model_id_resolved": response.model_id_resolved,
            "input_tokens": response.input_tokens, "output_tokens": response.output_tokens,
            "latency_ms": response.latency_ms, "attempts": verdict.attempts, "cost_usd": verdict.cost,
        }

    async def aclose(self) -> None:
        await self.adapter.aclose()


def failed_dimensions(result: ParseResult, spec: ParseSpec) -> list[str]:
    """Dimensions a judge may read: asked for, judgeable, and left "failed" by the rules."""
    return [d for d in spec.dimensions if d in JUDGED_DIMENSIONS
            and result.dimensions.get(d) is not None and result.dimensions[d].status == "failed"]


def apply_stored(text: str, result: ParseResult, spec: ParseSpec, stored: dict[str, str], max_chars: int = 4000) -> int:
    """Without a judge model: reuse stored verdicts whose prompt matches this answer; returns how many."""
    used = 0
    for dimension in failed_dimensions(result, spec):
        prompt = judge_prompt(text, dimension, spec, max_chars)
        if prompt in stored:
            reading = read_verdict(stored[prompt], dimension, spec)
            if reading.status == "ok":
                result.dimensions[dimension] = reading
                used += 1
    return used


def judge_response_id(run_id: str, item_id: str, request_hash: str) -> str:
    return hashlib.sha256(f"{run_id}\x1f{item_id}\x1f{request_hash}".encode()).hexdigest()[:32]
