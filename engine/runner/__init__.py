"""The experiment runner: config -> runs -> stored responses, predictions and traces.

    from engine.runner import load_config, run_experiment
    result = run_experiment(load_config("data/configs/quickstart.yaml"), "results.duckdb")

See `engine.runner.config` for the config, `engine.runner.execute` for the order of work,
`engine.runner.calls` for caching, retries and limits, `engine.runner.journal` for crash safety.
"""

from engine.runner.config import (DatasetConfig, ExperimentConfig, ModelConfig, StrategyConfig, load_config,
                                  parse_config)
from engine.runner.execute import ExperimentResult, RunSummary, run_experiment
from engine.runner.progress import ProgressEvent
from engine.runner.small import run_small_analysis

__all__ = ["DatasetConfig", "ExperimentConfig", "ModelConfig", "StrategyConfig", "load_config", "parse_config",
           "ExperimentResult", "RunSummary", "run_experiment", "ProgressEvent", "run_small_analysis"]
