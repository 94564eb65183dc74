"""The `hf` adapter against a tiny LLaVA model built in the test session (no download, CPU)."""

from __future__ import annotations

import asyncio
import json
import shutil

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.models import ErrorClass, GenerateConfig, ImagePart, Message, ModelRequest, ModelSpec, create_adapter
from tests.models.conftest import jpeg_part

pytest.importorskip("transformers")


def _adapter(path, **options):
    # One torch thread: several OpenMP threads only spin against each other on matrices this small.
    return create_adapter(ModelSpec(name="tiny", adapter="hf", model=str(path),
                                    options={"device": "cpu", "threads": 1, **options}))


def _request(image: ImagePart | None, prompt: str, max_tokens: int = 8, key: str = "d/1") -> ModelRequest:
    parts = (image, prompt) if image is not None else (prompt,)
    return ModelRequest(messages=(Message.user(*parts),), config=GenerateConfig(max_tokens=max_tokens), item_key=key)


def test_tiny_model_is_labelled_untrained_and_cached(tiny_model_path):
    from transformers import AutoProcessor, LlavaProcessor

    from engine.models.tiny import build_tiny_llava

    config = json.loads((tiny_model_path / "config.json").read_text())
    assert config["affectlens_untrained"] is True
    assert "Untrained" in (tiny_model_path / "README.md").read_text()
    assert isinstance(AutoProcessor.from_pretrained(tiny_model_path), LlavaProcessor)
    stamp = (tiny_model_path / "model.safetensors").stat().st_mtime_ns
    assert build_tiny_llava(tiny_model_path) == tiny_model_path
    assert (tiny_model_path / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_generate_returns_text_and_token_counts(tiny_model_path):
    from PIL import Image
    from transformers import AutoProcessor

    adapter = _adapter(tiny_model_path)
    image = jpeg_part((200, 40, 40))
    response = asyncio.run(adapter.generate(_request(image, "What emotion does this image convey?", max_tokens=6)))
    assert response.status == "ok", response.error_message
    assert isinstance(response.text, str)
    assert 1 <= response.output_tokens <= 6
    assert response.stop_reason in ("stop", "length")
    # The prompt length counted independently: chat template + processor, as the model card says.
    processor = AutoProcessor.from_pretrained(tiny_model_path)
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What emotion does this image convey?"}]}],
        add_generation_prompt=True)
    pil = Image.open(__import__("io").BytesIO(image.data)).convert("RGB")
    expected = processor(text=[prompt], images=[pil], return_tensors="pt")["input_ids"].shape[1]
    assert response.input_tokens == expected
    assert response.raw_request["messages"][0]["parts"][0] == {"image_sha256": image.sha256, "mime": "image/jpeg"}
    assert response.model_id_resolved == str(tiny_model_path)
    assert response.latency_ms > 0


def test_concurrent_calls_are_batched_and_match_single_calls(tiny_model_path):
    prompts = ["What emotion?", "Is the sentiment positive or negative?", "Rate valence from 1 to 9.",
               "Describe the image.", "What is the mood?", "Answer in JSON."]
    images = [jpeg_part((40 * i, 120, 255 - 30 * i)) for i in range(len(prompts))]
    requests = [_request(img, p, key=f"d/{i}") for i, (img, p) in enumerate(zip(images, prompts))]

    batched = _adapter(tiny_model_path, batch_size=4, batch_window_ms=50)

    async def together():
        return await asyncio.gather(*(batched.generate(r) for r in requests))

    responses = asyncio.run(together())
    assert sorted(batched.batch_sizes, reverse=True) == [4, 2]
    assert all(r.raw_response["batch_size"] in (4, 2) for r in responses)

    single = _adapter(tiny_model_path, batch_size=1)

    async def one_by_one():
        return [await single.generate(r) for r in requests]

    alone = asyncio.run(one_by_one())
    assert single.batch_sizes == [1] * len(requests)
    # Left padding keeps greedy answers identical whatever else shares the batch.
    assert [r.text for r in responses] == [r.text for r in alone]
    assert [r.output_tokens for r in responses] == [r.output_tokens for r in alone]
    assert len({r.text for r in alone}) > 1  # the answers depend on the input


def test_a_failing_request_fails_alone_in_its_batch(tiny_model_path):
    adapter = _adapter(tiny_model_path, batch_size=3, batch_window_ms=50)
    # A literal image placeholder in the text leaves the processor one image short for that prompt.
    prompts = ["What emotion?", "Look: <image> what emotion?", "Is it positive?"]
    requests = [_request(jpeg_part((60 * i, 90, 90)), p, key=f"d/{i}") for i, p in enumerate(prompts)]

    async def together():
        return await asyncio.gather(*(adapter.generate(r) for r in requests))

    good, bad, also_good = asyncio.run(together())
    assert good.status == "ok" and also_good.status == "ok"
    assert bad.status == "error" and bad.error_class is ErrorClass.BAD_REQUEST and bad.error_message
    assert bad.raw_request["messages"][0]["parts"][1]["text"] == prompts[1]
    assert adapter.batch_sizes == [1, 1]  # the batch of three failed, then each ran alone


def test_text_only_request_and_bad_image(tiny_model_path):
    adapter = _adapter(tiny_model_path)

    async def calls():
        text_only = await adapter.generate(_request(None, "Describe sadness in one word."))
        broken = await adapter.generate(_request(ImagePart(b"not an image"), "What emotion?", key="d/broken"))
        return text_only, broken

    text_only, broken = asyncio.run(calls())
    assert text_only.status == "ok" and text_only.input_tokens > 0
    assert broken.status == "error" and broken.error_class is ErrorClass.IMAGE
    assert "d/broken" in broken.error_message


def test_sampling_with_a_seed_repeats_and_foreign_extras_are_ignored(tiny_model_path):
    adapter = _adapter(tiny_model_path)
    image = jpeg_part((90, 200, 90))
    config = GenerateConfig(temperature=0.9, top_p=0.95, seed=3, max_tokens=8,
                            extra={"reasoning_effort": "low", "repetition_penalty": 1.2})
    request = ModelRequest(messages=(Message.user(image, "What emotion?"),), config=config, item_key="d/s")

    async def twice():
        return await adapter.generate(request), await adapter.generate(request)

    first, second = asyncio.run(twice())
    assert first.status == "ok", first.error_message
    assert first.text == second.text


def test_processor_without_chat_template_uses_plain_prompt(tiny_model_path, tmp_path):
    folder = tmp_path / "no-template"
    shutil.copytree(tiny_model_path, folder)
    (folder / "chat_template.jinja").unlink()
    adapter = _adapter(folder)
    adapter.load()
    assert not adapter.processor.chat_template
    prompt = adapter._prompt([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Mood?"}]}])
    assert prompt == "USER: <image>\nMood?\nASSISTANT:"
    response = asyncio.run(adapter.generate(_request(jpeg_part(), "Mood?")))
    assert response.status == "ok", response.error_message


def test_missing_model_gives_a_clear_error(tmp_path):
    missing = _adapter(tmp_path / "nowhere")
    response = asyncio.run(missing.generate(_request(jpeg_part(), "What emotion?")))
    assert response.status == "error" and response.error_class is ErrorClass.BAD_REQUEST
    assert "nowhere" in response.error_message and "config.json" in response.error_message
    assert not response.transient

    hub = _adapter("example-org/not-downloaded")
    response = asyncio.run(hub.generate(_request(jpeg_part(), "What emotion?")))
    assert response.error_class is ErrorClass.BAD_REQUEST
    assert "example-org/not-downloaded" in response.error_message and "download" in response.error_message


def test_attention_map_on_the_patch_grid(tiny_model_path):
    """`engine.explain.attention.attention_map` over the hf adapter's hook `attention_pass`."""
    from engine.explain.attention import attention_map

    adapter = _adapter(tiny_model_path)
    adapter.load()
    vision = adapter.model.config.vision_config
    grid = vision.image_size // vision.patch_size

    def half_red(image):
        image.paste((230, 10, 10), (0, 0, image.width // 2, image.height))

    image = jpeg_part((20, 20, 200), size=(64, 64), draw=half_red)
    for aggregate in ("mean", "rollout"):
        for answer in (None, "joy"):
            heat = attention_map(adapter, image, "What emotion?", answer, aggregate=aggregate)
            assert heat.shape == (grid, grid)
            assert np.isfinite(heat).all() and (heat >= 0).all()
            assert heat.sum() == pytest.approx(1.0)
    other = attention_map(adapter, jpeg_part((250, 250, 250), size=(64, 64)), "What emotion?")
    assert not np.allclose(other, attention_map(adapter, image, "What emotion?"))
    assert adapter.model.config._attn_implementation != "eager" or adapter.options.get("attn_implementation") == "eager"
    with pytest.raises(ValueError, match="aggregate"):
        attention_map(adapter, image, "What emotion?", aggregate="max")
    with pytest.raises(ConfigError, match="adapter: hf"):
        attention_map(object(), image, "What emotion?")
