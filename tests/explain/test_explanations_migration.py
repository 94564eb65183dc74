"""Migration 081 keeps the maps a store already held when it adds the measure to the key."""

from __future__ import annotations

import duckdb

from engine.store import connect, migrations


def test_maps_written_before_081_survive_it(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in migrations():
        if version <= 80:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
    con.execute("INSERT INTO explanations (dataset, item_id, model, strategy, method, measure, grid_rows, grid_cols, "
                "cell_values) VALUES ('d', 'i', 'm', 'zero-shot', 'attention', NULL, 1, 2, [0.25, 0.75])")
    con.close()
    with connect(db) as con:
        rows = con.execute("SELECT method, measure, cell_values FROM explanations").fetchall()
        con.execute("INSERT INTO explanations (dataset, item_id, model, strategy, method, measure, grid_rows, "
                    "grid_cols, cell_values) VALUES ('d', 'i', 'm', 'zero-shot', 'attention', 'attention_rollout', "
                    "1, 2, [0.5, 0.5])")
        assert con.execute("SELECT count(*) FROM explanations").fetchone()[0] == 2
    assert rows == [("attention", "attention", [0.25, 0.75])]
