"""`affectlens datasets list | show | load | fetch`: the supported releases and formats, stored datasets,
one dataset's summary (checked against its release), and verified downloads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from engine.errors import AffectLensError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("datasets", help="list, inspect and store datasets",
                                   description="List dataset formats and stored datasets, summarise or store one.")
    sub = parser.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="supported releases (licence, citation), formats, and the datasets in "
                                          "the store")
    _db(listing)
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--markdown", action="store_true", help="print the supported releases as the README's "
                                                                 "Markdown table and config entries")
    listing.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="counts, dimensions, scales, label balance, splits and problems")
    show.add_argument("name", help="a stored dataset, or a dataset name / format together with --path")
    _source(show)
    _db(show)
    show.add_argument("--json", action="store_true", help="print the summary as JSON")
    show.add_argument("--problems", type=int, default=20, metavar="N", help="list at most N problems (20)")
    show.set_defaults(func=cmd_show)

    load = sub.add_parser("load", help="load a dataset from disk and store it (items, gold, images)")
    load.add_argument("name", help="dataset name (a built-in one, or your own with --format)")
    _source(load, path_required=True)
    _db(load)
    load.add_argument("--no-images", action="store_true", help="skip the images table (colour statistics)")
    load.set_defaults(func=cmd_load)

    from engine.cli.datasets_catalog import register_fetch
    register_fetch(sub)


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, help="results store (default: $AFFECTLENS_DB or results.duckdb)")


def _source(parser: argparse.ArgumentParser, path_required: bool = False) -> None:
    parser.add_argument("--path", required=path_required, help="dataset folder, or the manifest file")
    parser.add_argument("--format", default=None, help="a release (emotion6, rafdb, ...; see `datasets list`), or "
                                                       "csv | jsonl | folder | hf (default: the name, when it is a "
                                                       "built-in one)")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="loader option, value read as YAML; dotted keys nest "
                             "(-o image_col=file -o label_cols.polarity=sentiment -o 'scales.valence=[1,9]')")
    parser.add_argument("--limit", type=int, default=None, help="only the first N usable items")
    parser.add_argument("--split", default=None, help="only this split (e.g. five_agree, test)")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """["a=1", "b.c=x"] -> {"a": 1, "b": {"c": "x"}} (values parsed as YAML)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise AffectLensError(f"--option {pair!r} is not KEY=VALUE (e.g. -o image_col=file)")
        target = options
        *parents, leaf = key.strip().split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = yaml.safe_load(raw) if raw.strip() else None
    return options


def _load(args: argparse.Namespace):
    from engine.datasets import load_dataset

    spec = {"name": args.name, "path": args.path, **parse_options(args.option)}
    if args.format:
        spec["format"] = args.format
    if args.limit is not None:
        spec["limit"] = args.limit
    if args.split:
        spec["split"] = args.split
    return load_dataset(spec)


def _db_path(args: argparse.Namespace):
    from engine.store import default_db_path

    return args.db or default_db_path()


def cmd_list(args: argparse.Namespace) -> int:
    from engine.cli.datasets_catalog import format_releases, releases
    from engine.datasets import get_loader, loader_info, loader_names, stored_datasets

    if args.markdown:
        from engine.cli.datasets_catalog import format_markdown
        sys.stdout.write(format_markdown(releases()))
        return 0
    db = _db_path(args)
    formats = [{"format": name, "about": (get_loader(name).__doc__ or "").strip().splitlines()[0]}
               for name in loader_names()]
    stored = stored_datasets(db)
    if args.json:
        print(json.dumps({"formats": formats, "releases": releases(), "stored": stored, "db": str(db)},
                         default=str, indent=2))
        return 0
    sys.stdout.write(format_releases(releases()))
    print()
    print("Generic formats (use as `format:` in a config):")
    for entry in formats:
        if loader_info(entry["format"]) is None:
            print(f"  {entry['format']:<10} {entry['about']}")
    print("  (csv, tsv and jsonl are manifest; imagefolder is folder)")
    print()
    if not stored:
        print(f"No datasets stored in {db} yet (store one with `affectlens datasets load NAME --path P`).")
        return 0
    print(f"Stored in {db}:")
    print(f"  {'dataset':<24} {'loader':<10} {'items':>7}  {'taxonomy':<10} dimensions")
    for row in stored:
        dims = ", ".join(row["dimensions"] if row["dimensions"] is not None else [])
        print(f"  {row['dataset']:<24} {row['loader']:<10} {int(row['n_items'] or 0):>7}  "
              f"{row['taxonomy'] or '-':<10} {dims}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from engine.datasets import describe_dataset, read_dataset, stored_datasets
    from engine.datasets.base import is_format

    if args.path:
        dataset = _load(args)
    else:
        db = _db_path(args)
        if args.name in {row["dataset"] for row in stored_datasets(db)}:
            dataset = read_dataset(db, args.name)
            if args.split:
                dataset = dataset.subset(split=args.split, limit=args.limit)
            elif args.limit is not None:
                dataset = dataset.subset(limit=args.limit)
        elif is_format(args.name):
            raise AffectLensError(f"{args.name!r} is a dataset format; give its folder with --path "
                                  f"(e.g. affectlens datasets show {args.name} --path ../shared/datasets/{args.name})")
        else:
            raise AffectLensError(f"no dataset {args.name!r} in {db}; give --path (and --format) to read one "
                                  "from disk, or see `affectlens datasets list`")
    from engine.cli.datasets_catalog import format_check, release_check

    summary = describe_dataset(dataset, max_problems=args.problems)
    check = release_check(dataset)
    if check is not None:
        summary["release"] = check
    if args.json:
        print(json.dumps(summary, default=str, indent=2))
    else:
        sys.stdout.write(format_summary(summary) + format_check(check))
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from engine.datasets import store_dataset

    dataset = _load(args)
    db = _db_path(args)
    n = store_dataset(db, dataset, images=not args.no_images)
    print(f"stored {n} items of {dataset.name!r} in {db}"
          + (f"; {len(dataset.problems)} row(s) skipped (see `affectlens datasets show {dataset.name}`)"
             if dataset.problems else ""))
    for problem in dataset.problems[:5]:
        print(f"  {problem}", file=sys.stderr)
    return 0


def format_summary(s: dict[str, Any]) -> str:
    """The human-readable view of `describe_dataset`'s dict."""
    lines = [f"{s['dataset']}  ({s['loader']}; {s['n_items']} items, {s['n_images']} distinct images)"]
    if s["root"]:
        lines.append(f"root:        {s['root']}")
    lines.append(f"taxonomy:    {s['taxonomy'] or '-'}")
    lines.append(f"dimensions:  {', '.join(s['dimensions']) or '-'}")
    if s["scales"]:
        lines.append("scales:      " + ", ".join(f"{d} {lo:g}-{hi:g}" for d, (lo, hi) in s["scales"].items()))
    for dim, counts in s["label_balance"].items():
        total = sum(counts.values()) or 1
        lines.append(f"{dim + ':':<12} " + ", ".join(f"{label} {n} ({n / total:.1%})" for label, n in counts.items()))
    for dim, r in s["continuous"].items():
        lines.append(f"{dim + ':':<12} n={r['n']} min {r['min']:.2f}  mean {r['mean']:.2f}  max {r['max']:.2f}")
    if s["mean_distribution"]:
        lines.append("mean shares: " + ", ".join(f"{k} {v:.3f}" for k, v in s["mean_distribution"].items()))
    if s["splits"]:
        lines.append("splits:      " + ", ".join(f"{k} {v}" for k, v in s["splits"].items()))
    for key, counts in s["slices"].items():
        lines.append(f"slice {key}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines.append(f"problems:    {s['n_problems']}")
    lines.extend(f"  {p}" for p in s["problems"])
    if s["n_problems"] > len(s["problems"]):
        lines.append(f"  ... {s['n_problems'] - len(s['problems'])} more (--problems N shows more)")
    return "\n".join(lines) + "\n"
