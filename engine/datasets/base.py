"""The common item type every dataset loader produces, and the loader registry."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.registry import Registry

CATEGORICAL = ("polarity", "emotion")
CONTINUOUS = ("valence", "arousal", "intensity")
DIMENSIONS = (*CATEGORICAL, "ranking", *CONTINUOUS, "distribution", "confidence")


def normalise_value(dimension: str, value: float | None, scale: tuple[float, float] | None) -> float | None:
    """Source-scale value -> valence in [-1, 1]; arousal and intensity in [0, 1]."""
    if value is None or scale is None or (isinstance(value, float) and math.isnan(value)):
        return None
    low, high = scale
    unit = (float(value) - low) / (high - low)
    return 2 * unit - 1 if dimension == "valence" else unit


@dataclass
class Gold:
    """Gold annotation of one item on one dimension."""

    label: str | None = None
    labels: tuple[str, ...] = ()  # every majority label; more than one means a tie
    value: float | None = None
    scale: tuple[float, float] | None = None
    sd: float | None = None
    n_raters: int | None = None
    distribution: dict[str, float] | None = None
    taxonomy: str | None = None


@dataclass
class Item:
    """One image plus whatever gold annotations its dataset has."""

    item_id: str
    image_path: str | None  # relative to the dataset root
    gold: dict[str, Gold] = field(default_factory=dict)
    split: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    image_sha256: str | None = None


@dataclass
class LoadProblem:
    """One row that could not be loaded, with what to do about it."""

    row: str
    message: str

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


@dataclass
class Dataset:
    name: str
    loader: str
    root: Path | None
    items: list[Item]
    taxonomy: str | None = None
    scales: dict[str, tuple[float, float]] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)
    splits: dict[str, list[str]] = field(default_factory=dict)  # named subsets -> item ids
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dimensions(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in self.items:
            for dim in item.gold:
                seen[dim] = None
        return list(seen)

    def image_file(self, item: Item) -> Path | None:
        if item.image_path is None:
            return None
        return (self.root / item.image_path) if self.root else Path(item.image_path)

    def subset(self, split: str | None = None, limit: int | None = None) -> "Dataset":
        """Items of a named subset (a `splits` key or an item split value), first `limit` of them."""
        items = self.items
        if split:
            if split in self.splits:
                keep = set(self.splits[split])
                items = [item for item in items if item.item_id in keep]
            else:
                items = [item for item in items if item.split == split]
                if not items:
                    raise ValueError(f"dataset {self.name!r} has no split {split!r}; "
                                     f"known: {', '.join(sorted(set(self.splits) | {i.split for i in self.items if i.split}))}")
        if limit is not None:
            items = items[:limit]
        return Dataset(self.name, self.loader, self.root, list(items), self.taxonomy, dict(self.scales),
                       list(self.problems), dict(self.splits), dict(self.meta))

    def manifest_sha256(self) -> str:
        """Hash over every item's id, image hash and gold, so a changed dataset shows in provenance."""
        digest = hashlib.sha256()
        for item in sorted(self.items, key=lambda i: i.item_id):
            gold = {dim: [g.label, list(g.labels), g.value, g.distribution] for dim, g in sorted(item.gold.items())}
            digest.update(json.dumps([item.item_id, item.image_sha256, gold], sort_keys=True, default=str).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class DatasetInfo:
    """What a release is and what it should contain: shown by `datasets list`, checked by `datasets show`.

    `expected` maps a split name (or "all") to the number of images the official release has there;
    `access` is "public" (a direct download), "page" (download by hand from `homepage`), "request"
    (a licence or request form first) or "account" (a site login first).
    """

    title: str
    citation: str
    licence: str
    homepage: str
    access: str = "page"
    dimensions: tuple[str, ...] = ()
    taxonomy: str | None = None
    expected: dict[str, int] = field(default_factory=dict)
    reads: str = ""  # the files the loader reads, in the release's own names
    config: str = ""  # the config entry, e.g. "{name: rafdb, path: data/RAF-DB/basic}"


Loader = Callable[..., Dataset]


@dataclass(frozen=True)
class LoaderEntry:
    """A registered dataset format: its loader and, for a known release, what the release is."""

    name: str
    load: Loader
    info: DatasetInfo | None = None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.info.dimensions if self.info else ()


LOADERS: Registry[LoaderEntry] = Registry("dataset format", "affectlens.loaders", ("engine.datasets",),
                                          lambda name, loaded: LoaderEntry(name, loaded))


def register_loader(name: str, info: DatasetInfo | None = None,
                    aliases: tuple[str, ...] = ()) -> Callable[[Loader], Loader]:
    """Register a loader under `name` (and other format names a config may use for it, `aliases`); `info`
    describes the release it reads (generic formats have none)."""
    def wrap(fn: Loader) -> Loader:
        LOADERS.add(name, LoaderEntry(name, fn, info), fn, aliases)
        return fn
    return wrap


def canonical_format(name: str) -> str:
    """The loader a format name stands for (`csv` -> `manifest`), lower-cased; unknown names come back as given."""
    return LOADERS.canonical(str(name).lower())


def is_format(name: str) -> bool:
    """Whether `name` is a loader's name or one of its aliases."""
    return LOADERS.find(canonical_format(name)) is not None


def loader_info(name: str) -> DatasetInfo | None:
    """The release description registered with loader `name`, or None for a generic format."""
    found = LOADERS.find(name)
    return found.info if found else None


def loader_names() -> list[str]:
    """Built-in loaders and those installed plugins add (entry points `affectlens.loaders`), sorted."""
    return sorted(LOADERS.names())


def get_loader(name: str) -> Loader:
    """The loader function of format `name`; an unknown one raises KeyError with the choices."""
    return LOADERS.get(name).load
