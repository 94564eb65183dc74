"""`affectlens merge A.duckdb B.duckdb ... --into C.duckdb`: combine results stores.

Every table the stores share is copied generically, so tables and columns added by later
migrations merge too: the columns both sides have; rows matched by the target table's primary key
where it has one (a key already present is kept as it is -- first write wins, as for paid-for
responses -- and reported as a conflict when any other column differs), and de-duplicated on all
columns where it has none. Derived tables (`scores`) are not copied; the caller recomputes them
for `MergeReport.datasets` (`affectlens merge` does), since scoring sits above the store. `runs` rows with the same run id -- the shards of one sharded run, or the same run resumed on
two machines -- are merged: earliest start, latest finish, the least finished status, and the
provenance of each part kept (`provenance.shards`, `provenance.merged_from`). Merging the same
stores again changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MergeReport", "merge_stores"]

SKIP_TABLES = frozenset({"schema_migrations", "scores", "evaluations", "outcomes"})  # bookkeeping, derived
VOLATILE = frozenset({"created_at", "updated_at", "applied_at"})  # not content: never a conflict
STATUS_ORDER = ("failed", "running", "pending", "stopped", "complete")  # the least finished part wins
RUN_VARYING = frozenset({"status", "started_at", "finished_at", "provenance", "message", "model_id_resolved"})


@dataclass
class MergeReport:
    into: Path
    added: dict[str, int] = field(default_factory=dict)  # table -> rows added
    conflicts: list[str] = field(default_factory=list)  # "table key: column(s) differ (kept <into>'s)"
    runs_merged: int = 0
    skipped_tables: list[str] = field(default_factory=list)
    scores_refreshed: bool = False
    datasets: list[str] = field(default_factory=list)  # the datasets of the merged runs, whose scores are stale

    def to_dict(self) -> dict:
        return {"into": str(self.into), "added": self.added, "conflicts": self.conflicts,
                "runs_merged": self.runs_merged, "skipped_tables": self.skipped_tables,
                "scores_refreshed": self.scores_refreshed}


def merge_stores(sources: list[str | os.PathLike], into: str | os.PathLike, *,
                 max_conflicts_listed: int = 50) -> MergeReport:
    """Merge every store of `sources` into `into` (created when missing); see the module docstring."""
    from engine.store import connect

    target = Path(into)
    report = MergeReport(target)
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no results store at {path}; give the .duckdb files to merge")
        if target.exists() and path.resolve() == target.resolve():
            continue
    with connect(target) as con:
        for source in sources:
            path = Path(source)
            if target.exists() and path.resolve() == target.resolve():
                continue
            con.execute(f"ATTACH '{_quote(str(path.resolve()))}' AS src (READ_ONLY)")
            try:
                con.execute("BEGIN TRANSACTION")
                for table in _tables(con, "src"):
                    if table in SKIP_TABLES:
                        continue
                    if table not in _tables(con, _main(con)):
                        report.skipped_tables.append(f"{path.name}:{table}")
                        continue
                    if table == "runs":
                        _merge_runs(con, report, path.name)
                    else:
                        _merge_table(con, table, report, path.name)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            finally:
                con.execute("DETACH src")
        report.datasets = [r[0] for r in con.execute("SELECT DISTINCT dataset FROM runs").fetchall()]
    if len(report.conflicts) > max_conflicts_listed:
        extra = len(report.conflicts) - max_conflicts_listed
        report.conflicts = report.conflicts[:max_conflicts_listed] + [f"... and {extra} more"]
    return report


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _main(con) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


def _tables(con, catalog: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
                                      "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name",
                                      [catalog]).fetchall()]


def _columns(con, catalog: str, table: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
                                      "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
                                      [catalog, table]).fetchall()]


def _primary_key(con, table: str) -> list[str]:
    rows = con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE database_name = ? AND "
                       "table_name = ? AND constraint_type = 'PRIMARY KEY'", [_main(con), table]).fetchall()
    return list(rows[0][0]) if rows else []


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _merge_table(con, table: str, report: MergeReport, source: str) -> None:
    main = _main(con)
    target_cols = _columns(con, main, table)
    common = [c for c in target_cols if c in set(_columns(con, "src", table))]
    key = _primary_key(con, table)
    cols = ", ".join(_q(c) for c in common)
    before = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0]
    if key and all(k in common for k in key):
        match = " AND ".join(f"m.{_q(k)} = s.{_q(k)}" for k in key)
        compared = [c for c in common if c not in key and c not in VOLATILE]
        if compared:
            differs = " OR ".join(f"m.{_q(c)} IS DISTINCT FROM s.{_q(c)}" for c in compared)
            keys = ", ".join(f"s.{_q(k)}" for k in key)
            for row in con.execute(f"SELECT {keys} FROM src.{_q(table)} s JOIN {_q(table)} m ON {match} "
                                   f"WHERE {differs}").fetchall():
                report.conflicts.append(f"{table} {'/'.join(str(v) for v in row[:len(key)])}: differs in {source} "
                                        "(the merged store's row is kept)")
        con.execute(f"INSERT INTO {_q(table)} ({cols}) SELECT {', '.join('s.' + _q(c) for c in common)} "
                    f"FROM src.{_q(table)} s WHERE NOT EXISTS (SELECT 1 FROM {_q(table)} m WHERE {match})")
    else:
        # no key: a row is new when no row has the same content (volatile columns aside)
        same = " AND ".join(f"m.{_q(c)} IS NOT DISTINCT FROM s.{_q(c)}" for c in common if c not in VOLATILE) or "true"
        con.execute(f"INSERT INTO {_q(table)} ({cols}) SELECT DISTINCT {', '.join('s.' + _q(c) for c in common)} "
                    f"FROM src.{_q(table)} s WHERE NOT EXISTS (SELECT 1 FROM {_q(table)} m WHERE {same})")
    added = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0] - before
    if added:
        report.added[table] = report.added.get(table, 0) + added


def _merge_runs(con, report: MergeReport, source: str) -> None:
    from engine.store.writes import write_run
    main = _main(con)
    common = [c for c in _columns(con, main, "runs") if c in set(_columns(con, "src", "runs"))]
    cols = ", ".join(_q(c) for c in common)
    theirs = {r["run_id"]: r for r in _records(con, f"SELECT {cols} FROM src.runs")}
    ours = {r["run_id"]: r for r in _records(con, f"SELECT {cols} FROM runs WHERE run_id IN "
                                                  "(SELECT run_id FROM src.runs)")}
    added = 0
    for run_id, other in theirs.items():
        mine = ours.get(run_id)
        if mine is None:
            write_run(con, _jsonish(other))
            added += 1
            continue
        differing = [c for c in common if c not in RUN_VARYING and c not in VOLATILE
                     and _canon(mine.get(c)) != _canon(other.get(c))]
        if differing:
            report.conflicts.append(f"runs {run_id}: {', '.join(differing)} differ in {source} "
                                    "(the merged store's row is kept)")
        merged = _merge_run_rows(mine, other)
        if any(_canon(merged[c]) != _canon(mine.get(c)) for c in merged):
            write_run(con, _jsonish(merged))
            report.runs_merged += 1
    if added:
        report.added["runs"] = report.added.get("runs", 0) + added


def _merge_run_rows(mine: dict, other: dict) -> dict:
    merged = dict(mine)
    starts = [v for v in (mine.get("started_at"), other.get("started_at")) if v is not None]
    ends = [v for v in (mine.get("finished_at"), other.get("finished_at")) if v is not None]
    merged["started_at"] = min(starts) if starts else None
    merged["finished_at"] = max(ends) if ends else None
    statuses = [s for s in (mine.get("status"), other.get("status")) if s]
    merged["status"] = min(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0) \
        if statuses else None
    a, b = _load(mine.get("provenance")), _load(other.get("provenance"))
    provenance = dict(a)
    shards = {json.dumps(s, sort_keys=True) for p in (a, b) for s in _shards(p)}
    if shards:
        provenance["shards"] = sorted((json.loads(s) for s in shards), key=lambda s: (s.get("count"), s.get("index")))
    parts = {json.dumps(x, sort_keys=True, default=str) for p in (a, b) for x in _parts(p)}
    provenance["merged_from"] = [json.loads(x) for x in sorted(parts)]
    merged["provenance"] = provenance
    return merged


def _shards(provenance: dict) -> list[dict]:
    return list(provenance.get("shards") or ([provenance["shard"]] if provenance.get("shard") else []))


def _parts(provenance: dict) -> list[dict]:
    """What identifies each merged part: its shard, code version and host."""
    if provenance.get("merged_from"):
        return list(provenance["merged_from"])
    keys = ("shard", "git_commit", "git_dirty", "hostname", "affectlens_version", "python")
    return [{k: provenance.get(k) for k in keys if provenance.get(k) is not None}]


def _records(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _load(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _canon(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return json.dumps(value, sort_keys=True, default=str)


def _jsonish(row: dict) -> dict:
    out = dict(row)
    for column in ("config", "provenance"):
        if isinstance(out.get(column), str):
            out[column] = _load(out[column]) or out[column]
    return out
