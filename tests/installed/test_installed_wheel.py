"""The package a user installs: build the wheel, install it with core dependencies only into a fresh
virtualenv outside the source tree, and run the CLI there.

Slow (a virtualenv and the core dependencies, from pip's cache when warm: about a minute or two); marked
`wheel`, and run by `bash scripts/test.sh` like every other test. No torch, no transformers, no SDKs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.wheel, pytest.mark.timeout(1500)]


def _run(args: list, *, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict, Path]:
    """(the fresh virtualenv's bin folder, an environment for it, a work folder outside the tree)."""
    root = tmp_path_factory.mktemp("wheel")
    assert REPO not in root.parents  # outside the tree: nothing can be imported from the checkout
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "AFFECTLENS_DB",
                                                            "AFFECTLENS_SAMPLE_DIR", "PYTHONHOME")}
    env.update(HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))  # reuse the machine's pip cache
    wheels = root / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, REPO],
                 cwd=root, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(wheels.glob("affectlens-*.whl"))
    venv.EnvBuilder(with_pip=True, clear=True).create(root / "venv")  # no system site-packages
    bin_dir = root / "venv" / "bin"
    install = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel], cwd=root, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    work = root / "work"
    work.mkdir()
    return bin_dir, env, work


def test_the_installed_package_has_no_optional_dependency(installed):
    bin_dir, env, work = installed
    probe = _run([bin_dir / "python", "-c", "import importlib.util as u, engine; print(engine.__file__); "
                  "print([m for m in ('torch', 'transformers', 'openai', 'anthropic') if u.find_spec(m)])"],
                 cwd=work, env=env)
    assert probe.returncode == 0, probe.stderr
    location, missing = probe.stdout.splitlines()
    assert str(REPO) not in location and "site-packages" in location  # the wheel, not the checkout
    assert missing == "[]"


def test_help_and_demo_run_from_the_installed_wheel(installed):
    bin_dir, env, work = installed
    helped = _run([bin_dir / "affectlens", "--help"], cwd=work, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "demo" in helped.stdout and "import-predictions" in helped.stdout
    db = work / "demo.duckdb"
    demo = _run([bin_dir / "affectlens", "demo", "--db", db, "--quiet"], cwd=work, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    notes = [line for line in demo.stderr.splitlines() if "tiny-llava-untrained left out" in line]
    assert len(notes) == 1 and "pip install 'affectlens[local]'" in notes[0]
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT model, status FROM runs ORDER BY model").fetchall()
        n_scores = con.execute("SELECT count(*) FROM scores").fetchone()[0]
        n_predictions = con.execute("SELECT count(*) FROM predictions WHERE status = 'ok'").fetchone()[0]
    finally:
        con.close()
    assert [model for model, _ in runs] == ["color-affect", "features", "majority", "uniform"]
    assert {status for _, status in runs} == {"complete"}
    assert n_scores > 0 and n_predictions > 0
    assert (Path(env["XDG_CACHE_HOME"]) / "affectlens" / "sample" / "manifest.csv").is_file()  # not in the tree


def test_a_missing_extra_names_the_exact_install_line(installed):
    bin_dir, env, work = installed
    config = work / "cloud.yaml"
    config.write_text("name: cloud\ndimensions: [polarity]\nstrategies: [zero-shot]\n"
                      "datasets: [{name: one, format: csv, path: sample.csv, image_col: image,"
                      " label_cols: {polarity: polarity}}]\n"
                      "models: [{name: claude, adapter: anthropic, model: claude-sonnet-4-5}]\n")
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 120, 40)).save(work / "one.jpg", "JPEG")
    (work / "sample.csv").write_text("image,polarity\none.jpg,positive\n")
    env = dict(env, ANTHROPIC_API_KEY="sk-test-not-a-key")
    run = _run([bin_dir / "affectlens", "run", config, "--db", work / "cloud.duckdb", "--quiet"], cwd=work, env=env)
    assert run.returncode != 0
    assert "pip install 'affectlens[anthropic]'" in run.stdout + run.stderr
