"""Cost and wall time of a few-shot experiment: synchronous vs batch API vs batch with prompt caching.

A 1,000-item few-shot (k = 3) polarity experiment runs through the real SDKs against the loopback fake
vendors (tests/fakes), which report usage as the vendors do: every image counts `--image-tokens`
input tokens (1,000 by default: about what Anthropic and OpenAI charge for an image of ~1 megapixel,
and what Gemini charges for two 768-pixel tiles), and a prompt prefix seen before (1,024 tokens or
more) is read from the simulated prompt cache -- Anthropic's marked prefix (the system prompt,
instructions and the k exemplars), OpenAI's and Gemini's implicit prefix. Costs come from the stored
`responses.cost_usd`, computed by `engine.models.pricing` at the vendors' published rates (standard,
cached-read, cache-write and batch). Modes:

    sync          synchronous calls, no prompt caching (the fake's cache is off)
    sync+cache    synchronous calls with prompt caching
    batch         the vendor's batch API, no prompt caching
    batch+cache   the batch API with prompt caching

Reported per vendor and mode: total USD, the ratio to `sync`, the cached share of input tokens, and
for batch modes the wall time of submission (run start to the last batch accepted) and of collection
(from the vendor reporting the last batch ended to the run's end: results download, parse, store).
The fake ends a batch at its second status poll, so these times measure AffectLens, not the vendor
(real batches take minutes to 24 h).

    python bench/bench_cost.py [--items 1000] [--k 3] [--vendors anthropic,openai,gemini] [--image-tokens 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o", "gemini": "gemini-2.5-flash"}
MODES = ("sync", "sync+cache", "batch", "batch+cache")


def run_mode(vendor: str, mode: str, manifest: Path, folder: Path, args) -> dict:
    import duckdb

    from engine.runner import run_experiment
    from tests.fakes import FakeVendorServer

    caching = mode.endswith("+cache")
    answer = json.dumps({"polarity": "positive"})
    with FakeVendorServer(vendor, answer=answer, image_tokens=args.image_tokens, keep_requests=False,
                          cache_min_tokens=1024 if caching else 10**12) as fake:
        model = {"name": f"{vendor}-{mode}", "adapter": vendor, "model": MODELS[vendor], "base_url": fake.base_url,
                 "api_key_env": "BENCH_KEY", "concurrency": args.concurrency, "max_tokens": 64,
                 "options": {"prompt_cache": caching} if vendor == "anthropic" else {}}
        if mode.startswith("batch"):
            model["batch"] = {"poll_s": 0.2, "gather_s": 0.3}
        config = {"name": "bench-cost", "dimensions": ["polarity"], "image_max_side": 64, "seed": 0,
                  "datasets": [{"name": "bench-set", "format": "csv", "path": str(manifest), "image_col": "image",
                                "id_col": "item_id", "label_cols": {"polarity": "polarity"}, "check_images": False,
                                "holdout": 16}],
                  "models": [model], "strategies": [{"name": "few-shot", "k_shot": args.k}]}
        db = folder / f"{vendor}-{mode}.duckdb"
        started = time.time()
        result = run_experiment(config, db, quiet=True, refresh_scores=False)
        ended = time.time()
        batches = [fake.batches.batches[b] for b in fake.batches.created]
    assert result.ok, [r.message for r in result.runs]
    with duckdb.connect(str(db), read_only=True) as con:
        cost, n_in, cached, n = con.execute("SELECT sum(cost_usd), sum(input_tokens), sum(coalesce("
                                            "cached_input_tokens, 0)), count(*) FROM responses").fetchone()
    out = {"vendor": vendor, "mode": mode, "items": n, "cost_usd": cost, "cached_share": cached / n_in,
           "wall_s": ended - started}
    if batches:
        out["batches"] = len(batches)
        out["submit_s"] = max(b["created_at"] for b in batches) - started
        out["collect_s"] = ended - max(b.get("ready_at", ended) for b in batches)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--vendors", default="anthropic,openai,gemini")
    parser.add_argument("--image-tokens", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    os.environ["BENCH_KEY"] = "bench-key"
    from tests.runner.helpers import write_dataset

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = write_dataset(folder / "data", args.items + 16)  # 16 held out as the exemplar pool
        for vendor in args.vendors.split(","):
            base = None
            for mode in MODES:
                row = run_mode(vendor, mode, manifest, folder, args)
                base = base or row["cost_usd"]
                row["ratio"] = row["cost_usd"] / base
                rows.append(row)
                extra = (f"  batches {row['batches']}  submit {row['submit_s']:.1f} s  collect {row['collect_s']:.1f} s"
                         if "batches" in row else "")
                print(f"{vendor:9} {mode:12} items {row['items']:5}  ${row['cost_usd']:8.4f}  x{row['ratio']:.3f}  "
                      f"cached {row['cached_share']:.0%}  wall {row['wall_s']:.1f} s{extra}", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
