"""Dashboard settings: read from Streamlit secrets first, then the environment, then defaults.

Every setting has an environment variable of the same name, so the same app runs locally, in a
container and on Streamlit Community Cloud (where `.streamlit/secrets.toml` holds them).
Secret values (API keys, the viewer password) are only ever read here and passed on; they are never
shown on a page, logged or written into the store.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.models.registry import ADAPTERS
from engine.store import default_db_path

#: cloud adapters that need a key, and the environment variable holding each one's (from the adapter registry)
CLOUD_KEYS = {a.name: a.key_env for a in ADAPTERS.entries() if a.remote and a.key_required and a.key_env}

_TRUE = {"1", "true", "yes", "on"}


def secret(name: str, default: str | None = None) -> str | None:
    """A setting from `st.secrets` (top-level key) or the environment; None when unset or empty."""
    value = None
    try:
        import streamlit as st

        if name in st.secrets:
            value = st.secrets[name]
    except Exception:  # no secrets.toml, or no Streamlit runtime: fall back to the environment
        value = None
    if value in (None, ""):
        value = os.environ.get(name)
    if value in (None, ""):
        return default
    return str(value)


def flag(name: str, default: bool = False) -> bool:
    value = secret(name)
    return default if value is None else value.strip().lower() in _TRUE


def number(name: str, default: float) -> float:
    value = secret(name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def default_store() -> str:
    """`AFFECTLENS_DB` (secrets or environment) or `results.duckdb` in the working directory."""
    return secret("AFFECTLENS_DB") or str(default_db_path())


def viewer_mode() -> bool:
    """Hosted read-mostly mode: analyses, uploads and store switching need an authenticated person."""
    return flag("AFFECTLENS_VIEWER_MODE")


def cache_ttl_s() -> float:
    """Seconds a cached result may live; a changed store file refreshes at once (the cache is keyed by its
    version), so this only bounds how long an unchanged store's results stay in memory."""
    return number("AFFECTLENS_CACHE_TTL", 3600.0)


def max_analysis_items() -> int:
    """Largest dataset subset the sidebar may send through models in one go."""
    return max(1, int(number("AFFECTLENS_MAX_ANALYSIS_ITEMS", 50)))


def max_upload_mb() -> float:
    return number("AFFECTLENS_MAX_UPLOAD_MB", 10.0)


def blur_default() -> bool:
    """Blur images until clicked: on by default in viewer mode, else off unless configured."""
    return flag("AFFECTLENS_BLUR_IMAGES", default=viewer_mode())


def thumbnail_dir() -> Path:
    """Where generated thumbnails are cached, one file per image sha256 and size."""
    configured = secret("AFFECTLENS_THUMBNAIL_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "affectlens" / "thumbnails"


def configured_cloud_adapters() -> list[str]:
    """Cloud adapters whose key is configured (their names only; the keys stay here)."""
    return [adapter for adapter, env in CLOUD_KEYS.items() if secret(env)]


def cloud_key_environment() -> dict[str, str]:
    """The configured cloud keys as environment variables for a worker process (never displayed)."""
    return {env: value for env in CLOUD_KEYS.values() if (value := secret(env))}


def redact(text: str) -> str:
    """`text` through the engine's one scrub (`engine.secrets.scrub_text`), also masking the configured
    secret values that may come from `st.secrets` rather than the environment (cloud keys, the viewer
    password, the cookie secret)."""
    from engine.secrets import scrub_text

    configured = [*cloud_key_environment().values(), secret("AFFECTLENS_PASSWORD"), secret("AFFECTLENS_COOKIE_SECRET")]
    return scrub_text(text, [v for v in configured if v and len(v) >= 4])
