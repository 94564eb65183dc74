"""`affectlens` command line: each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from engine.errors import AffectLensError

# Each module defines register(subparsers) and sets `func` on the parsers it adds.
COMMAND_MODULES = (
    "engine.cli.datasets_cmd",  # datasets list / show
    "engine.cli.scores_cmd",  # import-predictions, scores, export
    "engine.cli.parse_cmd",  # parse, reparse
    "engine.cli.run_cmd",  # run, demo
    "engine.cli.explain_cmd",  # explain, occlusion, probes
    "engine.cli.store_cmd",  # schema, runs
    "engine.cli.merge_cmd",  # merge
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affectlens",
        description="Measure how multimodal models read the emotions images convey.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command module not shipped in this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except AffectLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError, ImportError) as exc:
        # Library errors already carry a message naming the item and the fix.
        # KeyError's own str() adds quotes; subclasses with a message of their own keep it.
        plain_key_error = isinstance(exc, KeyError) and type(exc).__str__ is KeyError.__str__ and exc.args
        message = exc.args[0] if plain_key_error else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
