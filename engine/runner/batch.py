"""Batch mode: a model's calls go through the vendor's batch API (about half the price, answers within 24 h).

`batch: true` (or `batch: {max_requests: N, max_bytes: B, poll_s: S, retry: batch|sync}`) on an
`openai`, `anthropic` or `gemini` model entry swaps its `ModelClient` for a `BatchModelClient`. Every
prompt strategy, the response cache, de-duplication, parsing and the journal work exactly as in
synchronous mode: a strategy's call waits on a future, and the request -- built by the same adapter
into the same payload, under the same request hash and run id -- goes into the next vendor batch
instead of its own HTTP call. Batching is not part of the request hash: the vendors document the
same models and settings in both modes, so a batch answer and a synchronous answer are the same
answer (and either serves the other as a cached answer).

Durability: a batch is recorded in the store's `batches` table (with every request's hash, run,
item, stage and sample) in state `submitting` *before* the create call, and with the vendor's id in
state `submitted` right after it. A rerun loads the open batches of the model, attaches the same
requests to them instead of sending them again, polls, and collects. A run killed inside the create
call leaves a `submitting` row: the rerun first looks the batch up by our key at the vendor
(`VendorBatches.find`) and only submits again when the vendor has no such batch.

Per-request failures and expired requests come back as classified failures; transient ones are
retried by the runner's retry policy -- in a new batch (`retry: batch`, default) or synchronously
(`retry: sync`). Refusals are answers. Cost is charged at the batch price (`engine.models.pricing`);
under `--max-cost` each request reserves its worst case (input estimate plus `max_tokens` of output,
at the batch price) when it joins a batch, replaced by the actual cost when it is collected.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.models.base import ErrorClass, ModelRequest, ModelResponse
from engine.runner.cache import CachedAnswer
from engine.runner.calls import ModelClient, ModelUnavailableError, new_id, response_row
from engine.runner.policy import not_sent as _not_sent
from engine.runner.limits import estimate_tokens

log = logging.getLogger(__name__)

__all__ = ["BatchSettings", "BatchModelClient", "batch_settings", "pending_batches"]

MAX_POLL_FAILURES = 10  # consecutive failed polls of one batch before its items are left pending
OPEN_STATES = ("submitting", "submitted", "in_progress", "ended")
_SLOT: contextvars.ContextVar[tuple] = contextvars.ContextVar("affectlens_batch_slot")


@dataclass(frozen=True)
class BatchSettings:
    max_requests: int | None = None  # per batch; default: the vendor's limit
    max_bytes: int | None = None  # per batch; default: the vendor's limit
    poll_s: float = 30.0  # seconds between status polls
    gather_s: float = 0.5  # a batch is submitted once no request joined it for this long
    retry: str = "batch"  # transient per-request failures and expired requests: "batch" (a new batch) | "sync"
    window: int = 5000  # items in flight at once (each waits for its batch)


def batch_settings(value: Any, model_name: str) -> BatchSettings | None:
    """`batch:` of a model entry: true/false or a mapping of `BatchSettings` fields."""
    from engine.errors import ConfigError
    if value in (None, False):
        return None
    if value is True:
        return BatchSettings()
    if not isinstance(value, dict):
        raise ConfigError(f"model {model_name!r}: batch must be true or a mapping such as "
                          "{max_requests: 10000, poll_s: 60}")
    known = set(BatchSettings.__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"model {model_name!r}: batch.{unknown[0]} is not a batch setting; use "
                          f"{', '.join(sorted(known))}")
    settings = BatchSettings(**value)
    if settings.retry not in ("batch", "sync"):
        raise ConfigError(f"model {model_name!r}: batch.retry must be 'batch' or 'sync', not {settings.retry!r}")
    if (settings.max_requests is not None and settings.max_requests < 1) or settings.poll_s < 0:
        raise ConfigError(f"model {model_name!r}: batch.max_requests must be 1 or more and poll_s 0 or more")
    return settings


def pending_response(batch_id: str | None) -> ModelResponse:
    where = f"batch {batch_id}" if batch_id else "a batch"
    return ModelResponse.failure(ErrorClass.PENDING, f"submitted in {where}; rerun the same command to collect")


@dataclass
class _Waiting:
    key: str
    request: ModelRequest
    payload: dict
    entry: Any
    n_bytes: int
    slot: tuple
    worst: float
    future: asyncio.Future
    raw_request: dict


class BatchModelClient(ModelClient):
    """A `ModelClient` whose provider calls go into vendor batches (see the module docstring)."""

    def __init__(self, *args: Any, db: Path, settings: BatchSettings, wait: bool = True, reporter: Any = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        from engine.models.batch_api import batches_for
        self.db = Path(db)
        self.settings = settings
        self.wait = wait
        self.reporter = reporter
        self.vendor = batches_for(self.adapter)
        self.max_requests = min(settings.max_requests or self.vendor.max_requests, self.vendor.max_requests)
        self.max_bytes = min(settings.max_bytes or self.vendor.max_bytes, self.vendor.max_bytes)
        self.queue: list[_Waiting] = []
        self.waiting: dict[str, _Waiting] = {}  # request hash -> its caller, while its batch runs
        self.open: dict[str, dict] = {}  # batch_key -> batch row (not yet collected)
        self.open_keys: dict[str, str] = {}  # request hash -> batch_key of an open batch
        self.attempts: dict[str, int] = {}
        self.reserved: dict[str, float] = {}
        self.n_submitted = 0  # batches this invocation created
        self.n_pending = 0
        self._arrived = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._lock = asyncio.Lock()

    @property
    def item_concurrency(self) -> int:
        """Items in flight at once: enough to fill a batch, since each waits for its batch's results."""
        return self.settings.window

    # ------------------------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        rows = await asyncio.to_thread(self._load_open)
        for row in rows:
            self.open[row["batch_key"]] = row
            for custom_id, slot in row["requests"].items():
                self.open_keys[slot["request_hash"]] = row["batch_key"]
        await self._recover_submitting()
        await self._poll_once()  # collect what finished while we were away, before any item asks
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._flush_loop(), name=f"batch-flush-{self.config.name}"),
                       loop.create_task(self._poll_loop(), name=f"batch-poll-{self.config.name}")]

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.vendor.aclose()

    # ------------------------------------------------------------------------------- calls
    async def call(self, run_id: str, dataset: str, item_id: str, stage: str, request: ModelRequest,
                   sample_index: int, counters: Any) -> tuple[ModelResponse, str | None]:
        token = _SLOT.set((run_id, dataset, item_id, stage, sample_index))
        try:
            return await super().call(run_id, dataset, item_id, stage, request, sample_index, counters)
        finally:
            _SLOT.reset(token)

    async def _send_once(self, request: ModelRequest) -> ModelResponse:
        if self.unavailable:
            raise ModelUnavailableError(self.unavailable)
        key = request.request_hash(self.config.adapter, self.model_id, self.identity)  # as ModelClient.call
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.attempts[key] > 1 and self.settings.retry == "sync" and key not in self.open_keys:
            return await super()._send_once(request)
        future = asyncio.get_running_loop().create_future()
        slot = _SLOT.get(("", "", "", "answer", 0))
        if key in self.open_keys:  # already in a batch submitted earlier (a rerun): wait for it
            if not self.wait or not self.open[self.open_keys[key]].get("provider_batch_id"):
                # --no-wait, or a batch whose creation could not be confirmed yet: never submit it again
                self.n_pending += 1
                return pending_response(self.open[self.open_keys[key]].get("provider_batch_id"))
            self.waiting[key] = _Waiting(key, request, {}, None, 0, slot, 0.0, future, {})
            return await future
        try:
            payload = self.adapter.build_payload(request)
        except (ValueError, TypeError) as exc:
            return ModelResponse.failure(ErrorClass.BAD_REQUEST, f"cannot build the request: {exc}",
                                         raw_request=request.describe())
        worst = self._worst_cost(request)
        if self.budget.max_cost is not None and self.budget.spent + worst > self.budget.max_cost:
            return _not_sent()
        self.budget.add(worst)
        self.reserved[key] = worst
        entry = self.vendor.entry(key, payload, request)
        raw_request = {**self.adapter.describe_request(request, payload), "batch": True}
        waiting = _Waiting(key, request, payload, entry, self.vendor.entry_bytes(entry), slot, worst, future,
                           raw_request)
        self.waiting[key] = waiting
        self.queue.append(waiting)
        self._arrived.set()
        return await future

    def _worst_cost(self, request: ModelRequest) -> float:
        price = self._price(None)
        if price is None:
            return 0.0
        prompt = estimate_tokens(request) - request.config.max_tokens
        return price.cost(prompt, request.config.max_tokens, batch=True)

    # ------------------------------------------------------------------------------- submission
    async def _flush_loop(self) -> None:
        while True:
            await self._arrived.wait()
            # gather: submit once no request joined for gather_s, or a batch is full
            while True:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), self.settings.gather_s)
                except TimeoutError:
                    break
                if len(self.queue) >= self.max_requests:
                    break
            self._arrived.clear()
            while self.queue:
                chunk, size = [], 0
                while self.queue and len(chunk) < self.max_requests and (
                        not chunk or size + self.queue[0].n_bytes <= self.max_bytes):
                    size += self.queue[0].n_bytes
                    chunk.append(self.queue.pop(0))
                await self._submit(chunk, size)

    async def _submit(self, chunk: list[_Waiting], size: int) -> None:
        batch_key = f"al-{datetime.now():%Y%m%d%H%M%S}-{new_id()[:12]}"
        requests = {w.key: {"request_hash": w.key, "run_id": w.slot[0], "dataset": w.slot[1], "item_id": w.slot[2],
                            "stage": w.slot[3], "sample_index": w.slot[4], "raw_request": w.raw_request}
                    for w in chunk}
        row = {"batch_key": batch_key, "provider_batch_id": None, "model": self.config.name,
               "adapter": self.config.adapter, "model_id": self.model_id, "state": "submitting",
               "vendor_status": None, "n_requests": len(chunk), "n_bytes": size,
               "worst_cost_usd": sum(w.worst for w in chunk), "requests": requests,
               "run_ids": sorted({w.slot[0] for w in chunk}), "created_at": datetime.now(),
               "updated_at": datetime.now()}
        await asyncio.to_thread(self._save, row)  # recorded before the vendor hears of it
        try:
            provider_id = await self.vendor.submit([w.entry for w in chunk], batch_key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the vendor refused the batch: each request fails, classified
            failure = self._submit_failure(exc)
            row.update(state="failed", message=failure.error_message, updated_at=datetime.now())
            await asyncio.to_thread(self._save, row)
            for waiting in chunk:
                self._release(waiting.key)
                self.waiting.pop(waiting.key, None)
                if not waiting.future.done():
                    waiting.future.set_result(failure)
            return
        row.update(provider_batch_id=provider_id, state="submitted", updated_at=datetime.now())
        await asyncio.to_thread(self._save, row)
        self.n_submitted += 1
        self.open[batch_key] = row
        for waiting in chunk:
            self.open_keys[waiting.key] = batch_key
        self._progress_start(row)
        if not self.wait:
            for waiting in chunk:
                self.waiting.pop(waiting.key, None)
                self.n_pending += 1
                if not waiting.future.done():
                    waiting.future.set_result(pending_response(provider_id))

    def _submit_failure(self, exc: BaseException) -> ModelResponse:
        from engine.models._errors import transport_failure, unexpected_failure
        return (self.adapter._status_error(exc) or transport_failure(exc, secrets=self.adapter.secrets)
                or unexpected_failure(exc, secrets=self.adapter.secrets))

    async def _recover_submitting(self) -> None:
        """Batches a killed run was creating: found at the vendor, they are polled; else forgotten
        (their requests are submitted again)."""
        for batch_key, row in list(self.open.items()):
            if row["state"] != "submitting":
                continue
            try:
                found = await self.vendor.find(batch_key, row["n_requests"], _naive(row["created_at"]))
            except Exception as exc:  # noqa: BLE001 - the vendor is unreachable: keep the row for the next run
                log.warning("batch %s: could not look it up (%s); its requests wait for the next run", batch_key, exc)
                continue
            if found:
                row.update(provider_batch_id=found, state="submitted", updated_at=datetime.now())
            else:
                row.update(state="lost", message="the vendor has no batch with this key; its requests were "
                           "submitted again", updated_at=datetime.now())
                self._forget(row)
            await asyncio.to_thread(self._save, row)

    def _forget(self, row: dict) -> None:
        self.open.pop(row["batch_key"], None)
        for key, batch_key in list(self.open_keys.items()):
            if batch_key == row["batch_key"]:
                del self.open_keys[key]

    # ------------------------------------------------------------------------------- collection
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_s)
            await self._poll_once()

    async def _poll_once(self) -> None:
        for batch_key in list(self.open):
            row = self.open.get(batch_key)
            if row is None or not row.get("provider_batch_id"):
                continue
            try:
                status = await self.vendor.status(row["provider_batch_id"])
                await self._update(row, status)
                if status.finished:
                    await self._collect(row, status)
                row.pop("poll_failures", None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed poll is tried again at the next one
                log.warning("batch %s: poll failed: %s", row["provider_batch_id"], exc)
                row["poll_failures"] = row.get("poll_failures", 0) + 1
                if row["poll_failures"] >= MAX_POLL_FAILURES:  # give up waiting, never resubmit: a rerun polls again
                    self._give_up(row, f"{exc}")

    def _give_up(self, row: dict, reason: str) -> None:
        for key, batch_key in list(self.open_keys.items()):
            waiting = self.waiting.get(key)
            if batch_key == row["batch_key"] and waiting is not None and not waiting.future.done():
                self.waiting.pop(key)
                self.n_pending += 1
                response = pending_response(row["provider_batch_id"])
                response.error_message += f" (its status could not be read: {reason})"
                waiting.future.set_result(response)

    async def _update(self, row: dict, status: Any) -> None:
        state = "ended" if status.finished else "in_progress"
        changed = (row.get("vendor_status"), row.get("state")) != (status.vendor_status, state)
        row.update(vendor_status=status.vendor_status, state=state, n_succeeded=status.succeeded,
                   n_errored=status.errored, n_expired=status.expired, updated_at=datetime.now())
        if status.message:
            row["message"] = status.message
        if changed:
            await asyncio.to_thread(self._save, row)
        self._progress_update(row, status)

    async def _collect(self, row: dict, status: Any) -> None:
        from engine.models.batch_api import expired_failure
        provider_id = row["provider_batch_id"]
        results: dict[str, ModelResponse] = {}
        if not status.failed:
            results = await self.vendor.results(provider_id)
        collected_cost = 0.0
        n_ok = n_err = n_exp = 0
        for custom_id, slot in row["requests"].items():
            response = results.get(custom_id)
            if response is None:
                response = expired_failure(provider_id) if not status.failed else ModelResponse.failure(
                    ErrorClass.SERVER, f"batch {provider_id} failed: {status.message or status.vendor_status}",
                    batch_id=provider_id)
            response.batch_id = provider_id
            response.raw_request = slot.get("raw_request") or response.raw_request
            if response.latency_ms is None:
                response.latency_ms = (datetime.now() - _naive(row["created_at"])).total_seconds() * 1000.0
            n_ok += response.status != "error"
            n_exp += response.error_class is ErrorClass.TIMEOUT
            n_err += response.status == "error" and response.error_class is not ErrorClass.TIMEOUT
            collected_cost += self._cost(response) or 0.0
            await self._deliver(slot, response)
        row.update(state="collected", n_succeeded=n_ok, n_errored=n_err, n_expired=n_exp, cost_usd=collected_cost,
                   collected_at=datetime.now(), updated_at=datetime.now())
        await asyncio.to_thread(self._save, row)
        self._forget(row)
        if row["batch_key"] in getattr(self.reporter, "_tasks", {}):
            self.reporter.finish(row["batch_key"], "complete" if not status.failed else "failed")

    async def _deliver(self, slot: dict, response: ModelResponse) -> None:
        key = slot["request_hash"]
        self._release(key)
        self.open_keys.pop(key, None)
        waiting = self.waiting.pop(key, None)
        if waiting is not None and not waiting.future.done():
            waiting.future.set_result(response)
            return
        if response.status == "error":
            return  # nobody waits for it and it is not an answer: its item asks again on a rerun
        # An answer whose caller is not here (a rerun that has not reached the item, or a smaller --limit):
        # stored now, so what was paid for is never lost, and served from the cache when the item comes.
        cost = self._cost(response)
        self.budget.add(cost)
        row = response_row(run_id=slot["run_id"], dataset=slot["dataset"], item_id=slot["item_id"],
                           stage=slot["stage"], sample_index=int(slot["sample_index"]), request_hash=key,
                           response=response, attempts=1, cost=cost, raw_request=response.raw_request,
                           saving=self._saving(response, cost))
        await self.journal.append(slot["run_id"], {"kind": "response", "row": row})
        self.cache.put(key, CachedAnswer.from_row(row))

    def _release(self, key: str) -> None:
        """Replace a request's worst-case reservation by nothing (its actual cost is added when stored)."""
        worst = self.reserved.pop(key, 0.0)
        self.budget.spent -= worst

    # ------------------------------------------------------------------------------- progress
    def _progress_start(self, row: dict) -> None:
        from engine.runner.progress import CallbackProgress
        if self.reporter is not None and not isinstance(self.reporter, CallbackProgress):  # callbacks see runs only
            self.reporter.start(row["batch_key"], f"batch {self.config.name} {row['provider_batch_id']}",
                                row["n_requests"])

    def _progress_update(self, row: dict, status: Any) -> None:
        from engine.runner.progress import CallbackProgress
        if self.reporter is None or isinstance(self.reporter, CallbackProgress):
            return
        if row["batch_key"] not in getattr(self.reporter, "_runs", {}):
            self._progress_start(row)
        done = status.succeeded + status.errored + status.expired
        self.reporter.update(row["batch_key"], done, status.errored + status.expired, self.budget.spent)
        bars, tasks = getattr(self.reporter, "progress", None), getattr(self.reporter, "_tasks", {})
        if bars is not None and row["batch_key"] in tasks:  # the rich display: the vendor's state in words
            bars.update(tasks[row["batch_key"]], description=(
                f"batch {self.config.name} {row['provider_batch_id']} {status.vendor_status}: "
                f"{status.succeeded} done, {status.processing} in progress, {status.errored} failed, "
                f"{status.expired} expired"))

    # ------------------------------------------------------------------------------- store
    def _load_open(self) -> list[dict]:
        from engine.store import connect
        from engine.store.batches import open_batches
        with connect(self.db) as con:
            frame = open_batches(con, self.config.name, self.config.adapter, self.model_id, OPEN_STATES)
        rows = []
        for record in frame.to_dict("records"):
            record = {k: (None if _isna(v) else v) for k, v in record.items()}
            record["requests"] = json.loads(record["requests"]) if isinstance(record["requests"], str) else {}
            record["run_ids"] = list(record["run_ids"] or [])
            rows.append(record)
        return rows

    def _save(self, row: dict) -> None:
        import pandas as pd

        from engine.store import connect, upsert
        with connect(self.db) as con:
            record = {k: v for k, v in row.items() if not k.startswith("poll_")}
            upsert(con, "batches", pd.DataFrame([{**record, "run_ids": list(row.get("run_ids") or [])}]),
                   json_columns=("requests",))
        _fsync_dir(self.db)


def _isna(value: Any) -> bool:
    try:
        return value is None or (not isinstance(value, (list, dict, str)) and bool(value != value))
    except (TypeError, ValueError):
        return False


def _naive(value: Any) -> datetime:
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    return value.replace(tzinfo=None) if isinstance(value, datetime) else datetime.now()


def _fsync_dir(db: Path) -> None:
    try:
        fd = os.open(db.parent if str(db.parent) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def pending_batches(db: str | os.PathLike) -> list[dict]:
    """Batches not yet collected (for `affectlens runs` and the dashboard)."""
    from engine.store import connect
    from engine.store.batches import open_batch_summaries
    with connect(db, read_only=True) as con:
        return open_batch_summaries(con, tuple(OPEN_STATES))



def make_client(model: Any, adapter: Any, journal: Any, cache: Any, budget: Any, prices: dict, *, db: Path,
                wait: bool = True, reporter: Any = None) -> ModelClient:
    """The model's client: a `BatchModelClient` when its entry says `batch:`, else a plain `ModelClient`."""
    settings = batch_settings(model.batch, model.name)
    if settings is None:
        return ModelClient(model, adapter, journal, cache, budget, prices)
    return BatchModelClient(model, adapter, journal, cache, budget, prices, db=db, settings=settings, wait=wait,
                            reporter=reporter)


async def start_clients(clients: dict[str, ModelClient]) -> None:
    for client in clients.values():
        if isinstance(client, BatchModelClient):
            await client.start()


async def close_clients(clients: dict[str, ModelClient]) -> None:
    for client in clients.values():
        if isinstance(client, BatchModelClient):
            await client.aclose()
