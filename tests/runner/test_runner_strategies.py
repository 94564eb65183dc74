"""Multi-call strategies through the runner: few-shot exemplars, self-consistency samples, describe-then-judge."""

from __future__ import annotations

import csv

import duckdb

from engine.datasets.files import write_csv
from engine.runner import run_experiment, run_small_analysis
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, item_sha, write_dataset


def _with_train_split(manifest, n_train):
    with manifest.open() as handle:
        rows = list(csv.DictReader(handle))
    for i, row in enumerate(rows):
        row["split"] = "train" if i < n_train else "test"
    write_csv(manifest, rows)
    return [row["item_id"] for row in rows]


def test_few_shot_self_consistency_and_describe_then_judge(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 10)
    ids = _with_train_split(manifest, 4)
    train_shas = {item_sha(manifest, i) for i in ids[:4]}
    test_shas = {item_sha(manifest, i) for i in ids[4:]}
    answers = iter(["positive", "negative", "positive"] * 100)

    def answer(request):
        if request.prompt.startswith("Describe this image"):
            return "A coloured square with a number on it."
        return next(answers)

    config = experiment(manifest, None)
    config["datasets"][0]["split_col"] = "split"
    config["strategies"] = [{"name": "few-shot", "k_shot": 2}, {"name": "self-consistency", "n_samples": 3},
                            "describe-then-judge"]
    with FakeVendorServer("openai", answer=answer) as fake:
        config["models"][0]["base_url"] = fake.base_url
        result = run_experiment(config, db_path, quiet=True)
        requests = list(fake.requests)
    assert {r.strategy: r.status for r in result.runs} == {
        "few-shot[k_shot=2]": "complete", "self-consistency[n_samples=3]": "complete",
        "describe-then-judge": "complete"}
    few_shot = [r for r in requests if len(r.images) == 3]
    assert len(few_shot) == 6  # one per evaluated item
    for request in few_shot:
        *exemplars, query = [image.sha256 for image in request.images]
        assert set(exemplars) <= train_shas and query in test_shas  # exemplars never evaluated items
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        runs = dict(con.execute("SELECT strategy, run_id FROM runs").fetchall())
        sc = runs["self-consistency[n_samples=3]"]
        samples = con.execute("SELECT item_id, list(sample_index ORDER BY sample_index) FROM responses "
                              "WHERE run_id = ? GROUP BY item_id", [sc]).fetchall()
        assert len(samples) == 6 and all(indexes == [0, 1, 2] for _, indexes in samples)
        agreement = con.execute("SELECT min(agreement), max(agreement) FROM predictions WHERE run_id = ?",
                                [sc]).fetchall()[0]
        assert 0 < agreement[0] <= agreement[1] <= 1
        dtj = runs["describe-then-judge"]
        stages = con.execute("SELECT stage, count(*) FROM responses WHERE run_id = ? GROUP BY stage ORDER BY 1",
                             [dtj]).fetchall()
        assert stages == [("describe", 6), ("judge", 6)]
        judged = con.execute("SELECT count(*) FROM predictions p JOIN responses r USING (response_id) "
                             "WHERE p.run_id = ? AND r.stage = 'judge'", [dtj]).fetchall()
        assert judged == [(6,)]
        evaluated = {row[0] for row in con.execute("SELECT DISTINCT item_id FROM predictions").fetchall()}
        assert evaluated == set(ids[4:])  # the train split is never evaluated
    finally:
        con.close()


def test_small_analysis_reports_progress_into_the_same_store(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 6)
    dataset = experiment(manifest)["datasets"][0]
    events = []
    with FakeVendorServer("openai", answer="positive") as fake:
        model = {"name": "fake", "adapter": "openai-compatible", "model": "fake-vl", "base_url": fake.base_url}
        result = run_small_analysis(db_path, dataset, [model, "uniform"], "zero-shot", n_images=4,
                                    dimensions=["polarity"], on_progress=events.append)
        assert fake.count == 4
    assert [r.status for r in result.runs] == ["complete", "complete"]
    finals = [e for e in events if e.status != "running"]
    assert sorted(e.done for e in finals) == [4, 4] and all(e.fraction == 1.0 for e in finals)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM predictions").fetchall() == [(8,)]
    finally:
        con.close()


def test_without_a_train_split_few_shot_draws_from_a_held_out_pool_never_evaluated(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 8)
    config = experiment(manifest, None)
    config["datasets"][0]["holdout"] = 3
    config["strategies"] = [{"name": "few-shot", "k_shot": 2}]
    with FakeVendorServer("openai", answer="positive") as fake:
        config["models"][0]["base_url"] = fake.base_url
        result = run_experiment(config, db_path, quiet=True)
        requests = list(fake.requests)
    assert result.runs[0].status == "complete" and result.runs[0].n_items == 5
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        evaluated = {row[0] for row in con.execute("SELECT item_id FROM predictions").fetchall()}
        provenance = con.execute("SELECT provenance->>'$.training_pool.source' FROM runs").fetchall()
    finally:
        con.close()
    assert len(evaluated) == 5 and provenance == [("holdout",)]
    pool_shas = {item_sha(manifest, f"item-{i:03d}") for i in range(8)} - {item_sha(manifest, i) for i in evaluated}
    assert len(pool_shas) == 3
    for request in requests:
        *exemplars, query = [image.sha256 for image in request.images]
        assert len(exemplars) == 2 and set(exemplars) <= pool_shas and query not in pool_shas


def test_items_selects_the_evaluated_items(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 6)
    config = experiment(manifest, models=[{"name": "uniform", "adapter": "uniform"}])
    config["datasets"][0]["items"] = ["item-004", "item-001"]
    result = run_experiment(config, db_path, quiet=True)
    assert result.runs[0].n_items == 2
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert sorted(con.execute("SELECT item_id FROM predictions").fetchall()) == [("item-001",), ("item-004",)]
    finally:
        con.close()


def test_shuffled_label_orders_are_stored_as_the_prompt_showed_them(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 6)
    config = experiment(manifest, None)
    config["dimensions"] = ["polarity", "emotion"]
    config["taxonomy"] = "ekman7"
    config["strategies"] = [{"name": "zero-shot", "shuffle_labels": True}]
    with FakeVendorServer("openai", answer=lambda request: '{"polarity": "positive", "emotion": "joy"}') as fake:
        config["models"][0]["base_url"] = fake.base_url
        run_experiment(config, db_path, quiet=True)
        prompts = {r.prompt for r in fake.requests}
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("SELECT item_id, label_set, labels, shuffled FROM label_orders").fetchall()
    emotion_orders = [labels for _, label_set, labels, _ in rows if label_set == "emotion"]
    assert len(emotion_orders) == 6 and all(shuffled for *_, shuffled in rows)
    assert all(sorted(order) == sorted(["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"])
               for order in emotion_orders)
    assert len({tuple(order) for order in emotion_orders}) > 1  # shuffled per item
    # each stored order is the one some prompt actually presented
    assert all(any(all(prompt.find(a) < prompt.find(b) for a, b in zip(order, order[1:])) for prompt in prompts)
               for order in emotion_orders)


def test_a_template_edited_mid_run_does_not_change_the_runs_prompts(tmp_path, db_path):
    manifest = write_dataset(tmp_path / "data", 6)
    templates = tmp_path / "templates"
    (templates / "en").mkdir(parents=True)
    preamble = templates / "en" / "preamble.txt"
    preamble.write_text("First wording of the question.\n")

    def answer(request):
        preamble.write_text("Second wording, written while the run was going.\n")  # after the first request
        return "positive"

    config = experiment(manifest, None, concurrency=1)
    config["strategies"] = [{"name": "zero-shot", "template_dir": str(templates)}]
    with FakeVendorServer("openai", answer=answer) as fake:
        config["models"][0]["base_url"] = fake.base_url
        result = run_experiment(config, db_path, quiet=True)
        prompts = [request.prompt for request in fake.requests]
    assert result.ok and len(prompts) == 6
    assert all(prompt.startswith("First wording of the question.") for prompt in prompts)  # the text it hashed


def test_the_heap_loaded_before_the_calls_is_frozen_only_while_they_run(tmp_path, db_path):
    """With freeze_heap=True (the CLI's setting); by default a host process's collector is left alone."""
    import gc

    manifest = write_dataset(tmp_path / "data", 3)
    frozen_during_calls = []

    def answer(request):  # the fake server runs in this process: it sees the runner's collector state
        frozen_during_calls.append(gc.get_freeze_count())
        return "positive"

    before = gc.get_freeze_count()
    with FakeVendorServer("openai", answer=answer) as fake:
        result = run_experiment(experiment(manifest, fake.base_url), db_path, quiet=True, freeze_heap=True)
    assert result.ok and len(frozen_during_calls) == 3
    assert min(frozen_during_calls) > before  # datasets, plans and modules kept out of full collections
    assert gc.get_freeze_count() == before  # and handed back to the collector afterwards


def test_a_host_process_keeps_its_collector_by_default(tmp_path, db_path):
    import gc

    manifest = write_dataset(tmp_path / "data", 3)
    frozen_during_calls = []

    def answer(request):
        frozen_during_calls.append(gc.get_freeze_count())
        return "positive"

    before = gc.get_freeze_count()
    with FakeVendorServer("openai", answer=answer) as fake:
        result = run_experiment(experiment(manifest, fake.base_url), db_path, quiet=True)
    assert result.ok and frozen_during_calls == [before] * 3
