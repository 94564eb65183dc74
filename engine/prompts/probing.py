"""Probe and occlusion strategies: wrappers around any prompt strategy that change the image.

They are ordinary strategies, so they inherit everything the runner does for every call: the
response cache, retries, the journal (resumable after a kill), cost accounting and `--max-cost`.

* `BASE+PROBE` (e.g. `zero-shot+grayscale`): the base strategy asked about a perturbed image. Its
  predictions are scored like any run, so "how much does grayscale change GPT-4o" is an ordinary
  paired comparison against the `zero-shot` run on the same items.
* `BASE+occlusion` (grid from `options.extra["grid"]`, default 4x4; fill from `extra["fill"]`,
  grey | blur | mean): the final answer is the base strategy's answer on the intact image (an
  identical request to the base run's, so the cache answers it for free); then the base strategy is
  run once more per grid cell with that cell masked. Its final-stage calls are stored under stage
  `occlude:ROW:COL` (other stages of multi-call strategies under `occlude:ROW:COL/STAGE`), so
  `engine.explain.occlusion` can turn them into a map. At most `extra["cell_concurrency"]` (default 8)
  cells of one item are in flight at once, so `--max-cost` stops an item part-way: the calls it
  refuses come back as budget errors, the item is left unfinished (not journaled) and a rerun with a
  higher budget finishes it, paying only for the cells still missing.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

from PIL import Image

from engine.perturb import CAPTION_ONLY, FILLS, PROBES, grid_cells, occlude
from engine.models.base import ErrorClass, ImagePart, ModelRequest, ModelResponse
from engine.prompts.base import Call, StrategyContext, StrategyOptions, StrategyOutcome

OCCLUSION = "occlusion"
OCCLUDE_STAGE = "occlude"
FINAL_STAGES = ("answer", "judge")  # the stages whose text holds a strategy's answer


def _decode(part: ImagePart) -> Image.Image:
    image = Image.open(io.BytesIO(part.data))
    image.load()
    return image.convert("RGB")


def _encode(image: Image.Image, like: ImagePart) -> ImagePart:
    """Encode in the original's format: PNG stays lossless, anything else becomes a high-quality JPEG."""
    buffer = io.BytesIO()
    if like.mime == "image/png":
        image.save(buffer, format="PNG")
        return ImagePart(buffer.getvalue(), "image/png")
    image.save(buffer, format="JPEG", quality=95)
    return ImagePart(buffer.getvalue(), "image/jpeg")


def parse_grid(value: str | int | None) -> tuple[int, int]:
    """'4x4', '3x5', 4 -> (rows, cols).

    >>> parse_grid("3x5"), parse_grid(4), parse_grid(None)
    ((3, 5), (4, 4), (4, 4))
    """
    if value is None:
        return 4, 4
    if isinstance(value, int):
        rows = cols = value
    else:
        try:
            rows, cols = (int(v) for v in str(value).lower().replace("×", "x").split("x"))
        except ValueError:
            raise ValueError(f"occlusion grid {value!r} is not ROWSxCOLS (for example 4x4)") from None
    if not (1 <= rows <= 16 and 1 <= cols <= 16):
        raise ValueError(f"occlusion grid {value!r}: rows and columns must be between 1 and 16")
    return rows, cols


def occlusion_settings(extra: dict) -> tuple[tuple[int, int], str]:
    """(grid, fill) of an occlusion strategy's `extra` options, validated."""
    fill = str(extra.get("fill", "grey"))
    if fill not in FILLS:
        raise ValueError(f"occlusion fill {fill!r} is not one of {', '.join(FILLS)}")
    return parse_grid(extra.get("grid")), fill


def cell_stage(row: int, col: int) -> str:
    return f"{OCCLUDE_STAGE}:{row}:{col}"


class ProbeStrategy:
    """The base strategy, asked about a perturbed copy of the image."""

    purpose = "probe"  # its runs never stand for a benchmark cell

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
        return replace(context, image=_encode(PROBES[self.probe](_decode(context.image)), context.image))

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        return self.base.render(self._context(context))

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        return await self.base.run(self._context(context), call)


class OcclusionStrategy:
    """The base strategy's answer on the intact image, plus the base strategy once per masked grid cell."""

    purpose = "explain"  # its runs never stand for a benchmark cell

    version = "2"

    def __init__(self, base):
        self.base = base
        self.name = f"{base.name}+{OCCLUSION}"

    def template_hash(self, options: StrategyOptions) -> str:
        (rows, cols), fill = occlusion_settings(options.extra)
        return f"{self.base.template_hash(options)}+occlusion:{rows}x{cols}:{fill}:{self.version}"

    def label_order(self, context: StrategyContext) -> list[str]:
        return self.base.label_order(context)

    def render(self, context: StrategyContext) -> list[ModelRequest]:
        return self.base.render(context)

    def masked_contexts(self, context: StrategyContext) -> list[tuple[str, StrategyContext]]:
        """(stage, context with one cell masked) for every cell of the grid, row-major."""
        (rows, cols), fill = occlusion_settings(context.options.extra)
        image = _decode(context.image)
        return [(cell_stage(cell.row, cell.col),
                 replace(context, image=_encode(occlude(image, cell, fill), context.image)))
                for cell in grid_cells(image.size, rows, cols)]

    async def run(self, context: StrategyContext, call: Call) -> StrategyOutcome:
        outcome = await self.base.run(context, call)
        if any(r.error_class is ErrorClass.BUDGET for r in outcome.final) or all(
                r.status == "error" for r in outcome.final):
            return outcome  # no intact answer to compare with: masking would be paid for nothing
        limit = asyncio.Semaphore(max(1, int(context.options.extra.get("cell_concurrency", 8))))
        stopped: list[ModelResponse] = []

        async def masked(prefix: str, ctx: StrategyContext) -> None:
            async def staged(stage: str, request: ModelRequest, sample_index: int = 0) -> ModelResponse:
                name = prefix if stage in FINAL_STAGES else f"{prefix}/{stage}"
                response = await call(name, request, sample_index)
                if response.error_class is ErrorClass.BUDGET:
                    stopped.append(response)
                return response

            async with limit:
                if not stopped:  # once the budget is spent, the remaining cells are not even tried
                    await self.base.run(ctx, staged)

        await asyncio.gather(*(masked(stage, ctx) for stage, ctx in self.masked_contexts(context)))
        if stopped:
            # Unfinished: the runner stops the run without journaling the item, so a rerun completes it.
            return StrategyOutcome([stopped[0]], outcome.final_stage, outcome.aggregate)
        return outcome


def wrap_strategy(base, modifier: str):
    """`BASE+MODIFIER` -> the probe or occlusion wrapper around the base strategy."""
    if isinstance(base, OcclusionStrategy):
        raise KeyError(f"{base.name}+{modifier}: occlusion must be the last modifier "
                       "(e.g. zero-shot+grayscale+occlusion)")
    if modifier == OCCLUSION:
        return OcclusionStrategy(base)
    if modifier == CAPTION_ONLY:
        raise KeyError(f"{base.name}+{CAPTION_ONLY}: the caption-only control is the describe-then-judge strategy; "
                       "list `describe-then-judge` as a strategy instead")
    return ProbeStrategy(base, modifier)
