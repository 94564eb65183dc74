"""Pure helpers of the cloud adapters: Retry-After parsing, status classes, secret scrubbing, prices."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time

import aiohttp
import httpx2
import pytest

from engine.models import ErrorClass
from engine.models._errors import parse_retry_after, scrub_secrets, status_error_class, transport_failure
from engine.models.pricing import PRICES, cost_usd, price_for


@pytest.mark.parametrize("headers, body, expected", [
    ({"Retry-After": "12"}, None, 12.0),
    ({"retry-after": "0.5", "retry-after-ms": "750"}, None, 0.75),  # the finer header wins
    ({"Retry-After": "soon"}, None, None),
    ({}, {"error": {"code": 429, "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                              "retryDelay": "37s"}]}}, 37.0),
    (None, None, None),
])
def test_retry_after(headers, body, expected):
    assert parse_retry_after(headers, body) == expected


def test_retry_after_as_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= parse_retry_after({"Retry-After": when}) <= 31


@pytest.mark.parametrize("status, expected", [
    (429, ErrorClass.RATE_LIMIT), (500, ErrorClass.SERVER), (502, ErrorClass.SERVER), (503, ErrorClass.SERVER),
    (529, ErrorClass.SERVER), (408, ErrorClass.TIMEOUT), (400, ErrorClass.BAD_REQUEST), (404, ErrorClass.BAD_REQUEST),
    (413, ErrorClass.BAD_REQUEST), (422, ErrorClass.BAD_REQUEST), (401, ErrorClass.AUTH), (403, ErrorClass.AUTH),
])
def test_status_classes(status, expected):
    assert status_error_class(status) is expected


def test_google_invalid_key_400_is_auth():
    body = {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}
    assert status_error_class(400, body) is ErrorClass.AUTH


@pytest.mark.parametrize("exc, expected", [
    (httpx2.ReadTimeout("slow"), ErrorClass.TIMEOUT),
    (asyncio.TimeoutError(), ErrorClass.TIMEOUT),
    (httpx2.RemoteProtocolError("peer closed"), ErrorClass.CONNECTION),
    (httpx2.ConnectError("refused"), ErrorClass.CONNECTION),
    (aiohttp.ServerDisconnectedError(), ErrorClass.CONNECTION),
    (aiohttp.ClientPayloadError("short"), ErrorClass.CONNECTION),
    (ConnectionResetError(104, "reset"), ErrorClass.CONNECTION),
    (json.JSONDecodeError("cut", '{"a"', 4), ErrorClass.CONNECTION),
])
def test_transport_failures(exc, expected):
    assert transport_failure(exc, secrets=()).error_class is expected


def test_other_exceptions_are_not_transport_failures():
    assert transport_failure(ValueError("bad setting"), secrets=()) is None


def test_scrub_secrets_masks_known_keys_and_key_shapes_only():
    secret = "my-own-secret-token-123"
    value = {"error": {"message": f"bad key {secret}", "echo": ["sk-proj-abcdefghijklmnop", "AIza" + "x" * 35]},
             "note": "ask-anything-you-like is fine", "n": 3}
    scrubbed = scrub_secrets(value, [secret])
    text = json.dumps(scrubbed)
    assert secret not in text and "sk-proj-abcdefghijklmnop" not in text and "AIza" not in text
    assert scrubbed["note"] == "ask-anything-you-like is fine" and scrubbed["n"] == 3
    assert scrub_secrets(value, []) is not value
    clean = {"text": "positive"}
    assert scrub_secrets(clean, [secret]) is clean  # nothing to remove: returned as is


def test_costs_from_the_table_by_exact_id_and_snapshot_prefix():
    # gpt-4o: $2.50 in / $10.00 out per 1M tokens
    assert cost_usd("gpt-4o", 1_000, 200) == pytest.approx(0.0045)
    assert cost_usd("gpt-4o-2024-08-06", 1_000, 200) == pytest.approx(0.0045)
    # the longest prefix wins: gpt-4o-mini is $0.15 / $0.60
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_usd("models/gemini-2.5-flash", 2_000_000, 0) == pytest.approx(0.60)
    assert cost_usd("claude-sonnet-4-5-20250929", 0, 1_000_000) == pytest.approx(15.0)


def test_overrides_unknown_models_and_missing_usage():
    assert cost_usd("Qwen2.5-VL-7B-Instruct", 1000, 1000) is None  # unknown, not free
    overrides = {"Qwen2.5-VL-7B-Instruct": {"input": 0.1, "output": 0.2}, "gpt-4o": (1.0, 2.0)}
    assert cost_usd("Qwen2.5-VL-7B-Instruct", 1_000_000, 1_000_000, overrides) == pytest.approx(0.3)
    assert cost_usd("gpt-4o-2024-08-06", 1_000_000, 0, overrides) == pytest.approx(1.0)
    assert cost_usd("gpt-4o", None, None) is None
    assert cost_usd("gpt-4o", 10, None) == pytest.approx(10 * 2.5 / 1e6)
    with pytest.raises(ValueError, match="output"):
        price_for("x", {"x": {"input": 1.0}})


def test_every_listed_price_is_positive():
    assert PRICES and all(p.input_per_mtok > 0 and p.output_per_mtok >= p.input_per_mtok for p in PRICES.values())


def test_call_cost_prefers_the_models_own_price_then_resolved_id():
    from engine.models import ModelResponse, ModelSpec
    from engine.models.pricing import call_cost

    response = ModelResponse(text="x", input_tokens=1_000_000, output_tokens=0, model_id_resolved="gpt-4o-2024-08-06")
    assert call_cost(ModelSpec(name="g", adapter="openai", model="gpt-4o"), response) == pytest.approx(2.5)
    priced = ModelSpec(name="g", adapter="openai", model="gpt-4o", options={"price": {"input": 1.0, "output": 1.0}})
    assert call_cost(priced, response) == pytest.approx(1.0)
    local = ModelSpec(name="q", adapter="openai-compatible", model="qwen-vl")
    unpriced = ModelResponse(text="x", input_tokens=5, output_tokens=5, model_id_resolved="qwen-vl")
    assert call_cost(local, unpriced) is None
    served = ModelResponse(text="x", input_tokens=1_000_000, output_tokens=0, model_id_resolved="/models/qwen-vl-awq")
    assert call_cost(local, served, prices={"qwen-vl": (3.0, 0.0)}) == pytest.approx(3.0)  # configured id as fallback
