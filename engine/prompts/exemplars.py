"""Few-shot exemplars: drawn reproducibly from training items, never from the evaluated ones, and
shown with an answer in exactly the format the prompt asks for.

Where a dataset has a train split, exemplars come from it (`select_exemplars`). Where it has none,
the runner first holds out a seeded pool disjoint from the evaluated items (`holdout_pool`) and
draws exemplars from that pool; the held-out items are then not evaluated in that run, and the
report should say so (the evaluated count is smaller than the dataset).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from engine.datasets.base import Gold, Item
from engine.prompts.base import StrategyContext
from engine.prompts.labels import check_dimensions, label_orders, polarity_taxonomy
from engine.prompts.templates import scale_of
from engine.taxonomy import get_taxonomy, map_label, normalize_label


class ExemplarError(ValueError):
    """Few-shot exemplars cannot be drawn without touching the evaluated items."""


def _rng(seed: int, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def select_exemplars(train_items: Iterable[Item], k: int, seed: int, exclude_ids: Collection[str] = (),
                     require: Sequence[str] = ()) -> list[Item]:
    """k exemplars drawn with `seed` from `train_items`, none of whose ids is in `exclude_ids`.

    The draw depends only on (seed, the candidate ids), not on the order items arrive in.
    `require` keeps only candidates with gold on every listed dimension. Raises `ExemplarError`
    when fewer than k candidates remain, saying whether the evaluated items were the cause.
    """
    if k < 0:
        raise ValueError(f"k_shot must be 0 or more, got {k}")
    items = list(train_items)
    excluded = set(exclude_ids)
    candidates = [item for item in items if item.item_id not in excluded]
    if require:
        candidates = [item for item in candidates if all(dim in item.gold for dim in require)]
    if k == 0:
        return []
    if len(candidates) < k:
        leaked = sum(item.item_id in excluded for item in items)
        if items and leaked == len(items):
            raise ExemplarError(
                f"few-shot: all {len(items)} candidate exemplars are evaluated items; exemplars must never "
                f"be evaluated items. Give the dataset a train split or let the runner hold out a pool "
                f"(holdout_pool) and evaluate the rest.")
        need = f" with gold for {', '.join(require)}" if require else ""
        raise ExemplarError(
            f"few-shot: k_shot={k} exemplars requested but only {len(candidates)} training items{need} are "
            f"available outside the evaluated items ({leaked} excluded as evaluated); lower k_shot or add "
            f"training items.")
    ordered = sorted(candidates, key=lambda item: item.item_id)
    return _rng(seed, "exemplars").sample(ordered, k)


def holdout_pool(items: Iterable[Item], k_pool: int, seed: int) -> tuple[list[Item], list[Item]]:
    """Split a dataset without a train split into (exemplar pool, evaluated items), disjoint and seeded.

    The pool is `k_pool` items chosen with `seed` (independently of the input order); the evaluated
    items keep their input order.
    """
    items = list(items)
    ids = [item.item_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("holdout_pool: item ids must be unique to keep the pool disjoint from evaluated items")
    if k_pool < 0 or k_pool >= len(items):
        raise ExemplarError(f"holdout_pool: cannot hold out {k_pool} of {len(items)} items and still evaluate "
                            f"some; use 0 <= k_pool < {len(items)}")
    chosen = set(_rng(seed, "holdout").sample(sorted(ids), k_pool))
    pool = sorted((item for item in items if item.item_id in chosen), key=lambda item: item.item_id)
    return pool, [item for item in items if item.item_id not in chosen]


def _gold_label(gold: Any) -> tuple[str | None, str | None]:
    """(label, its taxonomy) from a Gold or a plain string."""
    if isinstance(gold, Gold):
        label = gold.label or (gold.labels[0] if len(gold.labels) == 1 else None)
        return label, gold.taxonomy
    return (str(gold), None) if gold is not None else (None, None)


def _to_label(label: str | None, source: str | None, target: str) -> str | None:
    if label is None:
        return None
    if source and source != target:
        mapped = map_label(label, source, target)
        if mapped is not None:
            return mapped
    return normalize_label(label, target).label


def _rescale(gold: Any, scale: tuple[float, float]) -> float | None:
    if isinstance(gold, Gold):
        value, source = gold.value, gold.scale
    else:
        value, source = gold, None
    if value is None:
        return None
    value = float(value)
    if source and tuple(source) != tuple(scale):
        value = scale[0] + (value - source[0]) / (source[1] - source[0]) * (scale[1] - scale[0])
    return round(value, 2)


def exemplar_answer(gold: dict[str, Any], context: StrategyContext) -> dict[str, Any]:
    """An exemplar's gold written as the answer object the prompt asks for.

    `gold` maps dimension -> `Gold` (or a plain label / number / {label: share}). Only configured
    dimensions appear; labels are mapped onto the prompt's label sets; numbers are rescaled from
    the gold's scale to the stated one; a ranking (and, without an emotion label, the raters'
    unique majority) comes from a distribution; polarity may come from the emotion label's polarity.
    A dimension without gold (and `confidence`, which no dataset annotates) is left out rather than
    invented.
    """
    dims = check_dimensions(context.task.dimensions)
    taxonomy = get_taxonomy(context.task.taxonomy).name
    emotion_labels = label_orders(context).get("emotion", get_taxonomy(taxonomy).names)
    answer: dict[str, Any] = {}
    emotion, emotion_tax = _gold_label(gold.get("emotion"))
    emotion = _to_label(emotion, emotion_tax, taxonomy)
    distribution = _distribution(gold.get("distribution"), taxonomy)
    if emotion is None and distribution:
        top = max(distribution.values())
        winners = [label for label, share in distribution.items() if share == top]
        emotion = winners[0] if len(winners) == 1 else None  # the raters' majority; a tie stays unsaid
    for dim in dims:
        if dim == "polarity":
            pol_tax = polarity_taxonomy(context)
            label, source = _gold_label(gold.get("polarity"))
            value = _to_label(label, source, pol_tax)
            if value is None and emotion is not None:
                value = map_label(emotion, taxonomy, pol_tax)
            if value is not None:
                answer[dim] = value
        elif dim == "emotion" and emotion is not None:
            answer[dim] = emotion
        elif dim == "distribution" and distribution:
            answer[dim] = {label: round(distribution.get(label, 0.0), 2) for label in emotion_labels}
        elif dim == "ranking" and distribution:
            # Highest share first; ties keep the presented order.
            answer[dim] = sorted(emotion_labels, key=lambda lab: -distribution.get(lab, 0.0))
        elif dim in ("intensity", "valence", "arousal") and gold.get(dim) is not None:
            value = _rescale(gold[dim], scale_of(context, dim))
            if value is not None:
                answer[dim] = value
    return answer


def _distribution(gold: Any, taxonomy: str) -> dict[str, float] | None:
    shares = gold.distribution if isinstance(gold, Gold) else gold
    if not isinstance(shares, dict) or not shares:
        return None
    source = gold.taxonomy if isinstance(gold, Gold) else None
    mapped: dict[str, float] = {}
    for label, share in shares.items():
        target = _to_label(str(label), source, taxonomy)
        if target is not None and share is not None:
            mapped[target] = mapped.get(target, 0.0) + float(share)
    total = sum(mapped.values())
    return {label: share / total for label, share in mapped.items()} if total > 0 else None
