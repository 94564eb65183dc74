"""The data layer: parameterised queries, hostile values, pagination, cache invalidation, a locked store,
and the small statistics against scipy / scikit-learn."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

import seed
from tests.dashboard.conftest import PAGES, texts
from dashboard import analysis, connection, data
from engine.store.evalsets import eval_set_id

def scope(dimension: str) -> data.Scope:
    """The seeded store's one evaluation set (every item of `faces`) on `dimension`."""
    return data.Scope("faces", eval_set_id("faces", [seed.item_id(s) for s in seed.GOLD]), dimension)


HOSTILE = ["'; DROP TABLE predictions; --", "x' OR '1'='1", "\"; DELETE FROM runs; --", "faces' --", "%", "\\"]


def _counts(db) -> tuple[int, int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("predictions", "runs", "items"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_filter_values_match_nothing(seeded, hostile):
    before = _counts(seeded)
    for filters in (data.Filters(datasets=(hostile,)), data.Filters(models=(hostile,)),
                    data.Filters(strategies=("zero-shot", hostile), models=(hostile,))):
        assert data.store_summary(seeded, filters)["runs"] == 0
        assert data.runs_table(seeded, filters).empty
        assert data.scored_pairs(seeded, filters).empty
        assert data.pairwise_significance(seeded, filters, scope("emotion"), "zero-shot").empty
        assert data.gallery_page(seeded, filters, data.GalleryQuery(scope("emotion"))).total == 0
    assert data.gallery_page(seeded, data.Filters(), data.GalleryQuery(scope("emotion"), gold=hostile)).total == 0
    assert data.gallery_page(seeded, data.Filters(), data.GalleryQuery(data.Scope(hostile, hostile, hostile),
                                                                       search=hostile)).total == 0
    assert data.gallery_page(seeded, data.Filters(pinned=(hostile,)), data.GalleryQuery(scope("emotion"))).total \
        == len(seed.GOLD)  # an unknown pinned run pins nothing
    assert data.item_detail(seeded, data.Filters(), "faces", hostile) is None
    assert data.run_detail(seeded, hostile) is None
    assert data.leaderboard(seeded, data.Filters(), data.Scope(hostile, hostile, hostile)).empty
    assert _counts(seeded) == before


def test_hostile_url_filters_show_no_match_on_every_page(app, seeded):
    before = _counts(seeded)
    fresh = type(app).from_file(app._script_path, default_timeout=60)
    fresh.query_params["model"] = HOSTILE[0]
    fresh.run()
    assert fresh.sidebar.multiselect[1].value == [HOSTILE[0]]  # kept, visibly, as the filter
    for page in PAGES:
        fresh.switch_page(page).run()
        assert not fresh.exception, [e.value for e in fresh.exception]
        assert "match the filters" in texts(fresh), page
    assert _counts(seeded) == before


def test_gallery_pages_cover_every_item_once_in_order(seeded):
    seen = []
    page_size = 3
    first = data.gallery_page(seeded, data.Filters(), data.GalleryQuery(scope("emotion"), page_size=page_size))
    for number in range(1, -(-first.total // page_size) + 1):
        page = data.gallery_page(seeded, data.Filters(), data.GalleryQuery(scope("emotion"), page=number,
                                                                           page_size=page_size))
        assert len(page.items) <= page_size
        seen += page.items["item_id"].tolist()
    assert first.total == len(seed.GOLD)
    assert sorted(seen) == sorted(seed.item_id(s) for s in seed.GOLD)
    failures = [seed.failures(i[:-4]) for i in seen]
    assert failures == sorted(failures, reverse=True)


def test_polarity_is_read_through_the_taxonomy_when_only_emotion_was_asked(seeded):

    matrix = data.confusion(seeded, data.Filters(), scope("polarity"), "alpha", "cot")
    answers = seed.ANSWERS[("alpha", "cot")]
    polarity = {s: "positive" if a in seed.POSITIVE else "negative" for s, a in answers.items()}
    gold = {s: "positive" if g[0] in seed.POSITIVE else "negative" for s, g in seed.GOLD.items()}
    right = sum(polarity[s] == gold[s] for s in seed.GOLD)
    assert matrix.loc[matrix["gold"] == matrix["predicted"], "n"].sum() == right


def test_results_appear_when_the_store_changes_without_clearing_caches(fresh_store):
    from engine.store import connect

    assert len(data.runs_table(fresh_store, data.Filters())) == len(seed.ANSWERS)
    connection.close_all()
    with connect(fresh_store) as con:
        con.execute("INSERT INTO runs (run_id, dataset, model, adapter, strategy, status) "
                    "VALUES ('run-new', 'faces', 'gamma', 'replay', 'zero-shot', 'complete')")
    time.sleep(0.01)
    assert "gamma" in set(data.runs_table(fresh_store, data.Filters())["model"])


def test_a_store_locked_by_a_writer_gives_the_last_result_or_store_busy(fresh_store, monkeypatch):
    monkeypatch.setattr(connection, "OPEN_TIMEOUT_S", 0.3)
    known = data.runs_table(fresh_store, data.Filters())
    connection.close_all()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); time.sleep(30)", str(fresh_store)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        data.set_caching(False)
        pd.testing.assert_frame_equal(data.runs_table(fresh_store, data.Filters()), known)  # last good result
        with pytest.raises(data.StoreBusy):
            data.runs_table(fresh_store, data.Filters(models=("alpha",)))  # never read before
    finally:
        data.set_caching(True)
        holder.kill()
        holder.wait()


def test_a_locked_store_is_a_message_on_the_page(fresh_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    monkeypatch.setattr(connection, "OPEN_TIMEOUT_S", 0.3)
    monkeypatch.setenv("AFFECTLENS_DB", str(fresh_store))
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); time.sleep(30)", str(fresh_store)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
            assert "the engine is writing" in texts(at)
    finally:
        holder.kill()
        holder.wait()


# --- statistics --------------------------------------------------------------------------------------

def test_statistics_on_the_page_come_from_the_engine(seeded):
    """Pairwise McNemar and Cohen's kappa shown by the dashboard equal independent recomputation from the
    seed's answer table (scipy, scikit-learn); the dashboard keeps no statistic of its own."""
    from scipy import stats

    pairs = data.pairwise_significance(seeded, data.Filters(), scope("emotion"), "zero-shot")
    row = pairs.iloc[0]
    a, b = seed.ANSWERS[(row["model_a"], "zero-shot")], seed.ANSWERS[(row["model_b"], "zero-shot")]
    only_a = sum(seed.correct(s, a[s]) and not seed.correct(s, b[s]) for s in seed.GOLD)
    only_b = sum(seed.correct(s, b[s]) and not seed.correct(s, a[s]) for s in seed.GOLD)
    assert (row["only_a"], row["only_b"]) == (only_a, only_b)
    expected = 1.0 if only_a + only_b == 0 else stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    assert row["p_value"] == pytest.approx(expected) and row["p_holm"] == pytest.approx(min(1.0, expected))
    agreement = data.model_agreement(seeded, data.Filters(), scope("emotion"), "cot")
    a, b = seed.ANSWERS[("alpha", "cot")], seed.ANSWERS[("beta", "cot")]
    both = [s for s in seed.GOLD if seed.answered(a[s]) and seed.answered(b[s])]
    assert agreement["kappa"].iloc[0] == pytest.approx(cohen_kappa_score([a[s] for s in both], [b[s] for s in both]))


def test_pareto_front():
    frame = pd.DataFrame({"cost": [1.0, 2.0, 3.0, 2.5, np.nan], "accuracy": [0.6, 0.8, 0.79, 0.9, 0.99]})
    assert analysis.pareto_front(frame, "cost", "accuracy").tolist() == [True, True, False, True, False]


def test_engine_writes_while_the_dashboard_reads_continuously(fresh_store, monkeypatch):
    """A busy dashboard never locks the engine out for long, and never shows it a lock error."""
    import threading

    monkeypatch.setattr(connection, "MAX_AGE_S", 0.5)
    data.set_caching(False)
    failures, reads = [], []
    stop = threading.Event()

    def read_forever():
        while not stop.is_set():
            try:
                reads.append(len(data.runs_table(fresh_store, data.Filters())))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(repr(exc))

    readers = [threading.Thread(target=read_forever) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        time.sleep(0.3)
        writer = subprocess.run(
            [sys.executable, "-c", "import sys, time; from engine.store import connect\n"
             "started = time.monotonic()\n"
             "for n in range(3):\n"
             "    with connect(sys.argv[1], timeout_s=20) as con:\n"
             "        con.execute(\"INSERT INTO runs (run_id, dataset, model, adapter, strategy) "
             "VALUES (?, 'faces', 'gamma', 'replay', 'zero-shot')\", [f'w{n}'])\n"
             "print(round(time.monotonic() - started, 2))", str(fresh_store)],
            capture_output=True, text=True, timeout=120, cwd=str(connection.Path(__file__).resolve().parents[2]))
        time.sleep(0.6)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
        data.set_caching(True)
    assert writer.returncode == 0, writer.stderr[-2000:]
    assert not failures, failures[:3]
    assert reads[0] == len(seed.ANSWERS) and reads[-1] == len(seed.ANSWERS) + 3
