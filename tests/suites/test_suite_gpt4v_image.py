"""`affectlens run --suite gpt4v-emotion-image` end to end: offline baselines on the shared datasets, the
published GPT-4V predictions imported beside them, missing datasets skipped, a table in the paper's shape."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from tests.support import shared_path

from engine.cli.main import main
from engine.errors import ConfigError
from engine.suites import PUBLISHED_MODEL, load_suite, run_suite, suite_names

MODELS = "models:\n  - {name: color-affect, adapter: color-affect}\n  - {name: uniform, adapter: uniform}\n"


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory):
    data = shared_path("datasets")
    gpt4v = shared_path("external", "gpt4v-emotion")
    folder = tmp_path_factory.mktemp("suite")
    (folder / "models.yaml").write_text(MODELS)
    db = folder / "results.duckdb"
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--suite", "gpt4v-emotion-image", str(folder / "models.yaml"), "--data", str(data),
                     "--gpt4v", str(gpt4v), "--db", str(db), "--limit", "40", "--quiet"])
    return code, out.getvalue(), err.getvalue(), db


def test_suite_table_has_the_papers_shape(suite_run):
    code, out, err, _ = suite_run
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if "GPT-4V (paper)" in line)
    assert header.split() == ["color-affect", "uniform", "GPT-4V", "(published)", "GPT-4V", "(paper)"]
    body = lines[lines.index(header) + 1:]
    labels = [line.strip().split("  ")[0] for line in body if line.startswith("  ")]
    assert labels == ["Twitter I (5 agree)", "Twitter I (4 agree)", "Twitter I (3 agree)", "Twitter II", "Abstract",
                      "ArtPhoto", "CK+", "FERPlus", "SFEW 2.0", "RAF-DB"]
    assert "sentiment (polarity)" in out and "facial expression (emotion)" in out
    rows = {line.strip().split("  ")[0]: line.split() for line in body if line.startswith("  ")}
    # published predictions reproduce the paper's figures, with coverage where items went unanswered
    assert rows["Twitter II"][-3:] == ["87.95", "[97.68%]", "87.95"]
    assert rows["Abstract"][-3:] == ["71.81", "[99.13%]", "71.81"]
    assert rows["RAF-DB"][-3:] == ["75.81", "[99.97%]", "75.81"]
    assert rows["ArtPhoto"][-4:] == ["-", "-", "-", "-"]
    for missing in ("twitter2", "abstract", "artphoto", "ckplus", "ferplus", "sfew", "rafdb"):
        assert f"no {missing}/ in" in err
    assert "not run (dataset missing): twitter2, abstract, artphoto, ckplus, ferplus, sfew, rafdb" in out


def test_baseline_cells_are_the_stored_scores(suite_run):
    _, out, _, db = suite_run
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute("SELECT dataset, model, value, n FROM scores WHERE metric = 'accuracy' AND "
                             "dimension = 'polarity' AND dataset LIKE 'twitter1_%'").fetchall()
        evaluated = con.execute("SELECT DISTINCT dataset FROM runs WHERE dataset LIKE 'twitter1_%'").fetchall()
    finally:
        con.close()
    assert sorted(d for (d,) in evaluated) == ["twitter1_3", "twitter1_4", "twitter1_5"]
    rows = {line.strip().split("  ")[0]: line.split() for line in out.splitlines()
            if line.startswith("  ") and "GPT-4V (paper)" not in line}
    label = {"twitter1_5": "Twitter I (5 agree)", "twitter1_4": "Twitter I (4 agree)", "twitter1_3": "Twitter I (3 agree)"}
    assert len(stored) == 6
    for dataset, model, value, n in stored:
        assert n == 40  # --limit 40: every baseline answers every item
        column = 4 if model == "color-affect" else 5  # after the four words of the label
        assert rows[label[dataset]][column] == f"{100 * value:.2f}"


def test_models_file_errors_and_the_packaged_suite():
    assert "gpt4v-emotion-image" in suite_names()
    suite = load_suite("gpt4v-emotion-image")
    assert {t.dataset for t in suite.tasks if t.published} == {"twitter1_5", "twitter1_4", "twitter1_3", "twitter2",
                                                               "abstract", "rafdb"}
    with pytest.raises(ConfigError, match="no suite 'nope'"):
        load_suite("nope")


def test_bad_models_file_and_nothing_found(tmp_path, capsys):
    (tmp_path / "m.yaml").write_text("models: []\n")
    assert main(["run", "--suite", "gpt4v-emotion-image", str(tmp_path / "m.yaml")]) == 2
    assert "needs `models:`" in capsys.readouterr().err
    (tmp_path / "m.yaml").write_text(MODELS + "datasets: [{name: emotion6, path: x}]\n")
    assert main(["run", "--suite", "gpt4v-emotion-image", str(tmp_path / "m.yaml")]) == 2
    assert "leave out datasets:" in capsys.readouterr().err
    (tmp_path / "m.yaml").write_text(MODELS)
    assert main(["run", "--suite", "gpt4v-emotion-image", str(tmp_path / "m.yaml"), "--data", str(tmp_path),
                 "--db", str(tmp_path / "r.duckdb")]) == 2
    assert "none of the suite's datasets was found" in capsys.readouterr().err


def test_dataset_paths_in_the_models_file_name_each_release(tmp_path):
    """A release in its own layout, named by dataset_paths: the suite reads it with the right loader."""
    root = tmp_path / "artphoto_here"
    from tests.datasets.datasets_fixtures import images
    images(root, "amusement_1.jpg", "sad_2.jpg", "fear_3.jpg", "awe_4.jpg")
    (tmp_path / "m.yaml").write_text(MODELS + f"dataset_paths: {{artphoto: {root.name}}}\n")
    logged = []
    result = run_suite("gpt4v-emotion-image", tmp_path / "m.yaml", db_path=tmp_path / "r.duckdb", log=logged.append)
    assert result.ran == ["artphoto"] and "artphoto" not in result.skipped
    row = next(r for r in result.table if r["dataset"] == "artphoto")
    assert set(row["cells"]) == {"color-affect", "uniform"} and row["cells"]["uniform"]["n"] == 4
    assert PUBLISHED_MODEL not in result.models
    assert any("skipped Twitter II" in line for line in logged)
