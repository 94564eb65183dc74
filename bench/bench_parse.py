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
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the corpus for throughput")
    args = parser.parse_args()
    print(f"parser version {PARSER_VERSION}")
    corpus = load_corpus()
    print_accuracy("development corpus (tests/parsing/corpus.jsonl)", corpus)
    if HOLDOUT.exists():
        print_accuracy("held-out answers (bench/parse_holdout.jsonl)", load(HOLDOUT))
    throughput(corpus, args.repeat)


if __name__ == "__main__":
    main()
