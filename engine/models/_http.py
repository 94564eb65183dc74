"""HTTP clients for the vendor SDKs, tuned for many requests in flight.

The three SDKs accept a custom `httpx2.AsyncClient`. Choices (`options: {http_client: ...}` on a
model; `bench/bench_clients.py` measures them against a loopback server with injected latency):

- ``"direct"`` (OpenAI wire format only; the `openai-compatible` default): the adapter posts its
  payload itself through one `aiohttp.ClientSession`, without the SDK in the request path. The
  lowest CPU per request by far, which is what bounds throughput at high concurrency.
- ``"aiohttp"`` (the cloud adapters' default): an `httpx2.AsyncClient` whose transport sends
  through one `aiohttp.ClientSession` (C-accelerated HTTP parser, keep-alive pool sized to the
  model's concurrency). Bodies are read whole inside the transport, so a reset or truncated body
  surfaces as an `httpx2` transport error the adapters classify as CONNECTION.
- ``"httpx2"``: the SDK's own transport with the pool raised to the concurrency
  (`max_connections` and `max_keepalive_connections`), so no connection is re-opened between requests.
- ``"sdk"``: whatever the SDK builds by default (for comparison).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2

CLIENT_KINDS = ("direct", "aiohttp", "httpx2", "sdk")
DEFAULT_CLIENT = "aiohttp"
KEEPALIVE_S = 30.0


def make_http_client(kind: str, *, concurrency: int,
                     timeout_s: float) -> "httpx2.AsyncClient | AiohttpTransport | None":
    """An `httpx2.AsyncClient` for the SDKs' `http_client=` argument, None for kind "sdk", or for
    kind "direct" the bare `AiohttpTransport` whose `session()` the adapter posts through.

    `concurrency` sizes the connection pool (a few spare connections so the pool never queues
    a request the runner already admitted).
    """
    if kind not in CLIENT_KINDS:
        raise ValueError(f"unknown http_client {kind!r}; choose one of: {', '.join(CLIENT_KINDS)}")
    if kind == "sdk":
        return None
    pool = max(1, int(concurrency)) + 4
    timeout = httpx2.Timeout(timeout_s, connect=min(timeout_s, 10.0))
    limits = httpx2.Limits(max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=KEEPALIVE_S)
    if kind == "httpx2":
        return httpx2.AsyncClient(limits=limits, timeout=timeout, follow_redirects=True)
    if kind == "direct":
        return AiohttpTransport(limit=pool)
    return httpx2.AsyncClient(transport=AiohttpTransport(limit=pool), timeout=timeout, follow_redirects=True)


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """An `httpx2` transport that sends each request through a shared `aiohttp.ClientSession`.

    One session per event loop (a session is bound to the loop that created it), created lazily.
    Streaming responses are not supported: the whole body is read before returning, which is
    what the adapters need and keeps per-request CPU low.
    """

    def __init__(self, limit: int = 100, keepalive_s: float = KEEPALIVE_S):
        self.limit = limit
        self.keepalive_s = keepalive_s
        self._session: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> Any:
        """The `aiohttp.ClientSession` of the running event loop (created on first use)."""
        import ssl

        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # Certificates trusted as of now: SSL_CERT_FILE / SSL_CERT_DIR (a proxy that inspects TLS, a
            # private gateway) are read here, as httpx2 reads them per client, not once when aiohttp loads.
            connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=0, keepalive_timeout=self.keepalive_s,
                                             ssl=ssl.create_default_context())
            # trust_env: HTTP(S)_PROXY and NO_PROXY from the environment, as the httpx2 and SDK clients do.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",), trust_env=True)
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        import aiohttp

        timeouts = request.extensions.get("timeout", {})
        client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.get("connect"),
                                               sock_read=timeouts.get("read"), connect=timeouts.get("pool"))
        session = self.session()
        try:
            body = request.content or None
        except httpx2.RequestNotRead:
            body = await request.aread() or None
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "transfer-encoding"]
        try:
            async with session.request(request.method, str(request.url), headers=headers, data=body,
                                       allow_redirects=False, compress=False, timeout=client_timeout) as resp:
                content = await resp.read()
                status, raw_headers, reason = resp.status, resp.raw_headers, resp.reason
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx2.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientPayloadError as exc:  # body shorter than Content-Length, bad chunking
            raise httpx2.RemoteProtocolError(f"truncated response body: {exc}", request=request) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientResponseError, ConnectionError) as exc:
            raise httpx2.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        extensions = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode()
        return httpx2.Response(status, headers=list(raw_headers), content=content, request=request,
                               extensions=extensions)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            try:
                await self._session.close()
            except RuntimeError:  # the loop that owned it is gone
                pass
        self._session = None


class HTTPStatusFailure(Exception):
    """A non-2xx answer received by a direct client: status, headers and the raw body."""

    def __init__(self, status: int, headers: Any, body: bytes):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


def direct_timeout(timeout_s: float) -> Any:
    """aiohttp timeouts matching the httpx2 clients: connect capped at 10 s, then `timeout_s` per read."""
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=min(timeout_s, 10.0), sock_read=timeout_s)
