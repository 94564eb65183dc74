"""The `openai-compatible` adapter (vLLM, SGLang, Ollama, LM Studio): optional key, several servers balanced."""

from __future__ import annotations

import collections
import json

import pytest

from engine.errors import ConfigError
from engine.models import ErrorClass, ModelSpec, create_adapter
from tests.fakes import FakeServerProcess, FakeVendorServer, Fault
from tests.fakes.helpers import FAULT_CASES, assert_fault_matrix, generate_all, image_request, jpeg, run


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a local server needs none


def spec_for(base_url, **kw) -> ModelSpec:
    return ModelSpec(name="qwen-local", adapter="openai-compatible", model="Qwen2.5-VL-7B-Instruct",
                     base_url=base_url, timeout_s=kw.pop("timeout_s", 5.0), **kw)


@pytest.mark.parametrize("http_client", ["direct", "aiohttp", "sdk"])
def test_no_key_needed_image_in_answer_out(http_client):
    image = jpeg(3)
    request = image_request(image=image)
    with FakeVendorServer("openai", answer="negative") as fake:
        adapter = create_adapter(spec_for(fake.base_url, options={"http_client": http_client}))
        [response] = run(generate_all(adapter, [request]))
    seen = fake.requests[0]
    assert seen.images[0].sha256 == image.sha256 and seen.model == "Qwen2.5-VL-7B-Instruct"
    assert seen.body == adapter.build_payload(request)
    assert seen.body["max_tokens"] == 64  # the name every compatible server accepts
    assert seen.api_key in (None, "EMPTY")  # no key: none sent, or the SDK's required placeholder
    assert (response.status, response.text) == ("ok", "negative")
    assert (response.input_tokens, response.output_tokens) == (seen.input_tokens, seen.output_tokens)


def test_optional_key_from_the_named_variable_is_sent(monkeypatch):
    monkeypatch.setenv("VLLM_KEY", "token-abc123xyz")
    with FakeVendorServer("openai", api_key="token-abc123xyz") as fake:
        [response] = run(generate_all(create_adapter(spec_for(fake.base_url, api_key_env="VLLM_KEY")),
                                      [image_request()]))
    assert fake.requests[0].headers["authorization"] == "Bearer token-abc123xyz"
    assert response.status == "ok" and "token-abc123xyz" not in json.dumps(response.raw_request)


def test_named_key_variable_that_is_unset_is_a_config_error():
    with pytest.raises(ConfigError, match="VLLM_KEY"):
        create_adapter(spec_for("http://127.0.0.1:8000/v1", api_key_env="VLLM_KEY"))


def test_fault_matrix_classified_on_the_direct_client():
    script = [Fault.parse("delay:5") if f == "hang" else f for f, *_ in FAULT_CASES]
    with FakeVendorServer("openai", script=script) as fake:
        adapter = create_adapter(spec_for(fake.base_url, timeout_s=0.4))
        assert adapter.http_client_kind == "direct"
        responses = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(len(FAULT_CASES))]))
    assert_fault_matrix(responses, "api_key_env", None)


def test_requests_are_balanced_across_servers():
    with FakeVendorServer("openai", answer="a") as first, FakeVendorServer("openai", answer="b") as second:
        adapter = create_adapter(spec_for([first.base_url, second.base_url]))
        sequential = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(6)], close=False))
        concurrent = run(generate_all(adapter, [image_request(image=jpeg(i)) for i in range(20)], concurrent=True))
    assert [r.text for r in sequential] == ["a", "b"] * 3  # idle servers: round robin
    counts = collections.Counter(r.text for r in concurrent)
    assert counts == {"a": 10, "b": 10}  # all in flight at once: least-in-flight splits evenly
    assert {r.raw_request["base_url"] for r in concurrent} == {first.base_url, second.base_url}
    assert len(first.requests) + len(second.requests) == 26


def test_a_slow_server_gets_fewer_requests():
    with FakeVendorServer("openai", answer="slow", latency_s=0.3) as slow, \
            FakeVendorServer("openai", answer="fast") as fast:
        adapter = create_adapter(spec_for([slow.base_url, fast.base_url], concurrency=4))

        async def stream_of_requests():
            import asyncio

            semaphore = asyncio.Semaphore(4)

            async def one(i):
                async with semaphore:
                    return await adapter.generate(image_request(image=jpeg(i)))

            try:
                return await asyncio.gather(*(one(i) for i in range(40)))
            finally:
                await adapter.aclose()

        responses = run(stream_of_requests())
    counts = collections.Counter(r.text for r in responses)
    assert counts["fast"] > 3 * counts["slow"] > 0


def test_base_url_checks_and_v1_default():
    with pytest.raises(ConfigError, match="needs base_url"):
        create_adapter(ModelSpec(name="local", adapter="openai-compatible", model="m"))
    with pytest.raises(ConfigError, match="not an http"):
        create_adapter(spec_for("127.0.0.1:8000"))
    adapter = create_adapter(spec_for(["http://127.0.0.1:8000", "http://127.0.0.1:8001/v1/"]))
    assert adapter.base_urls == ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]


def test_an_unreachable_server_is_a_connection_error():
    with FakeVendorServer("openai") as fake:
        base_url = fake.base_url
    [response] = run(generate_all(create_adapter(spec_for(base_url)), [image_request()]))
    assert response.error_class is ErrorClass.CONNECTION and response.transient


def test_standalone_server_process_answers_and_records(tmp_path):
    record = tmp_path / "calls.jsonl"
    with FakeServerProcess("openai", script=["503", "ok"], answer="awe", record_path=record) as server:
        adapter = create_adapter(spec_for(server.base_url))
        responses = run(generate_all(adapter, [image_request(image=jpeg(1)), image_request(image=jpeg(2))]))
    assert [(r.status, r.error_class, r.text) for r in responses] == [("error", ErrorClass.SERVER, None),
                                                                       ("ok", None, "awe")]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(line["fault"], line["image_sha256"]) for line in lines] == [("503", [jpeg(1).sha256]),
                                                                         ("ok", [jpeg(2).sha256])]
