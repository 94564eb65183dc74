"""Where a run's answers came from: code version, package versions, environment.

Recorded with every run (after inspect_ai's eval log): the git commit and whether the working tree
had uncommitted changes (when AffectLens runs from a git checkout), the versions of Python and of
the packages that can change an answer, the platform, and the seed.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["environment", "git_state", "package_versions"]

PACKAGES = ("affectlens", "duckdb", "pandas", "numpy", "pillow", "pydantic", "transformers", "torch", "tokenizers",
            "openai", "anthropic", "google-genai", "httpx2", "aiohttp", "scikit-learn")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that matter, plus Python (absent packages are left out)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.lru_cache(maxsize=1)
def git_state(path: str | None = None) -> dict[str, Any]:
    """`{"commit": sha, "dirty": bool}` of the checkout holding the engine, or `{}` outside git."""
    root = Path(path) if path else Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return {}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "dirty": bool(status.strip())}


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Code and platform provenance shared by every run of one invocation."""
    return {"git": git_state(), "packages": package_versions(), "platform": platform.platform(),
            "executable": Path(sys.executable).name}
