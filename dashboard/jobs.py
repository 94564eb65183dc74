"""Small analyses started from the sidebar, run in a separate process so the page never freezes.

A job is a folder holding `request.json` (what to run), `progress.json` (rewritten atomically by the
worker as items finish) and `worker.log`. The worker (`python -m dashboard.worker JOB_DIR`) calls
`engine.runner.run_small_analysis` into the same store; the store's short-lived connections let the
dashboard keep reading meanwhile. A separate process (not a thread) because DuckDB refuses a
read-write and a read-only handle on the same file inside one process. Cloud keys reach the worker
through its environment only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dashboard import settings
from engine.models.registry import ADAPTERS
from engine.prompts.strategies import STRATEGY_REGISTRY

#: offline baselines every deployment can run without a key or a GPU (the adapter registry's `baseline`s)
OFFLINE_MODELS = tuple(a.name for a in ADAPTERS.entries() if a.baseline and a.sdk is None)
#: default model id per cloud adapter (overridable: AFFECTLENS_OPENAI_MODEL, ...), from the adapter registry
CLOUD_MODELS = {a.name: a.default_model for a in ADAPTERS.entries() if a.name in settings.CLOUD_KEYS and a.default_model}
#: strategies a small analysis offers: one answer per item, no training pool (the strategy registry says which)
STRATEGIES = tuple(s.name for s in STRATEGY_REGISTRY.entries() if not s.uses_pool and not s.samples)
REPO_ROOT = Path(__file__).resolve().parents[1]

_processes: dict[str, subprocess.Popen] = {}


@dataclass
class AnalysisRequest:
    """What the sidebar asks for: up to `n_images` items of a stored dataset, through `models`, with `strategy`."""

    db: str
    dataset: dict[str, Any]  # a `datasets:` config entry
    models: list[dict[str, Any] | str]
    strategy: str = "zero-shot"
    n_images: int = 20
    dimensions: list[str] = field(default_factory=lambda: ["polarity", "emotion"])
    max_cost: float | None = None
    sample_seed: int | None = 0  # a random sample drawn with this seed; None: the first `n_images` items


@dataclass
class JobStatus:
    job_id: str
    state: str  # starting | running | done | failed
    done: int = 0
    total: int = 0
    errors: int = 0
    spend: float = 0.0
    message: str = ""
    runs: list[dict] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else (1.0 if self.finished else 0.0)


def model_choices() -> dict[str, dict[str, Any] | str]:
    """Label -> `models:` entry: the offline baselines, plus each cloud adapter whose key is configured."""
    choices: dict[str, dict[str, Any] | str] = {name: name for name in OFFLINE_MODELS}
    for adapter in settings.configured_cloud_adapters():
        model = settings.secret(f"AFFECTLENS_{adapter.upper().replace('-', '_')}_MODEL", CLOUD_MODELS[adapter])
        choices[f"{adapter}: {model}"] = {"name": model, "adapter": adapter, "model": model, "concurrency": 4}
    return choices


def dataset_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A `datasets:` config entry that reloads a stored dataset from where it was first read."""
    meta = row.get("meta") or {}
    if isinstance(meta, str):
        meta = json.loads(meta or "{}")
    entry: dict[str, Any] = {"name": row["dataset"], "path": meta.get("source") or row.get("root"),
                             "format": row["loader"]}
    if meta.get("label_cols"):  # read through a column mapping (a manifest, a Hub table): it is needed again
        scales = row.get("scales") or {}
        scales = json.loads(scales) if isinstance(scales, str) else scales
        entry.update({k: v for k, v in {"label_cols": meta.get("label_cols"), "scales": scales or None,
                                        "taxonomy": row.get("taxonomy"),
                                        "polarity_taxonomy": meta.get("polarity_taxonomy")}.items() if v})
    return entry


def jobs_dir() -> Path:
    return settings.thumbnail_dir().parent / "jobs"


def start(request: AnalysisRequest) -> str:
    """Write the request and start the worker process; returns the job id."""
    job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    folder = jobs_dir() / job_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "request.json").write_text(json.dumps(asdict(request), indent=2))
    write_status(folder, JobStatus(job_id, "starting", total=request.n_images * max(1, len(request.models))))
    env = {**os.environ, **settings.cloud_key_environment(), "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    with open(folder / "worker.log", "wb") as log:
        _processes[job_id] = subprocess.Popen([sys.executable, "-m", "dashboard.worker", str(folder)],
                                              stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd(),
                                              start_new_session=True)
    return job_id


def write_status(folder: Path, status: JobStatus) -> None:
    """Replace `progress.json` atomically so a reader never sees half a file."""
    partial = folder / f"progress.{os.getpid()}.tmp"
    partial.write_text(json.dumps(asdict(status)))
    partial.replace(folder / "progress.json")


def status(job_id: str) -> JobStatus:
    """The job's latest progress; a worker that died without reporting is `failed` with its log's tail."""
    folder = jobs_dir() / job_id
    try:
        current = JobStatus(**json.loads((folder / "progress.json").read_text()))
    except (OSError, ValueError, TypeError):
        current = JobStatus(job_id, "failed", message="the job's progress file is missing")
    process = _processes.get(job_id)
    exited = process is not None and process.poll() is not None
    if exited:
        _processes.pop(job_id, None)
    if exited and not current.finished:
        try:
            tail = (folder / "worker.log").read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            tail = []
        current.state, current.message = "failed", " ".join(tail) or f"worker exited with {process.returncode}"
    current.message = settings.redact(current.message)
    return current


def stop(job_id: str) -> None:
    """Stop a running job (answers already stored stay; rerunning resumes)."""
    process = _processes.get(job_id)
    if process is not None and process.poll() is None:
        process.terminate()
