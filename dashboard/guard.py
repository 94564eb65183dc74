"""Server-side protections of viewer mode: password throttling, signed sign-in cookies, and the upload gate.

Everything here lives in the Streamlit server process (module state shared by all sessions):
- `Throttle`: failed password attempts per session and per client address; each failure doubles the
  wait before the next attempt is even checked, and `LOCKOUT_AFTER` failures lock that key out for
  `LOCKOUT_S`. Failures are logged (the key and the count, never what was typed).
- `sign_token` / `verify_token`: an expiring sign-in token, HMAC-SHA256 with a server secret
  (`AFFECTLENS_COOKIE_SECRET`, else a random one per server process, mixed with the password so a
  new password signs everyone out), kept in a cookie so a reload keeps the sign-in.
- `install_upload_gate`: wraps the runtime's session check that Streamlit's upload endpoint
  (`PUT /_stcore/upload_file/<session>/<file>`) asks before it reads any of the body, so in viewer
  mode a session that is not signed in cannot store a single byte, and a signed-in one at most
  `UPLOAD_FILES_PER_SESSION` files and `UPLOAD_BYTES_PER_SESSION` bytes held at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("affectlens.auth")

BASE_DELAY_S = 1.0
MAX_DELAY_S = 60.0
LOCKOUT_AFTER = 8
LOCKOUT_S = 900.0
TOKEN_TTL_S = 12 * 3600.0
COOKIE_NAME = "affectlens_auth"
UPLOAD_FILES_PER_SESSION = 20
UPLOAD_BYTES_PER_SESSION = 64 * 1024 * 1024


@dataclass
class _Record:
    failures: int = 0
    next_allowed: float = 0.0
    locked_until: float = 0.0


class Throttle:
    """Failed attempts per key ("session:ID", "address:IP"); every key of an attempt must allow it."""

    def __init__(self, base_delay_s: float = BASE_DELAY_S, max_delay_s: float = MAX_DELAY_S,
                 lockout_after: int = LOCKOUT_AFTER, lockout_s: float = LOCKOUT_S):
        self.base_delay_s, self.max_delay_s = base_delay_s, max_delay_s
        self.lockout_after, self.lockout_s = lockout_after, lockout_s
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_s(self, keys: list[str], now: float | None = None) -> float:
        """Seconds before these keys may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [max(r.locked_until, r.next_allowed) - now for k in keys if (r := self._records.get(k))]
        return max([0.0, *waits])

    def locked(self, keys: list[str], now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return any(r.locked_until > now for k in keys if (r := self._records.get(k)))

    def failure(self, keys: list[str], now: float | None = None) -> float:
        """Record a failed attempt; returns the wait before the next one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                delay = min(self.max_delay_s, self.base_delay_s * 2 ** (record.failures - 1))
                record.next_allowed = now + delay
                if record.failures >= self.lockout_after:
                    record.locked_until = now + self.lockout_s
                log.warning("failed viewer-mode sign-in: %s, failure %d%s", key, record.failures,
                            " (locked out)" if record.locked_until > now else "")
        return self.wait_s(keys, now)

    def success(self, keys: list[str]) -> None:
        """A right password clears the session's record (an address's record stays until it expires)."""
        with self._lock:
            for key in keys:
                record = self._records.get(key)
                if key.startswith("session:") or (record and record.locked_until <= time.monotonic()):
                    self._records.pop(key, None)


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


#: the server's throttle; AFFECTLENS_SIGNIN_DELAY_S, AFFECTLENS_SIGNIN_LOCKOUT_AFTER and
#: AFFECTLENS_SIGNIN_LOCKOUT_S (environment) tune it
THROTTLE = Throttle(base_delay_s=_env_number("AFFECTLENS_SIGNIN_DELAY_S", BASE_DELAY_S),
                    lockout_after=int(_env_number("AFFECTLENS_SIGNIN_LOCKOUT_AFTER", LOCKOUT_AFTER)),
                    lockout_s=_env_number("AFFECTLENS_SIGNIN_LOCKOUT_S", LOCKOUT_S))

# ---------------------------------------------------------------------------------------------------
# signed sign-in tokens

_PROCESS_SECRET = secrets.token_bytes(32)


def _key(password: str) -> bytes:
    configured = os.environ.get("AFFECTLENS_COOKIE_SECRET")
    try:
        from dashboard import settings
        configured = settings.secret("AFFECTLENS_COOKIE_SECRET") or configured
    except Exception:  # noqa: BLE001 - outside Streamlit
        pass
    server = configured.encode() if configured else _PROCESS_SECRET
    return hmac.new(server, b"affectlens-sign-in\x00" + password.encode(), hashlib.sha256).digest()


def sign_token(password: str, *, ttl_s: float = TOKEN_TTL_S, now: float | None = None) -> str:
    """`<expiry>.<nonce>.<mac>`: proves a sign-in until `expiry` (Unix seconds) to this server."""
    expiry = int((time.time() if now is None else now) + ttl_s)
    payload = f"{expiry}.{secrets.token_urlsafe(12)}"
    mac = hmac.new(_key(password), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


_revoked: set[str] = set()


def verify_token(token: str | None, password: str | None, *, now: float | None = None) -> bool:
    """True for an unexpired, unrevoked token this server signed for the current password."""
    if not token or not password or token.count(".") != 2:
        return False
    expiry, nonce, mac = token.split(".")
    expected = base64.urlsafe_b64encode(hmac.new(_key(password), f"{expiry}.{nonce}".encode(),
                                                 hashlib.sha256).digest()).decode().rstrip("=")
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return False
    try:
        alive = int(expiry) > (time.time() if now is None else now)
    except ValueError:
        return False
    return alive and nonce not in _revoked


def revoke_token(token: str | None) -> None:
    if token and token.count(".") == 2:
        _revoked.add(token.split(".")[1])


# ---------------------------------------------------------------------------------------------------
# the upload gate

_signed_in: set[str] = set()
_upload_puts: dict[str, int] = {}
_gate_lock = threading.Lock()


def mark_signed_in(session_id: str | None, signed_in: bool) -> None:
    """Tell the upload gate whether this session may upload."""
    if not session_id:
        return
    with _gate_lock:
        (_signed_in.add if signed_in else _signed_in.discard)(session_id)


def upload_allowed(session_id: str, *, viewer_mode: bool, held_files: int = 0, held_bytes: int = 0) -> bool:
    """May this session store one more uploaded file? (Counted per PUT; a refused PUT is not counted.)"""
    if viewer_mode:
        with _gate_lock:
            if session_id not in _signed_in:
                log.warning("refused an upload from a session that is not signed in (viewer mode)")
                return False
    if held_files >= UPLOAD_FILES_PER_SESSION or held_bytes >= UPLOAD_BYTES_PER_SESSION:
        log.warning("refused an upload: the session already holds %d files, %d bytes", held_files, held_bytes)
        return False
    with _gate_lock:
        _upload_puts[session_id] = _upload_puts.get(session_id, 0) + 1
    return True


def install_upload_gate(viewer_mode_check) -> bool:
    """Wrap the running server's session check used by the upload endpoint (once per process).

    `viewer_mode_check()` is read on every upload, so turning viewer mode on takes effect at once.
    Returns False when no Streamlit server runs in this process (AppTest, scripts).
    """
    try:
        from streamlit.runtime import Runtime
        if not Runtime.exists():
            return False
        runtime = Runtime.instance()
    except Exception:  # noqa: BLE001 - an older or newer Streamlit without this hook
        return False
    if getattr(runtime, "_affectlens_upload_gate", False):
        return True
    original = runtime.is_active_session
    manager = getattr(runtime, "_uploaded_file_mgr", None)

    def is_active_session(session_id: str) -> bool:
        # Streamlit calls this only from the upload endpoint, before it reads the request body.
        if not original(session_id):
            return False
        held = getattr(manager, "file_storage", {}).get(session_id, {}) if manager is not None else {}
        return upload_allowed(session_id, viewer_mode=bool(viewer_mode_check()), held_files=len(held),
                              held_bytes=sum(len(f.data) for f in held.values()))

    runtime.is_active_session = is_active_session
    runtime._affectlens_upload_gate = True
    return True


# ---------------------------------------------------------------------------------------------------
# error details

_configured_details: list[str] = []  # the value before viewer mode lowered it (restored when it is off)


def set_error_details(hosted: bool) -> None:
    """`client.showErrorDetails = "none"` while viewer mode is on (no exception types, messages or
    tracebacks in the browser); the configured value again when it is off."""
    import streamlit as st
    from streamlit import config

    current = str(config.get_option("client.showErrorDetails"))
    if hosted and current != "none":
        _configured_details[:] = [current]
        st.set_option("client.showErrorDetails", "none")
    elif not hosted and _configured_details:
        st.set_option("client.showErrorDetails", _configured_details.pop())
