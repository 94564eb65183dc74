"""HTTP client options for many concurrent model calls: throughput as a fraction of C/L, CPU per request.

A fake OpenAI-compatible server (tests/fakes, its own process so it is not the bottleneck) answers
every request after an injected latency L. With C requests in flight the best possible throughput
is C/L requests per second; each client option sends N requests, each with a distinct small JPEG,
through the adapter (`generate`, as the runner calls it) and reports:

    fraction = (N / wall seconds) / (C / L)        cpu_ms = client process CPU seconds / N × 1000

Options: "sdk" (the SDK's default async client), "httpx2" (httpx2 pool raised to C, keep-alive),
"aiohttp" (the SDK over an aiohttp transport, engine/models/_http.py), "direct" (the adapter posts
through aiohttp itself, no SDK in the request path; OpenAI format only) and, as the floor of
client-side cost, "raw-aiohttp" (the same JSON posted by a bare loop: no adapter at all).

    python bench/bench_clients.py [--n 2000] [--latency 0.25] [--concurrency 64,256]
                                  [--options sdk,httpx2,aiohttp,direct,raw-aiohttp] [--adapter openai-compatible]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.models import GenerateConfig, ImagePart, Message, ModelRequest, ModelSpec, create_adapter  # noqa: E402
from tests.fakes import FakeServerProcess  # noqa: E402

VENDOR = {"openai-compatible": "openai", "openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}


def make_images(n: int, seed: int = 0) -> list[ImagePart]:
    """n distinct 48×48 JPEGs (random colour blocks), ~1-2 kB each."""
    from PIL import Image

    rng = random.Random(seed)
    images = []
    for i in range(n):
        image = Image.new("RGB", (48, 48), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for _ in range(6):
            x, y = rng.randrange(40), rng.randrange(40)
            image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 8, y + 8))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        images.append(ImagePart(buffer.getvalue(), mime="image/jpeg"))
    assert len({im.sha256 for im in images}) == n, "images must be distinct"
    return images


def requests_for(images: list[ImagePart]) -> list[ModelRequest]:
    prompt = "Which emotion does this image convey? Answer with one word: positive or negative."
    return [ModelRequest(messages=(Message.user(prompt, image),), config=GenerateConfig(max_tokens=16),
                         item_key=f"bench/{i}") for i, image in enumerate(images)]


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process from /proc (Linux), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_adapter(adapter_name: str, option: str, base_url: str, concurrency: int,
                      requests: list[ModelRequest]) -> tuple[int, int]:
    spec = ModelSpec(name="bench", adapter=adapter_name, model="bench-model", base_url=base_url,
                     concurrency=concurrency, timeout_s=60, options={"http_client": option})
    adapter = create_adapter(spec)
    queue = list(reversed(requests))
    ok = errors = 0

    async def worker() -> None:
        nonlocal ok, errors
        while queue:
            response = await adapter.generate(queue.pop())
            if response.status == "ok":
                ok += 1
            else:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await adapter.aclose()
    return ok, errors


async def run_raw(base_url: str, concurrency: int, requests: list[ModelRequest]) -> tuple[int, int]:
    """The same payloads posted with a bare aiohttp session: the floor of client-side cost."""
    import aiohttp

    from engine.models.openai_api import OpenAICompatibleAdapter

    builder = OpenAICompatibleAdapter(ModelSpec(name="raw", adapter="openai-compatible", model="bench-model",
                                                base_url=base_url))
    queue = list(reversed(requests))
    ok = errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal ok, errors
            while queue:
                payload = builder.build_payload(queue.pop())
                async with session.post(base_url + "/chat/completions", data=json.dumps(payload),
                                        headers={"Content-Type": "application/json"}) as resp:
                    body = await resp.json()
                    ok += resp.status == 200 and bool(body.get("choices"))
                    errors += resp.status != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors


def measure(option: str, adapter_name: str, base_url: str, concurrency: int, requests: list[ModelRequest],
            server_pid: int) -> dict:
    server_cpu0, cpu0, wall0 = proc_cpu_s(server_pid), time.process_time(), time.perf_counter()
    if option == "raw-aiohttp":
        ok, errors = asyncio.run(run_raw(base_url, concurrency, requests))
    else:
        ok, errors = asyncio.run(run_adapter(adapter_name, option, base_url, concurrency, requests))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server_cpu = proc_cpu_s(server_pid) - server_cpu0
    return {"option": option, "concurrency": concurrency, "ok": ok, "errors": errors, "wall_s": wall,
            "throughput": len(requests) / wall, "cpu_ms": cpu / len(requests) * 1000,
            "server_cpu_ms": server_cpu / len(requests) * 1000}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", default="64,256")
    parser.add_argument("--options", default="sdk,httpx2,aiohttp,direct,raw-aiohttp")
    parser.add_argument("--adapter", default="openai-compatible", choices=sorted(VENDOR))
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        os.environ.setdefault(env, "bench-key")  # the fake accepts any key
    print(f"preparing {args.n} distinct images ...", flush=True)
    images = make_images(args.n)
    requests = requests_for(images)
    rows = []
    with FakeServerProcess(VENDOR[args.adapter], latency_s=args.latency) as server:
        base_url = server.base_url
        asyncio.run(run_adapter(args.adapter, "aiohttp", base_url, 4, requests[:8]))  # imports, first connections
        print(f"{args.adapter} against a loopback fake (own process), L={args.latency * 1000:.0f} ms, "
              f"N={args.n}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        print(f"{'option':<12} {'C':>5} {'req/s':>8} {'C/L':>7} {'fraction':>9} {'cpu ms/req':>11} "
              f"{'server ms/req':>14} {'errors':>7}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            for option in args.options.split(","):
                if option in ("direct", "raw-aiohttp") and VENDOR[args.adapter] != "openai":
                    continue
                row = measure(option, args.adapter, base_url, concurrency, requests, server.process.pid)
                ideal = concurrency / args.latency
                row["fraction"] = row["throughput"] / ideal
                rows.append(row)
                print(f"{option:<12} {concurrency:>5} {row['throughput']:>8.1f} {ideal:>7.0f} {row['fraction']:>9.3f} "
                      f"{row['cpu_ms']:>11.2f} {row['server_cpu_ms']:>14.2f} {row['errors']:>7}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other processes on the machine skew the figures)")
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
