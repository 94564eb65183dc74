"""Loopback fake vendor servers for tests and benchmarks: the real SDKs talk to them over HTTP.

One server speaks all three wire formats (routing by path: ``/v1/chat/completions`` for OpenAI and
OpenAI-compatible servers, ``/v1/messages`` for Anthropic, ``/{version}/models/{model}:generateContent``
for Gemini); `vendor` only decides what `.base_url` looks like for that vendor's SDK.

In a test (a background thread; stops on exit)::

    from tests.fakes import Fault, FakeVendorServer

    with FakeVendorServer("anthropic", script=["429:2", "ok"], answer=lambda req: "sadness") as fake:
        spec = ModelSpec(name="m", adapter="anthropic", model="claude-x", base_url=fake.base_url)
        ...
        fake.requests[0].fault            # "429"
        fake.requests[1].images[0].sha256 # the image as it arrived (base64-decoded)
        fake.requests[1].api_key          # the key header as sent
        fake.requests[1].input_tokens     # the usage the fake reported back

Arguments of `FakeVendorServer`:
- ``vendor``: "openai" (also for openai-compatible), "anthropic" or "gemini".
- ``latency_s``: seconds before every answer (the bench's injected latency L).
- ``script``: faults for requests in arrival order (a list; requests past its end are answered), or a
  callable ``(index, RecordedRequest) -> Fault | str | None`` (e.g. keyed on ``req.prompt`` or
  ``req.images[0].sha256``, so a fault follows an item whatever the arrival order). Faults:
  ``"ok"``, ``"429"`` / ``"429:2.5"`` (with Retry-After 2.5 s), ``"500"``, ``"503"``, ``"529"``, ``"400"``,
  ``"401"``, ``"404"``, ``"reset"`` (socket closed with RST, no answer), ``"truncate"`` (half the body
  promised by Content-Length), ``"refuse"`` (the vendor's refusal), ``"delay:S"`` / ``"hang"``
  (answer late: past the client's timeout), or a `Fault(...)`.
- ``answer``: the answer text, or a callable ``RecordedRequest -> str`` (e.g. from the prompt).
- ``api_key``: when set, other keys get the vendor's authentication error (401; Gemini: 400 API_KEY_INVALID).
- ``model_id``: the resolved model id reported back (default: the requested model).
- ``record_path``: also append one JSON line per request (index, model, fault, prompt, image sha256s)
  to a file, which survives a killed client (kill -9 tests).
- ``reset(script=..., answer=..., latency_s=...)`` clears `.requests` for reuse between tests.
- ``image_tokens`` (85) input tokens per image; ``cache_min_tokens`` (1,024): the simulated prompt cache
  serves a prefix seen before that is at least this long (Anthropic: up to the last `cache_control`
  block, written on first sight; OpenAI and Gemini: everything before the last image), reported in each
  vendor's usage fields (`prompt_tokens_details.cached_tokens`, `cache_read_input_tokens` /
  `cache_creation_input_tokens`, `cachedContentTokenCount`).
- Batch endpoints (`tests/fakes/batches.py`): OpenAI Files + Batches, Anthropic Message Batches, Gemini
  `batchGenerateContent`; ``batch_polls`` status reads say "in progress" before a batch ends; the fault
  ``"expire"`` expires a request; ``fake.batches.created`` lists every batch submitted.

Standalone (its own process, so it is never the bottleneck of a benchmark, and survives the client
being killed)::

    with FakeServerProcess(vendor="openai", latency_s=0.25) as proc:
        proc.base_url, proc.port

or ``python -m tests.fakes.server --vendor openai --port 0 --latency 0.25 --record calls.jsonl``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.wire import REFUSAL_TEXT, RecordedImage, RecordedRequest

__all__ = ["FakeVendorServer", "FakeServerProcess", "Fault", "RecordedRequest", "RecordedImage", "REFUSAL_TEXT"]

REPO = Path(__file__).resolve().parents[2]


def __getattr__(name: str):
    # imported on first use, so `python -m tests.fakes.server` does not find its module pre-imported
    if name in ("FakeVendorServer", "Fault"):
        from tests.fakes import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class FakeServerProcess:
    """`python -m tests.fakes.server ...` in a child process; `.base_url`, `.port`, `.record_path`."""

    def __init__(self, vendor: str = "openai", *, latency_s: float = 0.0, script: list[str] | None = None,
                 answer: str = "positive", api_key: str | None = None, model_id: str | None = None,
                 record_path: str | os.PathLike | None = None, port: int = 0):
        self.vendor = vendor
        self.record_path = str(record_path) if record_path else None
        self.args = [sys.executable, "-m", "tests.fakes.server", "--vendor", vendor, "--port", str(port),
                     "--latency", str(latency_s), "--answer", answer]
        if script:
            self.args += ["--script", ",".join(script)]
        if api_key:
            self.args += ["--api-key", api_key]
        if model_id:
            self.args += ["--model-id", model_id]
        if self.record_path:
            self.args += ["--record", self.record_path]
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.base_url = ""

    def start(self) -> "FakeServerProcess":
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(self.args, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("FAKE_SERVER_READY"):
            self.stop()
            raise RuntimeError(f"fake server did not start: {line!r}")
        _, port, self.base_url = line.split()
        self.port = int(port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> "FakeServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
