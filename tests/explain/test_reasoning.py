"""Reasoning-chain analysis over a store: cue shares, inconsistency and the shift against zero-shot, with
the expected figures counted by hand from the texts in `explain_fixtures.COT_ANSWERS`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy import stats

import explain_fixtures as fx
from engine.cli.main import main
from engine.explain.reasoning import cue_overview, cue_table, inconsistency_table, load_traces, strategy_cue_shift

# By hand, per item of the cot run: categories cited, reasoning sentiment, final polarity.
#   r1 smiling, eyes / bright, warm, golden, sunlight          positive   positive  -> consistent
#   r2 face, tears / dark                                      negative   positive  -> INCONSISTENT
#   r3 street / shouting / banner                              none       negative  -> undecidable
#   r4 gift, balloons / composition, centred, background       positive   positive  -> consistent
COT_CITING = {"faces_expressions": 2, "colour_lighting": 2, "objects": 2, "actions": 1, "text_in_image": 1,
              "composition": 1}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("reasoning") / "results.duckdb"
    fx.write_reasoning_runs(db)
    return db


def test_each_answer_is_read_with_its_emotion_and_polarity(store):
    traces = load_traces(store).set_index(["strategy", "item_id"])
    assert len(traces) == 8
    cot = traces.loc["cot"]
    assert list(cot["sentiment"]) == ["positive", "negative", "none", "positive"]
    assert list(cot["polarity"]) == ["positive", "positive", "negative", "positive"]
    assert list(cot["emotion"]) == ["happiness", "happiness", "anger", "happiness"]
    assert [None if v is pd.NA else v for v in cot["inconsistent"]] == [False, True, None, False]
    assert not traces.loc["zero-shot"]["has_reasoning"].any()


def test_cue_shares_per_model_strategy_and_emotion(store):
    table = cue_table(load_traces(store))
    overall = cue_table(load_traces(store), by=("model", "strategy")).set_index(["strategy", "category"])
    for category, citing in COT_CITING.items():
        assert overall.loc[("cot", category), "share"] == pytest.approx(citing / 4)
        assert overall.loc[("zero-shot", category), "share"] == 0.0  # no reasoning: cites nothing
    anger = table[(table["strategy"] == "cot") & (table["emotion"] == "anger")].set_index("category")
    assert anger.loc["text_in_image", "share"] == 1.0 and anger.loc["faces_expressions", "share"] == 0.0
    assert (anger["n"] == 1).all()
    happiness = table[(table["strategy"] == "cot") & (table["emotion"] == "happiness")].set_index("category")
    assert happiness.loc["faces_expressions", "share"] == pytest.approx(2 / 3)


def test_inconsistency_rate_with_exact_interval(store):
    table = inconsistency_table(load_traces(store)).set_index("strategy")
    cot = table.loc["cot"]
    assert (cot["n"], cot["n_decidable"], cot["n_inconsistent"]) == (4, 3, 1)
    assert cot["rate"] == pytest.approx(1 / 3)
    ci = stats.binomtest(1, 3).proportion_ci(method="exact")
    assert (cot["ci_low"], cot["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert table.loc["zero-shot", "n_decidable"] == 0


def test_strategy_shift_against_zero_shot(store):
    shift = strategy_cue_shift(load_traces(store)).set_index("category")
    for category, citing in COT_CITING.items():
        row = shift.loc[category]
        assert row["difference"] == pytest.approx(citing / 4)
        assert (row["only_strategy"], row["only_baseline"]) == (citing, 0)
        assert row["p_value"] == pytest.approx(stats.binomtest(0, citing, 0.5).pvalue)
    assert (shift["p_holm"] >= shift["p_value"]).all()


def test_cli_json(store, capsys):
    assert main(["explain", "reasoning", "--db", str(store), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"cues", "inconsistency", "shift"}
    cot = [r for r in out["inconsistency"] if r["strategy"] == "cot"][0]
    assert cot["n_inconsistent"] == 1 and cot["n_decidable"] == 3


def test_cli_tables(store, capsys):
    assert main(["explain", "reasoning", "--db", str(store)]) == 0
    out = capsys.readouterr().out
    assert "Reasoning sentiment against the final polarity" in out and "reasoner" in out


def test_cue_overview_is_one_row_per_run_with_a_share_per_category(store):
    """The frame `affectlens explain reasoning` prints: the hand-counted cot shares out of 4 answers."""
    wide = cue_overview(load_traces(store))
    cot = wide[wide["strategy"] == "cot"]
    assert len(cot) == 1 and not wide.duplicated(["dataset", "model", "strategy"]).any()
    row = cot.iloc[0]
    assert row["n"] == 4
    for category, citing in COT_CITING.items():
        assert row[category] == pytest.approx(citing / 4), category
