"""A parse turned into `predictions` and `traces` rows (for `engine.store.writes`)."""

from __future__ import annotations

from typing import Any

from engine.datasets.base import normalise_value
from engine.parsing.parser import PARSER_VERSION
from engine.parsing.types import ParseResult, ParseSpec

_CONTINUOUS = ("valence", "arousal", "intensity")


def predictions_from_parse(run_id: str, dataset: str, item_id: str, result: ParseResult, response_id: str | None,
                           spec: ParseSpec, *, agreement: dict[str, float] | None = None,
                           parser_version: str = PARSER_VERSION) -> list[dict[str, Any]]:
    """One `predictions` row per dimension of `spec` (columns as in `engine.store.writes.PREDICTION_COLUMNS`).

    Categorical dimensions fill `label`; a ranking fills `ranking` and its first label; a distribution
    fills `distribution` and its most probable label; continuous dimensions fill `value` on the
    spec's scale and `value_norm` (valence in [-1, 1], arousal and intensity in [0, 1]); confidence
    fills `value` and `value_norm` in [0, 1]. Every row carries the answer's stated confidence.
    """
    rows = []
    for dimension in spec.dimensions:
        reading = result.dimensions.get(dimension)
        row: dict[str, Any] = {
            "run_id": run_id, "dataset": dataset, "item_id": item_id, "dimension": dimension,
            "label": None, "raw_label": None, "ranking": None, "value": None, "value_norm": None,
            "distribution": None, "confidence": result.confidence,
            "status": reading.status if reading else "failed", "span": reading.span if reading else None,
            "method": reading.method if reading else "rule", "parser_version": parser_version,
            "response_id": response_id, "agreement": (agreement or {}).get(dimension),
            "parse_error": reading.error if reading else None,
        }
        value = reading.value if reading else None
        row["raw_label"] = reading.raw if reading else None
        if value is None:
            pass
        elif dimension == "ranking" and isinstance(value, list):
            row["ranking"] = list(value)
            row["label"] = value[0] if value else None
        elif dimension == "distribution" and isinstance(value, dict):
            row["distribution"] = dict(value)
            row["label"] = max(value, key=lambda k: value[k]) if value else None
        elif dimension in _CONTINUOUS:
            row["value"] = float(value)
            row["value_norm"] = normalise_value(dimension, float(value), spec.scale(dimension))
        elif dimension == "confidence":
            row["value"] = row["value_norm"] = float(value)
        else:
            row["label"] = str(value)
        rows.append(row)
    return rows


def trace_row(run_id: str, item_id: str, result: ParseResult, response_id: str | None) -> dict[str, Any]:
    """The `traces` row of one parse: reasoning steps, scene fields and the thinking block."""
    return {"run_id": run_id, "item_id": item_id, "response_id": response_id, "steps": list(result.steps),
            "scene": result.scene, "thinking": result.thinking}
