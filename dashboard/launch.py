"""Start the dashboard warm: `python -m dashboard [streamlit options]` (or `affectlens-dashboard`).

`streamlit run dashboard/app.py` runs nothing until a browser connects, so the first visitor pays for
importing pandas, Altair, DuckDB and the metrics (seconds on a small machine) and for every query of the
first page. This launcher starts the same Streamlit server and, while it comes up, warms it in a
background thread:

1. imports what every page needs (`WARM_IMPORTS`);
2. once the server's runtime runs, draws the app once in a session of its own (Streamlit's script
   check, on the server's event loop): the default page's queries land in the shared query cache and
   its charts' code paths are compiled;
3. runs the first view of every other page for the default scope and every scope's leaderboard
   (`dashboard.warm.warm_store`), so a page switch or picker change finds its queries cached;
4. scores the Slices page's default view (`dashboard.warm.warm_slices`), the slowest first visit.

It prints `AffectLens dashboard warm in N s` when done. Nothing is written to the store; a missing or
busy store only skips step 3 (the page says why when opened).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
WARM_IMPORTS = ("pandas", "numpy", "duckdb", "pyarrow", "altair", "engine.metrics.cells", "engine.metrics.compare",
                "engine.metrics.calibration", "engine.metrics.categorical", "engine.metrics.matrix",
                "dashboard.data", "dashboard.slices_data", "dashboard.components.charts",
                "dashboard.components.matrix", "dashboard.components.gallery")
READY_TIMEOUT_S = 120.0
WARM_MESSAGE = "AffectLens dashboard warm in"

_log = logging.getLogger("affectlens.dashboard")


def _import_all() -> None:
    for name in WARM_IMPORTS:
        importlib.import_module(name)


def _runtime(timeout_s: float):
    """The server's Streamlit runtime once it accepts sessions, or None after `timeout_s`."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if Runtime.exists():
            runtime = Runtime.instance()
            if runtime.state in (RuntimeState.NO_SESSIONS_CONNECTED, RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED):
                return runtime
        time.sleep(0.05)
    return None


def _draw_default_page(runtime, timeout_s: float) -> bool:
    """Run app.py once in a session of its own on the server's event loop; True when it ran cleanly."""
    loop = runtime._get_async_objs().eventloop
    future = asyncio.run_coroutine_threadsafe(runtime.does_script_run_without_error(), loop)
    ok, _message = future.result(timeout=timeout_s)
    return bool(ok)


def warm_server(timeout_s: float = READY_TIMEOUT_S) -> float:
    """Warm the server this process runs (steps 1-3 of the module docstring); returns the seconds it took."""
    started = time.monotonic()
    _import_all()
    runtime = _runtime(timeout_s)
    if runtime is None:
        _log.warning("the dashboard server did not start within %.0f s; not warmed", timeout_s)
        return time.monotonic() - started
    try:
        drawn = _draw_default_page(runtime, timeout_s)
    except Exception:  # noqa: BLE001 - a page bug shows when the page is opened; warming only skips it
        _log.exception("warming the first page failed")
        drawn = False
    from dashboard import settings
    from dashboard.warm import warm_slices, warm_store

    try:
        warm_store(settings.default_store())
        warm_slices(settings.default_store())
    except Exception as exc:  # noqa: BLE001 - missing/busy store: the pages say so when opened
        _log.info("queries not warmed: %s", exc)
    seconds = time.monotonic() - started
    note = "" if drawn else " (the first page did not run cleanly; open it to see why)"
    print(f"{WARM_MESSAGE} {seconds:.1f} s{note}", file=sys.stderr, flush=True)
    return seconds


def main(argv: list[str] | None = None) -> None:
    """`streamlit run dashboard/app.py` with the given options, warmed in the background as it starts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    threading.Thread(target=warm_server, name="affectlens-warm", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main()
