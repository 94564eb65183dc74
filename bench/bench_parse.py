"""Parse accuracy and throughput of `engine.parsing.parse_answer`.

    python bench/bench_parse.py [--repeat 5]

Accuracy is measured on two hand-labelled sets of model answers:
  * `tests/parsing/corpus.jsonl` — the development corpus the parser is tested against (expected to
    be 100%: any miss is a failing test);
  * `bench/parse_holdout.jsonl` — answers written after the parser's rules were settled and never
    used to tune them, an estimate of accuracy on answers the rules were not shaped on.
A dimension counts as right when both its value (numbers within 0.01) and its status match.
Throughput is answers per second over the development corpus (single process), with per-answer
latency percentiles and the time for degenerate answers (long repetitive text, 20-40k characters).

`--only-adversarial` prints the corpus throughput and the worst case below (with the load average
before and after: on a shared machine the figures are only comparable beside it).

Worst case (`--adversarial`, on by default): every shape of `tests/parsing/adversarial.py` (runs of
`#`, `*`, `-`, `=`, blanks, brackets, repeated markers, huge thinking blocks) at `--size` characters
(default 100 kB), all dimensions, parsed in-process after a warm-up; each is first run in a worker
with a hard limit (`engine.parsing.bounded`) so that a regression is reported as "> limit", never a
hung bench. Prints the slowest shapes, the worst case and its ratio to the 50 ms target, in wall-clock
time and in the CPU time of the process (on a busy shared machine the wall clock also counts the time
other processes hold the cores; the CPU time is the steadier figure there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.parsing import PARSER_VERSION, ParseSpec, parse_answer  # noqa: E402
from tests.parsing.corpus import load_corpus, same_value, spec_of  # noqa: E402

HOLDOUT = ROOT / "bench" / "parse_holdout.jsonl"


def load(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def accuracy(cases: list[dict]) -> tuple[dict, dict, int]:
    """(per dimension [n, value right, status right, both right], per expected status [n, both right], answers all right)."""
    by_dimension: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_status: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    whole = 0
    for case in cases:
        result = parse_answer(case["text"], spec_of(case))
        all_right = True
        for dimension, want in case["expected"].items():
            got = result.dimensions[dimension]
            value_ok = same_value(got.value, want["value"])
            status_ok = got.status == want["status"]
            row = by_dimension[dimension]
            row[0] += 1
            row[1] += value_ok
            row[2] += status_ok
            row[3] += value_ok and status_ok
            by_status[want["status"]][0] += 1
            by_status[want["status"]][1] += value_ok and status_ok
            all_right &= value_ok and status_ok
        whole += all_right
    return by_dimension, by_status, whole


def print_accuracy(name: str, cases: list[dict]) -> None:
    by_dimension, by_status, whole = accuracy(cases)
    print(f"\n{name}: {len(cases)} answers, {whole}/{len(cases)} = {whole / len(cases):.1%} read entirely right")
    print(f"  {'dimension':<13}{'n':>5}{'value':>9}{'status':>9}{'both':>9}")
    for dimension, (n, value, status, both) in sorted(by_dimension.items()):
        print(f"  {dimension:<13}{n:>5}{value / n:>9.1%}{status / n:>9.1%}{both / n:>9.1%}")
    total = [sum(row[i] for row in by_dimension.values()) for i in range(4)]
    print(f"  {'all':<13}{total[0]:>5}{total[1] / total[0]:>9.1%}{total[2] / total[0]:>9.1%}{total[3] / total[0]:>9.1%}")
    print(f"  {'expected status':<16}{'n':>5}{'right':>9}")
    for status, (n, right) in sorted(by_status.items()):
        print(f"  {status:<16}{n:>5}{right / n:>9.1%}")


def throughput(cases: list[dict], repeat: int) -> None:
    specs = [spec_of(case) for case in cases]
    for case, spec in zip(cases, specs):  # warm caches (compiled patterns, normaliser)
        parse_answer(case["text"], spec)
    timings = []
    started = time.perf_counter()
    for _ in range(repeat):
        for case, spec in zip(cases, specs):
            t0 = time.perf_counter()
            parse_answer(case["text"], spec)
            timings.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    timings.sort()
    print(f"\nthroughput: {len(timings)} parses in {elapsed:.2f} s = {len(timings) / elapsed:,.0f} answers/s "
          f"(one process); per answer p50 {statistics.median(timings) * 1e3:.2f} ms, "
          f"p99 {timings[int(0.99 * (len(timings) - 1))] * 1e3:.2f} ms, max {timings[-1] * 1e3:.2f} ms")
    spec = ParseSpec(("polarity", "emotion", "ranking", "distribution", "valence", "arousal", "confidence"))
    for label, text in [("20k chars 'sad '", "sad " * 5000), ("40k chars of blank lines", "   \n" * 10000),
                        ("30k chars 'Emotion: Fear\\n'", "Emotion: Fear\n" * 2100),
                        ("24k chars '{\"a\": ['", '{"a": [' * 3400)]:
        t0 = time.perf_counter()
        parse_answer(text, spec)
        print(f"  degenerate answer, {label}: {(time.perf_counter() - t0) * 1e3:.0f} ms")


def adversarial(size: int, repeat: int, limit: float, top: int) -> None:
    from engine.parsing.bounded import parse_bounded, shutdown
    from engine.parsing.parser import KNOWN_DIMENSIONS
    from tests.parsing.adversarial import shapes

    spec = ParseSpec(KNOWN_DIMENSIONS, taxonomy="mikels8", polarity_taxonomy="polarity3")
    for _, text in shapes(2000):  # warm: compiled patterns, normaliser caches
        parse_answer(text, spec)
    timings: list[tuple[float, str, float]] = []
    runaway: list[str] = []
    for name, text in shapes(size):
        guarded = parse_bounded(text, spec, limit=limit)
        if any(reading.error for reading in guarded.dimensions.values()):
            runaway.append(name)
            continue
        wall, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            parse_answer(text, spec)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        timings.append((statistics.median(wall), name, statistics.median(cpu)))
    shutdown()
    timings.sort(reverse=True)
    print(f"\nadversarial shapes: {len(timings) + len(runaway)} answers of {size:,} characters, all dimensions, "
          f"median of {repeat} in-process parses each (wall clock; CPU time of this process beside it)")
    for seconds, name, cpu in timings[:top]:
        print(f"  {seconds * 1e3:8.1f} ms  (cpu {cpu * 1e3:6.1f} ms)  {name}")
    for label, index in (("wall clock", 0), ("CPU time", 2)):
        ranked = sorted(timings, key=lambda row: row[index], reverse=True)
        values = [row[index] for row in ranked]
        if values:
            print(f"  {label}: median {statistics.median(values) * 1e3:.1f} ms; worst {values[0] * 1e3:.1f} ms "
                  f"({ranked[0][1]}) = {values[0] / 0.050:.2f}x the 50 ms target; "
                  f"{sum(v <= 0.050 for v in values)}/{len(values)} within 50 ms")
    if runaway:
        print(f"  past the {limit:g} s limit: {', '.join(runaway)}")


def _load() -> str:
    """The machine's load average: timings on a shared machine are only comparable beside it."""
    try:
        return "load average {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count())
    except OSError:
        return "load average unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the corpus for throughput")
    parser.add_argument("--size", type=int, default=100_000, help="characters per adversarial answer")
    parser.add_argument("--limit", type=float, default=10.0, help="hard limit per adversarial answer (seconds)")
    parser.add_argument("--top", type=int, default=15, help="slowest adversarial shapes to list")
    parser.add_argument("--only-adversarial", action="store_true", help="skip accuracy and throughput")
    args = parser.parse_args()
    if args.only_adversarial:
        print(f"parser version {PARSER_VERSION}; {_load()}")
        throughput(load_corpus(), args.repeat)
        adversarial(args.size, 3, args.limit, args.top)
        print(_load())
        return
    print(f"parser version {PARSER_VERSION}")
    corpus = load_corpus()
    print_accuracy("development corpus (tests/parsing/corpus.jsonl)", corpus)
    if HOLDOUT.exists():
        print_accuracy("held-out answers (bench/parse_holdout.jsonl)", load(HOLDOUT))
    throughput(corpus, args.repeat)
    adversarial(args.size, 3, args.limit, args.top)


if __name__ == "__main__":
    main()
