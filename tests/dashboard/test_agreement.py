"""Two views of the same cell never disagree: `scores`, the dashboard's data layer and the pages.

A property test builds random stores (several runs per cell, complete and stopped ones, every failure
status, items without an answer row) through the engine's store writes and scorer, and checks n,
coverage and strict accuracy of every cell three ways: recomputed here from the generated answers,
from the store view `scores --json` reads, and from the dashboard's data layer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from dashboard import data
from engine.datasets.base import Dataset, Gold, Item
from engine.metrics.scoring import refresh_scores
from engine.store import connect
from engine.store.evalsets import EvalSet, write_eval_set
from engine.store.queries import current_scores
from engine.datasets.stored import write_dataset
from engine.store.writes import write_predictions, write_run
from tests.dashboard.conftest import table_with

LABELS = ("positive", "negative")
STATUSES = ("ok", "ok", "ok", "failed", "refused", "error", "missing")


@st.composite
def stores(draw):
    n = draw(st.integers(3, 12))
    gold = [draw(st.sampled_from(LABELS)) for _ in range(n)]
    cells = {}
    for model in draw(st.lists(st.sampled_from(["m1", "m2", "m3"]), min_size=1, max_size=3, unique=True)):
        for strategy in draw(st.lists(st.sampled_from(["zero-shot", "cot"]), min_size=1, max_size=2, unique=True)):
            runs = []
            for number in range(draw(st.integers(1, 3))):
                runs.append({"complete": draw(st.booleans()), "minutes": draw(st.integers(0, 50)),
                             "answers": [(draw(st.sampled_from(STATUSES)), draw(st.sampled_from(LABELS)))
                                         for _ in range(n)]})
            cells[(model, strategy)] = runs
    return gold, cells


def _expected(gold, runs) -> tuple[dict, int]:
    """The run that should stand for the cell (complete first, then newest, then larger id) and its figures."""
    index = sorted(range(len(runs)), key=lambda i: (not runs[i]["complete"], -runs[i]["minutes"], -i))[0]
    answers = runs[index]["answers"]
    answered = [status == "ok" for status, _ in answers]
    correct = [a and label == g for a, (_, label), g in zip(answered, answers, gold)]
    return {"n_total": len(gold), "coverage": sum(answered) / len(gold),
            "accuracy_strict": sum(correct) / len(gold)}, index


def _build(path, gold, cells) -> dict:
    ids = [f"i{k:02d}" for k in range(len(gold))]
    items = [Item(item_id, None, {"polarity": Gold(label=g, labels=(g,), taxonomy="polarity2")})
             for item_id, g in zip(ids, gold)]
    chosen = {}
    t0 = datetime(2026, 1, 1)
    with connect(path) as con:
        write_dataset(con, Dataset("rand", "manifest", None, items, taxonomy="polarity2"))
        every = write_eval_set(con, EvalSet("rand", tuple(ids), "rand · every item"))
        for (model, strategy), runs in cells.items():
            expected, index = _expected(gold, runs)
            for number, run in enumerate(runs):
                rid = f"{model}-{strategy}-{number}"
                write_run(con, {"run_id": rid, "dataset": "rand", "model": model, "adapter": "replay",
                                "strategy": strategy, "dimensions": ["polarity"], "taxonomy": "polarity2",
                                "status": "complete" if run["complete"] else "stopped", "n_items": len(ids),
                                "started_at": t0 + timedelta(minutes=run["minutes"], seconds=number),
                                "eval_set": every, "purpose": "benchmark"})
                write_predictions(con, [{"run_id": rid, "dataset": "rand", "item_id": item_id, "dimension": "polarity",
                                         "label": label if status == "ok" else None, "status": status,
                                         "method": "rule"}
                                        for item_id, (status, label) in zip(ids, run["answers"]) if status != "missing"])
            chosen[(model, strategy)] = (f"{model}-{strategy}-{index}", expected)
    return chosen


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stores())
# the newest complete run stored no answer at all: it still stands for its cell, with nothing answered
@example((["positive", "negative", "positive"],
          {("m1", "cot"): [{"complete": True, "minutes": 5, "answers": [("missing", "positive")] * 3},
                           {"complete": True, "minutes": 1, "answers": [("ok", "positive")] * 3}]}))
def test_pages_and_scores_agree_on_n_coverage_and_accuracy_per_cell(tmp_path_factory, store):
    gold, cells = store
    path = tmp_path_factory.mktemp("random") / "r.duckdb"
    chosen = _build(path, gold, cells)
    refresh_scores(path, n_resamples=20)
    with connect(path, read_only=True) as con:
        view = current_scores(con)
    data.set_caching(False)
    try:
        scope_row = data.scopes(str(path), data.Filters()).iloc[0]
        scope = data.Scope("rand", scope_row["eval_set"], "polarity")
        board = data.leaderboard(str(path), data.Filters(), scope).set_index(["model", "strategy"])
        quality = data.cost_quality(str(path), data.Filters(), scope).set_index(["model", "strategy"])
        failures = data.strategy_failures(str(path), data.Filters(), scope).set_index(["model", "strategy"])
    finally:
        data.set_caching(True)
    assert scope_row["eval_set_size"] == len(gold)
    for key, (run_id, expected) in chosen.items():
        rows = view[(view["model"] == key[0]) & (view["strategy"] == key[1])].set_index("metric")
        assert set(rows["run_id"]) == {run_id}, key
        for metric in ("accuracy_strict", "coverage"):
            assert rows.loc[metric, "value"] == pytest.approx(expected[metric])
        assert rows.loc["accuracy_strict", "n_total"] == expected["n_total"]
        assert board.loc[key, "value"] == pytest.approx(expected["accuracy_strict"])
        assert board.loc[key, "coverage"] == pytest.approx(expected["coverage"])
        assert board.loc[key, "n_total"] == expected["n_total"] and board.loc[key, "run_id"] == run_id
        assert quality.loc[key, "accuracy_strict"] == pytest.approx(expected["accuracy_strict"])
        assert quality.loc[key, "n"] == expected["n_total"]
        assert failures.loc[key, "items"] == expected["n_total"]
        unanswered = failures.loc[key, ["unparsed", "refused", "api_error", "missing"]].sum()
        assert 1 - unanswered == pytest.approx(expected["coverage"])


def test_every_page_shows_the_numbers_scores_json_prints(fresh_store, monkeypatch):
    """On a store with an older run in a cell, a probe and an analysis: the Overview leaderboard, the
    comparison's cost table and the ablation effects show, per cell, what `affectlens scores --json` prints,
    and never the probe, the analysis or the older run."""
    import contextlib
    import io
    import json

    import seed
    from streamlit.testing.v1 import AppTest

    from engine.cli.main import main
    from tests.dashboard.conftest import APP

    with connect(fresh_store) as con:
        every = con.execute("SELECT eval_set FROM runs LIMIT 1").fetchall()[0][0]
        ids = [seed.item_id(s) for s in seed.GOLD]
        extra = [("old-alpha", "alpha", "zero-shot", "benchmark", -60), ("probe-alpha", "alpha", "zero-shot+grayscale",
                                                                           "probe", 60),
                 ("analysis-gamma", "gamma", "zero-shot", "analysis", 60)]
        for rid, model, strategy, purpose, minutes in extra:
            write_run(con, {"run_id": rid, "dataset": seed.DATASET, "model": model, "adapter": "replay",
                            "strategy": strategy, "dimensions": ["emotion"], "taxonomy": "ekman7",
                            "status": "complete", "n_items": len(ids), "eval_set": every, "purpose": purpose,
                            "started_at": datetime(2026, 1, 1, 12) + timedelta(minutes=minutes)})
            write_predictions(con, [{"run_id": rid, "dataset": seed.DATASET, "item_id": i, "dimension": "emotion",
                                     "label": "anger", "status": "ok", "method": "rule"} for i in ids])
    refresh_scores(fresh_store, n_resamples=50)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scores", "--db", str(fresh_store), "--json", "--no-store", "--resamples", "50",
                     "--dimension", "emotion"]) == 0
    printed = {(r["model"], r["strategy"], r["metric"]): r for r in json.loads(out.getvalue())}
    assert {m for m, _, _ in printed} == {"alpha", "beta"} and "old-alpha" not in {r["run_id"] for r in printed.values()}

    monkeypatch.setenv("AFFECTLENS_DB", str(fresh_store))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.selectbox(key="overview-dimension").set_value("emotion").run()
    board = table_with(at, "95% CI")
    assert set(zip(board["model"], board["strategy"])) == {k[:2] for k in printed}
    for row in board.itertuples():
        expected = printed[(row.model, row.strategy, "accuracy_strict")]
        assert getattr(row, "accuracy_strict") == pytest.approx(expected["value"])
        assert row.n_total == expected["n_total"] and row.run_id == expected["run_id"]
        assert row.coverage == pytest.approx(printed[(row.model, row.strategy, "coverage")]["value"])

    grid = table_with(at, "mean_win_rate")  # the results matrix: the same cells, the analysis and probe left out
    assert set(zip(grid["model"], grid["strategy"])) == {k[:2] for k in printed}
    for _, row in grid.iterrows():
        expected = printed[(row["model"], row["strategy"], "accuracy_strict")]
        assert row[f"{seed.DATASET} · emotion"] == pytest.approx(expected["value"])
        assert f"n {expected['n']}" in row[f"{seed.DATASET} · emotion ·"]

    at.switch_page("pages/comparison.py").run()
    at.selectbox(key="compare-dimension").set_value("emotion").run()
    quality = table_with(at, "cost_per_item_usd")
    for row in quality.itertuples():
        assert row.accuracy_strict == pytest.approx(printed[(row.model, row.strategy, "accuracy_strict")]["value"])
        assert row.n == printed[(row.model, row.strategy, "accuracy_strict")]["n_total"]

    at.switch_page("pages/ablations.py").run()
    at.selectbox(key="ablate-dimension").set_value("emotion").run()
    effects = table_with(at, "accuracy_baseline")
    assert set(effects["strategy"]) == {"cot"}  # the probe strategy is not an ablation row
    for row in effects.itertuples():
        assert row.accuracy == pytest.approx(printed[(row.model, row.strategy, "accuracy_strict")]["value"])
        assert row.accuracy_baseline == pytest.approx(printed[(row.model, "zero-shot", "accuracy_strict")]["value"])
