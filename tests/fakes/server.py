"""A loopback HTTP/1.1 server speaking the OpenAI, Anthropic and Gemini wire formats, with fault injection.

In-process (a background thread with its own event loop) or standalone:

    python -m tests.fakes.server --vendor openai --port 0 --latency 0.25 [--script 429:1,ok,reset]
                                 [--answer TEXT] [--api-key KEY] [--record FILE.jsonl]

prints one line ``FAKE_SERVER_READY <port> <base_url>`` once listening, and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.wire import (VENDORS, RecordedRequest, cacheable_prefix, count_tokens, error_body, ok_body,
                              parse_request, refusal_body, vendor_for_path)


@dataclass(frozen=True)
class Fault:
    """What the server does with one request.

    kind: "ok" | "status" (an HTTP error with the vendor's error body) | "reset" (close the socket
    without answering) | "truncate" (headers promise more body than is sent) | "refuse" (the
    vendor's refusal) | "delay" (sleep `delay_s` before answering, e.g. past the client timeout) |
    "expire" (inside a batch: the request expires unanswered; synchronously: a 504).
    """

    kind: str = "ok"
    status: int = 200
    retry_after_s: float | None = None  # 429/503/529: sent as Retry-After and retry-after-ms
    delay_s: float = 0.0
    text: str | None = None  # "ok": this answer instead of the server's answer function
    message: str | None = None  # "status": this error message instead of the vendor's stock one

    @classmethod
    def parse(cls, spec: "Fault | str | int | None") -> "Fault":
        """"ok", "429", "429:2.5" (Retry-After 2.5 s), "500", "503", "529", "401", "reset",
        "truncate", "refuse", "delay:3" (answer after 3 s), "hang" (delay 3600 s)."""
        if spec is None:
            return cls()
        if isinstance(spec, Fault):
            return spec
        name, _, arg = str(spec).partition(":")
        if name.isdigit():
            return cls("status", int(name), retry_after_s=float(arg) if arg else None)
        if name in ("delay", "hang"):
            return cls("delay", delay_s=float(arg) if arg else 3600.0)
        if name in ("ok", "reset", "truncate", "refuse", "expire"):
            return cls(name, text=arg or None) if name == "ok" else cls(name)
        raise ValueError(f"unknown fault {spec!r}: use ok, NNN[:retry_after], reset, truncate, refuse, expire, "
                         "delay:S, hang")

    def label(self) -> str:
        return str(self.status) if self.kind == "status" else self.kind


Script = list | Callable[[int, RecordedRequest], "Fault | str | None"] | None
Answer = str | Callable[[RecordedRequest], str]


class FakeVendorServer:
    """A fake vendor API on 127.0.0.1; see `tests/fakes/__init__.py` for the API."""

    def __init__(self, vendor: str = "openai", *, latency_s: float = 0.0, script: Script = None,
                 answer: Answer = "positive", api_key: str | None = None, model_id: str | None = None,
                 port: int = 0, record_path: str | None = None, keep_requests: bool = True,
                 image_tokens: int = 85, cache_min_tokens: int = 1024, batch_polls: int = 1,
                 tls: "ssl.SSLContext | None" = None):
        if vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {VENDORS}, not {vendor!r}")
        self.vendor = vendor
        self.latency_s = latency_s
        self.script = script
        self.answer = answer
        self.api_key = api_key
        self.model_id = model_id
        self.port = port
        self.record_path = record_path
        self.keep_requests = keep_requests
        self.requests: list[RecordedRequest] = []
        self.count = 0
        self.image_tokens = image_tokens  # input tokens counted per image
        self.cache_min_tokens = cache_min_tokens  # the shortest prefix the simulated prompt cache keeps
        self.cached_prefixes: set[str] = set()
        from tests.fakes.batches import BatchEndpoints
        self.batches = BatchEndpoints(self, polls_to_finish=batch_polls)
        self.tls = tls  # a server-side context: the fake answers https:// (tests/fakes/tls.py makes one)
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def root_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What the vendor's SDK takes as `base_url` (OpenAI's includes /v1)."""
        return self.root_url + "/v1" if self.vendor == "openai" else self.root_url

    def reset(self, *, script: Script = None, answer: Answer | None = None, latency_s: float | None = None) -> None:
        """Forget recorded requests and set a new script (between tests sharing one server)."""
        self.requests.clear()
        self.count = 0
        self.cached_prefixes.clear()
        self.batches.clear()
        self.script = script
        if answer is not None:
            self.answer = answer
        if latency_s is not None:
            self.latency_s = latency_s

    # -- lifecycle ---------------------------------------------------------------------------
    async def serve(self) -> None:
        """Start listening in the running loop (the standalone entry point and the thread use this)."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port, backlog=4096,
                                                  limit=1 << 24, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> "FakeVendorServer":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.vendor}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> "FakeVendorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- HTTP ------------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head[:-4].decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if "content-length" in headers:
                    body = await reader.readexactly(int(headers["content-length"]))
                elif headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await _read_chunked(reader)
                else:
                    body = b""
                keep_open = await self._respond(method, target, headers, body, writer)
                if not keep_open or headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _respond(self, method: str, target: str, headers: dict, body: bytes,
                       writer: asyncio.StreamWriter) -> bool:
        path = target.split("?", 1)[0]
        if method == "GET" and path.rstrip("/") in ("", "/health", "/v1/models"):
            return _write(writer, 200, {"object": "list", "data": [{"id": self.model_id or "fake-model",
                                                                     "object": "model"}]})
        handled = self.batches.route(method, target, headers, body)
        if handled is not None:
            status, payload, content_type = handled
            return _write(writer, status, payload, content_type=content_type)
        vendor = vendor_for_path(path)
        if method != "POST" or vendor is None:
            return _write(writer, 404, {"error": {"message": f"no route {method} {path}", "code": 404}})
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = RecordedRequest(index=self.count, vendor=vendor, method=method, path=target, headers=headers,
                                  body=parsed)
        self.count += 1
        try:
            parse_request(vendor, path, parsed, request)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:  # a malformed image, a wrong shape
            request.fault = "400"
            self._keep(request)
            return _write(writer, 400, {"error": {"message": f"malformed request: {exc}",
                                                  "type": "invalid_request_error"}})
        fault = self._fault_for(request)
        if self.api_key is not None and request.api_key != self.api_key and "key=" + self.api_key not in target:
            fault = Fault("status", 400 if vendor == "gemini" else 401)
            key_invalid = vendor == "gemini"
        else:
            key_invalid = False
        request.fault = fault.label()
        self._keep(request)
        delay = self.latency_s + (fault.delay_s if fault.kind == "delay" else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        if fault.kind == "reset":
            _reset(writer)
            return False
        if fault.kind == "status":
            extra = {}
            if fault.retry_after_s is not None:
                extra = {"Retry-After": f"{fault.retry_after_s:g}", "retry-after-ms": f"{fault.retry_after_s * 1000:g}"}
            body = error_body(vendor, fault.status, retry_after_s=fault.retry_after_s, key_invalid=key_invalid,
                              message=fault.message)
            return _write(writer, fault.status, body, extra)
        if fault.kind == "expire":
            return _write(writer, 504, error_body(vendor, 504))
        payload = self.success_body(vendor, request, fault)
        if fault.kind == "truncate":
            data = json.dumps(payload).encode()
            writer.write(_head(200, len(data)) + data[: len(data) // 2])
            await writer.drain()
            writer.close()
            return False
        return _write(writer, 200, payload)

    def success_body(self, vendor: str, request: RecordedRequest, fault: Fault) -> dict:
        """The 200 body for a request (an answer or the vendor's refusal), with usage and simulated
        prompt-cache accounting: a prefix seen before (and at least `cache_min_tokens` long) is read from
        the cache; Anthropic writes a marked prefix on first sight."""
        model_id = self.model_id or request.model or "fake-model"
        request.input_tokens = count_tokens(request, self.image_tokens)
        request.prefix_tokens, request.prefix_key = cacheable_prefix(vendor, request.body, self.image_tokens)
        if request.prefix_key and request.prefix_tokens >= self.cache_min_tokens:
            if request.prefix_key in self.cached_prefixes:
                request.cached_tokens = request.prefix_tokens - (request.prefix_tokens % 128 if vendor == "openai"
                                                                 else 0)
            else:
                self.cached_prefixes.add(request.prefix_key)
                if vendor == "anthropic":
                    request.cache_write_tokens = request.prefix_tokens
        if fault.kind == "refuse":
            return refusal_body(vendor, request, model_id)
        text = fault.text
        if text is None:
            text = self.answer(request) if callable(self.answer) else self.answer
        request.answer = text
        request.output_tokens = len(text.split())
        return ok_body(vendor, request, text, model_id)

    def _fault_for(self, request: RecordedRequest) -> Fault:
        if callable(self.script):
            return Fault.parse(self.script(request.index, request))
        if self.script and request.index < len(self.script):
            return Fault.parse(self.script[request.index])
        return Fault()

    def _keep(self, request: RecordedRequest) -> None:
        if self.keep_requests:
            self.requests.append(request)
        if self.record_path:
            line = {"index": request.index, "vendor": request.vendor, "model": request.model, "fault": request.fault,
                    "prompt": request.prompt, "image_sha256": [i.sha256 for i in request.images]}
            with open(self.record_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            408: "Request Timeout", 413: "Payload Too Large", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
            529: "Overloaded"}


def _head(status: int, length: int, extra: dict | None = None, content_type: str = "application/json") -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", f"Content-Type: {content_type}",
             f"Content-Length: {length}", "x-request-id: req_fake"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _write(writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict | None = None,
           content_type: str = "application/json") -> bool:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    writer.write(_head(status, len(data), extra, content_type) + data)
    return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed or overloaded proxy does."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readline()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendor", choices=VENDORS, default="openai")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--script", default="", help="comma-separated faults for requests 0, 1, 2, ...")
    parser.add_argument("--answer", default="positive")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--model-id", default=None)
    parser.add_argument("--record", default=None, help="append one JSON line per request to this file")
    args = parser.parse_args(argv)
    server = FakeVendorServer(args.vendor, latency_s=args.latency, answer=args.answer, api_key=args.api_key,
                              model_id=args.model_id, port=args.port, record_path=args.record,
                              script=[s for s in args.script.split(",") if s] or None, keep_requests=False)

    async def run() -> None:
        await server.serve()
        print(f"FAKE_SERVER_READY {server.port} {server.base_url}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
