"""The process behind the sidebar's "Run" button: `python -m dashboard.worker JOB_DIR`.

Reads `request.json`, runs it with `engine.runner.run_small_analysis` into the request's store, and keeps
`progress.json` current (items done of total, errors, spend) until it writes the final state.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from dashboard.jobs import AnalysisRequest, JobStatus, write_status
from engine.secrets import scrub_text


def run(folder: Path) -> int:
    request = AnalysisRequest(**json.loads((folder / "request.json").read_text()))
    status = JobStatus(folder.name, "running", total=request.n_images * max(1, len(request.models)))
    write_status(folder, status)
    per_run: dict[str, tuple[int, int, float, int]] = {}

    def on_progress(event) -> None:
        per_run[event.run_id] = (event.done, event.errors, event.spend, event.total)
        status.done = sum(v[0] for v in per_run.values())
        status.errors = sum(v[1] for v in per_run.values())
        status.spend = sum(v[2] for v in per_run.values())
        status.total = max(status.total, sum(v[3] for v in per_run.values()))
        status.message = event.label
        write_status(folder, status)

    try:
        from engine.runner.small import run_small_analysis

        result = run_small_analysis(request.db, request.dataset, request.models, request.strategy,
                                    n_images=request.n_images, dimensions=request.dimensions,
                                    max_cost=request.max_cost, sample_seed=request.sample_seed,
                                    on_progress=on_progress)
    except Exception as exc:  # reported on the page; the traceback goes to worker.log, scrubbed
        print(scrub_text(traceback.format_exc()), file=sys.stderr, flush=True)
        status.state, status.message = "failed", scrub_text(f"{type(exc).__name__}: {exc}")
        write_status(folder, status)
        return 1
    status.state = "done"
    status.runs = [{"run_id": r.run_id, "model": r.model, "strategy": r.strategy, "status": r.status,
                    "answered": r.n_answered, "message": r.message} for r in result.runs]
    status.done = max(status.done, status.total) if result.ok else status.done
    status.message = "finished" if result.ok else "finished with problems: " + ", ".join(
        sorted({r.status for r in result.runs if r.status != "complete"}))
    write_status(folder, status)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
