"""What the parser returns: per dimension a value, a status and the span it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine.taxonomy import DEFAULT_SCALES

Status = Literal["ok", "partial", "failed", "refused"]


@dataclass(frozen=True)
class ParseSpec:
    """What to read from an answer: which dimensions, against which label set and scales."""

    dimensions: tuple[str, ...] = ("polarity",)
    taxonomy: str = "ekman7"  # for emotion, ranking and distribution
    polarity_taxonomy: str = "polarity2"  # polarity2 | polarity3
    scales: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_SCALES))

    def scale(self, dimension: str) -> tuple[float, float]:
        return tuple(self.scales.get(dimension, DEFAULT_SCALES.get(dimension, (1.0, 9.0))))  # type: ignore[return-value]


@dataclass
class DimensionParse:
    value: Any = None  # normalised label, number on the requested scale, list (ranking) or dict (distribution)
    status: Status = "failed"
    span: str | None = None  # the text the value came from
    raw: str | None = None  # the answer's own word, kept when it is outside the label set
    method: str = "rule"  # rule | judge | vote | derived (polarity from an emotion word) | assumed-scale
    error: str | None = None  # why the parse failed when it did not run to the end (a time limit)

    def to_json(self) -> dict:
        """`{"value", "status"}`: the `affectlens parse` contract. How the value was found (`method`: derived,
        assumed-scale, judge, ...) is stored with every prediction and shown by `parse --verbose-json`."""
        return {"value": self.value, "status": self.status}


@dataclass
class ParseResult:
    dimensions: dict[str, DimensionParse] = field(default_factory=dict)
    confidence: float | None = None  # stated confidence in [0, 1]
    steps: list[str] = field(default_factory=list)  # reasoning trace split into steps
    scene: dict[str, str] | None = None  # scene decomposition fields
    thinking: str | None = None  # a reasoning model's thinking block, removed from the answer
    answer_text: str = ""  # the text parsed, thinking removed

    def to_json(self) -> dict:
        return {dim: parse.to_json() for dim, parse in self.dimensions.items()}
