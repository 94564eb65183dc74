"""HTTP(S)_PROXY and NO_PROXY on every HTTP path: a loopback forward proxy written here counts what it forwards.

The proxy is a small asyncio HTTP/1.1 forward proxy on 127.0.0.1: for http:// URLs it takes the
absolute-form request line clients send to a proxy, forwards the request to the loopback fake vendor
server and relays the answer, one request per connection; for https:// URLs (how the vendors are
reached) it opens a `CONNECT` tunnel and relays the TLS bytes it cannot read. Each HTTP client the
adapters can use (`direct`, `aiohttp`, `httpx2`, `sdk`) and each vendor SDK must go through it when the
proxy variables say so, and straight to the server when NO_PROXY names the host.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

import pytest

from engine.runner import run_experiment
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset


class ForwardProxy:
    """An HTTP forward proxy on 127.0.0.1 in its own thread; `forwarded` counts the requests it relayed."""

    def __init__(self) -> None:
        self.forwarded = 0
        self.targets: list[str] = []
        self.tunnels: list[str] = []  # CONNECT authorities, one per tunnel opened
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="test-proxy")

    def __enter__(self) -> "ForwardProxy":
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            if method == "CONNECT":
                await self._tunnel(target, reader, writer)
                return
            url = urlsplit(target)
            assert url.scheme == "http" and url.hostname, f"not a proxy request: {request_line}"
            headers = [line for line in header_lines if line and not line.lower().startswith(
                ("proxy-", "connection:", "keep-alive:"))]
            length = next((int(line.split(":", 1)[1]) for line in headers
                           if line.lower().startswith("content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            upstream_reader, upstream_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            path = url.path + (f"?{url.query}" if url.query else "")
            upstream_writer.write(f"{method} {path} {version}\r\n".encode("latin-1") +
                                  "\r\n".join(headers + ["Connection: close"]).encode("latin-1") + b"\r\n\r\n" + body)
            await upstream_writer.drain()
            answer = await upstream_reader.read()  # the server closes after its answer (Connection: close)
            upstream_writer.close()
            self.forwarded += 1
            self.targets.append(target)
            writer.write(answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _tunnel(self, authority: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """`CONNECT host:port`: answer 200, then copy bytes both ways until either side closes."""
        host, _, port = authority.rpartition(":")
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        self.tunnels.append(authority)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
def clean_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _run(tmp_path, db_path, vendor: str, adapter: str, http_client: str, n: int = 3,
         tls=None) -> tuple[int, int]:
    """(requests the fake server answered, requests the run made) for one adapter and client kind."""
    manifest = write_dataset(tmp_path / "data", n)
    with FakeVendorServer(vendor, answer="negative", tls=tls) as fake:
        config = experiment(manifest, fake.base_url, adapter=adapter, model="fake-vl",
                            options={"http_client": http_client}, max_attempts=1)
        if adapter != "openai-compatible":
            config["models"][0]["api_key_env"] = "FAKE_VENDOR_KEY"
        result = run_experiment(config, db_path, quiet=True)
        assert result.runs[0].status == "complete", result.runs[0].message
        return fake.count, result.runs[0].calls


CASES = [("openai", "openai-compatible", kind) for kind in ("direct", "aiohttp", "httpx2", "sdk")] + [
    ("openai", "openai", "aiohttp"), ("anthropic", "anthropic", "aiohttp"), ("anthropic", "anthropic", "sdk"),
    ("gemini", "gemini", "aiohttp"), ("gemini", "gemini", "httpx2")]


@pytest.mark.parametrize("vendor,adapter,http_client", CASES)
def test_every_http_path_goes_through_the_proxy_and_no_proxy_skips_it(tmp_path, db_path, clean_proxy_env,
                                                                      vendor, adapter, http_client):
    pytest.importorskip({"openai-compatible": "openai", "gemini": "google.genai"}.get(adapter, adapter))
    clean_proxy_env.setenv("FAKE_VENDOR_KEY", "test-key")
    with ForwardProxy() as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        clean_proxy_env.setenv("HTTPS_PROXY", proxy.url)
        answered, calls = _run(tmp_path / "via", db_path, vendor, adapter, http_client)
        assert calls == 3 and answered == 3
        assert proxy.forwarded == 3, f"{adapter}/{http_client}: {proxy.forwarded} of 3 requests went through the proxy"
        assert all(target.startswith("http://127.0.0.1:") for target in proxy.targets)
        clean_proxy_env.setenv("NO_PROXY", "127.0.0.1,localhost")
        answered, calls = _run(tmp_path / "direct", tmp_path / "direct.duckdb", vendor, adapter, http_client)
        assert calls == 3 and answered == 3
        assert proxy.forwarded == 3  # NO_PROXY: straight to the server


@pytest.mark.parametrize("vendor,adapter,http_client", CASES)
def test_https_goes_through_a_connect_tunnel_and_no_proxy_skips_it(tmp_path, db_path, clean_proxy_env,
                                                                   vendor, adapter, http_client):
    """https:// vendors through HTTPS_PROXY: the client must tunnel (CONNECT) and verify the server's
    certificate against SSL_CERT_FILE, as behind a university proxy; NO_PROXY goes straight there."""
    pytest.importorskip({"openai-compatible": "openai", "gemini": "google.genai"}.get(adapter, adapter))
    pytest.importorskip("cryptography", reason="the loopback certificate is made with `cryptography`")
    from tests.fakes.tls import loopback_tls

    server_tls, ca_file = loopback_tls(tmp_path / "ca")
    clean_proxy_env.setenv("FAKE_VENDOR_KEY", "test-key")
    clean_proxy_env.setenv("SSL_CERT_FILE", str(ca_file))
    with ForwardProxy() as proxy:
        clean_proxy_env.setenv("HTTPS_PROXY", proxy.url)
        answered, calls = _run(tmp_path / "via", db_path, vendor, adapter, http_client, tls=server_tls)
        assert calls == 3 and answered == 3
        assert proxy.tunnels, f"{adapter}/{http_client}: no CONNECT tunnel was opened for an https:// server"
        assert all(authority.startswith("127.0.0.1:") for authority in proxy.tunnels)
        assert proxy.forwarded == 0  # https is never sent to the proxy in the clear
        opened = len(proxy.tunnels)
        clean_proxy_env.setenv("NO_PROXY", "127.0.0.1,localhost")
        answered, calls = _run(tmp_path / "direct", tmp_path / "direct.duckdb", vendor, adapter, http_client,
                               tls=server_tls)
        assert calls == 3 and answered == 3
        assert len(proxy.tunnels) == opened  # NO_PROXY: straight to the server
