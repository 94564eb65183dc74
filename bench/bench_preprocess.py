"""Preprocessing speed: a naive Pillow loop against `prepare_many`, first pass and cached.

    python bench/bench_preprocess.py [--path ../shared/datasets/emotion6] [--max-side 768 512 320]

For each longest-side setting it times, over every image of the dataset:
- naive: `Image.open(p).convert("RGB")`, `thumbnail((S, S))`, JPEG quality 90, one image after another;
- first pass: `prepare_many` with an empty cache (draft-mode decoding, threads, and JPEGs that already
  fit sent without re-encoding);
- first pass, re-encoding every image (`passthrough=False`): the decode path alone;
- cached: the same call again (in-memory cache), and from a disk cache in a fresh cache object
  (what a second process sees).
Files are read once beforehand so every variant starts from a warm page cache. Prints wall-clock
seconds and ratios (naive / variant), best of `--repeat` runs, and the CPU seconds of the naive loop
and the first pass (process CPU time, all threads): on a machine shared with other work the CPU
ratio shows the work saved even when the wall-clock figures are disturbed.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.preprocess import ImageCache, _strip_jpeg_metadata, prepare_many  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "emotion6"


def naive(files: list[Path], max_side: int) -> None:
    for path in files:
        image = Image.open(path).convert("RGB")
        image.thumbnail((max_side, max_side))
        image.save(io.BytesIO(), "JPEG", quality=90)


CPU: dict[str, float] = {}


def best(fn, repeat: int, label: str = "") -> float:
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[label] = min(cpu)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT, help="dataset folder (images found recursively)")
    parser.add_argument("--max-side", type=int, nargs="+", default=[768, 512, 320])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    files = sorted(p for p in args.path.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        sys.exit(f"no images under {args.path}")
    total = sum(len(p.read_bytes()) for p in files)  # warm the page cache for every variant alike
    print(f"{len(files)} images, {total / 2**20:.1f} MiB, {os.cpu_count()} CPU(s), workers="
          f"{args.workers or 'default'}")
    header = (f"{'max_side':>8} {'naive s':>8} {'first s':>8} {'ratio':>6} {'passed':>7} {'re-enc s':>8} "
              f"{'ratio':>6} {'cached s':>8} {'ratio':>7} {'disk s':>7} {'ratio':>6}")
    print(header)
    for side in args.max_side:
        t_naive = best(lambda: naive(files, side), args.repeat, "naive")
        parts: list = []

        def first_pass(passthrough: bool = True) -> None:
            parts[:] = prepare_many(files, workers=args.workers, max_side=side, cache=ImageCache(),
                                    passthrough=passthrough)

        t_first = best(first_pass, args.repeat, "first")
        passed = sum(getattr(part, "data", None) == _strip_jpeg_metadata(path.read_bytes())
                     for part, path in zip(parts, files))
        t_reencode = best(lambda: first_pass(False), args.repeat)
        cache = ImageCache()
        prepare_many(files, workers=args.workers, max_side=side, cache=cache)
        t_cached = best(lambda: prepare_many(files, workers=args.workers, max_side=side, cache=cache), args.repeat)
        with tempfile.TemporaryDirectory() as folder:
            prepare_many(files, workers=args.workers, max_side=side, cache=ImageCache(disk_dir=folder))
            t_disk = best(lambda: prepare_many(files, workers=args.workers, max_side=side,
                                               cache=ImageCache(disk_dir=folder)), args.repeat)
        errors = sum(isinstance(p, Exception) for p in parts)
        print(f"{side:>8} {t_naive:>8.2f} {t_first:>8.2f} {t_naive / t_first:>5.1f}x {passed:>7} "
              f"{t_reencode:>8.2f} {t_naive / t_reencode:>5.1f}x {t_cached:>8.3f} {t_naive / t_cached:>6.1f}x "
              f"{t_disk:>7.3f} {t_naive / t_disk:>5.1f}x  | cpu s naive {CPU['naive']:.2f} first {CPU['first']:.2f} "
              f"({CPU['naive'] / CPU['first']:.1f}x)" + (f"  ({errors} errors)" if errors else ""))
    print("ratio = naive seconds / variant seconds; 'passed' = images sent as they were (metadata stripped)")


if __name__ == "__main__":
    main()
