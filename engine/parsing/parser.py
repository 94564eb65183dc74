"""`parse_answer`: one model answer in, per dimension a value, a status and its span out. Never raises."""

from __future__ import annotations

import logging

from engine.parsing.context import Context
from engine.parsing.readers import (CONTINUOUS, read_categorical, read_confidence, read_continuous,
                                    read_distribution, read_ranking)
from engine.parsing.traces import scene_from_json, scene_from_text, split_steps, steps_from_json
from engine.parsing.types import DimensionParse, ParseResult, ParseSpec

log = logging.getLogger(__name__)

#: Bump whenever a change alters what any answer parses to; stored with every prediction.
PARSER_VERSION = "1.1.0"

KNOWN_DIMENSIONS = ("polarity", "emotion", "ranking", "distribution", "intensity", "valence", "arousal", "confidence")


def parse_answer(text: str | None, spec: ParseSpec) -> ParseResult:
    """Read the dimensions `spec` asks for from one answer text.

    Statuses: "ok" (a value the answer states), "partial" (an answer outside the label set, with
    value None and the answer's word in `raw`; an ambiguous answer naming several labels without
    ranking them, with the first-named label; a number outside the scale), "failed" (nothing
    readable) and "refused" (nothing readable and the answer declines: "I can't determine ...",
    "I'm sorry, I cannot ...", "抱歉，我无法判断"). Thinking blocks (<think>, <thinking>, a
    "Thinking:" preamble) are removed from the answer and kept in `thinking`; steps and scene fields
    are split out for the reasoning trace. Any internal error yields "failed" dimensions, never an
    exception.
    """
    try:
        return _parse(text, spec)
    except Exception:  # noqa: BLE001 - the contract is "never raises"; the bug is logged, the item survives
        log.exception("parser error; answer marked failed")
        raw = "" if text is None else str(text)
        return ParseResult({dim: DimensionParse() for dim in spec.dimensions}, answer_text=raw)


def _parse(text: str | None, spec: ParseSpec) -> ParseResult:
    raw = "" if text is None else str(text)
    ctx = Context.build(raw, spec)
    result = ParseResult(thinking=ctx.thinking, answer_text=ctx.answer)
    result.scene = scene_from_json(ctx.flat) or scene_from_text(ctx.prose)
    result.steps = steps_from_json(ctx.flat) or _scene_steps(result.scene) or split_steps(_reasoning_text(ctx))
    confidence = read_confidence(ctx)
    result.confidence = confidence.value if confidence.status == "ok" else None
    for dimension in spec.dimensions:
        if dimension in ("polarity", "emotion"):
            reading = read_categorical(ctx, dimension)
        elif dimension in CONTINUOUS:
            reading = read_continuous(ctx, dimension)
        elif dimension == "ranking":
            reading = read_ranking(ctx)
        elif dimension == "distribution":
            reading = read_distribution(ctx) or DimensionParse()
        elif dimension == "confidence":
            reading = confidence
        else:
            reading = DimensionParse(raw=f"unknown dimension {dimension!r}")
        if ctx.refused and reading.status == "failed" and reading.value is None:
            reading.status = "refused"
        result.dimensions[dimension] = reading
    return result


def _scene_steps(scene: dict[str, str] | None) -> list[str]:
    if not scene:
        return []
    return [f"{name.replace('_', ' ').capitalize()}: {body}" for name, body in scene.items()]


def _reasoning_text(ctx: Context) -> str:
    """The answer outside its JSON object (prose before or after it), refusals included."""
    if ctx.found_json is None:
        return ctx.answer
    outside = ctx.answer[:ctx.found_json.start] + "\n\n" + ctx.answer[ctx.found_json.end:]
    return outside.replace("```json", "").replace("```", "").strip()
