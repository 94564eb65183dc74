"""Runner throughput: a whole `run_experiment` against a loopback OpenAI-compatible server, as a fraction of C/L.

A fake OpenAI-compatible server (tests/fakes, in its own process) answers every request after an
injected latency L. With concurrency C the best possible throughput is C/L requests per second. The
runner does everything it does for real: a dataset of N distinct images is loaded, each image is
prepared (decoded, resized, encoded) on the thread pool, sent through the real adapter and SDK
path, journaled with fsync, merged into DuckDB in batches, parsed into predictions. Reported:

    fraction        = (N / seconds from the first request sent to the last item done) / (C / L)
    fraction_total  = the same over the whole `run_experiment` call (loading, store writes, final
                      merge included; no score refresh)
    cpu_ms          = runner process CPU seconds (all threads) from the first request to the last item
                      done / N × 1000 (cpu_ms_total: over the whole call, imports excluded)
    server_cpu_ms   = the fake server's CPU per request over the run (it shares the machine's cores:
                      runner and server CPU together show how close a run is to using every core)
    gc_max_ms       = the longest garbage-collector pause after the first request (every request in
                      flight waits through it); `--no-gc-freeze` measures without the runner's gc.freeze()

Each configuration runs in a fresh process with a fresh store (no response or image cache carried
over), so the figures include cold preprocessing of every image.

    python bench/bench_runner.py [--n 2000] [--latency 0.25] [--concurrency 64,256] [--http-client aiohttp]
                                 [--no-gc-freeze]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_dataset(folder: Path, n: int) -> Path:
    """`n` distinct 96x96 JPEGs (a colour field with a number) and a manifest with polarity gold."""
    from PIL import Image, ImageDraw

    from engine.datasets.files import write_csv

    manifest = folder / "manifest.csv"
    if manifest.exists() and sum(1 for _ in manifest.open()) == n + 1:
        return manifest
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        image = Image.new("RGB", (96, 96), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
        ImageDraw.Draw(image).text((8, 40), f"{i}", fill=(255, 255, 255))
        name = f"images/{i:05d}.jpg"
        image.save(folder / name, "JPEG", quality=85)
        rows.append({"item_id": f"{i:05d}", "image": name, "polarity": ("positive", "negative")[i % 2]})
    write_csv(manifest, rows)
    return manifest


def one(args: argparse.Namespace) -> dict:
    """One measurement in this process (the parent starts one process per configuration)."""
    from engine.runner import run_experiment
    from tests.fakes import FakeServerProcess

    manifest = Path(args.manifest)
    with FakeServerProcess("openai", latency_s=args.latency, answer="positive") as server, \
            tempfile.TemporaryDirectory() as tmp:
        config = {
            "name": "bench", "dimensions": ["polarity"], "image_max_side": 96,
            "datasets": [{"name": "bench", "format": "csv", "path": str(manifest), "image_col": "image",
                          "id_col": "item_id", "label_cols": {"polarity": "polarity"}}],
            "models": [{"name": "fake", "adapter": "openai-compatible", "model": "fake-vl",
                        "base_url": server.base_url, "concurrency": args.one, "timeout_s": 60, "max_attempts": 1,
                        "options": {"http_client": args.http_client} if args.http_client else {}}],
            "strategies": ["zero-shot"],
        }
        marks: list[tuple[float, float]] = []  # (wall, process CPU) at each progress event
        server_cpu: list[float | None] = []  # the server's CPU seconds at the first request and at the end

        pauses: list[float] = []  # garbage-collector pauses after the first request, seconds
        began = [0.0]

        def progress(event) -> None:
            if event.status == "running":
                marks.append((time.perf_counter(), _cpu()))
                if len(marks) == 1:
                    server_cpu.append(_process_cpu(server.process.pid))

        def collector(phase: str, info: dict) -> None:
            if phase == "start":
                began[0] = time.perf_counter()
            elif marks:
                pauses.append(time.perf_counter() - began[0])

        gc.callbacks.append(collector)
        import engine.models.openai_api  # noqa: F401 - imports are not the runner's work
        cpu0 = _cpu()
        started = time.perf_counter()
        # As the CLI runs it (freeze_heap=True); --no-gc-freeze shows what the freeze saves.
        result = run_experiment(config, Path(tmp) / "bench.duckdb", quiet=True, progress=progress,
                                refresh_scores=False, freeze_heap=not args.no_gc_freeze)
        total = time.perf_counter() - started
        cpu_total = _cpu() - cpu0
        server_cpu.append(_process_cpu(server.process.pid))
        gc.callbacks.remove(collector)
    run = result.runs[0]
    assert run.status == "complete" and run.n_answered == args.n and run.errors == 0, run
    # progress fires at start (first request about to go out) and after items; the first mark is the start
    window = marks[-1][0] - marks[0][0]
    cpu = marks[-1][1] - marks[0][1]
    ideal = args.n * args.latency / args.one
    return {"concurrency": args.one, "latency_s": args.latency, "n": args.n, "seconds": round(window, 3),
            "seconds_total": round(total, 3), "fraction": round(ideal / window, 3),
            "fraction_total": round(ideal / total, 3), "cpu_ms": round(cpu / args.n * 1000, 3),
            "cpu_ms_total": round(cpu_total / args.n * 1000, 3), "http_client": args.http_client or "default",
            "server_cpu_ms": None if None in server_cpu else round((server_cpu[1] - server_cpu[0]) / args.n * 1000, 3),
            "gc_max_ms": round(max(pauses, default=0.0) * 1000, 1)}


def _process_cpu(pid: int) -> float | None:
    """CPU seconds of another process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", default="64,256")
    parser.add_argument("--no-gc-freeze", action="store_true", help="measure without the runner's gc.freeze()")
    parser.add_argument("--http-client", default=None, help="options.http_client of the model (adapter default if unset)")
    parser.add_argument("--data", default=str(REPO / "bench" / "out" / "runner-images"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return
    manifest = make_dataset(Path(args.data) / str(args.n), args.n)
    load = os.getloadavg()
    print(f"runner throughput, N={args.n} distinct images, L={args.latency * 1000:.0f} ms, cpus={os.cpu_count()}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'C':>5} {'C/L req/s':>10} {'req/s':>8} {'fraction':>9} {'fraction_total':>15} {'cpu_ms/req':>11} "
          f"{'cpu_ms_total':>13} {'server_cpu_ms':>14} {'gc_max_ms':>10}")
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        command = [sys.executable, __file__, "--one", str(concurrency), "--n", str(args.n), "--latency",
                   str(args.latency), "--manifest", str(manifest)]
        if args.http_client:
            command += ["--http-client", args.http_client]
        if args.no_gc_freeze:
            command.append("--no-gc-freeze")
        out = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            raise SystemExit(out.returncode)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        best = concurrency / args.latency
        print(f"{concurrency:>5} {best:>10.0f} {args.n / row['seconds']:>8.1f} {row['fraction']:>9.3f} "
              f"{row['fraction_total']:>15.3f} {row['cpu_ms']:>11.3f} {row['cpu_ms_total']:>13.3f} "
              + (f"{row['server_cpu_ms']:>14.3f}" if row["server_cpu_ms"] is not None else f"{'-':>14}")
              + f" {row['gc_max_ms']:>10.1f}")


if __name__ == "__main__":
    main()
