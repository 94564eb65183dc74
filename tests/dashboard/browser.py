"""Drive the real dashboard: start `streamlit run` on a store, open pages in headless Chromium, wait until
Streamlit has finished drawing, and take screenshots. Used by the browser test and the benchmark."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[2]
WARM_MESSAGE = "AffectLens dashboard warm in"  # printed by dashboard.launch


def _pages() -> dict[str, str]:
    """URL path -> screenshot name for every page app.py routes to (the first is the default, at "/")."""
    from tests.dashboard.conftest import PAGES as files

    stems = [Path(file).stem for file in files]
    return {("" if i == 0 else stem): stem for i, stem in enumerate(stems)}


PAGES = _pages()  # the gallery detail view is opened through its link (?item=...)

_SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""
_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
  .filter(chart => chart.offsetParent !== null)  // charts in closed expanders or other tabs are not drawn
  .every(chart => chart.querySelector('canvas, svg.marks'))"""


def browser_available() -> str | None:
    """None when a real-browser test can run here, else the reason it cannot."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(db: str | os.PathLike, *, env: dict[str, str] | None = None, timeout_s: float = 90,
          log_path: str | os.PathLike | None = None, warm: bool = False,
          app: str | os.PathLike | None = None, port: int | None = None) -> Iterator[str]:
    """Run the dashboard on `db` and yield its base URL; the python process is killed afterwards.
    With `log_path`, the server's stdout and stderr (its log) go to that file. With `warm`, the server is
    started by the warming launcher (`python -m dashboard`) and yielded once it reports itself warm. With `app`,
    that Streamlit script is served instead of the dashboard; with `port`, on that port (a restart keeps it)."""
    port = port or free_port()
    if warm and not log_path:
        log_path = Path(tempfile.mkdtemp(prefix="affectlens-serve-")) / "server.log"
    log = open(log_path, "wb") if log_path else None
    launcher = ["dashboard"] if warm else ["streamlit", "run", str(app or REPO / "dashboard" / "app.py")]
    process = subprocess.Popen(
        [sys.executable, "-m", *launcher, "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none"],
        cwd=REPO, env={**os.environ, "AFFECTLENS_DB": str(db), **(env or {})},
        stdout=log or subprocess.DEVNULL, stderr=log or subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None:
                text = Path(log_path).read_bytes() if log else process.stderr.read()
                raise RuntimeError(f"streamlit exited: {text.decode(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer {base}/_stcore/health within {timeout_s:.0f} s")
            time.sleep(0.2)
        while warm and WARM_MESSAGE not in Path(log_path).read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not report itself warm: {Path(log_path).read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.kill()  # the python process itself, not a shell around it
        process.wait(timeout=30)
        if log:
            log.close()


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def settle(page, *, quiet_ms: int = 800, timeout_s: float = 120) -> None:
    """Wait until the script has finished, nothing is loading, and that has held for `quiet_ms`
    (a page may rerun once when it first routes through the app)."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while True:
        if page.evaluate(_SETTLED):
            quiet_since = quiet_since or time.monotonic()
            if (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                break
        else:
            quiet_since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url} was still running after {timeout_s:.0f} s")
        page.wait_for_timeout(50)
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout_s * 1000, polling=100)


def open_page(page, url: str) -> float:
    """Open `url`, wait until drawn; returns seconds from navigation to drawn (excluding the quiet wait)."""
    started = time.monotonic()
    page.goto(url)
    settle(page, quiet_ms=800)
    return time.monotonic() - started - 0.8


def exceptions(page) -> list[str]:
    return [e.inner_text()[:500] for e in page.locator('[data-testid="stException"]').all()]


def screenshot(page, path: Path, *, width: int = 1400, max_height: int = 5000, colours: int = 128) -> Path:
    """A full-height screenshot of the main area, saved as a palette PNG (small enough to commit)."""
    from PIL import Image

    height = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(int(height) + 120, max_height)})
    page.wait_for_timeout(400)
    settle(page, quiet_ms=300)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colours, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    page.set_viewport_size({"width": width, "height": 1000})
    return path


def picker(page, label: str):
    """The selectbox (a combo box named by its label) in the main area."""
    return page.locator('[data-testid="stMain"]').get_by_role("combobox", name=label, exact=True).first


def picker_value(page, label: str) -> str:
    """The text a selectbox shows now."""
    return picker(page, label).input_value().strip()


def choose(page, label: str, option: str, *, param: str, value: str | None = None, timeout_s: float = 60) -> float:
    """Pick `option` in the selectbox `label`, wait until the address holds `param=value` (the page writes
    every picker there) and the page has drawn again; returns seconds from the click to drawn."""
    from urllib.parse import parse_qs, urlparse

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):  # a rerun that lands while the list opens closes it again: open it anew
        started = time.monotonic()  # timed from the click that opened the list the option was picked from
        picker(page, label).click()
        try:
            page.get_by_role("option", name=option, exact=True).first.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    wanted = value if value is not None else option
    deadline = time.monotonic() + timeout_s
    while parse_qs(urlparse(page.url).query).get(param, [None])[-1] != wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the address never held {param}={wanted}: {page.url}")
        page.wait_for_timeout(25)
    settle(page, quiet_ms=300)
    return time.monotonic() - started - 0.3
