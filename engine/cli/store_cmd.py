"""`affectlens schema` (the store schema, generated from the migrations) and `affectlens runs`."""

from __future__ import annotations

import argparse
import json

from engine.store import connect, default_db_path, migrations
from engine.store.runs import run_listing


def register(sub: argparse._SubParsersAction) -> None:
    schema = sub.add_parser("schema", help="print the results-store schema (from the numbered migrations)")
    schema.set_defaults(func=_schema)
    runs = sub.add_parser("runs", help="list the runs in a results store")
    runs.add_argument("--db", default=None, help="results store (default: AFFECTLENS_DB or results.duckdb)")
    runs.add_argument("--json", action="store_true", help="print a JSON array")
    runs.set_defaults(func=_runs)


def _schema(args: argparse.Namespace) -> int:
    for version, name, sql in migrations():
        print(f"-- migration {version:03d}_{name}\n{sql.strip()}\n")
    return 0


RUN_COLUMNS = ("run_id", "purpose", "dataset", "eval_set", "eval_set_name", "model", "strategy", "status", "n_items",
               "started_at", "finished_at", "message")


def _runs(args: argparse.Namespace) -> int:
    """Every run with its full id (what `reparse --run` and `scores --run` take), purpose and evaluation set."""
    with connect(args.db or default_db_path(), read_only=True) as con:
        rows = run_listing(con)
    records = [dict(zip(RUN_COLUMNS, row)) for row in rows]
    from engine.runner.batch import pending_batches
    batches = pending_batches(args.db or default_db_path())
    if args.json:
        print(json.dumps(records, default=str))
        return 0
    import shutil
    import sys

    from rich.console import Console
    from rich.table import Table

    shown = ("run_id", "purpose", "eval_set_name", "model", "strategy", "status", "n_items")
    table = Table(*shown)
    table.columns[0].no_wrap = True  # the whole id, always: it is what other commands take
    for record in records:
        table.add_row(*(str(record[c]) if record[c] is not None else "" for c in shown))
    width = shutil.get_terminal_size((200, 24)).columns if sys.stdout.isatty() else 1000
    Console(width=max(width, 120)).print(table)
    if batches:
        pending = Table("model", "batch", "state", "vendor status", "requests", "done", "failed", "expired",
                        "worst $", "submitted", title="Pending batches (rerun the run command to collect)")
        for b in batches:
            pending.add_row(b["model"], b["provider_batch_id"] or "(submitting)", b["state"], b["vendor_status"] or "",
                            str(b["n_requests"]), str(b["n_succeeded"] or 0), str(b["n_errored"] or 0),
                            str(b["n_expired"] or 0), f"{b['worst_cost_usd'] or 0:.4f}", str(b["created_at"]))
        Console(width=max(width, 120)).print(pending)
    return 0
