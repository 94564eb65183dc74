"""`run_experiment`: an experiment config in, stored runs out -- resumable, budgeted, concurrent.

Order of work:
1. merge journals a killed earlier invocation left behind;
2. load the datasets and expand the experiment into runs (`engine.runner.plan`);
3. create each model's adapter and check it can work at all (API key set, server reachable) before
   anything is sent;
4. store datasets (items, gold, images) and a `runs` row per run (status `running`, provenance);
5. load the response cache and each run's already-answered items;
6. per dataset, in turn: prepare the adapters on the training items (baselines fit here), then
   run all of that dataset's runs concurrently, each model's calls bounded by its own limits;
7. merge the journal, mark each run `complete`, `stopped` (budget) or `failed` (with a message),
   refresh the scores.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from engine.errors import AffectLensError, ConfigError
from engine.runner.cache import ResponseCache, finished_items
from engine.runner.batch import close_clients, make_client, start_clients
from engine.runner.calls import Budget, ModelClient
from engine.runner.config import ExperimentConfig, load_config, parse_config
from engine.runner.images import ImageProvider
from engine.runner.items import RunExecutor
from engine.runner.journal import Journal, merge_leftovers
from engine.runner.plan import DatasetPlan, RunPlan, load_datasets, plan_runs
from engine.runner.progress import make_progress
from engine.runner.provenance import environment
from engine.runner.shard import shard_items

log = logging.getLogger(__name__)

__all__ = ["RunSummary", "ExperimentResult", "run_experiment"]


@dataclass
class RunSummary:
    run_id: str
    dataset: str
    model: str
    strategy: str
    status: str
    n_items: int
    n_answered: int  # items with a final answer (this and earlier invocations)
    n_failed: int  # items whose calls failed in this invocation
    n_skipped: int  # answered in an earlier invocation
    calls: int
    cached: int
    errors: int
    cost_usd: float
    message: str | None = None


@dataclass
class ExperimentResult:
    db_path: Path
    runs: list[RunSummary] = field(default_factory=list)
    spent_usd: float = 0.0
    scores_refreshed: bool = False
    merged_leftovers: int = 0  # journal records a killed earlier invocation left, merged first
    problems: dict[str, list[str]] = field(default_factory=dict)  # dataset -> rows its loader skipped

    @property
    def ok(self) -> bool:
        return all(run.status == "complete" for run in self.runs)


def run_experiment(config: ExperimentConfig | dict | str | os.PathLike, db_path: str | os.PathLike | None = None, *,
                   limit: int | None = None, max_cost: float | None = None, quiet: bool = False,
                   progress: Any = None, refresh_scores: bool = True, shard: tuple[int, int] | None = None,
                   wait: bool = True, freeze_heap: bool = False) -> ExperimentResult:
    """Run (or resume) an experiment into the DuckDB store at `db_path`.

    `config` is an `ExperimentConfig`, a mapping in its shape, or a YAML file path. `limit` caps every
    dataset's evaluated items; `max_cost` (USD, overriding the config's) stops new calls once this
    invocation's spend reaches it. `progress` is a callable receiving `ProgressEvent`s (else a rich bar
    on a terminal unless `quiet`). Re-running the same config resumes: answered items are skipped and
    identical requests are answered from the store. `shard=(i, n)` evaluates only shard i of n of every
    run's items (`engine.runner.shard`); `wait=False` submits batch-mode models' batches and returns
    without waiting for them (their runs end `pending`; a rerun collects).

    `freeze_heap=True` (what the `affectlens` CLI passes) moves everything loaded before the calls out of
    the cyclic garbage collector's reach while they run (`gc.freeze()`), so no full collection stalls
    the requests in flight. It is process-wide, so it is off by default: a host process such as the
    dashboard, running an analysis beside its own work, keeps its collector as it was.
    """
    if isinstance(config, (str, os.PathLike)):
        config = load_config(config)
    elif isinstance(config, dict):
        config = parse_config(config)
    from engine.store import default_db_path
    db = Path(db_path) if db_path is not None else default_db_path()
    coroutine = _closing(_run(config, db, limit=limit, max_cost=max_cost if max_cost is not None else config.max_cost,
                              reporter=(reporter := make_progress(quiet, progress)), refresh=refresh_scores,
                              shard=shard, wait=wait, freeze_heap=freeze_heap), reporter)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_loop(coroutine)
    # Called from inside an event loop (a notebook): run on a thread with its own loop.
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=_catch(coroutine)), name="affectlens-run")
    thread.start()
    thread.join()
    if isinstance(box["result"], BaseException):
        raise box["result"]
    return box["result"]


async def _closing(coroutine, reporter):
    """Await the run with its prompt templates pinned (every item gets the text the run hashed when it
    was planned), then close the progress display."""
    from engine.prompts.templates import pinned_templates
    try:
        with pinned_templates():
            return await coroutine
    finally:
        reporter.close()


def _run_loop(coroutine):
    """Run on uvloop when it is installed (a faster event loop: less CPU per request), else asyncio's own;
    `AFFECTLENS_UVLOOP=0` turns it off."""
    factory = None
    if os.environ.get("AFFECTLENS_UVLOOP", "1") != "0":
        try:
            import uvloop
            factory = uvloop.new_event_loop
        except ImportError:
            pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


def _catch(coroutine):
    try:
        return _run_loop(coroutine)
    except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
        return exc


async def _run(config: ExperimentConfig, db: Path, *, limit: int | None, max_cost: float | None, reporter: Any,
               refresh: bool, shard: tuple[int, int] | None = None, wait: bool = True,
               freeze_heap: bool = False) -> ExperimentResult:
    result = ExperimentResult(db_path=db)
    result.merged_leftovers = await asyncio.to_thread(merge_leftovers, db)
    datasets = await asyncio.to_thread(load_datasets, config)
    result.problems = {d.name: [str(p) for p in d.problems] for d in datasets if d.problems}
    plans = plan_runs(config, datasets, limit=limit)
    adapters: dict[str, Any] = {}
    try:
        _create_adapters(config, adapters)
        await _preflight(config)
        budget = Budget(max_cost)
        _warn_unpriced(config, adapters, budget)
        caches, done, rows = await asyncio.to_thread(_prepare_store, db, config, plans, adapters, shard)
        journal = Journal(db)
        journal.start()
        images = ImageProvider(config.image_max_side)
        clients = {m.name: make_client(m, adapters[m.name], journal, caches[m.name], budget,
                                       {k: v.model_dump() for k, v in config.prices.items()}, db=db, wait=wait,
                                       reporter=reporter)
                   for m in config.models}
        executors: list[RunExecutor] = []
        # Everything loaded so far (datasets, plans, modules) lives as long as the run. Frozen, it is out of
        # the cyclic collector's reach, whose full passes over it would otherwise stall every request in
        # flight for 100+ ms (bench/bench_runner.py); thawed again when the calls are done.
        if freeze_heap:
            gc.freeze()
        try:
            await start_clients(clients)
            for data in _unique_datasets(plans):
                group = [p for p in plans if p.data is data]
                executors += await _run_dataset(data, group, clients, journal, images, budget, reporter, done, config,
                                                shard)
        finally:
            if freeze_heap:
                gc.unfreeze()
            await close_clients(clients)
            await journal.close()
            images.close()
        if journal.merge_error is not None:
            raise AffectLensError(f"answers are safe in {journal.folder} but could not be merged into {db}: "
                                  f"{journal.merge_error}; rerun the same command to merge them")
        result.spent_usd = budget.spent
        result.runs = [_summary(e) for e in executors]
        await asyncio.to_thread(_finish_runs, db, executors, rows)
    finally:
        await asyncio.gather(*(adapter.aclose() for adapter in adapters.values()), return_exceptions=True)
    if refresh:
        # this experiment's runs; every run of its datasets when a killed invocation's answers were merged first
        scope = ({"dataset": sorted({d.name for d in datasets})} if result.merged_leftovers
                 else {"run_id": sorted({p.run_id for p in plans})})
        result.scores_refreshed = await asyncio.to_thread(_refresh_scores, db, scope)
    return result


def _create_adapters(config: ExperimentConfig, adapters: dict[str, Any]) -> None:
    """One adapter per model entry, into `adapters` (the caller closes them, also after a failure);
    a missing key, SDK or unknown adapter stops here with its fix."""
    from engine.models import create_adapter
    for model in config.models:
        adapters[model.name] = create_adapter(model.spec())


async def _preflight(config: ExperimentConfig) -> None:
    """Every configured server must accept a TCP connection (a refused one would fail every item)."""
    for model in config.models:
        urls = [model.base_url] if isinstance(model.base_url, str) else list(model.base_url or ())
        for url in urls:
            parsed = urlparse(url)
            port = parsed.port or (443 if parsed.scheme == "https" else 80)
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(parsed.hostname, port), 5.0)
            except (OSError, TimeoutError) as exc:
                reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (
                    "no answer within 5 s" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)))
                raise ConfigError(f"cannot reach {url} — is the server running? (model {model.name!r}: {reason})"
                                  ) from None
            writer.close()


def _warn_unpriced(config: ExperimentConfig, adapters: dict, budget: Budget) -> None:
    if budget.max_cost is None:
        return
    from engine.models.pricing import price_for
    for model in config.models:
        adapter = adapters[model.name]
        if not adapter.local and model.price is None and price_for(adapter.model_id, {
                k: v.model_dump() for k, v in config.prices.items()}) is None:
            log.warning("model %r has no known price, so its calls do not count towards --max-cost; "
                        "give it `price: {input: USD, output: USD}` per 1M tokens", model.name)


def _unique_datasets(plans: list[RunPlan]) -> list[DatasetPlan]:
    seen: dict[int, DatasetPlan] = {}
    for plan in plans:
        seen.setdefault(id(plan.data), plan.data)
    return list(seen.values())


def _prepare_store(db: Path, config: ExperimentConfig, plans: list[RunPlan], adapters: dict,
                   shard: tuple[int, int] | None = None):
    """Store datasets and `running` rows; load caches and answered items (one connection)."""
    from engine.store import connect
    from engine.store.evalsets import write_eval_set
    from engine.datasets.stored import write_dataset
    from engine.store.datasets import stored_manifest
    from engine.store.runs import run_start_times
    from engine.store.writes import write_run

    caches: dict[str, ResponseCache] = {}
    done: dict[str, set[str]] = {}
    rows: dict[str, dict] = {}
    with connect(db) as con:
        for data in _unique_datasets(plans):
            if stored_manifest(con, data.name) != data.full.manifest_sha256():
                write_dataset(con, data.full, image_rows=_image_rows(data.full))
            write_eval_set(con, data.eval_set())
        for model in config.models:
            cache = ResponseCache()
            cache.load(con, model.adapter, adapters[model.name].model_id)
            caches[model.name] = cache
        existing = run_start_times(con)
        for plan in plans:
            done[plan.run_id] = finished_items(con, plan.run_id) if plan.run_id in existing else set()
            row = _run_row(plan, config, adapters[plan.model.name], existing.get(plan.run_id))
            if shard is not None:  # provenance only: the run id and n_items are the whole run's
                row["provenance"] = {**row["provenance"], "shard": {"index": shard[0], "count": shard[1]}}
            rows[plan.run_id] = row
            write_run(con, row)
    return caches, done, rows


def _image_rows(dataset) -> list[dict]:
    try:
        from engine.datasets.images import image_rows
    except ImportError:
        return []
    return list(image_rows(dataset))


def _run_row(plan: RunPlan, config: ExperimentConfig, adapter, started_at) -> dict[str, Any]:
    from engine.parsing import PARSER_VERSION
    data = plan.data
    return {
        "run_id": plan.run_id, "experiment": plan.experiment, "dataset": data.name, "model": plan.model.name,
        "adapter": plan.model.adapter, "model_id": adapter.model_id, "model_id_resolved": None,
        "strategy": plan.strategy_label, "dimensions": list(plan.dimensions), "taxonomy": data.taxonomy,
        "prompt_hash": plan.template_hash, "parser_version": PARSER_VERSION,
        "config": {"experiment": config.name, "dataset": data.config.model_dump(mode="json"),
                   "model": config.redacted()["models"][config.models.index(plan.model)],
                   "strategy": plan.strategy_config.model_dump(mode="json"), "dimensions": list(plan.dimensions),
                   "taxonomy": data.taxonomy, "polarity_taxonomy": data.polarity_taxonomy,
                   "scales": {d: list(s) for d, s in data.scales.items()}, "seed": plan.seed,
                   "image_max_side": plan.image_max_side, "max_cost": config.max_cost, "limit": data.limit},
        "provenance": {**environment(), "seed": plan.seed, "dataset_manifest_sha256": plan.settings["dataset"][
            "manifest_sha256"], "training_pool": {"source": data.pool_source, "n_items": len(data.pool),
                                                  "sha256": plan.settings["dataset"]["pool"]},
                       "prompt_template_sha256": plan.template_hash, "run_settings": plan.settings},
        "status": "running", "n_items": len(data.targets().items), "eval_set": plan.settings["dataset"]["eval_set"],
        "purpose": plan.purpose,
        "started_at": started_at or datetime.now(), "finished_at": None, "message": None,
    }


async def _run_dataset(data: DatasetPlan, group: list[RunPlan], clients: dict[str, ModelClient], journal: Journal,
                       images: ImageProvider, budget: Budget, reporter: Any, done: dict[str, set[str]],
                       config: ExperimentConfig, shard: tuple[int, int] | None = None) -> list[RunExecutor]:
    from engine.models.base import PrepareContext
    from engine.models.registry import adapter_info

    targets = data.targets()
    failed: dict[str, str] = {}
    for name in dict.fromkeys(p.model.name for p in group):
        client = clients[name]
        training = data.evaluated.subset()
        # a label-prior baseline (majority) without a training pool takes the evaluated items' label prior: a
        # chance reference, not a model, so it may see their gold
        chance = adapter_info(client.config.adapter).training == "labels"
        training.items = list(data.pool) if data.pool or not chance else list(data.evaluated.items)
        context = PrepareContext(dataset=training, task=group[0].task(), seed=config.seed,
                                 load_image=_image_loader(data, config.image_max_side))
        try:
            await client.adapter.prepare(context)
        except Exception as exc:  # noqa: BLE001 - this model's runs fail with the reason; others go on
            failed[name] = f"model {name!r} could not be prepared on {data.name!r}: {exc}"
    executors = []
    for plan in group:
        executors.append(RunExecutor(plan, clients[plan.model.name], journal, images, budget, reporter))
    todo = []
    for executor in executors:
        plan = executor.plan
        if plan.model.name in failed:
            executor.status, executor.message = "failed", failed[plan.model.name]
            continue
        if plan.uses_pool:
            try:
                executor.exemplars = await _exemplars(plan, images)
            except Exception as exc:  # noqa: BLE001
                executor.status, executor.message = "failed", f"{plan.describe()}: {exc}"
                continue
        answered = done.get(plan.run_id, set())
        mine = shard_items(targets.items, data.name, shard)  # the shard filter comes last
        items = [item for item in mine if item.item_id not in answered]
        todo.append(executor.run(items, len(mine)))
    await asyncio.gather(*todo)
    return executors


def _image_loader(data: DatasetPlan, max_side: int):
    from engine.preprocess import ImageError, prepare_image

    def load(item):
        path = data.full.image_file(item)
        try:
            return prepare_image(str(path), max_side=max_side) if path else None
        except ImageError:
            return None
    return load


async def _exemplars(plan: RunPlan, images: ImageProvider) -> list[tuple[Any, dict]]:
    """The run's few-shot exemplars (the same k for every item), with their prepared images."""
    from engine.prompts import select_exemplars
    data = plan.data
    require = [d for d in plan.dimensions if any(d in item.gold for item in data.pool)][:1]
    chosen = select_exemplars(data.pool, plan.options.k_shot, plan.seed,
                              exclude_ids={i.item_id for i in data.evaluated.items}, require=require)
    return [(await images.get(data.full, item), dict(item.gold)) for item in chosen]


def _summary(executor: RunExecutor) -> RunSummary:
    plan, c = executor.plan, executor.counters
    return RunSummary(plan.run_id, plan.data.name, plan.model.name, plan.strategy_label, executor.status,
                      len(plan.data.targets().items), c.items_done, c.items_failed, executor.skipped, c.calls,
                      c.cached, c.errors, c.cost, executor.message)


def _finish_runs(db: Path, executors: list[RunExecutor], rows: dict[str, dict]) -> None:
    from engine.store import connect
    from engine.store.runs import first_resolved_model_id
    from engine.store.writes import write_run
    with connect(db) as con:
        for executor in executors:
            row = dict(rows[executor.plan.run_id])
            resolved = executor.counters.resolved_model
            if resolved is None:
                resolved = first_resolved_model_id(con, executor.plan.run_id)
            row.update(status=executor.status, message=executor.message, model_id_resolved=resolved,
                       finished_at=datetime.now())
            row["provenance"] = {**row["provenance"], "model_id_resolved": resolved}
            write_run(con, row)


def _refresh_scores(db: Path, scope: dict[str, list[str]]) -> bool:
    """Recompute the scores, evaluations and outcomes of the runs in `scope` (run ids or datasets)."""
    try:
        from engine.metrics.scoring import refresh_scores
    except ImportError:
        log.warning("scores not computed: engine.metrics.scoring is not available")
        return False
    refresh_scores(db, **scope)
    return True
