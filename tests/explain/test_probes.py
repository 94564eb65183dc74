"""Perturbation probes on `color-affect`: the probe runs are paired with the unperturbed run on the same
items, and the tests and corrections match scipy on counts taken straight from the stored predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import explain_fixtures as fx
from engine.cli.main import main
from engine.errors import ConfigError
from engine.explain.experiments import probe_config
from engine.explain.probes import probe_pairs, probe_report
from engine.runner.config import StrategyConfig
from engine.store import connect


def _answers(db, strategy: str) -> dict[str, str]:
    with connect(db, read_only=True) as con:
        rows = con.execute("""SELECT p.item_id, p.label FROM predictions p JOIN runs r USING (run_id)
                              WHERE r.strategy = ? AND r.model = 'color-affect' AND p.dimension = 'polarity'
                                AND p.status = 'ok'""", [strategy]).fetchall()
    return dict(rows)


def _gold(item: str) -> str:
    return item.split("/")[0]  # the class folder


def test_probe_runs_are_compared_pairwise_with_mcnemar_and_holm(explain_store):
    db, *_, probes = explain_store
    assert {run.strategy for run in probes.runs} == {"zero-shot", "zero-shot+darker", "zero-shot+grayscale"}
    assert all(run.status == "complete" for run in probes.runs)
    report = probe_report(db, dataset="hotspots").set_index("probe")
    assert set(report.index) == {"darker", "grayscale"} and set(report["dimension"]) == {"polarity"}
    base = _answers(db, "zero-shot")
    items = sorted(fx.PALE + fx.DARK)
    assert sorted(base) == items
    p_values = {}
    for probe in ("darker", "grayscale"):
        answers = _answers(db, f"zero-shot+{probe}")
        row = report.loc[probe]
        changed = sum(base[i] != answers[i] for i in items)
        only_base = sum(base[i] == _gold(i) != answers[i] for i in items)
        only_probe = sum(answers[i] == _gold(i) != base[i] for i in items)
        assert (row["n_common"], row["n_changed"]) == (len(items), changed)
        assert row["change_rate"] == pytest.approx(changed / len(items))
        assert (row["only_base"], row["only_probe"]) == (only_base, only_probe)
        assert row["accuracy_probe"] - row["accuracy_base"] == pytest.approx(row["difference"])
        expected_p = 1.0 if only_base + only_probe == 0 else stats.binomtest(
            min(only_base, only_probe), only_base + only_probe, 0.5).pvalue
        assert row["p_value"] == pytest.approx(expected_p)
        assert row["test"] == "mcnemar_exact"
        p_values[probe] = expected_p
    # Holm over the two probes of the family, by hand
    low, high = sorted(p_values.values())
    holm = {probe: min(1.0, (2 * low if p == low else max(2 * low, high))) for probe, p in p_values.items()}
    for probe in p_values:
        assert report.loc[probe, "p_holm"] == pytest.approx(holm[probe])
    # darkening the pale (positive) images moves a colour-driven model: some answer must change
    assert report.loc["darker", "n_changed"] > 0


def test_probe_config_adds_variants_of_every_strategy():
    base = {"name": "s", "datasets": [{"path": "x"}], "models": [{"name": "m", "adapter": "color-affect"}],
            "strategies": ["zero-shot", {"name": "cot", "language": "zh"}]}
    config = probe_config(base, ["grayscale", "caption-only", "blur"])
    labels = [StrategyConfig.model_validate(s).run_label for s in config["strategies"]]
    assert labels == ["zero-shot", "cot[language=zh]", "zero-shot+grayscale", "zero-shot+blur",
                      "cot[language=zh]+grayscale", "cot[language=zh]+blur", "describe-then-judge"]
    zh = [s for s in config["strategies"] if s.get("label") == "cot[language=zh]+blur"][0]
    assert zh["name"] == "cot+blur" and zh["language"] == "zh"
    with pytest.raises(ConfigError, match="unknown probe"):
        probe_config(base, ["sepia"])
    limited = probe_config({**base, "models": [{"name": "m", "adapter": "color-affect", "strategies": ["zero-shot"]}]},
                           ["grayscale", "caption-only"])
    assert limited["models"][0]["strategies"] == ["zero-shot", "zero-shot+grayscale", "describe-then-judge"]
    assert probe_pairs(labels) == [
        ("zero-shot", "zero-shot+grayscale", "grayscale"), ("zero-shot", "zero-shot+blur", "blur"),
        ("cot[language=zh]", "cot[language=zh]+grayscale", "grayscale"),
        ("cot[language=zh]", "cot[language=zh]+blur", "blur"),
        ("zero-shot", "describe-then-judge", "caption-only"),
        ("cot[language=zh]", "describe-then-judge", "caption-only")]


def test_probes_cli_on_a_config(hotspots, tmp_path, capsys):
    config = tmp_path / "probe.yaml"
    items = ", ".join(fx.PALE[:2] + fx.DARK[:2])
    config.write_text(f"""name: probes
dimensions: [polarity, valence]
datasets:
  - {{name: hotspots, path: {hotspots}, format: folder, items: [{items}]}}
models:
  - {{name: color-affect, adapter: color-affect}}
strategies: [zero-shot]
""")
    db = tmp_path / "r.duckdb"
    status = main(["explain", "probes", "--config", str(config), "--probes", "darker", "--db", str(db), "--quiet",
                   "--json"])
    assert status == 0
    rows = json.loads(capsys.readouterr().out)
    by_dim = {r["dimension"]: r for r in rows}
    assert set(by_dim) <= {"polarity", "valence"}
    assert by_dim["polarity"]["n_common"] == 4 and by_dim["polarity"]["test"] == "mcnemar_exact"
    valence = by_dim.get("valence")
    if valence is not None:  # the folder dataset has no valence gold: no scoring group, no row
        assert valence["test"] == "permutation"
    assert np.isfinite(by_dim["polarity"]["change_rate"])
