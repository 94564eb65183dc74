"""Viewer mode against a real Streamlit server in headless Chromium: the password throttle (per session and
per client address, logged without the password), a sign-in that survives a reload, and uploads refused
at the server's upload endpoint for a session that is not signed in."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image

import browser

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 42"


@pytest.fixture(scope="module")
def hosted(seeded, tmp_path_factory):
    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    folder = tmp_path_factory.mktemp("hosted")
    log = folder / "server.log"
    env = {"AFFECTLENS_VIEWER_MODE": "1", "AFFECTLENS_PASSWORD": PASSWORD,
           "AFFECTLENS_COOKIE_SECRET": "cookie-secret-for-the-test", "AFFECTLENS_SIGNIN_DELAY_S": "15",
           "AFFECTLENS_THUMBNAIL_DIR": str(folder / "t")}
    with browser.serve(seeded, env=env, log_path=log) as url:
        yield url, log


def _sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def _try_password(page, password: str) -> str:
    box = page.locator('[data-testid="stSidebar"] input[type="password"]')
    box.fill(password)
    page.locator('[data-testid="stSidebar"] button', has_text="Unlock").click()
    page.wait_for_timeout(300)
    browser.settle(page, quiet_ms=400)
    return _sidebar_text(page)


def _open_panel(page, label: str) -> str:
    """Click a sidebar panel's header open (its widgets are drawn only then); returns the sidebar's text."""
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary', has_text=label).click()
    page.wait_for_timeout(300)
    browser.settle(page, quiet_ms=400)
    return _sidebar_text(page)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 60)).save(out, "PNG")
    return out.getvalue()


def test_throttle_cookie_and_upload_gate(hosted, tmp_path):
    from playwright.sync_api import sync_playwright

    url, log = hosted
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        try:
            first = chrome.new_context().new_page()
            browser.open_page(first, url)
            assert "Viewer mode: sign in" in _sidebar_text(first)
            assert "Sign in to upload images" in _open_panel(first, "Analyse an image")
            assert not first.locator('[data-testid="stFileUploaderDropzoneInput"]').count()

            # a wrong password, then at once another guess: refused unchecked during the growing delay
            assert "Wrong password. Next try in 15 s" in _try_password(first, "guess-number-one")
            assert "Too many wrong passwords: wait" in _try_password(first, "guess-number-two")

            # another session from the same address meets the address's delay, even with the right password
            second = chrome.new_context().new_page()
            browser.open_page(second, url)
            assert "Too many wrong passwords: wait" in _try_password(second, PASSWORD)
            assert "Signed in" not in _sidebar_text(second)

            # a guess during the wait is not counted: once the address's delay has passed, the right one works
            deadline = time.monotonic() + 40
            while "Signed in" not in _try_password(second, PASSWORD):
                assert time.monotonic() < deadline, "still refused long after the delay"
                time.sleep(2)
            _open_panel(second, "Analyse an image")
            second.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached")

            # the sign-in survives a reload (a signed, expiring cookie)
            cookies = {c["name"]: c["value"] for c in second.context.cookies()}
            assert re.fullmatch(r"\d+\.[\w-]+\.[\w-]+", cookies.get("affectlens_auth", ""))
            browser.open_page(second, url)
            assert "Signed in" in _sidebar_text(second)
            _open_panel(second, "Analyse an image")  # a reload is a new session: its panels start closed

            # a signed-in upload reaches the server; after signing out the same session's PUT is refused
            puts: list[str] = []
            second.on("request", lambda r: puts.append(r.url) if "/_stcore/upload_file/" in r.url
                      and r.method == "PUT" else None)
            picture = tmp_path / "scene.png"
            picture.write_bytes(_png())
            with second.expect_response(lambda r: "/_stcore/upload_file/" in r.url
                                        and r.request.method == "PUT") as accepted:
                second.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(picture))
            assert accepted.value.status == 204 and puts
            browser.settle(second, quiet_ms=400)
            second.locator('[data-testid="stSidebar"] button', has_text="Sign out").click()
            second.wait_for_timeout(300)
            browser.settle(second, quiet_ms=400)
            assert "Viewer mode: sign in" in _sidebar_text(second)
            xsrf = {c["name"]: c["value"] for c in second.context.cookies()}.get("_streamlit_xsrf", "")
            replay = re.sub(r"/[^/]+$", "/replayed-file-id", puts[0])
            refused = second.request.put(replay, headers={"X-Xsrftoken": xsrf}, multipart={
                "file": {"name": "again.png", "mimeType": "image/png", "buffer": _png()}})
            assert refused.status == 400, refused.status
        finally:
            chrome.close()
    text = log.read_text(errors="replace")
    assert "failed viewer-mode sign-in: session:" in text and "failed viewer-mode sign-in: address:127.0.0.1" in text
    assert "refused an upload from a session that is not signed in" in text
    for typed in ("guess-number-one", "guess-number-two", PASSWORD):
        assert typed not in text
