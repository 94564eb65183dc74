"""Occlusion and probe experiments: an ordinary experiment config, rewritten, run by the runner.

Both go through `engine.runner.run_experiment`, so they are cached (an identical request is never
sent twice, and the intact-image answer of an occlusion run is the base run's answer), resumable
(rerun the same command after a kill or a budget stop) and capped by `--max-cost`.

* `occlusion_config` keeps the config's datasets, models, dimensions and prices, restricts the datasets
  to the chosen items, and replaces the strategies by `BASE+occlusion` with the grid and fill.
* `probe_config` keeps the config's strategies and adds, for each of them and each probe, the
  strategy `BASE+PROBE` (labelled `LABEL+PROBE`), and the describe-then-judge strategy for the
  `caption-only` control.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ConfigError
from engine.explain.occlusion import SaliencyMap, maps_for_run, store_maps
from engine.perturb import CAPTION_ONLY, probe_names
from engine.prompts.probing import OCCLUSION, occlusion_settings

CAPTION_STRATEGY = "describe-then-judge"
DEFAULT_GRID = "4x4"
DEFAULT_FILL = "grey"


def _as_dict(config) -> dict[str, Any]:
    """A config (ExperimentConfig, mapping or YAML path) as a plain mapping in the config's own shape."""
    from engine.runner.config import ExperimentConfig, load_config

    if isinstance(config, (str, os.PathLike)):
        config = load_config(config)
    if isinstance(config, ExperimentConfig):
        return config.model_dump(mode="json", exclude_none=True)
    return dict(config)


def occlusion_label(base: str, grid: str, fill: str) -> str:
    """The strategy label occlusion runs are stored under: `zero-shot+occlusion`, or with the settings
    when they differ from the defaults (`zero-shot+occlusion[3x3,blur]`)."""
    (rows, cols), fill = occlusion_settings({"grid": grid, "fill": fill})
    settings = f"{rows}x{cols}"
    suffix = "" if (settings, fill) == (DEFAULT_GRID, DEFAULT_FILL) else f"[{settings},{fill}]"
    return f"{base}+{OCCLUSION}{suffix}"


def occlusion_config(config, *, items: list[str] | None = None, limit: int | None = None, grid: str = DEFAULT_GRID,
                     fill: str = DEFAULT_FILL, strategy: str = "zero-shot", dataset: dict | None = None,
                     name: str | None = None) -> dict[str, Any]:
    """The occlusion experiment derived from `config` (see the module docstring).

    `dataset` replaces the config's datasets with one entry; `items` (ids) or `limit` choose the items,
    because every item costs rows x cols + 1 calls.
    """
    data = _as_dict(config)
    if dataset is not None:
        data["datasets"] = [dict(dataset)]
    if not data.get("datasets"):
        raise ConfigError("occlusion needs a dataset: give --dataset PATH or a config with datasets:")
    if not items and not limit and not any(d.get("items") or d.get("limit") for d in data["datasets"]):
        raise ConfigError("choose the items to explain with --items ID1,ID2 (or --limit N): occlusion asks "
                          "rows x cols + 1 questions per item")
    occlusion_settings({"grid": grid, "fill": fill})  # fail early on a bad grid or fill
    if "+" in strategy and strategy.rsplit("+", 1)[1] == OCCLUSION:
        strategy = strategy.rsplit("+", 1)[0]
    datasets = []
    for entry in data["datasets"]:
        entry = dict(entry)
        if items:
            entry["items"] = list(items)
        if limit:
            entry["limit"] = int(limit)
        datasets.append(entry)
    data["datasets"] = datasets
    data["strategies"] = [{"name": f"{strategy}+{OCCLUSION}", "label": occlusion_label(strategy, grid, fill),
                           "extra": {"grid": grid, "fill": fill}}]
    for model in data.get("models", []):
        model.pop("strategies", None)  # a model's own strategy list names the config's strategies, gone here
    data["name"] = name or f"{data.get('name', 'experiment')}-occlusion"
    return data


@dataclass
class OcclusionResult:
    experiment: Any  # engine.runner.ExperimentResult
    maps: list[SaliencyMap] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return any(run.status == "stopped" for run in self.experiment.runs)


def run_occlusion(config: dict[str, Any], db_path=None, *, max_cost: float | None = None, quiet: bool = False,
                  progress: Any = None, refresh_scores: bool = True) -> OcclusionResult:
    """Run an occlusion experiment (`occlusion_config`) and store the maps of every item it answered.

    A run stopped by the budget stores what it has: an item it was in the middle of gets a map with NaN
    for the cells not asked yet (`meta["cells_asked"]` says how many were); rerunning with a higher
    `max_cost` asks only the missing cells and replaces the map.
    """
    from engine.runner import run_experiment

    result = run_experiment(config, db_path, max_cost=max_cost, quiet=quiet, progress=progress,
                            refresh_scores=refresh_scores)
    wanted: list[str] | None = None
    for entry in config.get("datasets", []):
        if entry.get("items"):
            wanted = (wanted or []) + list(entry["items"])
    maps: list[SaliencyMap] = []
    for run in result.runs:
        maps += maps_for_run(result.db_path, run.run_id, wanted)
    store_maps(result.db_path, maps)
    return OcclusionResult(result, maps)


def check_probes(probes: list[str]) -> list[str]:
    """Validated probe names, in the order given."""
    unknown = [p for p in probes if p not in probe_names()]
    if unknown:
        raise ConfigError(f"unknown probe(s) {', '.join(unknown)}; choose from: {', '.join(probe_names())}")
    if not probes:
        raise ConfigError(f"name at least one probe: {', '.join(probe_names())}")
    return list(dict.fromkeys(probes))


def probe_config(config, probes: list[str]) -> dict[str, Any]:
    """The config's strategies plus each probe variant of each of them (see the module docstring)."""
    from engine.runner.config import StrategyConfig

    data = _as_dict(config)
    probes = check_probes(probes)
    entries = [StrategyConfig.model_validate({"name": s} if isinstance(s, str) else s)
               for s in data.get("strategies") or ["zero-shot"]]
    labels = {entry.run_label for entry in entries}
    out = [entry.model_dump(mode="json", exclude_none=True) for entry in entries]
    for entry in entries:
        if "+" in entry.name:
            raise ConfigError(f"strategies: {entry.run_label} is already a probe or occlusion variant; list base "
                              "strategies only")
        for probe in probes:
            if probe == CAPTION_ONLY:
                continue
            variant = entry.model_dump(mode="json", exclude_none=True)
            variant.update(name=f"{entry.name}+{probe}", label=f"{entry.run_label}+{probe}")
            if variant["label"] not in labels:
                labels.add(variant["label"])
                out.append(variant)
    if CAPTION_ONLY in probes and CAPTION_STRATEGY not in labels:
        out.append({"name": CAPTION_STRATEGY})
    data["strategies"] = out
    for model in data.get("models", []):
        if model.get("strategies"):  # a model limited to some strategies also runs their probe variants
            own = set(model["strategies"])
            run_labels = [StrategyConfig.model_validate(s).run_label for s in out]
            model["strategies"] = [label for label in run_labels if label.rsplit("+", 1)[0] in own or label in own
                                   or (label == CAPTION_STRATEGY and CAPTION_ONLY in probes)]
    return data

