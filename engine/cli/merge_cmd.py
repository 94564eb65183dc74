"""`affectlens merge A.duckdb B.duckdb ... --into C.duckdb`: combine results stores (shards, machines)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    merge = sub.add_parser("merge", help="combine results stores (the shards of a run, other machines' stores)",
                           description="Copy every table of each store into --into: same run ids merge item by "
                                       "item, rows already present are kept and differing ones reported as "
                                       "conflicts, provenance is kept; merging again changes nothing. Scores "
                                       "are recomputed.")
    merge.add_argument("stores", nargs="+", help="the .duckdb stores to merge")
    merge.add_argument("--into", required=True, help="the store to merge into (created when missing)")
    merge.add_argument("--json", action="store_true", help="print the report as JSON")
    merge.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from engine.store.merge import merge_stores

    from engine.metrics.scoring import refresh_scores

    report = merge_stores(args.stores, args.into)
    if report.datasets:
        refresh_scores(report.into, dataset=report.datasets)
        report.scores_refreshed = True
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    added = ", ".join(f"{n} {table}" for table, n in sorted(report.added.items())) or "nothing new"
    print(f"merged {len(args.stores)} store(s) into {report.into}: added {added}; "
          f"{report.runs_merged} run row(s) combined; {len(report.conflicts)} conflict(s)")
    for line in report.conflicts:
        print(f"  conflict: {line}")
    for table in report.skipped_tables:
        print(f"  skipped {table}: the merged store has no such table (upgrade affectlens)")
    return 0
