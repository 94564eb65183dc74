"""AffectLens engine: datasets, preprocessing, models, prompts, parsing, runner, store and metrics."""

__version__ = "0.1.0"
