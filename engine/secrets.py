"""One redaction for everything AffectLens persists or shows: config, provenance, responses, errors, logs.

Three ways a credential can leak, and the one function that stops each:
- a secret-looking key in a config (`options.extra_headers.Authorization`): `secret_key_paths` finds
  them at any depth so validation can refuse them; `scrub` replaces their values with `<redacted>`;
- a credential inside a URL (`http://user:key@host/v1`, `?api-key=...`): `url_credential_problem` says
  what is wrong without repeating the value; `scrub` masks it inside any text;
- a secret value echoed back (a server quoting the key in its answer or an error): `scrub` replaces
  every known secret value (the process's secret-looking environment variables, plus values given to
  `register_secret`) and every vendor key shape with `***`.

`scrub` is applied where rows are built (`responses`, `runs`), where errors are printed, by the log
filter (`ScrubFilter`) and by the dashboard before anything reaches a page.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["SECRET_KEYS", "MASK", "REDACTED", "is_secret_key", "secret_key_paths", "url_credential_problem",
           "scrub", "scrub_text", "redact_keys", "known_secrets", "register_secret", "ScrubFilter",
           "install_log_filter", "scrubbed_stderr_logging"]

#: key names (and suffixes) that hold credentials
SECRET_KEYS = ("api_key", "apikey", "key", "token", "password", "passwd", "secret", "authorization",
               "cookie", "credentials", "bearer")
_SECRET_SUFFIXES = ("_key", "_secret", "_password", "_token", "_credentials")
_NOT_SECRET = {"api_key_env", "max_token", "max_tokens", "key_env", "cache_key", "sort_key", "request_key",
               "item_key", "partition_key"}
MASK = "***"
REDACTED = "<redacted>"
MIN_SECRET_LEN = 6  # shorter values would mask ordinary words

# Vendor key shapes, masked wherever they appear (an error body may echo a key back).
KEY_PATTERNS = re.compile(r"(?<![A-Za-z0-9])(?:sk-[A-Za-z0-9_\-*]{8,}|AIza[0-9A-Za-z_\-]{20,}|xai-[A-Za-z0-9]{16,}"
                          r"|hf_[A-Za-z0-9]{20,})")
# user:password@ in a URL, and secret-looking query parameters (name=value up to & or whitespace)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@:\"',{}<>\\]*:[^/\s@\"',{}<>\\]+@")
_QUERY_SECRET = re.compile(r"(?i)([?&;](?:api[-_]?key|key|token|access[-_]?token|secret|password|sig|signature"
                           r"|auth|authorization|client[-_]?secret)=)[^&\s\"'#]+")
_QUERY_WORDS = ("key=", "token=", "secret=", "password=", "sig=", "signature=", "auth=", "authorization=")
_KEY_PREFIXES = ("sk-", "AIza", "xai-", "hf_")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}")


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True for keys that hold credentials (`api_key`, `x-api-key`, `Authorization`, `access_token`...)."""
    k = str(key).strip().lower().replace("-", "_")
    if k in _NOT_SECRET or k.endswith("_env"):
        return False
    return k in SECRET_KEYS or k.endswith(_SECRET_SUFFIXES) or k.startswith(("x_api_key", "x_goog_api_key"))


def secret_key_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every secret-looking key at any depth of `value` (dicts inside lists included)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if is_secret_key(str(key)):
                found.append(where)
            else:
                found += secret_key_paths(inner, where)
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            found += secret_key_paths(inner, f"{path}[{index}]")
    return found


def url_credential_problem(url: str) -> str | None:
    """What makes `url` carry a credential (never the credential itself), or None for a clean URL."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None:
        return "it has a user name or password before the host (user:key@host)"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if is_secret_key(name.replace("-", "_")) or name.lower() in ("sig", "signature", "auth"):
            return f"its query string carries {name!r}"
    return None


# ---------------------------------------------------------------------------------------------------
# known secret values

_registered: set[str] = set()
_env_cache: tuple[float, tuple[str, ...]] = (-1.0, ())
_lock = threading.Lock()
_ENV_REFRESH_S = 1.0


def _secret_env_name(name: str) -> bool:
    n = name.upper()
    return (is_secret_key(name) or n.endswith(("_API_KEY", "_KEY", "_TOKEN", "_SECRET", "_PASSWORD"))) \
        and not n.endswith("_ENV")


def register_secret(value: str | None) -> None:
    """Mask `value` wherever `scrub` runs from now on (keys read from st.secrets, a password)."""
    global _env_cache
    if value and len(str(value)) >= MIN_SECRET_LEN:
        with _lock:
            _registered.add(str(value))
            _env_cache = (-1.0, ())  # re-read at the next scrub


def known_secrets() -> tuple[str, ...]:
    """Values of secret-looking environment variables (re-read at most once a second) and registered ones,
    longest first so that a secret containing another is masked whole."""
    global _env_cache
    now = time.monotonic()
    stamp, values = _env_cache
    if now - stamp > _ENV_REFRESH_S:
        with _lock:
            every = {v for k, v in os.environ.items() if _secret_env_name(k) and len(v) >= MIN_SECRET_LEN}
            values = tuple(sorted(every | _registered, key=len, reverse=True))
            _env_cache = (now, values)
    return values


# ---------------------------------------------------------------------------------------------------
# scrubbing

def scrub_text(text: str, extra: Iterable[str | None] = ()) -> str:
    """`text` with known secret values, key shapes, URL credentials and bearer tokens masked.

    Each pattern runs only when a cheap substring test says it could match, so clean text (the
    common case, on every stored row) costs a few microseconds.
    """
    if not text:
        return text
    for secret in (*known_secrets(), *(s for s in extra if s and len(s) >= 4)):
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text and "@" in text:
        text = _URL_USERINFO.sub(MASK + "@", text)
    if "=" in text and any(word in text.lower() for word in _QUERY_WORDS):
        text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    if any(prefix in text for prefix in _KEY_PREFIXES):
        text = KEY_PATTERNS.sub(MASK, text)
    return text


def scrub(value: Any, extra: Iterable[str | None] = (), *, keys: bool = True) -> Any:
    """A copy of `value` (str, dict, list, nested; JSON text too) with every secret removed.

    Values under secret-looking keys become `<redacted>` (`keys=False` leaves key names alone, for
    prompt text), and every string passes through `scrub_text`. Values that hold nothing secret are
    returned as they are (checked once over the whole value).
    """
    extra = tuple(s for s in extra if s)
    if value is None or isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, str):
        return scrub_text(value, extra)
    if keys:
        value = redact_keys(value)
    try:
        flat = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        flat = repr(value)
    if scrub_text(flat, extra) == flat:
        return value  # the common case: nothing to mask, no walk
    return _walk(value, extra)


def _has_secret_key(value: Any, skip: tuple[str, ...] = ()) -> bool:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k in skip:
                continue
            if is_secret_key(str(k)) or (isinstance(v, (Mapping, list, tuple)) and _has_secret_key(v, skip)):
                return True
        return False
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, (Mapping, list, tuple)) and _has_secret_key(v, skip) for v in value)
    return False


def redact_keys(value: Any, skip: tuple[str, ...] = ()) -> Any:
    """`value` with the value under every secret-looking key (any depth) replaced by `<redacted>`; the
    same object when there is none. Subtrees under a key in `skip` (a request's `messages`, whose
    keys are the wire format's own) are left as they are; their text is still scrubbed by value."""
    if not _has_secret_key(value, skip):
        return value
    return _redact_keys(value, skip)


def _redact_keys(value: Any, skip: tuple[str, ...] = ()) -> Any:
    if isinstance(value, Mapping):
        return {k: (v if k in skip else REDACTED if is_secret_key(str(k)) else _redact_keys(v, skip))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_keys(v, skip) for v in value]
    return value


def _walk(value: Any, extra: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, extra)
    if isinstance(value, Mapping):
        return {k: _walk(v, extra) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, extra) for v in value]
    return value


class ScrubFilter(logging.Filter):
    """A log filter that scrubs each record's final message (and its traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logged as it is
            return True
        cleaned = scrub_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Attach one `ScrubFilter` to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())


def scrubbed_stderr_logging(*names: str, level: int = logging.INFO) -> None:
    """Give each named logger one stderr handler with a `ScrubFilter` (once; for processes such as the
    dashboard whose root logger has no handler of ours)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(getattr(h, "_affectlens_scrubbed", False) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler.addFilter(ScrubFilter())
            handler._affectlens_scrubbed = True
            logger.addHandler(handler)
            logger.setLevel(min(logger.level or level, level))
            logger.propagate = False
