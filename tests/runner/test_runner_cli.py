"""`affectlens run`: output, exit status for complete / stopped / failed runs and for config errors."""

from __future__ import annotations

import yaml

from engine.cli.main import main
from tests.fakes import FakeVendorServer
from tests.runner.helpers import experiment, write_dataset


def test_run_command_reports_and_sets_the_exit_status(tmp_path, capsys):
    manifest = write_dataset(tmp_path / "data", 6)
    config = tmp_path / "experiment.yaml"
    db = tmp_path / "results.duckdb"
    with FakeVendorServer("openai", answer="positive") as fake:
        settings = experiment(manifest, fake.base_url, concurrency=1, price={"input": 0, "output": 1_000_000})
        config.write_text(yaml.safe_dump(settings))
        assert main(["run", str(config), "--db", str(db), "--max-cost", "2", "--quiet"]) == 3  # stopped
        stopped = capsys.readouterr().out
        assert "stopped" in stopped and "--max-cost" in stopped
        assert main(["run", str(config), "--db", str(db), "--quiet"]) == 0
        out = capsys.readouterr().out
        assert "complete" in out and "Scores" in out and "polarity" in out and f"--db {db}" in out
        fake.reset(script=lambda i, r: "401")
        settings["models"][0].update(name="other", temperature=0.3)  # new requests, refused by the server
        config.write_text(yaml.safe_dump(settings))
        assert main(["run", str(config), "--db", str(db), "--quiet"]) == 1
        assert "rejected the API key" in capsys.readouterr().out


def test_config_errors_exit_2_with_the_fix(tmp_path, capsys):
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump({"datasets": [{"path": "x.csv", "format": "csv"}],
                                      "models": [{"name": "m", "adapter": "uniform", "concurency": 2}]}))
    assert main(["run", str(config), "--db", str(tmp_path / "r.duckdb")]) == 2
    assert "models[0].concurency: unknown key 'concurency'; did you mean 'concurrency'?" in capsys.readouterr().err
