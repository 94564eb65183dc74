"""Fixtures for the dashboard tests: a seeded store with known numbers and an AppTest on the real app."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seed  # noqa: E402

APP = HERE.parents[1] / "dashboard" / "app.py"


def _pages() -> list[str]:
    """The page files app.py routes to (its PAGES list, read without running Streamlit)."""
    tree = ast.parse(APP.read_text())
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    return [file for file, _title, _icon in listed]  # a listed page without its file fails the tests


PAGES = _pages()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Path:
    """The seeded store (built once per session; tests that write use `fresh_store`)."""
    folder = tmp_path_factory.mktemp("seeded")
    return seed.build_store(folder / "results.duckdb", folder / "images")


@pytest.fixture
def fresh_store(tmp_path, seeded) -> Path:
    """A private copy of the seeded store and its images, for tests that add runs."""
    shutil.copytree(seeded.parent, tmp_path / "copy")
    copy = tmp_path / "copy" / "results.duckdb"
    from engine.store import connect
    with connect(copy) as con:  # the dataset root must point at the copied images
        con.execute("UPDATE datasets SET root = ?, meta = json_merge_patch(meta, ?)",
                    [str(tmp_path / "copy" / "images"),
                     '{"source": "%s"}' % (tmp_path / "copy" / "images" / "faces.csv")])
    return copy


@pytest.fixture(autouse=True)
def dashboard_env(monkeypatch, tmp_path):
    """Each test reads the seeded store unless it says otherwise; caches go to its own folder."""
    monkeypatch.setenv("AFFECTLENS_THUMBNAIL_DIR", str(tmp_path / "thumbnails"))
    for name in ("AFFECTLENS_VIEWER_MODE", "AFFECTLENS_PASSWORD", "AFFECTLENS_BLUR_IMAGES", "OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield
    from dashboard.connection import close_all
    close_all()


@pytest.fixture
def app(seeded, monkeypatch):
    """An AppTest of dashboard/app.py on the seeded store, run once (Overview)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    return at


PANELS = {"filters": "panel-filters", "run set": "panel-run-set", "settings": "panel-settings", "analysis": "panel-analysis",
          "upload": "panel-upload"}  # the sidebar panels drawn only while open (layout.panel)


def open_panels(at, *names: str):
    """Open these sidebar panels (as a click on their headers does) and rerun; returns the AppTest."""
    for name in names:
        at.session_state[PANELS[name]] = True
    return at.run()


def figures(at) -> dict[str, str]:
    """The Overview's headline figures ("**3** datasets · ... · **\\$0.0040** spent"), {label: value}."""
    import re

    line = next(m.value for m in at.markdown if " datasets · " in m.value)
    return {label: value.replace("\\$", "$") for value, label in re.findall(r"\*\*(.+?)\*\* ([^·]+?)(?: ·|$)", line)}


def texts(at) -> str:
    """Everything the page shows as markdown, captions, info and headings, joined (for `in` checks)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [h.value for h in at.subheader] + [h.value for h in at.title] + [w.value for w in at.warning]
    parts += [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def tables(at) -> list:
    """Every table the page shows as frames: the dataframe grids' and the light sortable tables' (their values in
    the page's own order)."""
    import json

    light = [light_frame(json.loads(e.proto.json)) for e in at.get("bidi_component")
             if e.proto.component_name == "affectlens_table"]
    return [f.value for f in at.dataframe] + light


def light_frame(payload: dict):
    """The frame a light table's payload (`tables.payload`) carries: its raw values under the column names, in the
    page's own order."""
    import pandas as pd

    return pd.DataFrame(payload["values"], columns=[c["name"] for c in payload["columns"]])


def table_with(at, column: str):
    """The first table with `column` among those the page shows."""
    shown = tables(at)
    for table in shown:
        if column in table.columns:
            return table
    raise AssertionError(f"no table with a {column!r} column; tables: {[list(t.columns) for t in shown]}")
