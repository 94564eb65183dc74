"""Small helpers shared by the adapter tests: real JPEGs, requests, and the fault matrix."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence

from engine.models import (ErrorClass, GenerateConfig, ImagePart, Message, ModelAdapter, ModelRequest,
                           ModelResponse)


def jpeg(seed: int = 0, size: int = 24) -> ImagePart:
    """A real JPEG whose bytes depend on `seed`."""
    from PIL import Image

    image = Image.new("RGB", (size, size), ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    image.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return ImagePart(buffer.getvalue(), mime="image/jpeg")


def image_request(prompt: str = "Which emotion does this image convey? Answer with one word.",
                  image: ImagePart | None = None, system: str | None = "You rate the emotions images convey.",
                  config: GenerateConfig | None = None) -> ModelRequest:
    messages = ((Message.system(system),) if system else ()) + (Message.user(prompt, image or jpeg()),)
    return ModelRequest(messages=messages, config=config or GenerateConfig(max_tokens=64))


def run(coroutine):
    return asyncio.run(coroutine)


async def generate_all(adapter: ModelAdapter, requests: Sequence[ModelRequest], *,
                       concurrent: bool = False, close: bool = True) -> list[ModelResponse]:
    """Send the requests one after another (or all at once) through one adapter."""
    try:
        if concurrent:
            return list(await asyncio.gather(*(adapter.generate(r) for r in requests)))
        return [await adapter.generate(r) for r in requests]
    finally:
        if close:
            await adapter.aclose()


# fault -> (status, error class, retry_after_s); "hang" needs a client timeout below its delay
FAULT_CASES: list[tuple[str, str, ErrorClass | None, float | None]] = [
    ("ok", "ok", None, None),
    ("429:2.5", "error", ErrorClass.RATE_LIMIT, 2.5),
    ("500", "error", ErrorClass.SERVER, None),
    ("503", "error", ErrorClass.SERVER, None),
    ("529", "error", ErrorClass.SERVER, None),
    ("400", "error", ErrorClass.BAD_REQUEST, None),
    ("404", "error", ErrorClass.BAD_REQUEST, None),
    ("401", "error", ErrorClass.AUTH, None),
    ("403", "error", ErrorClass.AUTH, None),
    ("reset", "error", ErrorClass.CONNECTION, None),
    ("truncate", "error", ErrorClass.CONNECTION, None),
    ("refuse", "refused", ErrorClass.REFUSAL, None),
    ("hang", "error", ErrorClass.TIMEOUT, None),
    ("ok", "ok", None, None),  # the client recovers after every fault
]


def assert_fault_matrix(responses: Sequence[ModelResponse], key_env: str, secret: str | None) -> None:
    """Each response has the status, class and retry delay its fault calls for, and no secret anywhere."""
    assert len(responses) == len(FAULT_CASES)
    for (fault, status, error_class, retry_after), response in zip(FAULT_CASES, responses):
        assert (fault, response.status, response.error_class) == (fault, status, error_class), response.error_message
        assert response.retry_after_s == retry_after, fault
        assert response.transient == (error_class is not None and error_class.transient), fault
        assert response.latency_ms is not None and response.latency_ms > 0
        if error_class is ErrorClass.AUTH:
            assert key_env in response.error_message
        if status == "ok":
            assert response.text and response.input_tokens and response.output_tokens
        if secret:
            everything = json.dumps([response.raw_request, response.raw_response, response.error_message,
                                     response.text], default=str)
            assert secret not in everything, fault
