"""Attention maps of local transformers models: where the answer tokens look in the image.

For each chosen item: the prompt the strategy sends (its user text; zero-shot by default), the
model's answer to it (the stored answer of the same run when `affectlens run` already asked it, else
generated now with the same settings), then `attention_map`: the adapter's hook
(`HFAdapter.attention_pass`) runs one forward pass with eager attention over prompt + answer, and
the attention from the answer tokens to the image-patch tokens is averaged over heads, layers and
answer tokens (`mean`) or rolled out through the layers (`rollout`, Abnar & Zuidema 2020), on the
vision patch grid, normalised to sum to 1. Stored in `explanations`
with method `attention` and measure `attention_mean` / `attention_rollout`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ConfigError
from engine.explain.occlusion import SaliencyMap, store_maps
from engine.store import connect

AGGREGATES = ("mean", "rollout")


def attention_map(adapter, image, prompt: str, answer: str | None = None, *, aggregate: str = "mean") -> np.ndarray:
    """Attention from the answer tokens to the image-patch tokens, on the vision patch grid.

    `adapter` provides the hook `attention_pass(image, prompt, answer)` (the `hf` adapter does).
    `aggregate="mean"`: attention averaged over heads, layers and query positions.
    `aggregate="rollout"`: attention rollout (Abnar & Zuidema, 2020, "Quantifying Attention Flow in
    Transformers", ACL): per layer the head-mean attention plus the identity for the residual path, rows
    renormalised, multiplied through the layers.
    Returns a float array of shape (grid_h, grid_w) that sums to 1: the share of the query tokens'
    attention to the image that falls on each patch. Blocking; call it from a thread.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be 'mean' or 'rollout', not {aggregate!r}")
    if not hasattr(adapter, "attention_pass"):
        raise ConfigError(f"adapter {type(adapter).__name__} gives no attention weights; attention maps need a "
                          "local transformers model (adapter: hf)")
    run = adapter.attention_pass(image, prompt, answer)
    layers = run.layers.astype(np.float64)
    if aggregate == "mean":
        weights = layers.mean(0)[run.queries][:, run.image_positions].mean(0)
    else:
        seq = layers.shape[-1]
        rollout = np.eye(seq)
        for attention in layers:
            mixed = 0.5 * attention + 0.5 * np.eye(seq)
            rollout = (mixed / mixed.sum(-1, keepdims=True)) @ rollout
        weights = rollout[run.queries][:, run.image_positions].mean(0)
    grid_h, grid_w, skip = run.grid
    patch = weights[skip:].reshape(-1, grid_h, grid_w).mean(0)  # several frames (video-style grids) averaged
    total = patch.sum()
    return patch / total if total > 0 else np.full_like(patch, 1.0 / patch.size)


def attention_config(model: str, dataset: dict[str, Any], *, items: list[str] | None = None, limit: int | None = None,
                     name: str | None = None, strategy: str = "zero-shot",
                     dimensions: tuple[str, ...] = ("polarity", "emotion"), options: dict | None = None,
                     max_tokens: int = 64) -> dict[str, Any]:
    """An experiment config of one local model, one dataset (restricted to `items`) and one strategy."""
    if not items and not limit and not dataset.get("items") and not dataset.get("limit"):
        raise ConfigError("choose the items to explain with --items ID1,ID2 (or --limit N)")
    entry = dict(dataset)
    if items:
        entry["items"] = list(items)
    if limit:
        entry["limit"] = int(limit)
    label = name or Path(str(model).rstrip("/")).name or "local-model"
    return {"name": "explain-attention", "dimensions": list(dimensions), "datasets": [entry],
            "models": [{"name": label, "adapter": "hf", "model": str(model), "options": dict(options or {}),
                        "concurrency": 1, "max_tokens": max_tokens}],
            "strategies": [strategy]}


def _stored_answers(db_path, run_id: str) -> dict[str, str]:
    if db_path is None or not Path(db_path).exists():
        return {}
    from engine.store.runs import first_answer_texts

    with connect(db_path, read_only=True) as con:
        return first_answer_texts(con, run_id)


def _store_dataset(db_path, dataset) -> None:
    """Make the items (and their image paths) known to the store, so maps can be drawn over them."""
    from engine.datasets.stored import write_dataset
    from engine.store.datasets import stored_manifest

    with connect(db_path) as con:
        if stored_manifest(con, dataset.name) != dataset.manifest_sha256():
            try:
                from engine.datasets.images import image_rows
                rows = image_rows(dataset)
            except ImportError:
                rows = []
            write_dataset(con, dataset, image_rows=rows)


def attention_maps(config: dict[str, Any], db_path=None, *, aggregate: str = "mean",
                   on_item=None) -> list[SaliencyMap]:
    """Compute and store the attention maps of `config`'s items (see `attention_config`).

    `on_item(item_id)` is called as each item starts (progress). Raises ConfigError for a model
    that is not a local transformers model, or a strategy that does not send one image in one call.
    """
    if aggregate not in AGGREGATES:
        raise ConfigError(f"--aggregate {aggregate!r}: choose mean or rollout")
    from engine.runner.config import parse_config
    from engine.runner.plan import load_datasets, plan_runs
    from engine.store import default_db_path

    db_path = Path(db_path) if db_path is not None else default_db_path()
    experiment = parse_config(config, "attention settings")
    if len(experiment.models) != 1 or not _has_attention_hook(experiment.models[0].adapter):
        raise ConfigError("attention maps need one local model whose adapter reads out attention (adapter: hf, "
                          "or any adapter with an `attention_pass` hook); for API models and baselines use "
                          "`affectlens explain occlusion`")
    (plan,) = plan_runs(experiment, load_datasets(experiment))
    if plan.uses_pool:
        raise ConfigError(f"strategy {plan.strategy_label!r} sends exemplar images; attention maps need one image "
                          "per request (zero-shot, cot, structured or scene)")
    _store_dataset(db_path, plan.data.full)
    stored = _stored_answers(db_path, plan.run_id)
    return asyncio.run(_compute(plan, experiment, db_path, stored, aggregate, on_item))


def _has_attention_hook(adapter: str) -> bool:
    """Whether the registered adapter provides the `attention_pass` hook these maps are computed from."""
    from engine.models import adapter_info

    try:
        return callable(getattr(adapter_info(adapter).load(), "attention_pass", None))
    except ImportError:  # its SDK is not installed: creating the model raises the error naming the extra
        return True


async def _compute(plan, experiment, db_path, stored: dict[str, str], aggregate: str, on_item) -> list[SaliencyMap]:
    from engine.models import create_adapter
    from engine.models.base import GenerateConfig
    from engine.preprocess import prepare_image
    from engine.prompts.base import StrategyContext

    model = plan.model
    adapter = create_adapter(model.spec())
    generate = GenerateConfig(temperature=model.temperature, max_tokens=model.max_tokens, top_p=model.top_p,
                              seed=model.seed)
    dataset = plan.data.full
    maps = []
    try:
        await asyncio.to_thread(adapter.load)
        for item in plan.data.targets().items:
            if on_item is not None:
                on_item(item.item_id)
            path = dataset.image_file(item)
            image = await asyncio.to_thread(prepare_image, str(path), experiment.image_max_side,
                                            name=f"{dataset.name}/{item.item_id} ({path})")
            context = StrategyContext(item_key=f"{dataset.name}/{item.item_id}", image=image, task=plan.task(),
                                      generate=generate, options=plan.options)
            requests = plan.strategy.render(context)
            if len(requests) != 1 or sum(len(m.images) for m in requests[0].messages) != 1:
                raise ConfigError(f"strategy {plan.strategy_label!r} does not ask in one call with one image; "
                                  "attention maps support zero-shot, cot, structured and scene")
            request = requests[0]
            prompt = "\n".join(m.text for m in request.messages if m.role == "user" and m.text)
            answer, source = stored.get(item.item_id), "store"
            if answer is None:
                response = await adapter.generate(request)
                answer, source = (response.text, "generated") if response.status == "ok" else (None, "none")
            values = await asyncio.to_thread(attention_map, adapter, image, prompt, answer or None, aggregate=aggregate)
            maps.append(SaliencyMap(dataset.name, item.item_id, model.name, plan.strategy_label, "attention",
                                    f"attention_{aggregate}", values, plan.run_id if source == "store" else None,
                                    {"aggregate": aggregate, "answer": (answer or "")[:2000], "answer_source": source,
                                     "model_path": model.model, "image_sha256": image.sha256}))
    finally:
        await adapter.aclose()
    store_maps(db_path, maps)
    return maps
