"""Fixtures for the local-model tests: one tiny untrained LLaVA built per test session."""

from __future__ import annotations

import io

import pytest

from engine.models.base import ImagePart


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A tiny LLaVA-architecture model folder, built offline once per session (a few seconds)."""
    pytest.importorskip("transformers")
    from engine.models.tiny import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("models") / "tiny-llava")


def jpeg_part(color=(128, 128, 128), size=(48, 40), draw=None) -> ImagePart:
    """A JPEG-encoded image of one colour (optionally drawn on by `draw(image)`)."""
    from PIL import Image

    image = Image.new("RGB", size, color)
    if draw is not None:
        draw(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return ImagePart(buffer.getvalue())
