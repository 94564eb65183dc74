"""Every page of the real app on the seeded store: no exception, and the numbers shown are the fixture's."""

from __future__ import annotations

import pytest
from scipy import stats

import seed
from tests.dashboard.conftest import PAGES, figures, open_panels, table_with, tables, texts


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(app, page):
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert app.title, "every page has a title"
    assert len(app.get("vega_lite_chart")) + len(tables(app)) + len(app.image) + len(app.info), \
        f"{page} shows nothing"


def test_overview_counts_and_spend(app):
    shown = figures(app)
    assert shown["datasets"] == "1"
    assert shown["items"] == str(len(seed.GOLD))
    assert shown["models"] == "2"
    assert shown["runs"] == str(len(seed.ANSWERS))
    spend = sum(seed.COST_PER_CALL[model] * len(answers) for (model, _), answers in seed.ANSWERS.items())
    assert shown["spent"] == f"${spend:,.4f}"


def test_leaderboard_shows_the_fixture_accuracy_with_ci_and_coverage(app):
    board = table_with(app, "95% CI")
    for (model, strategy) in seed.ANSWERS:
        row = board[(board["model"] == model) & (board["strategy"] == strategy)].iloc[0]
        assert row["accuracy"] == pytest.approx(seed.expected_accuracy(model, strategy))
        assert row["coverage"] == pytest.approx(seed.expected_coverage(model, strategy))
        low, high = (float(x) for x in row["95% CI"].split("[")[1].rstrip("]").split(","))
        assert low <= row["accuracy"] <= high
    # best first
    assert list(board["accuracy"]) == sorted(board["accuracy"], reverse=True)


def test_comparison_significance_matches_exact_mcnemar(app):
    app.switch_page("pages/comparison.py").run()
    table = table_with(app, "p_holm")
    row = table[(table["model_a"] == "alpha") & (table["model_b"] == "beta")].iloc[0]
    # strict correctness under zero-shot, counted from the fixture table
    answers_a, answers_b = seed.ANSWERS[("alpha", "zero-shot")], seed.ANSWERS[("beta", "zero-shot")]
    only_a = sum(seed.correct(s, answers_a[s]) and not seed.correct(s, answers_b[s]) for s in seed.GOLD)
    only_b = sum(seed.correct(s, answers_b[s]) and not seed.correct(s, answers_a[s]) for s in seed.GOLD)
    assert (row["only_a"], row["only_b"]) == (only_a, only_b)
    assert row["p_value"] == pytest.approx(stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)
    assert row["p_holm"] == pytest.approx(row["p_value"])  # one pair: nothing to correct
    assert row["n_common"] == len(seed.GOLD)
    from engine.metrics.compare import krippendorff_alpha

    raters = [[a if seed.answered(a) else None for a in seed.ANSWERS[(m, "zero-shot")].values()] for m in ("alpha", "beta")]
    shown = {m.label: m.value for m in app.metric}["Krippendorff's alpha, all models"]
    assert shown == f"{krippendorff_alpha(raters):.3f}"


def test_ablation_difference_from_zero_shot(app):
    app.switch_page("pages/ablations.py").run()
    table = table_with(app, "accuracy_baseline")
    for model in ("alpha", "beta"):
        row = table[(table["model"] == model) & (table["strategy"] == "cot")].iloc[0]
        strict = {s: sum(seed.correct(i, a) for i, a in seed.ANSWERS[(model, s)].items()) / len(seed.GOLD)
                  for s in ("zero-shot", "cot")}
        assert row["difference"] == pytest.approx(strict["cot"] - strict["zero-shot"])
    positions = table_with(app, "p_uniform")
    assert set(zip(positions["model"], positions["strategy"])) == {seed.SHUFFLED_RUN}
    answers = seed.ANSWERS[seed.SHUFFLED_RUN]
    chosen = [seed.presented_order(s).index(a) + 1 for s, a in answers.items() if seed.answered(a)]
    shown = positions.set_index("position")["n"]
    for position in range(1, len(seed.EKMAN7) + 1):
        assert shown.get(position, 0) == chosen.count(position)
    assert positions["uniform"].iloc[0] == pytest.approx(1 / len(seed.EKMAN7))
    expected_p = stats.chisquare([chosen.count(i) for i in range(1, len(seed.EKMAN7) + 1)]).pvalue
    assert positions["p_uniform"].iloc[0] == pytest.approx(expected_p)


def test_dimensions_confusion_counts(app):
    app.switch_page("pages/dimensions.py").run()
    assert not app.exception
    charts = app.get("vega_lite_chart")
    assert len(charts) >= 3  # emotion: confusion, per-class F1, calibration
    ece = table_with(app, "ece")
    assert set(ece["model"]) == {"alpha", "beta"}
    answers = ece.set_index(["model", "strategy"])["answers"]
    for key, table in seed.ANSWERS.items():
        assert answers[key] == sum(seed.answered(a) for a in table.values())


def test_runs_page_lists_every_run_with_cost_and_errors(app):
    app.switch_page("pages/runs.py").run()
    runs = table_with(app, "run_id")
    assert set(runs["run_id"]) == {seed.run_id(m, s) for m, s in seed.ANSWERS}
    beta = runs.set_index("run_id").loc[seed.run_id("beta", "zero-shot")]
    assert beta["errors"] == 1 and beta["calls"] == len(seed.GOLD)
    assert beta["spend_usd"] == pytest.approx(seed.COST_PER_CALL["beta"] * len(seed.GOLD))
    assert beta["invocation_s"] == pytest.approx(30 + 2)  # started to finished, as the runner stored it
    assert beta["call_time_s"] == pytest.approx(seed.LATENCY_MS["beta"] * len(seed.GOLD) / 1000)
    assert beta["run_duration_s"] >= 0
    assert "abc123" in str([j.value for j in app.json])  # provenance shown


def test_global_model_filter_narrows_every_page(app):
    open_panels(app, "filters").sidebar.multiselect[1].set_value(["alpha"]).run()  # Models
    assert figures(app)["models"] == "1"
    assert "1 filter on: models alpha" in texts(app)  # said in the sidebar, also once the panel is closed
    board = table_with(app, "95% CI")
    assert set(board["model"]) == {"alpha"}
    app.switch_page("pages/runs.py").run()
    assert set(table_with(app, "run_id")["model"]) == {"alpha"}


def test_a_missing_store_is_a_message_not_a_traceback(app, tmp_path):
    open_panels(app, "settings").sidebar.text_input[0].set_value(str(tmp_path / "nothing.duckdb")).run()
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception
        assert "no results store" in texts(app)


def test_an_empty_store_shows_guidance_not_errors(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from engine.store import migrate
    from tests.dashboard.conftest import APP

    migrate(tmp_path / "empty.duckdb")
    monkeypatch.setenv("AFFECTLENS_DB", str(tmp_path / "empty.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])


def test_results_matrix_shows_every_cell_with_its_win_rate(app):
    grid = table_with(app, "mean_win_rate")
    assert len(grid) == len(seed.ANSWERS)  # every row, no cut-off
    strict = {key: sum(seed.correct(s, a[s]) for s in seed.GOLD) / len(seed.GOLD) for key, a in seed.ANSWERS.items()}
    for _, row in grid.iterrows():
        key = (row["model"], row["strategy"])
        assert row[f"{seed.DATASET} · emotion"] == pytest.approx(strict[key])
        rivals = [v for k, v in strict.items() if k != key]
        wins = sum(strict[key] > v for v in rivals) + 0.5 * sum(strict[key] == v for v in rivals)
        assert row["mean_win_rate"] == pytest.approx(wins / len(rivals))
    assert list(grid["mean_win_rate"]) == sorted(grid["mean_win_rate"], reverse=True)


def test_results_matrix_marks_cells_below_the_ranking_thresholds(seeded, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    monkeypatch.setenv("AFFECTLENS_DB", str(seeded))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["matrix_metric"] = "accuracy"  # over answered items: n = 8 < MIN_N, so nothing may rank
    at.run()
    grid = table_with(at, "mean_win_rate")
    assert all("below threshold" in text for text in grid[f"{seed.DATASET} · emotion ·"])
    assert grid["mean_win_rate"].isna().all()
    assert any("stands for the dataset" in c.value and "faces · every item (n = 8)" in c.value for c in at.caption)


def test_runs_page_filters_by_status_and_puts_a_failed_runs_reason_first(fresh_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from engine.store import connect
    from engine.store.writes import write_run
    from tests.dashboard.conftest import APP

    with connect(fresh_store) as con:
        write_run(con, {"run_id": "run-broken", "dataset": seed.DATASET, "model": "gamma", "adapter": "replay",
                        "strategy": "zero-shot", "status": "failed", "message": "replay file not found: answers.jsonl",
                        "n_items": 0, "purpose": "benchmark"})
    monkeypatch.setenv("AFFECTLENS_DB", str(fresh_store))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["status"] = "failed"
    at.query_params["show_run"] = "run-broken"
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    runs = table_with(at, "run_id")
    assert list(runs["run_id"]) == ["run-broken"] and list(runs.columns[:2]) == ["status", "message"]
    assert "1 failed" in texts(at)
    assert any("replay file not found" in e.value for e in at.error)
    assert "No call was stored for this run: the reason it failed is above." in texts(at)
    at.pills(key="runs-status").set_value([]).run()
    assert len(table_with(at, "run_id")) == len(seed.ANSWERS) + 1
    assert "status" not in at.query_params
