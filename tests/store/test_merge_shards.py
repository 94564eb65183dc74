"""`--shard i/n` into separate stores, `affectlens merge`d, equals the unsharded run exactly."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import duckdb
import yaml

from engine.cli.main import main
from engine.runner.shard import in_shard, parse_shard
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset

N_ITEMS = 30


def _answer(request) -> str:
    return json.dumps({"polarity": "positive" if request.images[-1].sha256[0] < "8" else "negative"})


def _cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def _scores(db) -> list:
    status, out = _cli("scores", "--db", str(db), "--json")
    assert status == 0
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in json.loads(out)]  # when, not what


def _dump(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("datasets", "items", "gold", "runs", "responses", "predictions", "traces")}


def test_shards_partition_items_deterministically():
    ids = [f"item-{i}" for i in range(300)]
    parts = [{i for i in ids if in_shard("d", i, (k, 3))} for k in (1, 2, 3)]
    assert set().union(*parts) == set(ids) and sum(map(len, parts)) == len(ids)
    assert all(60 < len(p) < 140 for p in parts)
    assert parse_shard(" 2/3 ") == (2, 3) and parse_shard(None) is None


def test_three_shards_merged_equal_the_unsharded_run_and_merging_twice_changes_nothing(tmp_path):
    manifest = write_dataset(tmp_path / "data", N_ITEMS)
    with FakeVendorServer("openai", answer=_answer) as fake:
        config = experiment(manifest, fake.base_url)
        config["dimensions"] = ["polarity"]
        path = tmp_path / "e.yaml"
        path.write_text(yaml.safe_dump(config))
        assert _cli("run", str(path), "--db", str(tmp_path / "full.duckdb"), "--quiet")[0] == 0
        full_calls = len(fake.requests)
        fake.reset(answer=_answer)
        for i in (1, 2, 3):
            assert _cli("run", str(path), "--db", str(tmp_path / f"s{i}.duckdb"), "--quiet", "--shard", f"{i}/3")[0] == 0
        assert len(fake.requests) == full_calls == N_ITEMS  # each item asked once over the three shards
        # a shard rerun is a resume: nothing new is asked
        assert _cli("run", str(path), "--db", str(tmp_path / "s2.duckdb"), "--quiet", "--shard", "2/3")[0] == 0
        assert len(fake.requests) == N_ITEMS
    shards = [tmp_path / f"s{i}.duckdb" for i in (1, 2, 3)]
    with duckdb.connect(str(shards[0]), read_only=True) as con:
        n_items, provenance = con.execute("SELECT n_items, provenance FROM runs").fetchone()
    assert n_items == N_ITEMS and json.loads(provenance)["shard"] == {"index": 1, "count": 3}
    merged = tmp_path / "merged.duckdb"
    status, out = _cli("merge", *map(str, shards), "--into", str(merged), "--json")
    report = json.loads(out)
    assert status == 0 and report["conflicts"] == [] and report["added"]["predictions"] == N_ITEMS
    assert _scores(merged) == _scores(tmp_path / "full.duckdb")
    counts = _dump(merged)
    with duckdb.connect(str(merged), read_only=True) as con:
        run = con.execute("SELECT status, n_items, provenance FROM runs").fetchone()
    assert run[0] == "complete" and run[1] == N_ITEMS
    assert [s["index"] for s in json.loads(run[2])["shards"]] == [1, 2, 3]
    status, out = _cli("merge", *map(str, shards), "--into", str(merged), "--json")
    again = json.loads(out)
    assert again["added"] == {} and again["runs_merged"] == 0 and again["conflicts"] == []
    assert _dump(merged) == counts and _scores(merged) == _scores(tmp_path / "full.duckdb")


def test_merge_reports_a_conflict_and_keeps_the_first_row(tmp_path):
    manifest = write_dataset(tmp_path / "data", 6)
    with FakeVendorServer("openai", answer='{"polarity": "positive"}') as fake:
        path = tmp_path / "e.yaml"
        path.write_text(yaml.safe_dump(experiment(manifest, fake.base_url)))
        assert _cli("run", str(path), "--db", str(tmp_path / "a.duckdb"), "--quiet")[0] == 0
        fake.reset(answer='{"polarity": "negative"}')
        assert _cli("run", str(path), "--db", str(tmp_path / "b.duckdb"), "--quiet")[0] == 0
    status, out = _cli("merge", str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb"),
                       "--into", str(tmp_path / "c.duckdb"), "--json")
    report = json.loads(out)
    assert status == 0 and sum("predictions" in c for c in report["conflicts"]) == 6
    with duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True) as con:
        assert con.execute("SELECT DISTINCT label FROM predictions").fetchall() == [("positive",)]
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 12  # both stores' paid answers kept
