"""Probe and occlusion strategies: wrappers around any prompt strategy that change the image.

They are ordinary strategies, so they inherit everything the runner does for every call: the
response cache, retries, the journal (resumable after a kill), cost accounting and `--max-cost`.

* `BASE+PROBE` (e.g. `zero-shot+grayscale`): the base strategy asked about a perturbed image. Its
  predictions are scored like any run, so "how much does grayscale change GPT-4o" is an ordinary
  paired comparison against the `zero-shot` run on the same items.
* `BASE+occlusion` (grid from `options.extra["grid"]`, default 4x4; fill from `extra["fill"]`):
  the final answer is the base strategy's answer on the intact image (an identical request to the
  base run's, so the cache answers it for free); one more call per grid cell, stage
  `occlude:ROW:COL`, with that cell masked. `engine.explain.occlusion` turns those into a map.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

from PIL import Image

from engine.explain.perturb import CAPTION_ONLY, PROBES, grid_cells, occlude
from engine.models.base import ImagePart, ModelRequest
from engine.prompts.base import Call, StrategyContext, StrategyOptions, StrategyOutcome

OCCLUSION = "occlusion"


def _decode(part: ImagePart) -> Image.Image:
    image = Image.open(io.BytesIO(part.data))
    image.load()
    return image.convert("RGB")


def _encode(image: Image.Image) -> ImagePart:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return ImagePart(buffer.getvalue(), "image/jpeg")


def parse_grid(value: str | int | None) -> tuple[int, int]:
    """'4x4', '3x5', 4 -> (rows, cols)."""
    if value is None:
        return 4, 4
    if isinstance(value, int):
        return value, value
    try:
        rows, cols = (int(v) for v in str(value).lower().split("x"))
    except ValueError:
        raise ValueError(f"occlusion grid {value!r} is not ROWSxCOLS (for example 4x4)") from None
    if not (1 <= rows <= 16 and 1 <= cols <= 16):
        raise ValueError(f"occlusion grid {value!r}: rows and columns must be between 1 and 16")
    return rows, cols


class ProbeStrategy:
    """The base strategy, asked about a perturbed copy of the image."""

    version = "1"

    def __init__(self, base, probe: str):
        if probe not in PROBES:
            raise KeyError(f"unknown probe {probe!r}; choose one of: {', '.join(PROBES)} "
                           f"(or {CAPTION_ONLY!r}, which is the describe-then-judge strategy)")
        self.base = base
        self.probe = probe
        self.name = f"{base.name}+{probe}"

    def template_hash(self, options: StrategyOptions) -> str:
        return f"{self.base.template_hash(options)}+{self.probe}:{self.version}"

    def label_order(self, context: StrategyContext) -> list[str]:
        return self.base.label_order(context)

    def _context(self, context: StrategyContext) -> StrategyContext:
        return replace(context, image=_encode(PROBES[self.probe](_decode(context.image))))

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        return self.base.render(self._context(context))

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        return await self.base.run(self._context(context), call)


class OcclusionStrategy:
    """The base strategy's answer on the intact image, plus one call per masked grid cell."""

    version = "1"

    def __init__(self, base):
        self.base = base
        self.name = f"{base.name}+{OCCLUSION}"

    def _settings(self, options: StrategyOptions) -> tuple[tuple[int, int], str]:
        return parse_grid(options.extra.get("grid")), str(options.extra.get("fill", "grey"))

    def template_hash(self, options: StrategyOptions) -> str:
        (rows, cols), fill = self._settings(options)
        return f"{self.base.template_hash(options)}+occlusion:{rows}x{cols}:{fill}:{self.version}"

    def label_order(self, context: StrategyContext) -> list[str]:
        return self.base.label_order(context)

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        return self.base.render(context)

    def masked_contexts(self, context: StrategyContext) -> list[tuple[str, StrategyContext]]:
        (rows, cols), fill = self._settings(context.options)
        image = _decode(context.image)
        return [(f"occlude:{cell.row}:{cell.col}", replace(context, image=_encode(occlude(image, cell, fill))))
                for cell in grid_cells(image.size, rows, cols)]

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        outcome = await self.base.run(context, call)

        async def masked(stage: str, ctx: StrategyContext) -> None:
            (request,) = self.base.render(ctx)[:1]
            await call(stage, request, 0)

        await asyncio.gather(*(masked(stage, ctx) for stage, ctx in self.masked_contexts(context)))
        return outcome


def wrap_strategy(base, modifier: str):
    """`BASE+MODIFIER` -> the probe or occlusion wrapper around the base strategy."""
    if modifier == OCCLUSION:
        return OcclusionStrategy(base)
    return ProbeStrategy(base, modifier)
