"""Candidate labels as a prompt presents them: which set, in which order, under which name.

With `StrategyOptions.shuffle_labels` the candidates are shuffled per item, seeded by
(seed, item key, dimension), so the same run always shows an item the same order and different items
different orders. That order is written into the prompt text and returned by `label_order`, so the
runner can store it and position bias can be measured (e.g. accuracy by the gold label's position).
"""

from __future__ import annotations

import hashlib
import random

from engine.prompts.base import StrategyContext
from engine.taxonomy import get_taxonomy

#: Dimensions a prompt can ask for, in the order the prompt lists them when configured.
DIMENSIONS = ("polarity", "emotion", "ranking", "distribution", "intensity", "valence", "arousal", "confidence")
#: Dimensions whose candidates are the emotion taxonomy's labels.
EMOTION_DIMENSIONS = ("emotion", "ranking", "distribution")
LANGUAGES = ("en", "zh")

# Chinese display names where the taxonomy's first Chinese variant is not the usual word.
_ZH_NAMES = {"joy": "喜悦", "neutral": "中性", "positive": "积极", "negative": "消极"}


def check_dimensions(dimensions: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The configured dimensions, validated; raises ValueError naming an unknown one."""
    dims = tuple(dimensions)
    if not dims:
        raise ValueError(f"no dimensions configured; set `dimensions:` to some of: {', '.join(DIMENSIONS)}")
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {', '.join(map(repr, unknown))}; choose from: {', '.join(DIMENSIONS)}")
    return tuple(dict.fromkeys(dims))


def polarity_taxonomy(context: StrategyContext) -> str:
    """polarity2 or polarity3: the option if set, the task's taxonomy if it is a polarity one, else polarity2."""
    if context.options.get("polarity_taxonomy"):
        return get_taxonomy(context.options.get("polarity_taxonomy")).name
    task_taxonomy = get_taxonomy(context.task.taxonomy)
    return task_taxonomy.name if task_taxonomy.polarity_only else "polarity2"


def _seeded_shuffle(labels: list[str], seed: int, item_key: str, dimension: str) -> list[str]:
    # sha256 rather than hash(): stable across processes and Python versions.
    digest = hashlib.sha256(f"{seed}\x00{item_key}\x00{dimension}".encode()).digest()
    shuffled = list(labels)
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(shuffled)
    return shuffled


def label_orders(context: StrategyContext) -> dict[str, list[str]]:
    """Candidate labels per label set as presented for this item: {"polarity": [...], "emotion": [...]}.

    Only the sets the configured dimensions use appear. "emotion" covers emotion, ranking and
    distribution (one order, shared by all three).
    """
    dims = check_dimensions(context.task.dimensions)
    options = context.options
    orders: dict[str, list[str]] = {}
    if "polarity" in dims:
        orders["polarity"] = get_taxonomy(polarity_taxonomy(context)).names
    if any(d in dims for d in EMOTION_DIMENSIONS):
        orders["emotion"] = get_taxonomy(context.task.taxonomy).names
    if options.shuffle_labels:
        orders = {name: _seeded_shuffle(labels, options.seed, context.item_key, name)
                  for name, labels in orders.items()}
    return orders


def label_order(context: StrategyContext) -> list[str]:
    """The candidate order shown for this item: the emotion labels, or the polarity labels when no
    emotion dimension is configured; empty when only continuous dimensions are asked for."""
    orders = label_orders(context)
    return orders.get("emotion") or orders.get("polarity") or []


def display_name(label: str, taxonomy: str, language: str) -> str:
    """How a label is written in a prompt: "中文 (name)" for zh, the name itself otherwise.

    The Chinese word is the taxonomy's first Chinese spelling variant (the same words the label
    normaliser accepts back), with a few overrides in `_ZH_NAMES`; the English name stays in
    brackets because the templates ask for it as the answer value.
    """
    if language != "zh":
        return label
    chinese = _ZH_NAMES.get(label)
    if chinese is None:
        variants = get_taxonomy(taxonomy).label(label).variants
        chinese = next((v for v in variants if any("\u4e00" <= ch <= "\u9fff" for ch in v)), None)
    return f"{chinese} ({label})" if chinese else label


def label_list(labels: list[str], taxonomy: str, language: str) -> str:
    """Labels joined the way the language lists things."""
    names = [display_name(label, taxonomy, language) for label in labels]
    return "、".join(names) if language == "zh" else ", ".join(names)


def label_order_rows(context: StrategyContext, run_id: str, dataset: str, item_id: str) -> list[dict]:
    """Rows for the `label_orders` table (migration 060): one per label set this item's prompt showed."""
    return [{"run_id": run_id, "dataset": dataset, "item_id": item_id, "label_set": name, "labels": labels,
             "shuffled": bool(context.options.shuffle_labels)}
            for name, labels in label_orders(context).items()]
