"""Cached wrappers over `engine.explain.queries` for the Explain page (and the gallery's heatmaps).

Each wrapper keys its cache by the store file's version (modification time and size), so a new
occlusion or probe run shows on the next rerun, and by its arguments; entries also expire after
`AFFECTLENS_CACHE_TTL` seconds. A store the engine holds for longer than a page should wait becomes
`StoreBusy`, a missing one `StoreMissing` (both shown as a message by `dashboard.state.store_guard`).
Overlay PNGs are rendered once per (image, map) and cached too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import settings
from dashboard.data import StoreBusy, StoreMissing, store_version
from engine.explain import queries
from engine.store import StoreLockedError

TTL = settings.cache_ttl_s()


@contextlib.contextmanager
def _guarded(db: str) -> Iterator[None]:
    if not Path(db).exists():
        raise StoreMissing(f"no results store at {db}; create one with `affectlens demo` or "
                           "`affectlens run CONFIG.yaml`, or pick another file in the sidebar")
    from dashboard.connection import reader

    with reader(db):  # a DuckDB file that is not an AffectLens store becomes StoreMissing with its message
        pass
    try:
        yield
    except StoreLockedError as exc:
        raise StoreBusy(f"the engine is writing to {db}; results will appear when it is done") from exc
    except duckdb.CatalogException as exc:  # an older store without the explain tables
        raise StoreMissing(f"{Path(db).name} lacks a table the Explain page reads ({exc.__class__.__name__}); "
                           "it was written by an older AffectLens: any `affectlens` command that writes to it "
                           "brings its schema up to date") from exc


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def _overview(db: str, version: tuple) -> pd.DataFrame:
    return queries.explanation_overview(db)


def overview(db: str) -> pd.DataFrame:
    """Maps in the store per dataset, model, strategy, method and measure."""
    with _guarded(db):
        return _overview(db, store_version(db))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=64)
def _items(db: str, version: tuple, dataset: str) -> pd.DataFrame:
    return queries.explained_items(db, dataset)


def items(db: str, dataset: str) -> pd.DataFrame:
    """Items of a dataset that have maps."""
    with _guarded(db):
        return _items(db, store_version(db), dataset)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def _maps(db: str, version: tuple, dataset: str, item_id: str) -> pd.DataFrame:
    return queries.item_maps(db, dataset, item_id)


def maps(db: str, dataset: str, item_id: str) -> pd.DataFrame:
    """Every map of one item, with its image location."""
    with _guarded(db):
        return _maps(db, store_version(db), dataset, item_id)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=16)
def _reasoning_datasets(db: str, version: tuple) -> list[str]:
    return queries.reasoning_datasets(db)


def reasoning_datasets(db: str) -> list[str]:
    with _guarded(db):
        return _reasoning_datasets(db, store_version(db))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=16)
def _reasoning(db: str, version: tuple, dataset: str, baseline: str) -> dict[str, pd.DataFrame]:
    return queries.reasoning_tables(db, dataset, baseline=baseline)


def reasoning(db: str, dataset: str, baseline: str = "zero-shot") -> dict[str, pd.DataFrame]:
    """Cue shares, inconsistency, cue shift against `baseline`, and example reasonings of a dataset."""
    with _guarded(db):
        return _reasoning(db, store_version(db), dataset, baseline)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=16)
def _probes(db: str, version: tuple, dataset: str | None) -> pd.DataFrame:
    return queries.probe_table(db, dataset)


def probes(db: str, dataset: str | None = None) -> pd.DataFrame:
    """Probe comparisons against the unperturbed runs."""
    with _guarded(db):
        return _probes(db, store_version(db), dataset)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=512)
def _overlay(image_file: str, mtime: float, values: tuple, shape: tuple, method: str, vmax: float | None) -> bytes:
    from engine.explain.export import render

    grid = np.array(values, dtype=float).reshape(shape)
    return render(Path(image_file), grid, method, vmax=vmax)


def overlay_png(db: str, row: dict, vmax: float | None = None) -> bytes | None:
    """The PNG of one map (a row of `maps`) over its image; None when the image file is not here."""
    image_file = queries.resolve_image(row.get("root"), row.get("image_path"), db)
    if image_file is None:
        return None
    values = np.asarray(row["values"], dtype=float)
    return _overlay(str(image_file), image_file.stat().st_mtime, tuple(values.ravel().tolist()), values.shape,
                    row["method"], vmax)
