"""An experiment expanded into runs: which items each run evaluates, with what, and under which id.

A run is one dataset x model x strategy with the experiment's dimensions over one evaluation set
(`engine.store.evalsets`). Its id is a sha256 over everything that decides the answers -- the
evaluation set (its id and the manifest hash of its items, so a 10-item run and a 100-item run are
two runs; the response cache answers the items they share without a second call), the exemplar
pool's hash where one is used, the model's
answer settings (adapter, model id, generation settings, options; not concurrency, rates, URLs,
prices or secrets), the strategy with its options and template hash, dimensions, taxonomy, scales,
image size and seed. The parser version is not part of it: re-parsing is a separate step.

Which items are evaluated: the `split:` when given; otherwise every item outside the dataset's
train split. Training items (exemplars for few-shot, fitting data for the `features` and
`majority` baselines) come from the train split; a dataset without one gets a seeded held-out pool
(`holdout:` items, `engine.prompts.holdout_pool`) when some run needs training items, and those
items are then not evaluated by any run of the experiment, so every run sees the same items. The
evaluation set is fixed per dataset before any model is asked: `limit` takes the first N evaluated
items in the dataset's own order, `items:` lists them. Its name says how it was drawn
("emotion6 · 30 held out for training (seed 0) · first 150"); declare `holdout: N` on a dataset
without a train split to get the same set in every experiment, whatever its strategies need.

A run's purpose (`benchmark`, `analysis`, `probe`, `explain`) is the experiment's `purpose:`, except
that probe and occlusion strategies always make `probe` and `explain` runs: those never stand for a
benchmark cell (`engine.metrics.cells`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from engine.datasets.base import Dataset, Item
from engine.errors import ConfigError
from engine.models.base import TaskSpec
from engine.models.registry import adapter_info
from engine.parsing.types import DEFAULT_SCALES, ParseSpec
from engine.runner.config import DatasetConfig, ExperimentConfig, ModelConfig, StrategyConfig
from engine.store.evalsets import EvalSet

__all__ = ["RunPlan", "DatasetPlan", "plan_dataset", "plan_runs", "load_datasets"]

CONTINUOUS = ("valence", "arousal", "intensity")


@dataclass
class DatasetPlan:
    """A loaded dataset split into the items evaluated and the items that may serve as training data."""

    config: DatasetConfig
    full: Dataset
    evaluated: Dataset  # before limit
    pool: list[Item]
    pool_source: str  # "train split" | "holdout" | "none"
    limit: int | None
    taxonomy: str
    polarity_taxonomy: str
    scales: dict[str, tuple[float, float]]
    seed: int = 0
    _targets: Dataset | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.full.name

    def targets(self) -> Dataset:
        """The items this invocation evaluates (`items:` and limit applied): the evaluation set."""
        if self._targets is None:
            chosen = self.evaluated
            if self.config.items:
                wanted = set(self.config.items)
                chosen = chosen.subset()
                chosen.items = [item for item in self.evaluated.items if item.item_id in wanted]
            self._targets = chosen.subset(limit=self.limit)
        return self._targets

    def eval_set(self) -> EvalSet:
        """The evaluation set: the target items, with a name and the rule that drew them."""
        targets = self.targets()
        parts = [self.name]
        if self.config.split:
            parts.append(f"split {self.config.split}")
        elif self.pool_source == "train split":
            parts.append("outside the train split")
        if self.pool_source == "holdout":
            parts.append(f"{len(self.pool)} held out for training (seed {self.seed})")
        if self.config.items:
            parts.append(f"{len(self.config.items)} listed items")
        if self.limit:
            parts.append(f"first {self.limit}")
        rule = {"split": self.config.split, "items": list(self.config.items or []) or None, "limit": self.limit,
                "training_pool": {"source": self.pool_source, "n_items": len(self.pool),
                                  "seed": self.seed if self.pool_source == "holdout" else None},
                "manifest_sha256": targets.manifest_sha256(), "dataset_manifest_sha256": self.full.manifest_sha256()}
        return EvalSet(self.name, tuple(item.item_id for item in targets.items), " · ".join(parts), rule)


@dataclass
class RunPlan:
    run_id: str
    experiment: str
    data: DatasetPlan
    model: ModelConfig
    strategy_config: StrategyConfig
    strategy: Any  # engine.prompts PromptStrategy
    options: Any  # engine.prompts StrategyOptions
    dimensions: tuple[str, ...]
    seed: int
    image_max_side: int
    template_hash: str
    settings: dict[str, Any] = field(default_factory=dict)
    purpose: str = "benchmark"  # benchmark | analysis | probe | explain

    @property
    def strategy_label(self) -> str:
        return self.strategy_config.run_label

    @property
    def uses_pool(self) -> bool:
        return _uses_pool(self.strategy.name)

    def task(self) -> TaskSpec:
        scales = {d: self.data.scales[d] for d in self.dimensions if d in self.data.scales}
        return TaskSpec(dimensions=self.dimensions, taxonomy=self.data.taxonomy, scales=scales)

    def parse_spec(self) -> ParseSpec:
        scales = dict(DEFAULT_SCALES) | {d: tuple(s) for d, s in self.data.scales.items()}
        return ParseSpec(dimensions=self.dimensions, taxonomy=self.data.taxonomy,
                         polarity_taxonomy=self.data.polarity_taxonomy, scales=scales)

    def describe(self) -> str:
        return f"{self.data.name} × {self.model.name} × {self.strategy_label}"


def load_datasets(config: ExperimentConfig) -> list[Dataset]:
    """Load every configured dataset through `engine.datasets.load_dataset` (limit and split are applied
    by the plan, not the loader, so the run id does not depend on them). `taxonomy`, `polarity_taxonomy`
    and `scales` also reach loaders that take them (a manifest's scales describe its file)."""
    from engine.datasets import load_dataset

    loaded = []
    for entry in config.datasets:
        options = dict(entry.loader_options)
        accepted = _loader_parameters(entry)
        for key in ("taxonomy", "polarity_taxonomy", "scales"):
            value = getattr(entry, key)
            if value and key in accepted:
                options[key] = {d: list(s) for d, s in value.items()} if key == "scales" else value
        dataset = load_dataset(entry.label, path=entry.path, format=entry.format, **options)
        _hash_images(dataset)
        loaded.append(dataset)
    return loaded


def _hash_images(dataset: Dataset) -> None:
    """Give every item its image's sha256 where the loader did not (`check_images: false`), so the
    manifest hash -- and with it the run id -- changes whenever an image does."""
    from concurrent.futures import ThreadPoolExecutor

    todo = [item for item in dataset.items if not item.image_sha256 and item.image_path]

    def digest(item: Item) -> None:
        try:
            item.image_sha256 = hashlib.sha256(dataset.image_file(item).read_bytes()).hexdigest()
        except OSError:
            pass  # unreadable: the runner stores the item's image error when it gets there

    if todo:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(digest, todo))


def _loader_parameters(entry: DatasetConfig) -> set[str]:
    from engine.datasets import get_loader, loader_names
    from engine.datasets.base import canonical_format
    fmt = canonical_format(entry.format or entry.name or "")
    if fmt not in loader_names():
        return set()
    return set(inspect.signature(get_loader(fmt)).parameters)


def _is_train(item: Item, dataset: Dataset) -> bool:
    return item.split == "train" or item.item_id in set(dataset.splits.get("train", ()))


def _detect_polarity_taxonomy(dataset: Dataset) -> str:
    labels = {item.gold["polarity"].label for item in dataset.items if "polarity" in item.gold}
    return "polarity3" if "neutral" in labels else "polarity2"


def plan_dataset(config: ExperimentConfig, entry: DatasetConfig, dataset: Dataset, *, needs_pool: bool,
                 limit: int | None = None, pool_size: int | None = None) -> DatasetPlan:
    """Choose evaluated items and training pool for one dataset of the experiment."""
    if entry.split:
        evaluated = dataset.subset(split=entry.split)
        train_ids = {i.item_id for i in dataset.items if _is_train(i, dataset)} - {i.item_id for i in evaluated.items}
        pool = [i for i in dataset.items if i.item_id in train_ids]
    else:
        train_ids = {i.item_id for i in dataset.items if _is_train(i, dataset)}
        pool = [i for i in dataset.items if i.item_id in train_ids]
        evaluated = dataset.subset()
        evaluated.items = [i for i in dataset.items if i.item_id not in train_ids]
    source = "train split" if pool else "none"
    if not pool and needs_pool:
        from engine.prompts import holdout_pool
        size = entry.holdout or pool_size or max(16, math.ceil(0.2 * len(evaluated.items)))
        if size >= len(evaluated.items):
            raise ConfigError(f"dataset {dataset.name!r}: holding out {size} training items leaves none to "
                              f"evaluate ({len(evaluated.items)} items); lower `holdout:` or give a train split")
        pool, kept = holdout_pool(evaluated.items, size, config.seed)
        evaluated.items = kept
        source = "holdout"
    if not evaluated.items:
        raise ConfigError(f"dataset {dataset.name!r}: no items left to evaluate"
                          + (f" in split {entry.split!r}" if entry.split else " outside its train split")
                          + "; set `split:` to the subset to evaluate")
    if entry.items:
        known = {i.item_id for i in evaluated.items}
        unknown = [i for i in entry.items if i not in known]
        if unknown:
            where = "in its train split or held out" if any(i.item_id in unknown for i in pool) else "not in it"
            raise ConfigError(f"dataset {dataset.name!r}: item(s) {', '.join(unknown[:5])} are {where}; "
                              f"list evaluated item ids (e.g. {', '.join(sorted(known)[:3])})")
    limits = [n for n in (entry.limit, limit) if n]
    taxonomy = entry.taxonomy or config.taxonomy or dataset.taxonomy or _infer_taxonomy(dataset) or "ekman7"
    scales = {**{d: tuple(s) for d, s in dataset.scales.items()}, **config.scales, **entry.scales}
    return DatasetPlan(entry, dataset, evaluated, pool, source, min(limits) if limits else None, taxonomy,
                       entry.polarity_taxonomy or _detect_polarity_taxonomy(dataset),
                       {d: tuple(map(float, s)) for d, s in scales.items() if d in CONTINUOUS}, config.seed)


def _infer_taxonomy(dataset: Dataset) -> str | None:
    from engine.taxonomy import infer_taxonomy
    labels = [item.gold["emotion"].label for item in dataset.items if "emotion" in item.gold]
    return infer_taxonomy([label for label in labels if label])


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _pool_digest(pool: list[Item]) -> str:
    return _digest(sorted((item.item_id, item.image_sha256) for item in pool))


def _uses_pool(strategy: str) -> bool:
    """Whether the strategy draws exemplars from the training pool (its registry entry says)."""
    from engine.prompts.strategies import STRATEGY_REGISTRY
    found = STRATEGY_REGISTRY.find(strategy) if "+" not in strategy else None
    return bool(found and found.uses_pool)


def plan_runs(config: ExperimentConfig, datasets: list[Dataset], *, limit: int | None = None) -> list[RunPlan]:
    """Every dataset x model x strategy of the experiment (a model's `strategies:` narrows its share)."""
    from engine.prompts import get_strategy

    strategies = []
    for entry in config.strategies:
        try:
            strategy = get_strategy(entry.name)
        except KeyError as exc:
            raise ConfigError(f"strategies: {exc.args[0]}") from None
        strategies.append((entry, strategy))
    pairs = [(model, entry, strategy) for model in config.models for entry, strategy in strategies
             if model.strategies is None or entry.run_label in model.strategies]
    k_max = max((e.k_shot for _, e, s in pairs if _uses_pool(s.name)), default=0)
    trains = any(adapter_info(m.adapter).training == "images" for m in config.models)
    # A held-out pool only for exemplars stays small; one a classifier fits on takes a fifth of the items.
    pool_size = None if trains else max(4 * k_max, 16)
    runs = []
    for entry, dataset in zip(config.datasets, datasets, strict=True):
        data = plan_dataset(config, entry, dataset, needs_pool=trains or k_max > 0, limit=limit, pool_size=pool_size)
        evaluation_set = data.eval_set()
        for model, strategy_entry, strategy in pairs:
            options = strategy_entry.options(config.seed)
            if "polarity" in config.dimensions:
                options = replace(options, polarity_taxonomy=data.polarity_taxonomy)
            try:
                template_hash = strategy.template_hash(options)
            except ValueError as exc:
                raise ConfigError(f"strategies: {strategy_entry.run_label}: {exc}") from None
            settings = {
                "dataset": {"name": data.name, "eval_set": evaluation_set.eval_set,
                            "manifest_sha256": evaluation_set.rule["manifest_sha256"], "split": entry.split,
                            "pool": _pool_digest(data.pool) if _uses_pool(strategy.name)
                            or adapter_info(model.adapter).training else None},
                "model": model.answer_settings(),
                "strategy": {**strategy_entry.model_dump(mode="json", exclude={"label"}),
                             "template_hash": template_hash, "version": getattr(strategy, "version", "")},
                "dimensions": list(config.dimensions), "taxonomy": data.taxonomy,
                "polarity_taxonomy": data.polarity_taxonomy,
                "scales": {d: list(s) for d, s in sorted(data.scales.items())},
                "image_max_side": config.image_max_side, "seed": config.seed,
            }
            purpose = getattr(strategy, "purpose", None) or config.purpose
            runs.append(RunPlan(run_id=_digest(settings)[:16], experiment=config.name, data=data, model=model,
                                strategy_config=strategy_entry, strategy=strategy, options=options,
                                dimensions=tuple(config.dimensions), seed=config.seed,
                                image_max_side=config.image_max_side, template_hash=template_hash,
                                settings=settings, purpose=purpose))
    return runs
