"""The catalogue of built-in dataset releases, kept as data in `engine/data/releases.yaml`.

Each entry describes one release once: what it is (`DatasetInfo`: title, citation, licence, homepage,
access, dimensions, taxonomy, expected counts, the files the loader reads, a config example) and, under
`download`, how `affectlens datasets fetch` gets it (`engine.datasets.sources.Source`). A loader takes
its description with `INFO = release_info("name")`; a name with no entry is an error naming the file
to add it to.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from engine.datasets.base import DatasetInfo

__all__ = ["CATALOGUE", "release_entries", "release_info"]

CATALOGUE = resources.files("engine") / "data" / "releases.yaml"


@lru_cache(maxsize=1)
def release_entries() -> dict[str, dict[str, Any]]:
    """Every entry of the catalogue, by dataset name, in the file's order (read once)."""
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def release_info(name: str) -> DatasetInfo:
    """The `DatasetInfo` of release `name` (its catalogue entry less `download`)."""
    entry = release_entries().get(name)
    if entry is None:
        raise KeyError(f"no release {name!r} in {CATALOGUE}; add an entry for it there")
    fields = {key: value for key, value in entry.items() if key != "download"}
    return DatasetInfo(**{**fields, "dimensions": tuple(fields.get("dimensions", ()))})
