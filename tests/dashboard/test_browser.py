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
                assert page.locator('[data-testid="alTable"] table').count() >= 2
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


def _light_table(page, header: str):
    """The light table (tables.sortable) whose header row names `header`: (its locator, header texts, rows of cell
    texts)."""
    table = page.locator('[data-testid="alTable"] table').filter(has=page.locator("th", has_text=header)).first
    heads = table.locator("th").all_inner_texts()
    rows = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    return table, heads, rows


def test_overview_tables_sort_by_their_headers_and_grey_cells_below_threshold(seeded_url):
    """The leaderboard sorts by a clicked header (ascending, descending, then its ranked order again), numbers as
    numbers; the results matrix greys the cells below the ranking thresholds (markup in values: test_tables)."""
    with browser.chromium() as page:
        browser.open_page(page, f"{seeded_url}/")
        table, heads, ranked = _light_table(page, "95% CI")
        assert len(ranked) >= 2
        n = heads.index("n_total")
        model = heads.index("model")
        table.locator("th", has_text="model").first.click()
        _, _, up = _light_table(page, "95% CI")
        assert [r[model] for r in up] == sorted(r[model] for r in ranked)
        table.locator("th", has_text="model").first.click()
        _, _, down = _light_table(page, "95% CI")
        assert [r[model] for r in down] == sorted((r[model] for r in ranked), reverse=True)
        assert table.locator("th", has_text="model").first.get_attribute("aria-sort") == "descending"
        table.locator("th", has_text="model").first.click()
        _, _, again = _light_table(page, "95% CI")
        assert again == ranked
        table.locator("th", has_text="n_total").first.click()
        _, _, by_n = _light_table(page, "95% CI")
        assert [int(r[n]) for r in by_n] == sorted(int(r[n]) for r in ranked)
        browser.open_page(page, f"{seeded_url}/?matrix_metric=accuracy")  # over answered items: n below MIN_N
        grid, _, rows = _light_table(page, "mean win rate")
        greyed = grid.locator("td.muted").all_inner_texts()
        assert len(greyed) == 2 * len(rows) and all("below threshold" in t for t in greyed[1::2]), greyed
