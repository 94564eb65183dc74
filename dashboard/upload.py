"""Analyse one uploaded image with chosen models, through the same strategy, adapter and parser code as a run.

Every call goes through the runner's call policy (`engine.runner.policy.CallPolicy`): the model's
rate limits, timeout and retries, its price, and a budget (`AFFECTLENS_MAX_UPLOAD_COST`, USD per
analysis). Nothing is written to the store: the answers and their cost are shown in the sidebar only.
Baselines that must be trained on a dataset first (`majority`, `features`) are not offered here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd

from dashboard.images import CheckedUpload
from engine.models.registry import ADAPTERS

#: baselines that answer one image without training first (the adapter registry's `baseline`s without `training`)
UPLOAD_OFFLINE_MODELS = tuple(a.name for a in ADAPTERS.entries() if a.baseline and a.sdk is None and not a.training)
UPLOAD_DIMENSIONS = ("polarity", "emotion", "valence", "arousal")


async def _answer(entry: dict[str, Any] | str, image, strategy: str, taxonomy: str, key: str,
                  budget) -> list[dict[str, Any]]:
    from engine.models import create_adapter
    from engine.models.base import TaskSpec
    from engine.parsing.aggregate import aggregate
    from engine.parsing.parser import parse_answer
    from engine.parsing.types import ParseSpec
    from engine.prompts import get_strategy
    from engine.prompts.base import StrategyContext, StrategyOptions
    from engine.runner.config import ModelConfig
    from engine.runner.policy import CallPolicy

    config = ModelConfig(**({"name": entry, "adapter": entry} if isinstance(entry, str) else entry))
    spec = config.spec()
    adapter = create_adapter(spec)
    task = TaskSpec(dimensions=UPLOAD_DIMENSIONS, taxonomy=taxonomy)
    context = StrategyContext(item_key=key, image=image, task=task, generate=spec.generate, options=StrategyOptions())

    policy = CallPolicy.from_config(config, adapter, budget=budget)
    spent = {"cost": 0.0, "attempts": 0}

    async def call(stage, request, sample_index):
        sent = await policy.send(request)
        spent["cost"] += sent.cost or 0.0
        spent["attempts"] += sent.attempts
        return sent.response

    try:
        outcome = await get_strategy(strategy).run(context, call)
    finally:
        await adapter.aclose()
    parse_spec = ParseSpec(dimensions=UPLOAD_DIMENSIONS, taxonomy=taxonomy)
    answered = [r for r in outcome.final if r.status == "ok"]
    failure = next((r for r in outcome.final if r.status != "ok"), None)
    if not answered:
        reason = failure.error_message if failure else "no answer"
        return [{"model": config.name, "dimension": d, "answer": None, "status": failure.status if failure else "error",
                 "note": reason, "cost_usd": spent["cost"], "attempts": spent["attempts"]} for d in UPLOAD_DIMENSIONS]
    results = [parse_answer(r.text, parse_spec) for r in answered]
    parsed = results[0] if len(results) == 1 else aggregate(results, parse_spec)[0]
    return [{"model": config.name, "dimension": dim, "answer": _shown(reading.value), "status": reading.status,
             "note": reading.span, "cost_usd": spent["cost"], "attempts": spent["attempts"]}
            for dim, reading in parsed.dimensions.items()]


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def analyse(upload: CheckedUpload, models: list[dict[str, Any] | str], *, strategy: str = "zero-shot",
            taxonomy: str = "ekman7", max_side: int = 768, max_cost: float | None = None) -> pd.DataFrame:
    """One row per (model, dimension): the parsed answer, its parse status, the text it came from, and the
    model's spend and provider calls for this image (`max_cost`: USD for the whole analysis)."""
    from dashboard import settings
    from engine.preprocess import prepare_image
    from engine.runner.policy import Budget

    if max_cost is None:
        max_cost = settings.number("AFFECTLENS_MAX_UPLOAD_COST", 0.05)
    budget = Budget(max_cost)

    image = prepare_image(upload.data, max_side=max_side, name="uploaded image")
    key = f"upload/{upload.sha256[:16]}"

    async def everything():
        return await asyncio.gather(*(_answer(m, image, strategy, taxonomy, key, budget) for m in models))

    rows = [row for group in asyncio.run(everything()) for row in group]
    return pd.DataFrame(rows, columns=["model", "dimension", "answer", "status", "note", "cost_usd", "attempts"])
