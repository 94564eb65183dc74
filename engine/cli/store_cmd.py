"""`affectlens schema` (the store schema, generated from the migrations) and `affectlens runs`."""

from __future__ import annotations

import argparse
import json

from engine.store import connect, default_db_path, migrations


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


RUN_COLUMNS = ("run_id", "dataset", "model", "strategy", "status", "n_items", "started_at", "finished_at")


def _runs(args: argparse.Namespace) -> int:
    with connect(args.db or default_db_path(), read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY started_at, run_id").fetchall()
    records = [dict(zip(RUN_COLUMNS, row)) for row in rows]
    from engine.runner.batch import pending_batches
    batches = pending_batches(args.db or default_db_path())
    if args.json:
        print(json.dumps(records, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(*RUN_COLUMNS[:6])
    for record in records:
        table.add_row(*(str(record[c]) if record[c] is not None else "" for c in RUN_COLUMNS[:6]))
    Console().print(table)
    if batches:
        pending = Table("model", "batch", "state", "vendor status", "requests", "done", "failed", "expired",
                        "worst $", "submitted", title="Pending batches (rerun the run command to collect)")
        for b in batches:
            pending.add_row(b["model"], b["provider_batch_id"] or "(submitting)", b["state"], b["vendor_status"] or "",
                            str(b["n_requests"]), str(b["n_succeeded"] or 0), str(b["n_errored"] or 0),
                            str(b["n_expired"] or 0), f"{b['worst_cost_usd'] or 0:.4f}", str(b["created_at"]))
        import sys
        Console(width=None if sys.stdout.isatty() else 200).print(pending)
    return 0
