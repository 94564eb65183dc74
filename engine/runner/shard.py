"""Sharded experiments: `affectlens run CONFIG --shard i/n` evaluates a deterministic 1/n of each run's items.

An item belongs to shard `1 + int(sha256(dataset/item_id)[:16], 16) % n`: the same item always
lands in the same shard, on any machine, whatever else is in the dataset, so a resumed shard does
the same items and the n shards together do every item exactly once. The shard is a filter applied
last, to the items an invocation would evaluate; it is not part of the run id and `runs.n_items`
keeps the full evaluated-set size, so the n stores hold parts of the *same* runs and
`affectlens merge` puts them back together item by item. The shard is recorded in the run's provenance.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["Shard", "parse_shard", "in_shard", "shard_items"]

Shard = tuple[int, int]  # (index from 1, count)


def parse_shard(text: str | None) -> Shard | None:
    """"2/3" -> (2, 3); None stays None; anything else is a ValueError naming the fix."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard {text!r}: give i/n with 1 <= i <= n, e.g. --shard 1/3 (then 2/3 and 3/3 "
                         "on other machines, and `affectlens merge` the stores)")
    return int(match.group(1)), int(match.group(2))


def in_shard(dataset: str, item_id: str, shard: Shard | None) -> bool:
    if shard is None or shard[1] == 1:
        return True
    digest = hashlib.sha256(f"{dataset}/{item_id}".encode()).hexdigest()
    return 1 + int(digest[:16], 16) % shard[1] == shard[0]


def shard_items(items: Sequence[Any], dataset: str, shard: Shard | None) -> list[Any]:
    """The items of `items` (having `.item_id`) in `shard`, in their order."""
    return [item for item in items if in_shard(dataset, item.item_id, shard)]
