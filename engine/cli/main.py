"""`affectlens` command line: each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from engine.errors import AffectLensError
from engine.secrets import install_log_filter, scrub_text

# Each module defines register(subparsers) and sets `func` on the parsers it adds.
COMMAND_MODULES = (
    "engine.cli.datasets_cmd",  # datasets list / show
    "engine.cli.scores_cmd",  # import-predictions, scores, export
    "engine.cli.parse_cmd",  # parse, reparse
    "engine.cli.run_cmd",  # run, demo
    "engine.cli.explain_cmd",  # explain, occlusion, probes
    "engine.cli.store_cmd",  # schema, runs
    "engine.cli.merge_cmd",  # merge
    "engine.cli.models_cmd",  # models list / show
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affectlens",
        description="Measure how multimodal models read the emotions images convey.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        # A command module that fails to import is a broken installation: the error says so, with its
        # traceback, instead of the command silently missing from --help.
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    install_log_filter()  # every log line passes the one scrub
    try:
        return int(args.func(args) or 0)
    except AffectLensError as exc:
        _traceback(args)
        print(f"error: {scrub_text(str(exc))}", file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError, ImportError) as exc:
        _traceback(args)
        # Library errors already carry a message naming the item and the fix.
        # KeyError's own str() adds quotes; subclasses with a message of their own keep it.
        plain_key_error = isinstance(exc, KeyError) and type(exc).__str__ is KeyError.__str__ and exc.args
        message = exc.args[0] if plain_key_error else exc
        print(f"error: {scrub_text(str(message))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


def _traceback(args: argparse.Namespace) -> None:
    """With -v, every error shows where it came from; without, only its message naming the fix."""
    if getattr(args, "verbose", False):
        import traceback
        print(scrub_text(traceback.format_exc()), file=sys.stderr, end="")


if __name__ == "__main__":
    sys.exit(main())
