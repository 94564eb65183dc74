"""Benchmark suites: a published protocol (datasets, label sets, prompt, scoring) packaged as a YAML file in
this folder, run on the user's models with `affectlens run --suite NAME MODELS.yaml`.

A suite task names a dataset, the release format and sub-folder it is read from, the split the paper
evaluates, the dimension it is scored on, the label set, and -- where checked -- the accuracy the paper
published. `run_suite` turns each task whose data the user has into one experiment (through the ordinary
runner), skips the others with the reason, imports a published model's per-image predictions where given
(`--gpt4v DIR`, the layout of `zeroQiaoba/gpt4v-emotion`: `<dataset>/predictions.csv` and `labels.csv`),
and returns a table in the paper's shape: one row per task, one accuracy column per model.

The models file is an experiment config without datasets: `models:` (required), and optionally
`strategies:` (default: the suite's), `dataset_paths: {dataset: PATH}`, `data_dir:`, `gpt4v_predictions:`,
`max_cost:`, `seed:`, `image_max_side:`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import ConfigError

__all__ = ["Suite", "SuiteTask", "suite_names", "load_suite", "run_suite", "SuiteResult", "format_table"]

HERE = Path(__file__).resolve().parent
MODELS_KEYS = {"models", "strategies", "dataset_paths", "data_dir", "gpt4v_predictions", "max_cost", "seed",
               "image_max_side", "name", "prices"}
PUBLISHED_MODEL = "GPT-4V (published)"


@dataclass(frozen=True)
class SuiteTask:
    """One task of a suite (an entry of its `tasks:`): a dataset release scored on one dimension."""

    dataset: str  # the name its runs store the dataset under (e.g. twitter1_5)
    label: str  # how tables and the log name the task
    group: str  # the paper's group of tasks (sentiment, facial expression)
    format: str  # the loader that reads the release
    folder: str  # the sub-folder of --data holding the release
    dimension: str  # what is scored (polarity, emotion)
    split: str | None = None  # the evaluated split or subset of the release
    taxonomy: str | None = None  # the label set answers are scored on (default: the loader's)
    published: float | None = None  # GPT-4V's top-1 accuracy in the paper, where checked
    gpt4v: str | None = None  # the sub-folder of --gpt4v holding GPT-4V's published predictions
    options: dict[str, Any] = field(default_factory=dict)  # further loader options (e.g. frames: 3)


@dataclass(frozen=True)
class Suite:
    name: str
    paper: str
    protocol: str
    strategy: str
    tasks: tuple[SuiteTask, ...]


def suite_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.yaml"))


def load_suite(name: str) -> Suite:
    """A packaged suite by name (or a suite YAML file by path)."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else HERE / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"no suite {name!r}; packaged suites: {', '.join(suite_names())}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    tasks = tuple(SuiteTask(**task) for task in data["tasks"])
    return Suite(data["name"], " ".join(str(data.get("paper", "")).split()),
                 " ".join(str(data.get("protocol", "")).split()), data.get("strategy", "zero-shot"), tasks)


@dataclass
class SuiteResult:
    suite: Suite
    db_path: Path
    ran: list[str] = field(default_factory=list)  # datasets evaluated
    skipped: dict[str, str] = field(default_factory=dict)  # dataset -> why
    imported: dict[str, str] = field(default_factory=dict)  # dataset -> import summary
    table: list[dict[str, Any]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    failed: bool = False
    stopped: bool = False


def _models_config(path: str | os.PathLike) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no models file at {file}; give a YAML file with `models:` (see data/configs/)")
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not data.get("models"):
        raise ConfigError(f"{file}: a suite's models file needs `models:` (a list, as in an experiment config)")
    unknown = sorted(set(data) - MODELS_KEYS - {"datasets", "dimensions"})
    if unknown:
        raise ConfigError(f"{file}: unknown key(s) {', '.join(unknown)} for a suite's models file; it takes "
                          f"{', '.join(sorted(MODELS_KEYS))}")
    if data.get("datasets") or data.get("dimensions"):
        raise ConfigError(f"{file}: leave out datasets: and dimensions: -- the suite sets them; give dataset "
                          "folders with --data or dataset_paths:")
    data["_base"] = file.parent
    return data


def _dataset_path(task: SuiteTask, models: dict, data_dir: str | None) -> tuple[Path | None, str]:
    base = models["_base"]
    given = (models.get("dataset_paths") or {}).get(task.dataset) or (models.get("dataset_paths") or {}).get(task.folder)
    if given:
        path = Path(given).expanduser()
        path = path if path.is_absolute() or path.exists() else base / path
        return (path, "") if path.exists() else (None, f"dataset_paths.{task.dataset} = {given} does not exist")
    root = data_dir or models.get("data_dir")
    if not root:
        return None, "no --data folder or dataset_paths entry"
    path = Path(root).expanduser() / task.folder
    return (path, "") if path.exists() else (None, f"no {task.folder}/ in {root}")


def run_suite(name: str, models_path: str | os.PathLike, *, db_path: str | os.PathLike | None = None,
              data_dir: str | None = None, gpt4v_dir: str | None = None, limit: int | None = None,
              max_cost: float | None = None, quiet: bool = True, log=print) -> SuiteResult:
    """Run every task of suite `name` whose dataset is present; import published predictions; build the table."""
    from engine.errors import DatasetError
    from engine.importers import import_predictions
    from engine.metrics.scoring import refresh_scores
    from engine.runner import parse_config, run_experiment
    from engine.store import default_db_path

    suite = load_suite(name)
    models = _models_config(models_path)
    db = Path(db_path) if db_path is not None else default_db_path()
    result = SuiteResult(suite, db)
    strategies = models.get("strategies") or [suite.strategy]
    for task in suite.tasks:
        path, why = _dataset_path(task, models, data_dir)
        if path is None:
            result.skipped[task.dataset] = why
            log(f"skipped {task.label}: {why} (get it: `affectlens datasets list`, format {task.format})")
            continue
        entry = {"name": task.dataset, "format": task.format, "path": str(path), **task.options}
        if task.split:
            entry["split"] = task.split
        if task.taxonomy:
            entry["taxonomy"] = task.taxonomy
        config = {"name": f"{suite.name}:{task.dataset}", "datasets": [entry], "models": models["models"],
                  "strategies": strategies, "dimensions": [task.dimension],
                  **{k: models[k] for k in ("seed", "image_max_side", "prices", "max_cost") if k in models}}
        try:
            outcome = run_experiment(parse_config(config, f"suite task {task.dataset}"), db, limit=limit,
                                     max_cost=max_cost, quiet=quiet)
        except DatasetError as exc:
            result.skipped[task.dataset] = f"cannot be loaded: {exc}"
            log(f"skipped {task.label}: cannot be loaded from {path}: {exc}")
            continue
        result.ran.append(task.dataset)
        statuses = {run.status for run in outcome.runs}
        result.failed |= "failed" in statuses
        result.stopped |= "stopped" in statuses
    gpt4v = gpt4v_dir or models.get("gpt4v_predictions")
    if gpt4v:
        for task in suite.tasks:
            folder = Path(gpt4v).expanduser() / (task.gpt4v or "-")
            if not task.gpt4v or not (folder / "predictions.csv").is_file():
                continue
            test_list = folder / "labels.csv"
            imported = import_predictions(folder / "predictions.csv", dataset=task.dataset, model=PUBLISHED_MODEL,
                                          dimension=task.dimension, db_path=db,
                                          test_list=test_list if test_list.is_file() else None)
            refresh_scores(db, dataset=task.dataset, model=PUBLISHED_MODEL)
            result.imported[task.dataset] = imported.summary()
            log(imported.summary())
    result.table, result.models = _table(suite, db)
    return result


def _table(suite: Suite, db: Path) -> tuple[list[dict[str, Any]], list[str]]:
    from engine.store import connect

    if not db.exists():
        return [], []
    names = [task.dataset for task in suite.tasks]
    from engine.store.queries import current_scores

    with connect(db, read_only=True) as con:  # the run that stands for each cell; the largest set first
        frame = current_scores(con, dataset=names, metric=["accuracy", "coverage"])
    frame = frame.sort_values("n_total", ascending=False, kind="mergesort")
    models = list(dict.fromkeys(sorted(frame["model"], key=lambda m: (m == PUBLISHED_MODEL, m))))
    rows = []
    for task in suite.tasks:
        row: dict[str, Any] = {"dataset": task.dataset, "label": task.label, "group": task.group,
                               "dimension": task.dimension, "published_gpt4v": task.published, "cells": {}}
        mine = frame[(frame["dataset"] == task.dataset) & (frame["dimension"] == task.dimension)]
        for model in models:
            picked = mine[mine["model"] == model]
            accuracy = picked[picked["metric"] == "accuracy"]
            coverage = picked[picked["metric"] == "coverage"]
            if len(accuracy):
                row["cells"][model] = {"accuracy": float(accuracy["value"].iloc[0]), "n": int(accuracy["n"].iloc[0]),
                                       "n_total": int(accuracy["n_total"].iloc[0]),
                                       "coverage": float(coverage["value"].iloc[0]) if len(coverage) else None}
        rows.append(row)
    return rows, models


def format_table(result: SuiteResult) -> str:
    """The paper's layout: tasks grouped as in its tables, accuracy in percent per model, '-' for not run."""
    width = max([len(r["label"]) for r in result.table] + [20])
    heads = [*result.models, "GPT-4V (paper)"]
    rows = []
    for row in result.table:
        cells = []
        for model in result.models:
            cell = row["cells"].get(model)
            if cell is None:
                cells.append("-")
                continue
            text = f"{100 * cell['accuracy']:.2f}"
            if cell["coverage"] is not None and cell["coverage"] < 1:
                text += f" [{100 * cell['coverage']:.2f}%]"
            cells.append(text)
        cells.append(f"{100 * row['published_gpt4v']:.2f}" if row["published_gpt4v"] is not None else "-")
        rows.append((row, cells))
    widths = [max([len(h)] + [len(cells[i]) for _, cells in rows]) for i, h in enumerate(heads)]
    lines = [f"{result.suite.name}: top-1 accuracy (%) over answered items; [coverage] where below 100%",
             f"{'':<{width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, widths))]
    group = None
    for row, cells in rows:
        if row["group"] != group:
            group = row["group"]
            lines.append(f"{group} ({row['dimension']})")
        lines.append(f"  {row['label']:<{width - 2}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    if result.skipped:
        lines.append("not run (dataset missing): " + ", ".join(result.skipped))
    return "\n".join(lines) + "\n"
