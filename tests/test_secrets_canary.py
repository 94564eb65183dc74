"""Canary: keys set in the environment never reach the store, the journal, the logs, the exports or a page.

Unique canary values go into OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY and a custom variable.
Putting one in nested model options or in a URL is refused (exit 2, the value not repeated). Then an
experiment runs against the loopback fake vendor server, which echoes the key it received in its answer
text and, for some requests, in an error message; every table of the DuckDB file, the journal files
as they were written during the run, the CLI's log output (debug level), `affectlens export`, `scores` and
`runs`, and every dashboard page rendered by a real Streamlit server in headless Chromium are searched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from engine.store.db import connect
from tests.fakes import FakeVendorServer
from tests.fakes.server import Fault
from tests.runner.helpers import experiment, write_dataset

REPO = Path(__file__).resolve().parents[1]
RUN = uuid.uuid4().hex[:12]
CANARIES = {"OPENAI_API_KEY": f"sk-canaryOPENAI{RUN}", "ANTHROPIC_API_KEY": f"canary-anthropic-{RUN}",
            "GEMINI_API_KEY": f"canary-gemini-{RUN}", "LAB_SERVER_TOKEN": f"canary-lab-{RUN}"}


def _leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=REPO, timeout=300)


@pytest.fixture(scope="module")
def canary_env() -> dict[str, str]:
    return {**CANARIES, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory, canary_env):
    """An experiment whose server echoed the key; returns (store, captured journal text, CLI output)."""
    folder = tmp_path_factory.mktemp("canary")
    manifest = write_dataset(folder / "data", 9)
    db = folder / "results.duckdb"
    key = CANARIES["LAB_SERVER_TOKEN"]

    def answer(request) -> str:
        return f"Polarity: positive. (debug echo: {request.headers.get('authorization')} and {key})"

    def script(index, request):  # every third request: an error message quoting the key
        return Fault("status", 400, message=f"Invalid API key provided: {request.headers.get('authorization')}") \
            if index % 3 == 2 else None

    journal_text: list[str] = []
    stop = threading.Event()

    def watch_journal():  # the journal is merged and removed at the end: read it while it exists
        folder_j = db.parent / ".affectlens" / "journal"
        while not stop.is_set():
            for path in folder_j.glob("*.jsonl") if folder_j.exists() else []:
                try:
                    journal_text.append(path.read_text(errors="replace"))
                except OSError:
                    pass
            time.sleep(0.02)

    with FakeVendorServer("openai", answer=answer, script=script, api_key=key, latency_s=0.15) as fake:
        settings = experiment(manifest, fake.base_url, api_key_env="LAB_SERVER_TOKEN", concurrency=1,
                              max_attempts=1, price={"input": 1, "output": 2})
        config = folder / "experiment.yaml"
        config.write_text(yaml.safe_dump(settings))
        watcher = threading.Thread(target=watch_journal, daemon=True)
        watcher.start()
        try:
            done = _cli("-v", "run", str(config), "--db", str(db), env=canary_env)
        finally:
            stop.set()
            watcher.join()
        assert any(r.headers.get("authorization") == f"Bearer {key}" for r in fake.requests)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return db, "".join(journal_text), done.stdout + done.stderr


def test_nested_and_url_secrets_are_refused_without_echo(tmp_path, canary_env):
    manifest = write_dataset(tmp_path / "data", 2)
    cases = {
        "options.extra_headers.Authorization": {"options": {"extra_headers": {
            "Authorization": f"Bearer {CANARIES['OPENAI_API_KEY']}"}}},
        "options.extra_body.key": {"options": {"extra_body": {"key": CANARIES["GEMINI_API_KEY"]}}},
        "base_url: never put a credential": {"base_url": f"http://user:{CANARIES['ANTHROPIC_API_KEY']}@127.0.0.1:9/v1"},
        "its query string carries 'api-key'": {
            "base_url": f"http://127.0.0.1:9/v1?api-key={CANARIES['LAB_SERVER_TOKEN']}"},
    }
    for expected, model in cases.items():
        config = tmp_path / "bad.yaml"
        model = {"base_url": "http://127.0.0.1:9/v1", **model}
        config.write_text(yaml.safe_dump(experiment(manifest, model.pop("base_url"), **model)))
        done = _cli("run", str(config), "--db", str(tmp_path / "r.duckdb"), env=canary_env)
        assert done.returncode == 2, (expected, done.stderr)
        assert expected in done.stderr and "api_key_env" in done.stderr
        assert not _leaks(done.stdout + done.stderr), expected
    assert not (tmp_path / "r.duckdb").exists()


def test_no_canary_in_any_table_the_journal_the_logs_or_the_exports(canary_run, canary_env, tmp_path):
    db, journal, cli_output = canary_run
    with connect(db, read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        for table in tables:
            dump = con.execute(f'SELECT * FROM "{table}"').fetchdf().to_csv()
            assert not _leaks(dump), table
        texts = [t for (t,) in con.execute("SELECT text FROM responses WHERE status = 'ok'").fetchall()]
        errors = [e for (e,) in con.execute("SELECT error_message FROM responses WHERE status = 'error'").fetchall()]
    # the echoes were there to leak: stored masked, not dropped
    assert texts and all("debug echo: Bearer ***" in t for t in texts)
    assert errors and all("Invalid API key provided" in e and "***" in e for e in errors)
    assert '"kind":"response"' in journal and not _leaks(journal)
    assert "DEBUG" in cli_output and not _leaks(cli_output)
    outputs = []
    for args in (["export", "--format", "csv", "--out", str(tmp_path / "s.csv")],
                 ["export", "--format", "latex", "--out", str(tmp_path / "s.tex")],
                 ["export", "--format", "parquet", "--out", str(tmp_path / "s.parquet")],
                 ["scores", "--json"], ["runs"]):
        done = _cli(*args, "--db", str(db), env=canary_env)
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done.stdout + done.stderr)
    for name in ("s.csv", "s.tex", "s.parquet"):
        outputs.append((tmp_path / name).read_bytes().decode("latin-1"))
    assert not _leaks("\n".join(outputs))


@pytest.mark.browser
def test_no_canary_on_any_dashboard_page(canary_run, canary_env, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "dashboard"))
    import browser

    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    db, _, _ = canary_run
    with connect(db, read_only=True) as con:
        item = con.execute("SELECT item_id FROM responses WHERE status = 'error' LIMIT 1").fetchone()[0]
    log = tmp_path / "server.log"
    env = {**canary_env, "AFFECTLENS_THUMBNAIL_DIR": str(tmp_path / "thumbs")}
    pages = [*browser.PAGES, f"gallery?item={item}&dataset=tiny-set"]
    with browser.serve(db, env=env, log_path=log) as url, browser.chromium() as page:
        for path in pages:
            browser.open_page(page, f"{url}/{path}")
            for expander in page.locator('[data-testid="stExpander"] summary').all():
                if expander.is_visible():  # open every expander: raw responses and sidebar panels included
                    expander.click()
                    browser.settle(page, quiet_ms=200)  # a sidebar panel draws its widgets once open (a rerun)
            browser.settle(page, quiet_ms=300)
            assert page.locator('[data-testid="stSidebar"] [data-testid="stTextInput"]').count(), \
                f"{path}: the Settings panel did not open"
            html = page.content()
            assert not _leaks(html), path
            assert not browser.exceptions(page), path
        assert "Bearer ***" in html or "***" in page.locator("body").inner_text()  # the echo, masked
    assert not _leaks(log.read_text(errors="replace"))
