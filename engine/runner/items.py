"""One run's items: image, prompt strategy, calls, parse, journal -- with a pool of workers.

Workers take items in dataset order. For each item: its prepared image (an unreadable image
becomes one `responses` row with status error, error class IMAGE, naming the file, and the run goes
on); the strategy's calls through the model's client; then the final responses parsed by the one
parser (several, for self-consistency, aggregated) into predictions and a reasoning trace,
journaled as one record. Items whose calls all failed get `error` predictions, so they count as
unanswered in coverage and are tried again on a rerun.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from engine.datasets.base import Item
from engine.models.base import ErrorClass, GenerateConfig, ModelResponse
from engine.runner.calls import Budget, ModelClient, ModelUnavailableError, RunCounters, response_row
from engine.runner.images import ImageProvider
from engine.runner.journal import Journal
from engine.runner.plan import RunPlan

log = logging.getLogger(__name__)

__all__ = ["RunExecutor", "RunStopped"]


class RunStopped(Exception):
    """Raised inside a worker when the cost budget ran out in the middle of an item (the item is left for
    a rerun: its completed calls are stored, its parse is not)."""


class ItemPending(Exception):
    """An item's call waits in a vendor batch (`--no-wait`): the item is left for the rerun that collects it."""


@dataclass(eq=False)
class RunExecutor:
    """Runs one `RunPlan`'s items through its model's client; `status` and `counters` say how it went."""

    plan: RunPlan
    client: ModelClient
    journal: Journal
    images: ImageProvider
    budget: Budget
    progress: Any
    exemplars: list[tuple[Any, dict]] = field(default_factory=list)  # few-shot (image, gold) pairs
    counters: RunCounters = field(default_factory=RunCounters, init=False)
    status: str = field(default="running", init=False)
    message: str | None = field(default=None, init=False)
    skipped: int = field(default=0, init=False)  # items already answered in an earlier invocation
    pending: int = field(default=0, init=False)  # items waiting in vendor batches (batch mode with --no-wait)

    def __post_init__(self) -> None:
        self.task = self.plan.task()
        self.parse_spec = self.plan.parse_spec()
        model = self.plan.model
        self.generate = GenerateConfig(temperature=model.temperature, max_tokens=model.max_tokens, top_p=model.top_p,
                                       seed=model.seed)

    async def run(self, items: list[Item], total: int) -> str:
        """Process `items` (those not yet answered) of the run's `total`; returns the final status."""
        self.skipped = total - len(items)
        self.counters.items_done = self.skipped
        self.progress.start(self.plan.run_id, self.plan.describe(), total)
        self._report()
        dataset = self.plan.data.evaluated
        # batch mode keeps a whole batch's items in flight (each waits for its batch), not `concurrency`
        concurrency = getattr(self.client, "item_concurrency", self.plan.model.concurrency)
        lookahead = max(4, 2 * min(concurrency, self.plan.model.concurrency * 4))
        for item in items[:lookahead]:
            self.images.prefetch(dataset, item)
        position = 0
        stop = asyncio.Event()
        budget_hit = False

        async def worker() -> None:
            nonlocal position, budget_hit
            while not stop.is_set() and position < len(items):
                if self.budget.exhausted:
                    budget_hit = True
                    stop.set()
                    break
                item = items[position]
                ahead = position + lookahead
                position += 1
                if ahead < len(items):
                    self.images.prefetch(dataset, items[ahead])
                try:
                    await self.process(item)
                except ItemPending:
                    self.pending += 1
                    continue
                except (RunStopped, ModelUnavailableError) as exc:
                    if isinstance(exc, ModelUnavailableError):
                        self.status, self.message = "failed", str(exc)
                    else:  # batch mode releases reserved budget later, so remember that it ran out
                        budget_hit = True
                    stop.set()
                    break
                self._report()

        # A few more workers than request slots, so that while some workers read images, parse or
        # journal, the model's slots stay full.
        n_workers = max(1, min(len(items), concurrency + max(2, concurrency // 4)))
        await asyncio.gather(*(worker() for _ in range(n_workers)))
        self._report()
        if self.status == "running":
            left = total - self.counters.items_done - self.counters.items_failed
            if self.pending:
                self.status = "pending"
                self.message = (f"{self.pending} item(s) wait in vendor batches (see `affectlens runs`); rerun the "
                                "same command to collect them (it submits nothing twice)")
            elif (self.budget.exhausted or budget_hit) and left > 0:
                self.status = "stopped"
                self.message = (f"stopped at the cost budget: spent ${self.budget.spent:.4f} of "
                                f"${self.budget.max_cost:.4f}; {left} item(s) not done. Rerun the same command "
                                "(with a higher --max-cost) to continue where it stopped.")
            else:
                self.status = "complete"
        self.progress.finish(self.plan.run_id, self.status)
        return self.status

    def _report(self) -> None:
        c = self.counters
        self.progress.update(self.plan.run_id, c.items_done + c.items_failed, c.errors, c.cost)

    # ------------------------------------------------------------------------------------- one item
    async def process(self, item: Item) -> None:
        plan, dataset = self.plan, self.plan.data.evaluated
        item_key = f"{dataset.name}/{item.item_id}"
        try:
            image = await self.images.get(dataset, item)
        except Exception as exc:  # noqa: BLE001 - any unreadable image is the item's error, not the run's
            failure = ModelResponse.failure(ErrorClass.IMAGE, str(exc))
            await self._store_failure(item, failure, stage="answer")
            return
        from engine.prompts.base import StrategyContext

        context = StrategyContext(item_key=item_key, image=image, task=self.task, generate=self.generate,
                                  options=plan.options, exemplars=list(self.exemplars))
        ids: dict[int, str] = {}

        async def call(stage: str, request, sample_index: int = 0) -> ModelResponse:
            response, response_id = await self.client.call(plan.run_id, dataset.name, item.item_id, stage, request,
                                                           sample_index, self.counters)
            if response_id:
                ids[id(response)] = response_id
            return response

        try:
            outcome = await plan.strategy.run(context, call)
        except ModelUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - a strategy that cannot build this item's prompt
            log.warning("%s: %s failed: %s", item_key, plan.strategy_label, exc)
            failure = ModelResponse.failure(ErrorClass.BAD_REQUEST, f"{plan.strategy_label} could not prompt "
                                            f"{item_key}: {type(exc).__name__}: {exc}")
            await self._store_failure(item, failure, stage="prompt")
            return
        finals = list(outcome.final)
        if any(r.error_class is ErrorClass.PENDING for r in finals):
            raise ItemPending()
        if any(r.error_class is ErrorClass.BUDGET for r in finals):
            raise RunStopped()
        record = await self.parse(item, finals, [ids.get(id(r)) for r in finals], outcome.aggregate)
        if plan.options.shuffle_labels:  # the order shown, for the position-bias analysis
            from engine.prompts.labels import label_order_rows
            record["label_orders"] = label_order_rows(context, plan.run_id, dataset.name, item.item_id)
        # The parse can be redone from the (already durable) responses, so it need not wait for the disk.
        self.journal.append_nowait(plan.run_id, record)
        if all(r.status == "error" for r in finals):
            self.counters.items_failed += 1
        else:
            self.counters.items_done += 1

    async def _store_failure(self, item: Item, failure: ModelResponse, stage: str) -> None:
        plan = self.plan
        row = response_row(run_id=plan.run_id, dataset=plan.data.name, item_id=item.item_id, stage=stage,
                           sample_index=0, request_hash=None, response=failure, attempts=0, cost=0.0)
        await self.journal.append(plan.run_id, {"kind": "response", "row": row})
        record = await self.parse(item, [failure], [row["response_id"]], "single")
        await self.journal.append(plan.run_id, record)
        self.counters.errors += 1
        self.counters.items_failed += 1

    async def parse(self, item: Item, finals: list[ModelResponse], response_ids: list[str | None],
                    how: str) -> dict[str, Any]:
        """The journal record of an item's parsed answer: predictions (one per dimension) and trace.

        Each answer is parsed off the event loop in a worker process with a time limit
        (`engine.parsing.bounded`): one pathological answer is a failed parse, never a stalled run."""
        from engine.parsing.aggregate import aggregate
        from engine.parsing.rows import predictions_from_parse, trace_row

        spec, plan = self.parse_spec, self.plan
        results = [await _read(response, spec) for response in finals]
        answered = [(result, rid) for result, rid, response in zip(results, response_ids, finals, strict=True)
                    if response.status != "error"]
        agreement = None
        if len(finals) > 1 and answered:
            result, agreement = aggregate([r for r, _ in answered], spec)
            response_id = answered[0][1]
        else:
            result, response_id = (answered or list(zip(results, response_ids)))[0]
        predictions = predictions_from_parse(plan.run_id, plan.data.name, item.item_id, result, response_id, spec,
                                             agreement=agreement)
        if not answered:
            for row in predictions:  # no answer at all: unanswered, and retried on a rerun
                row["status"] = "error"
        trace = trace_row(plan.run_id, item.item_id, result, response_id) if answered else None
        return {"kind": "item", "item_id": item.item_id, "predictions": predictions, "trace": trace}


async def _read(response: ModelResponse, spec) -> Any:
    """The parse of one response; a provider refusal marks every dimension refused."""
    from engine.parsing import DimensionParse, ParseResult
    from engine.parsing.bounded import parse_bounded_async

    if response.status == "error":
        return ParseResult({dim: DimensionParse(status="failed") for dim in spec.dimensions})
    result = await parse_bounded_async(response.text, spec)
    if response.status == "refused":
        for dim in spec.dimensions:
            reading = result.dimensions.get(dim)
            if reading is None or reading.value is None:
                result.dimensions[dim] = DimensionParse(status="refused", span=reading.span if reading else None)
    return result
