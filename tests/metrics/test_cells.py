"""Which answers a number is about: evaluation sets, run purposes, one rule for choosing runs, the cache key.

Every store here is built by the CLI (`affectlens run`, `import-predictions`) or the runner's own entry
points, and read back through `affectlens scores --json`; expected figures come from the answer files the
test writes, never from the code under test.
"""

from __future__ import annotations

import contextlib
import io
import json

import duckdb
import pytest
import yaml

from engine.cli.main import main
from engine.runner.small import run_small_analysis
from tests.runner.helpers import write_dataset


def _cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def _scores(db, *extra: str) -> list[dict]:
    return json.loads(_cli("scores", "--db", str(db), "--json", "--resamples", "50", *extra))


def _config(tmp_path, manifest, models, name="cells", **dataset) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "dimensions": ["polarity"], "image_max_side": 64,
        "datasets": [{"name": "tiny-set", "format": "csv", "path": str(manifest), "image_col": "image",
                      "id_col": "item_id", "label_cols": {"polarity": "polarity"}, **dataset}],
        "models": models, "strategies": ["zero-shot"]}))
    return str(path)


def _replay(tmp_path, name: str, answers: dict[str, str]) -> dict:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"item_id": k, "text": v}) + "\n" for k, v in answers.items()))
    return {"name": "replayed", "adapter": "replay", "options": {"file": str(path)}}


def _cell(records, **keys) -> list[dict]:
    return [r for r in records if all(r[k] == v for k, v in keys.items())]


@pytest.fixture
def manifest(tmp_path):
    return write_dataset(tmp_path / "data", 12)


def test_a_smaller_run_and_an_analysis_leave_the_full_cell_intact(tmp_path, manifest):
    db = tmp_path / "r.duckdb"
    gold = {f"item-{i:03d}": ("positive", "negative")[i % 2] for i in range(12)}
    right = _replay(tmp_path, "right", gold)
    _cli("run", _config(tmp_path, manifest, [right]), "--db", str(db), "--quiet")
    _cli("run", _config(tmp_path, manifest, [right], name="small"), "--db", str(db), "--limit", "3", "--quiet")
    run_small_analysis(db, {"name": "tiny-set", "format": "csv", "path": str(manifest), "image_col": "image",
                            "id_col": "item_id", "label_cols": {"polarity": "polarity"}},
                       [{"name": "replayed", "adapter": "replay",
                         "options": {"file": str(tmp_path / "right.jsonl")}}], n_images=5, dimensions=["polarity"])
    records = _scores(db)
    strict = _cell(records, model="replayed", metric="accuracy_strict")
    # two evaluation sets, two cells: the 12-item one is intact, the 3-item one stands beside it
    assert sorted((r["n_total"], r["eval_set_size"]) for r in strict) == [(3, 3), (12, 12)]
    assert {r["eval_set"] for r in strict} and len({r["eval_set"] for r in strict}) == 2
    assert all(r["value"] == 1.0 and r["purpose"] == "benchmark" for r in strict)
    assert {r["strategy"] for r in records} == {"zero-shot"}  # the analysis is no prompt strategy
    analysis = _scores(db, "--purpose", "analysis")
    assert {r["n_total"] for r in _cell(analysis, metric="accuracy_strict")} == {5}
    # `runs` prints full ids that `scores --run` (and `reparse --run`) accept
    listed = json.loads(_cli("runs", "--db", str(db), "--json"))
    assert {r["purpose"] for r in listed} == {"benchmark", "analysis"}
    for run in listed:
        assert _scores(db, "--run", run["run_id"])  # every listed id is accepted
    printed = _cli("runs", "--db", str(db))
    assert all(run["run_id"] in printed for run in listed)


def test_the_newest_complete_run_stands_for_its_cell_and_older_runs_stay_as_history(tmp_path, manifest):
    db = tmp_path / "r.duckdb"
    gold = {f"item-{i:03d}": ("positive", "negative")[i % 2] for i in range(12)}
    wrong = {k: "negative" if v == "positive" else "positive" for k, v in gold.items()}
    _cli("run", _config(tmp_path, manifest, [_replay(tmp_path, "first", gold)]), "--db", str(db), "--quiet")
    _cli("run", _config(tmp_path, manifest, [_replay(tmp_path, "second", wrong)]), "--db", str(db), "--quiet")
    current = _cell(_scores(db), metric="accuracy_strict")
    assert [r["value"] for r in current] == [0.0]  # the newer configuration answered every item wrongly
    history = _cell(_scores(db, "--all-runs"), metric="accuracy_strict")
    assert sorted((r["value"], r["current"]) for r in history) == [(0.0, True), (1.0, False)]


def test_two_configurations_differing_only_in_options_never_share_answers(tmp_path, manifest):
    """The same model name with another replay file (every answer a refusal) is not served the first
    file's answers from the cache; `uniform` with another seed draws other answers."""
    db = tmp_path / "r.duckdb"
    gold = {f"item-{i:03d}": ("positive", "negative")[i % 2] for i in range(12)}
    _cli("run", _config(tmp_path, manifest, [_replay(tmp_path, "answers", gold)]), "--db", str(db), "--quiet")
    refusals = _replay(tmp_path, "refusals", {k: "I'm sorry, I can't help with that." for k in gold})
    _cli("run", _config(tmp_path, manifest, [refusals]), "--db", str(db), "--quiet")
    current = {r["metric"]: r["value"] for r in _scores(db) if r["model"] == "replayed"}
    assert current["coverage"] == 0.0 and current["accuracy_strict"] == 0.0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM responses WHERE cached").fetchall()[0][0] == 0
    seeded = [{"name": f"uniform-{seed}", "adapter": "uniform", "options": {"seed": seed}} for seed in (0, 1)]
    _cli("run", _config(tmp_path, manifest, seeded, name="seeds"), "--db", str(db), "--quiet")
    with duckdb.connect(str(db), read_only=True) as con:
        answers = dict(con.execute("""
            SELECT r.model, string_agg(coalesce(p.label, '-'), ',' ORDER BY p.item_id) FROM predictions p
            JOIN runs r USING (run_id) WHERE r.adapter = 'uniform' GROUP BY r.model""").fetchall())
        cached = con.execute("SELECT count(*) FROM responses WHERE cached").fetchall()[0][0]
    assert answers["uniform-0"] != answers["uniform-1"] and cached == 0


def test_neutral_on_a_two_way_polarity_is_an_abstention_and_a_stated_polarity_wins(tmp_path, manifest):
    db = tmp_path / "r.duckdb"
    answers = {f"item-{i:03d}": ("positive", "negative")[i % 2] for i in range(12)}
    answers["item-000"] = "Neutral"  # gold positive: abstained, not wrong
    answers["item-001"] = "The image is negative overall. Emotion: surprise"  # gold negative: stated wins
    _cli("run", _config(tmp_path, manifest, [_replay(tmp_path, "mixed", answers)]), "--db", str(db), "--quiet")
    values = {r["metric"]: r for r in _scores(db)}
    assert values["coverage"]["value"] == pytest.approx(11 / 12)
    assert values["accuracy"]["value"] == 1.0 and values["accuracy"]["n"] == 11
    assert "abstentions" in values["accuracy"]["note"]
    assert values["accuracy"]["ci_method"] == "wilson" and values["accuracy"]["ci_low"] < 1.0  # never zero-width
    with duckdb.connect(str(db), read_only=True) as con:
        outcome = dict(con.execute("SELECT item_id, status FROM outcomes WHERE item_id IN ('item-000', 'item-001')"
                                   ).fetchall())
    assert outcome == {"item-000": "abstained", "item-001": "ok"}
