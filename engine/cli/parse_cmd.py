"""`affectlens parse` (one answer from stdin -> JSON) and `affectlens reparse` (stored answers, new parser)."""

from __future__ import annotations

import argparse
import json
import re
import sys

from engine.parsing import KNOWN_DIMENSIONS, PARSER_VERSION, ParseSpec
from engine.parsing.bounded import parse_bounded
from engine.parsing.types import DEFAULT_SCALES
from engine.taxonomy import TAXONOMIES, get_taxonomy

_CONTINUOUS = ("valence", "arousal", "intensity")
_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def register(subparsers: argparse._SubParsersAction) -> None:
    parse = subparsers.add_parser(
        "parse", help="parse one answer text from standard input and print it as JSON",
        description="Parse one model answer (read from standard input) with the parser the runner uses and "
                    "print one JSON object: one key per dimension, each {\"value\": ..., \"status\": ...}.")
    parse.add_argument("--dimensions", default="polarity,emotion",
                       help=f"comma-separated, from: {', '.join(KNOWN_DIMENSIONS)} (default: polarity,emotion)")
    parse.add_argument("--taxonomy", default="ekman7",
                       help=f"label set for emotion, ranking and distribution: {', '.join(sorted(TAXONOMIES))}")
    parse.add_argument("--polarity-taxonomy", default="polarity2", help="polarity2 or polarity3")
    parse.add_argument("--scale", default=None,
                       help="scale of the continuous dimensions asked for, LOW-HIGH (e.g. 1-9; write --scale=-1-1 for "
                            "a negative low), or per dimension: valence=1-7,arousal=1-9")
    parse.add_argument("--verbose-json", action="store_true",
                       help="also print span, raw word, method, stated confidence, steps, scene and thinking")
    parse.set_defaults(func=run_parse)

    reparse = subparsers.add_parser(
        "reparse", help="re-parse a run's stored raw answers with the current parser (no model is called)",
        description=f"Re-read the stored raw responses of a run with parser version {PARSER_VERSION}; replaces its "
                    "predictions and traces rows. No model is called unless --judge-adapter is given.")
    target = reparse.add_mutually_exclusive_group(required=True)
    target.add_argument("--run", action="append", metavar="ID", help="run id (repeatable)")
    target.add_argument("--all", action="store_true", help="every run in the store")
    reparse.add_argument("--db", default=None, help="results store (default: results.duckdb or $AFFECTLENS_DB)")
    reparse.add_argument("--judge-adapter", default=None,
                         help="optional judge for answers the rules cannot read (e.g. openai-compatible, hf, replay)")
    reparse.add_argument("--judge-model", default="", help="the judge's model id")
    reparse.add_argument("--judge-base-url", default=None, help="the judge's server, e.g. http://127.0.0.1:8000/v1")
    reparse.add_argument("--judge-key-env", default=None,
                         help="environment variable holding the judge's API key (never the key itself)")
    reparse.add_argument("--judge-price", default=None, metavar="IN,OUT",
                         help="the judge's USD per 1M input and output tokens, e.g. 0.15,0.6 "
                              "(default: the price table)")
    reparse.add_argument("--judge-concurrency", type=int, default=8, help="judge requests in flight at once")
    reparse.add_argument("--judge-max-attempts", type=int, default=6, help="calls per judge request (retries + 1)")
    reparse.add_argument("--max-cost", type=float, default=None,
                         help="USD the judge may spend in this invocation; stops asking once reached")
    reparse.add_argument("--json", action="store_true", help="print the summaries as a JSON array")
    reparse.set_defaults(func=run_reparse)


def parse_scales(text: str | None, dimensions: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """`--scale` value -> {dimension: (low, high)} for the continuous dimensions asked for."""
    scales = dict(DEFAULT_SCALES)
    if not text:
        return scales
    entries = [e.strip() for e in text.split(",") if e.strip()]
    for entry in entries:
        name, _, body = entry.rpartition("=")
        match = re.fullmatch(rf"\s*({_NUMBER})\s*(?:-|\.\.|:|to)\s*({_NUMBER})\s*", body)
        if not match or float(match.group(1)) >= float(match.group(2)):
            raise ValueError(f"--scale {entry!r}: expected LOW-HIGH with LOW < HIGH, e.g. 1-9 or valence=1-7")
        scale = (float(match.group(1)), float(match.group(2)))
        if name:
            if name not in _CONTINUOUS + ("confidence",):
                raise ValueError(f"--scale {entry!r}: {name!r} has no scale; use one of {', '.join(_CONTINUOUS)}")
            scales[name] = scale
        else:
            for dimension in _CONTINUOUS:
                if dimension in dimensions or not any(d in dimensions for d in _CONTINUOUS):
                    scales[dimension] = scale
    return scales


def build_spec(args: argparse.Namespace) -> ParseSpec:
    dimensions = tuple(d.strip() for d in args.dimensions.split(",") if d.strip())
    unknown = [d for d in dimensions if d not in KNOWN_DIMENSIONS]
    if not dimensions or unknown:
        raise ValueError(f"--dimensions: unknown {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(KNOWN_DIMENSIONS)}")
    try:
        get_taxonomy(args.taxonomy)
        polarity = get_taxonomy(args.polarity_taxonomy)
    except KeyError as exc:  # UnknownTaxonomyError lists the known ones
        raise ValueError(str(exc)) from None
    if not polarity.polarity_only:
        raise ValueError(f"--polarity-taxonomy {args.polarity_taxonomy!r} is not a polarity taxonomy; "
                         "use polarity2 or polarity3")
    return ParseSpec(dimensions=dimensions, taxonomy=args.taxonomy, polarity_taxonomy=args.polarity_taxonomy,
                     scales=parse_scales(args.scale, dimensions))


def run_parse(args: argparse.Namespace) -> int:
    spec = build_spec(args)
    text = sys.stdin.read()
    result = parse_bounded(text, spec)  # in a worker with a time limit: the command always finishes
    if args.verbose_json:
        out = {dim: {"value": r.value, "status": r.status, "span": r.span, "raw": r.raw, "method": r.method}
               | ({"error": r.error} if r.error else {}) for dim, r in result.dimensions.items()}
        out["_answer"] = {"confidence": result.confidence, "steps": result.steps, "scene": result.scene,
                          "thinking": result.thinking, "parser_version": PARSER_VERSION}
    else:
        out = result.to_json()
        for dim, reading in result.dimensions.items():
            if reading.error:  # additive: only a parse that did not run to the end carries a reason
                out[dim]["error"] = reading.error
    print(json.dumps(out, ensure_ascii=False))
    return 0


def run_reparse(args: argparse.Namespace) -> int:
    from engine.runner.reparse import reparse

    judge = None
    if args.judge_adapter:
        from engine.models import ModelSpec
        from engine.runner.judge import Judge

        from engine.errors import ConfigError
        from engine.runner.policy import Budget
        from engine.secrets import url_credential_problem

        if args.judge_base_url and (problem := url_credential_problem(args.judge_base_url)):
            raise ConfigError(f"--judge-base-url: never put a credential in the URL ({problem}); give the server "
                              "address alone and name the key's environment variable with --judge-key-env")
        options = {}
        if args.judge_price:
            try:
                low, high = (float(v) for v in args.judge_price.split(","))
            except ValueError:
                raise ConfigError("--judge-price takes two numbers, USD per 1M input and output tokens: "
                                  "e.g. --judge-price 0.15,0.6") from None
            options["price"] = {"input": low, "output": high}
        judge = Judge.from_spec(ModelSpec("parse-judge", args.judge_adapter, model=args.judge_model,
                                          base_url=args.judge_base_url, api_key_env=args.judge_key_env,
                                          max_attempts=max(1, args.judge_max_attempts), options=options,
                                          concurrency=max(1, args.judge_concurrency)),
                                budget=Budget(args.max_cost))
    summaries = reparse(args.db, None if args.all else args.run, judge=judge)
    if args.json:
        print(json.dumps([s.to_json() for s in summaries], ensure_ascii=False))
        return 0
    if not summaries:
        print("no runs in the store; nothing to re-parse")
    for s in summaries:
        before = ", ".join(s.previous_versions) or "none"
        print(f"run {s.run_id}: {s.items} items ({s.responses} responses) re-parsed with parser {s.parser_version} "
              f"(was {before}); {s.skipped_items} items with only errors kept as they were")
        for dimension, counts in s.statuses.items():
            detail = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            print(f"  {dimension:<12} {detail}")
        if s.judged or s.judge_calls:
            spend = f", ${s.judge_cost:.4f}" if s.judge_cost else ""
            print(f"  judged readings: {s.judged} (new judge calls: {s.judge_calls}{spend})")
        if s.judge_unsent:
            print(f"  {s.judge_unsent} judge requests not sent: the --max-cost budget was spent")
    return 0
