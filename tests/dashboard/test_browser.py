"""Every page in a real browser: `streamlit run` on the seeded store, headless Chromium through Playwright.

Screenshots go to a temporary folder, or to the folder named by AFFECTLENS_SCREENSHOTS; the store can
be swapped with AFFECTLENS_SCREENSHOT_DB (docs/screenshots/screenshots.yaml says how the committed ones
were made):

    AFFECTLENS_SCREENSHOTS=docs/screenshots AFFECTLENS_SCREENSHOT_DB=shots.duckdb \\
        pytest -m browser tests/dashboard/test_browser.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser
from dashboard import data

pytestmark = pytest.mark.browser
# pages whose screenshots this test keeps in docs/screenshots (the Explain page documents itself)
DOCUMENTED = {"overview", "comparison", "dimensions", "ablations", "gallery", "gallery-detail", "gallery-continuous",
              "slices", "runs"}


@pytest.fixture(scope="module")
def store(seeded) -> Path:
    return Path(os.environ.get("AFFECTLENS_SCREENSHOT_DB") or seeded)


@pytest.fixture(scope="module")
def base_url(store, tmp_path_factory):
    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    env = {"AFFECTLENS_THUMBNAIL_DIR": str(tmp_path_factory.mktemp("thumbs"))}
    with browser.serve(store, env=env) as url:
        yield url


@pytest.fixture(scope="module")
def seeded_url(seeded, store, base_url, tmp_path_factory):
    """The seeded store's server (the round trip names its models), the same one as `base_url` unless the
    screenshots are taken on another store."""
    if Path(store) == Path(seeded):
        yield base_url
        return
    env = {"AFFECTLENS_THUMBNAIL_DIR": str(tmp_path_factory.mktemp("thumbs-seeded"))}
    with browser.serve(seeded, env=env) as url:
        yield url


def test_every_page_draws_without_a_streamlit_exception(base_url, store, tmp_path):
    target = Path(os.environ.get("AFFECTLENS_SCREENSHOTS") or tmp_path)
    judged = data.judged_dimensions(store, data.Filters())
    top = judged.iloc[0]
    dimension = "emotion" if "emotion" in set(judged.loc[judged["eval_set"] == top["eval_set"], "dimension"]) \
        else top["dimension"]
    first = data.gallery_page(store, data.Filters(), data.GalleryQuery(data.Scope(top["dataset"], top["eval_set"],
                                                                                  dimension)))
    hardest = first.items["item_id"].iloc[0]
    pages = {**browser.PAGES, "?leaderboard_view=Chart": "overview-chart", f"gallery?item={hardest}": "gallery-detail"}
    every = data.scopes(store, data.Filters())
    continuous = every[every["dimension"] == "valence"]
    if len(continuous):  # the gallery of a continuous dimension, opened by its address
        row = continuous.iloc[0]
        pages[f"gallery?view_dataset={row['dataset']}&eval_set={row['eval_set']}&dimension=valence"] = \
            "gallery-continuous"
    with browser.chromium() as page:
        for path, name in pages.items():
            browser.open_page(page, f"{base_url}/{path}")
            assert not browser.exceptions(page), (name, browser.exceptions(page))
            main = page.locator('[data-testid="stMain"]')
            assert main.locator("h1").count() == 1, f"{name}: no page title drawn"
            if name == "overview":  # the matrix and the leaderboard's table (its chart waits in its tab)
                assert page.locator('[data-testid="stDataFrame"]').count() >= 2
            if name in ("overview-chart", "comparison", "dimensions", "ablations"):
                assert page.locator('[data-testid="stVegaLiteChart"] canvas, '
                                    '[data-testid="stVegaLiteChart"] svg.marks').count() > 0, f"{name}: no chart"
            if name == "gallery":
                assert page.locator('[data-testid="stImage"] img').count() == min(24, first.total)
            if name == "gallery-continuous":
                assert "by absolute error, largest first" in main.inner_text()
                assert page.locator('[data-testid="stImage"] img').count() >= 1
            if name == "slices":
                assert "Worst slices" in main.inner_text()
            if name == "gallery-detail":
                assert f"{top['dataset']} / {hardest}" in main.inner_text()
                assert page.locator('[data-testid="stImage"] img').count() >= 1
            shot = browser.screenshot(page, (target if name in DOCUMENTED else tmp_path) / f"{name}.png")
            assert shot.stat().st_size > 10_000


def test_a_copied_address_reopens_the_same_view_in_a_new_browser(seeded_url):
    """Choose a dimension and a model on the Dimensions page, copy the address, open it in a fresh browser:
    the same pickers show the same values and the page draws the same thing."""
    with browser.chromium() as page:
        browser.open_page(page, f"{seeded_url}/dimensions")
        assert browser.picker_value(page, "Dimension") == "emotion"
        browser.choose(page, "Model", "beta", param="view_model")
        browser.choose(page, "Strategy", "cot", param="view_strategy")
        browser.choose(page, "Dimension", "valence", param="dimension")
        assert browser.picker_value(page, "Model") == "beta", "a dependent picker kept the drawn value"
        copied = page.url
        drawn = page.locator('[data-testid="stMain"] h3').all_inner_texts()
    assert "view_model=beta" in copied and "dimension=valence" in copied
    with browser.chromium() as fresh:
        browser.open_page(fresh, copied)
        assert not browser.exceptions(fresh)
        shown = {label: browser.picker_value(fresh, label) for label in ("Dimension", "Model", "Strategy")}
        assert shown == {"Dimension": "valence", "Model": "beta", "Strategy": "cot"}
        assert fresh.locator('[data-testid="stMain"] h3').all_inner_texts() == drawn
        assert "circumplex" in " ".join(drawn).lower()
