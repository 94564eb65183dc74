"""Loading releases whose images arrive as data: FER2013's pixel cells and a Parquet image column.

Writes a synthetic `fer2013.csv` of N rows (random 48x48 pixels, the release's header) and a Parquet
file of N PNG images, then loads each twice through `load_dataset` (image checks included):

    cold = first load (every image encoded/written to the content-addressed cache, then decoded)
    warm = second load (every file already in the cache: nothing written)

and prints milliseconds per row and the ratio warm / cold (how much of a load the cache saves).
At N rows the full FER2013 (35,887 rows) takes about 35,887 x ms-per-row.

    python bench/bench_release_loaders.py [--n 3000]
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path


def _fer2013(folder: Path, n: int, rng: random.Random) -> Path:
    with (folder / "fer2013.csv").open("w") as handle:
        handle.write("emotion,pixels,Usage\n")
        for _ in range(n):
            pixels = " ".join(str(rng.randrange(256)) for _ in range(2304))
            handle.write(f"{rng.randrange(7)},{pixels},Training\n")
    return folder


def _parquet(folder: Path, n: int, rng: random.Random) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    images, labels = [], []
    for _ in range(n):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
        images.append({"bytes": buffer.getvalue(), "path": None})
        labels.append(rng.choice(["anger", "joy", "sadness"]))
    path = folder / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"image": images, "label": labels}), path)
    return path


def _time(spec: dict, n: int) -> tuple[float, float]:
    from engine.datasets import load_dataset

    out = []
    for _ in range(2):
        start = time.perf_counter()
        loaded = load_dataset(spec)
        out.append((time.perf_counter() - start) * 1000 / n)
        assert len(loaded.items) == n, loaded.problems[:3]
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "fer").mkdir()
        fer = _fer2013(folder / "fer", args.n, rng)
        pq_path = _parquet(folder, args.n, rng)
        runs = {
            "fer2013 (pixels -> PNG)": {"name": "fer2013", "path": fer, "cache_dir": folder / "cache-fer"},
            "hf parquet (bytes)": {"name": "pq", "format": "hf", "path": pq_path, "cache_dir": folder / "cache-pq",
                                   "label_cols": {"emotion": "label"}},
        }
        print(f"{'source':<26} {'rows':>6} {'cold ms/row':>12} {'warm ms/row':>12} {'warm/cold':>10}")
        for label, spec in runs.items():
            cold, warm = _time(spec, args.n)
            print(f"{label:<26} {args.n:>6} {cold:>12.3f} {warm:>12.3f} {warm / cold:>10.2f}")


if __name__ == "__main__":
    main()
