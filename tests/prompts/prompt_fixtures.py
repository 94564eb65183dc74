"""Helpers for the prompt tests: small real JPEGs, contexts, and a deterministic echo model adapter."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field

import pytest
from PIL import Image

from engine.models.base import (ErrorClass, GenerateConfig, ImagePart, ModelAdapter, ModelRequest, ModelResponse,
                                ModelSpec, TaskSpec)
from engine.prompts import StrategyContext, StrategyOptions
from engine.taxonomy import get_taxonomy


def jpeg(colour: tuple[int, int, int], size: int = 12) -> ImagePart:
    """A real JPEG of one colour (distinct colours give distinct bytes and sha256)."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "JPEG", quality=90)
    return ImagePart(buffer.getvalue(), "image/jpeg")


@pytest.fixture
def images() -> list[ImagePart]:
    return [jpeg((30 * i % 256, 200 - 15 * i, 40 + 20 * i)) for i in range(8)]


def make_context(image: ImagePart, dimensions=("polarity", "emotion"), taxonomy="mikels8", scales=None,
                 item_key="set/item-1", exemplars=(), generate: GenerateConfig | None = None,
                 **options) -> StrategyContext:
    return StrategyContext(item_key=item_key, image=image,
                           task=TaskSpec(tuple(dimensions), taxonomy, dict(scales or {})),
                           generate=generate or GenerateConfig(), options=StrategyOptions(**options),
                           exemplars=list(exemplars))


class EchoAdapter(ModelAdapter):
    """A deterministic model: answers every request in the requested JSON format.

    Labels and numbers are picked from a hash of the request's text, image hashes and seed, so
    different requests (e.g. self-consistency samples with different seeds) get different answers,
    and the same request always the same one. It also reports how many images it saw.
    """

    name = "echo"
    local = True

    def __init__(self, spec: ModelSpec | None = None, fail_stage_text: str | None = None):
        super().__init__(spec or ModelSpec(name="echo", adapter="echo", model="echo-1"))
        self.requests: list[ModelRequest] = []
        self.fail_stage_text = fail_stage_text  # fail requests whose text contains this

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        text = "\n".join(m.text for m in request.messages)
        images = [img.sha256 for m in request.messages for img in m.images]
        if self.fail_stage_text and self.fail_stage_text in text:
            return ModelResponse.failure(ErrorClass.SERVER, "echo: failing as asked")
        key = hashlib.sha256(json.dumps([text, images, request.config.seed]).encode()).digest()
        answer = {}
        for i, dim in enumerate(request.task.dimensions):
            pick = key[i]
            if dim == "polarity":
                answer[dim] = ("positive", "negative")[pick % 2]
            elif dim == "emotion":
                names = get_taxonomy(request.task.taxonomy).names
                answer[dim] = names[pick % len(names)]
            elif dim == "confidence":
                answer[dim] = round(pick / 255, 2)
            else:
                answer[dim] = 1 + pick % 5
        body = json.dumps(answer)
        return ModelResponse(text=f"Seen {len(images)} image(s).\n{body}", input_tokens=len(text) // 4,
                             output_tokens=len(body) // 4, model_id_resolved="echo-1")


@dataclass
class Recorder:
    """The `call` the runner would pass: records (stage, sample index, request), then asks the model."""

    adapter: EchoAdapter
    calls: list[tuple[str, int, ModelRequest]] = field(default_factory=list)
    responses: list[ModelResponse] = field(default_factory=list)

    async def __call__(self, stage: str, request: ModelRequest, sample_index: int) -> ModelResponse:
        self.calls.append((stage, sample_index, request))
        response = await self.adapter.generate(request)
        self.responses.append(response)
        return response

    @property
    def stages(self) -> list[str]:
        return [stage for stage, _, _ in self.calls]
