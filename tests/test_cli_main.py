"""The CLI fails loudly: every command module is imported (a broken one is an error, not a missing command),
and -v shows the traceback of any error beside the message that names the fix."""

from __future__ import annotations

import subprocess
import sys


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli.main", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_errors_name_the_fix_and_verbose_adds_the_traceback(tmp_path):
    quiet = _run("runs", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert quiet.returncode == 2 and "affectlens demo" in quiet.stderr and "Traceback" not in quiet.stderr
    loud = _run("-v", "runs", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert loud.returncode == 2 and "Traceback" in loud.stderr and "affectlens demo" in loud.stderr


def test_every_command_module_registers(monkeypatch):
    from engine.cli import main

    parser = main.build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    assert {"run", "demo", "scores", "export", "import-predictions", "parse", "reparse", "runs", "datasets",
            "explain"} <= commands
    monkeypatch.setattr(main, "COMMAND_MODULES", (*main.COMMAND_MODULES, "engine.cli.no_such_command"))
    try:
        main.build_parser()
    except ModuleNotFoundError as exc:
        assert exc.name == "engine.cli.no_such_command"
    else:
        raise AssertionError("a command module that does not import was silently skipped")
