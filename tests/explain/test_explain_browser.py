"""The Explain page in a real browser: `streamlit run` on the explain store, headless Chromium through
Playwright (the dashboard's browser helpers). The screenshot goes to a temporary folder, or to the folder
named by AFFECTLENS_SCREENSHOTS."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
import browser  # noqa: E402

pytestmark = pytest.mark.browser

# Charts in a tab that is not shown are not drawn until it is: wait for the visible ones only.
_VISIBLE_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
  .filter(chart => chart.offsetParent !== null).every(chart => chart.querySelector('canvas, svg.marks'))"""


def _settle(page, timeout_s: float = 120) -> None:
    page.wait_for_function(browser._SETTLED, timeout=timeout_s * 1000, polling=100)
    page.wait_for_timeout(800)  # a page may rerun once when it first routes through the app
    page.wait_for_function(browser._SETTLED, timeout=timeout_s * 1000, polling=100)
    page.wait_for_function(_VISIBLE_CHARTS_DRAWN, timeout=timeout_s * 1000, polling=100)


def _screenshot(page, path: Path, width: int = 1400) -> Path:
    """A full-height palette PNG of the page as shown (the helper's, with the visible-chart wait)."""
    import io

    from PIL import Image

    height = page.evaluate("""document.querySelector('[data-testid="stMainBlockContainer"]').scrollHeight""")
    page.set_viewport_size({"width": width, "height": min(int(height) + 120, 5000)})
    page.wait_for_timeout(400)
    _settle(page)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def test_explain_page_draws_overlays_without_an_exception(explain_store, tmp_path):
    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    db, *_ = explain_store
    target = Path(os.environ.get("AFFECTLENS_SCREENSHOTS") or tmp_path)
    with browser.serve(db, env={"AFFECTLENS_THUMBNAIL_DIR": str(tmp_path / "thumbs")}) as url:
        with browser.chromium() as page:
            page.goto(f"{url}/explain")
            _settle(page)
            assert not browser.exceptions(page), browser.exceptions(page)
            main = page.locator('[data-testid="stMain"]')
            assert main.locator("h1").inner_text().strip() == "Explain"
            assert page.locator('[data-testid="stImage"] img').count() >= 1
            for tab in ("Reasoning", "Probes"):
                page.get_by_role("tab", name=tab).click()
                _settle(page)
                assert not browser.exceptions(page), (tab, browser.exceptions(page))
            _screenshot(page, target / "explain-probes.png")  # the probe matrix, its rows told apart
            assert page.locator('[data-testid="stVegaLiteChart"] canvas, '
                                '[data-testid="stVegaLiteChart"] svg.marks').count() > 0
            page.get_by_role("tab", name="Heatmaps").click()
            _settle(page)
            shot = _screenshot(page, target / "explain.png")
    assert shot.stat().st_size > 10_000
