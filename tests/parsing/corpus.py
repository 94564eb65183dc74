"""The hand-labelled answer corpus (`corpus.jsonl`) and how a parse is compared with its expectation.

Each line: `id`, `style` (the model family whose answer style it imitates), `strategy`, `spec`
(dimensions, taxonomy, polarity_taxonomy, optional scales), `text`, `expected` ({dimension: {value,
status}}), optional `expected_extra` (confidence, thinking, scene_fields, min_steps) and `note`.
Distributions list only their non-zero labels; numbers match to 0.01.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.parsing import DEFAULT_SCALES, ParseResult, ParseSpec

CORPUS = Path(__file__).with_name("corpus.jsonl")
TOLERANCE = 0.01


def load_corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def spec_of(case: dict) -> ParseSpec:
    spec = case["spec"]
    scales = dict(DEFAULT_SCALES)
    scales.update({dim: tuple(scale) for dim, scale in (spec.get("scales") or {}).items()})
    return ParseSpec(dimensions=tuple(spec["dimensions"]), taxonomy=spec.get("taxonomy", "ekman7"),
                     polarity_taxonomy=spec.get("polarity_taxonomy", "polarity2"), scales=scales)


def same_value(actual, expected) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        labels = set(expected) | {k for k, v in actual.items() if v > 0}
        return all(abs(actual.get(k, 0.0) - expected.get(k, 0.0)) <= TOLERANCE for k in labels)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and abs(actual - expected) <= TOLERANCE
    return actual == expected


def differences(case: dict, result: ParseResult) -> list[str]:
    """Human-readable mismatches between a parse and the case's expectation (empty when they agree)."""
    problems = []
    for dimension, want in case["expected"].items():
        got = result.dimensions.get(dimension)
        if got is None:
            problems.append(f"{dimension}: missing")
            continue
        if not same_value(got.value, want["value"]):
            problems.append(f"{dimension}: value {got.value!r} != {want['value']!r}")
        if got.status != want["status"]:
            problems.append(f"{dimension}: status {got.status!r} != {want['status']!r}")
    extra = case.get("expected_extra") or {}
    if "confidence" in extra and not same_value(result.confidence, extra["confidence"]):
        problems.append(f"confidence {result.confidence!r} != {extra['confidence']!r}")
    if extra.get("thinking") and not result.thinking:
        problems.append("thinking block not kept")
    missing = set(extra.get("scene_fields", ())) - set(result.scene or {})
    if missing:
        problems.append(f"scene fields missing: {sorted(missing)} (got {sorted(result.scene or {})})")
    if len(result.steps) < extra.get("min_steps", 0):
        problems.append(f"{len(result.steps)} steps < {extra['min_steps']}")
    return problems
