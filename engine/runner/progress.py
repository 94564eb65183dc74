"""Progress reporting: a rich progress bar in a terminal, a callback for the dashboard, or nothing.

Every reporter gets the same three calls: `start(run_id, label, total)`, `update(run_id, done,
errors, spend)` and `finish(run_id, status)`. The bar shows items/s, ETA, errors and spend; it stays
quiet when stderr is not a terminal (CI logs, pipes) or with `--quiet`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ProgressEvent", "NullProgress", "CallbackProgress", "RichProgress", "make_progress"]


@dataclass(frozen=True)
class ProgressEvent:
    run_id: str
    label: str
    total: int
    done: int
    errors: int
    spend: float
    status: str  # running | complete | stopped | failed
    elapsed_s: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class NullProgress:
    def __init__(self) -> None:
        self._runs: dict[str, dict] = {}

    def start(self, run_id: str, label: str, total: int) -> None:
        self._runs[run_id] = {"label": label, "total": total, "done": 0, "errors": 0, "spend": 0.0,
                              "started": time.monotonic(), "status": "running"}

    def update(self, run_id: str, done: int, errors: int, spend: float) -> None:
        self._runs[run_id].update(done=done, errors=errors, spend=spend)

    def finish(self, run_id: str, status: str) -> None:
        self._runs[run_id]["status"] = status

    def event(self, run_id: str) -> ProgressEvent:
        run = self._runs[run_id]
        return ProgressEvent(run_id, run["label"], run["total"], run["done"], run["errors"], run["spend"],
                             run["status"], time.monotonic() - run["started"])

    def close(self) -> None:
        pass


class CallbackProgress(NullProgress):
    """Calls `callback(ProgressEvent)` on start, on every update (at most every `every_s`) and on finish."""

    def __init__(self, callback: Callable[[ProgressEvent], None], every_s: float = 0.2):
        super().__init__()
        self.callback = callback
        self.every_s = every_s
        self._last = 0.0

    def start(self, run_id: str, label: str, total: int) -> None:
        super().start(run_id, label, total)
        self.callback(self.event(run_id))

    def update(self, run_id: str, done: int, errors: int, spend: float) -> None:
        super().update(run_id, done, errors, spend)
        now = time.monotonic()
        if now - self._last >= self.every_s or done == self._runs[run_id]["total"]:
            self._last = now
            self.callback(self.event(run_id))

    def finish(self, run_id: str, status: str) -> None:
        super().finish(run_id, status)
        self.callback(self.event(run_id))


class RichProgress(NullProgress):
    """One bar per run on stderr."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            TextColumn("[red]{task.fields[errors]}[/red] err  ${task.fields[spend]:.4f}"),
            console=Console(stderr=True), transient=False, refresh_per_second=5)
        self.progress.start()
        self._tasks: dict[str, int] = {}

    def start(self, run_id: str, label: str, total: int) -> None:
        super().start(run_id, label, total)
        self._tasks[run_id] = self.progress.add_task(label, total=total, rate="", errors=0, spend=0.0)

    def update(self, run_id: str, done: int, errors: int, spend: float) -> None:
        super().update(run_id, done, errors, spend)
        elapsed = time.monotonic() - self._runs[run_id]["started"]
        rate = f"{done / elapsed:.1f} it/s" if elapsed > 0 else ""
        self.progress.update(self._tasks[run_id], completed=done, errors=errors, spend=spend, rate=rate)

    def finish(self, run_id: str, status: str) -> None:
        super().finish(run_id, status)
        task = self._tasks[run_id]
        if status != "complete":
            label = self._runs[run_id]["label"]
            self.progress.update(task, description=f"{label} [yellow]({status})[/yellow]")
        self.progress.stop_task(task)

    def close(self) -> None:
        self.progress.stop()


def make_progress(quiet: bool = False, callback: Callable[[ProgressEvent], None] | None = None) -> NullProgress:
    """A callback reporter when given one, else a rich bar on a terminal, else nothing."""
    if callback is not None:
        return CallbackProgress(callback)
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return RichProgress()
