"""Every page in a real browser: `streamlit run` on the seeded store, headless Chromium through Playwright.

Screenshots go to a temporary folder, or to the folder named by AFFECTLENS_SCREENSHOTS (e.g.
`AFFECTLENS_SCREENSHOTS=docs/screenshots pytest -m browser tests/dashboard/test_browser.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser
import seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(seeded, tmp_path_factory):
    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    env = {"AFFECTLENS_THUMBNAIL_DIR": str(tmp_path_factory.mktemp("thumbs"))}
    with browser.serve(seeded, env=env) as url:
        yield url


def test_every_page_draws_without_a_streamlit_exception(base_url, tmp_path):
    target = Path(os.environ.get("AFFECTLENS_SCREENSHOTS") or tmp_path)
    hardest = seed.item_id(max(seed.GOLD, key=seed.failures))
    pages = {**browser.PAGES, f"gallery?item={hardest}": "gallery-detail"}
    with browser.chromium() as page:
        for path, name in pages.items():
            browser.open_page(page, f"{base_url}/{path}")
            assert not browser.exceptions(page), (name, browser.exceptions(page))
            main = page.locator('[data-testid="stMain"]')
            assert main.locator("h1").count() == 1, f"{name}: no page title drawn"
            if name in ("overview", "comparison", "dimensions", "ablations", "gallery-detail"):
                assert page.locator('[data-testid="stVegaLiteChart"] canvas, '
                                    '[data-testid="stVegaLiteChart"] svg.marks').count() > 0, f"{name}: no chart"
            if name == "gallery":
                assert page.locator('[data-testid="stImage"] img').count() == len(seed.GOLD)
            if name == "gallery-detail":
                assert f"faces / {hardest}" in main.inner_text()
            shot = browser.screenshot(page, target / f"{name}.png")
            assert shot.stat().st_size > 10_000
