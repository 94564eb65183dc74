"""`ModelRequest`'s cache key and raw-request view: stable across versions, every setting included."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from engine.models.base import GenerateConfig, ImagePart, Message, ModelRequest, TaskSpec

CONFIG = GenerateConfig(temperature=0.7, max_tokens=64, top_p=0.9, seed=3, json_schema={"type": "object"},
                        extra={"reasoning_effort": "low"})


def test_config_dict_has_every_setting():
    # a new GenerateConfig field must reach the cache key and the stored raw request
    assert CONFIG.as_dict() == dataclasses.asdict(CONFIG)
    view = CONFIG.as_dict()
    view["extra"]["reasoning_effort"] = "high"
    view["json_schema"]["type"] = "array"
    assert CONFIG.extra == {"reasoning_effort": "low"} and CONFIG.json_schema == {"type": "object"}  # not reachable


def test_request_hash_is_the_documented_sha256():
    image = ImagePart(b"\xff\xd8 not really a jpeg", "image/jpeg")
    request = ModelRequest((Message.system("Be brief."), Message.user(image, "Which emotion?")), CONFIG,
                           TaskSpec(("emotion", "valence"), "mikels8", {"valence": (1, 9)}), "d/1")
    body = {"adapter": "openai", "model": "gpt-x", "config": dataclasses.asdict(CONFIG),
            "task": {"dimensions": ["emotion", "valence"], "taxonomy": "mikels8", "scales": {"valence": [1, 9]}},
            "messages": [{"role": "system", "parts": ["Be brief."]},
                         {"role": "user", "parts": [f"image:{image.sha256}", "Which emotion?"]}]}
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    assert request.request_hash("openai", "gpt-x") == expected  # keys already stored stay valid
    assert request.request_hash("openai", "gpt-y") != expected
    assert dataclasses.replace(request, item_key="d/2").request_hash("openai", "gpt-x") == expected
    assert request.describe()["config"] == dataclasses.asdict(CONFIG)
