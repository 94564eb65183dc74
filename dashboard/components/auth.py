"""Viewer mode for hosted sharing: reading is open, running analyses and uploading need a signed-in person.

Two ways to sign in, whichever is configured: OpenID Connect through `st.login` (an `[auth]` section in
`.streamlit/secrets.toml`; Streamlit keeps that sign-in in its own cookie) or a shared password
(`AFFECTLENS_PASSWORD`, compared in constant time). Password attempts are throttled per session and per
client address with a growing delay and a lockout (`dashboard.guard.Throttle`), and failures are
logged without what was typed. A right password sets a signed, expiring cookie, so a reload keeps the
sign-in. Outside viewer mode everything is allowed, as on a researcher's own machine.
"""

from __future__ import annotations

import hmac
import importlib.util
import json
import math

import streamlit as st

from dashboard import guard, settings

_PASSWORD_OK = "auth_password_ok"
_PASSWORD_INPUT = "auth-password-input"
_NOTICE = "auth-password-notice"
_TOKEN = "auth-token"
_SET_COOKIE = "auth-set-cookie"


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def password_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison; no password configured means no password can match."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def session_id() -> str | None:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        return ctx.session_id if ctx is not None else None
    except Exception:  # noqa: BLE001
        return None


def client_address() -> str | None:
    """The client's address as the server sees it (loopback included). Behind a reverse proxy that is
    the proxy's, unless `AFFECTLENS_TRUST_FORWARDED=1` says the proxy's X-Forwarded-For is to be
    believed (only set it when the proxy overwrites that header; see docs/hosting.md)."""
    if settings.flag("AFFECTLENS_TRUST_FORWARDED"):
        try:
            forwarded = st.context.headers.get("X-Forwarded-For") or ""
        except Exception:  # noqa: BLE001
            forwarded = ""
        if forwarded.split(",")[0].strip():
            return forwarded.split(",")[0].strip()
    try:  # st.context.ip_address hides loopback; the throttle needs it too
        from streamlit.runtime.context import _get_client_context
        client = _get_client_context()
        address = client.remote_ip if client is not None else None
    except Exception:  # noqa: BLE001 - another Streamlit: its public property
        try:
            address = st.context.ip_address
        except Exception:  # noqa: BLE001
            address = None
    return address if isinstance(address, str) and address else None


def _throttle_keys() -> list[str]:
    keys = [f"session:{session_id() or 'unknown'}"]
    address = client_address()
    if address:
        keys.append(f"address:{address}")
    return keys


def _cookie_token() -> str | None:
    try:
        return st.context.cookies.get(guard.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no request context (AppTest)
        return None


def can_act() -> bool:
    """May this session run analyses, upload images and switch stores?"""
    if not settings.viewer_mode():
        return True
    if st.session_state.get(_PASSWORD_OK):
        return True
    password = settings.secret("AFFECTLENS_PASSWORD")
    token = _cookie_token()
    if password and token and guard.verify_token(token, password):
        st.session_state[_PASSWORD_OK] = True
        st.session_state[_TOKEN] = token
        return True
    return oidc_configured() and _logged_in()


def sign_in_box() -> None:
    """The sidebar's sign-in controls in viewer mode (nothing outside it); tells the upload gate the outcome."""
    allowed = can_act()
    guard.mark_signed_in(session_id(), allowed)
    if not settings.viewer_mode():
        return
    _write_cookie()
    if allowed:
        name = st.user.get("name") or st.user.get("email") if oidc_configured() and _logged_in() else None
        st.caption(f"Signed in{f' as {name}' if name else ''}: analyses and uploads are on.")
        if st.button("Sign out", key="auth-sign-out", type="tertiary"):
            guard.revoke_token(st.session_state.pop(_TOKEN, None))
            st.session_state.pop(_PASSWORD_OK, None)
            st.session_state[_SET_COOKIE] = ""  # clear the browser's cookie on the next run
            guard.mark_signed_in(session_id(), False)
            if oidc_configured() and _logged_in():
                st.logout()
            st.rerun()
        return
    st.caption("Viewer mode: sign in to run analyses or upload images.")
    if oidc_configured():
        if importlib.util.find_spec("authlib") is None:
            st.caption("Sign-in with OpenID Connect needs Authlib: pip install 'streamlit[auth]'.")
        elif st.button("Sign in", key="auth-sign-in", icon=":material/login:"):
            st.login()
    if settings.secret("AFFECTLENS_PASSWORD"):
        with st.form("auth-password", border=False):
            st.text_input("Password", type="password", key=_PASSWORD_INPUT)
            st.form_submit_button("Unlock", on_click=_check_password)
        notice = st.session_state.pop(_NOTICE, None)
        if notice:
            st.error(notice)


def _check_password() -> None:
    """Form callback: refuse while throttled, else compare; then forget what was typed."""
    given = st.session_state.get(_PASSWORD_INPUT) or ""
    st.session_state[_PASSWORD_INPUT] = ""
    keys = _throttle_keys()
    wait = guard.THROTTLE.wait_s(keys)
    if wait > 0:  # not even compared: a guess during the wait is wasted
        locked = guard.THROTTLE.locked(keys)
        st.session_state[_NOTICE] = (f"Too many wrong passwords: sign-in is locked for {wait / 60:.0f} min."
                                     if locked else
                                     f"Too many wrong passwords: wait {math.ceil(wait)} s and try again.")
        return
    password = settings.secret("AFFECTLENS_PASSWORD")
    if password_matches(given, password):
        guard.THROTTLE.success(keys)
        token = guard.sign_token(password)
        st.session_state[_PASSWORD_OK] = True
        st.session_state[_TOKEN] = token
        st.session_state[_SET_COOKIE] = token
        guard.mark_signed_in(session_id(), True)
    else:
        wait = guard.THROTTLE.failure(keys)
        st.session_state[_NOTICE] = f"Wrong password. Next try in {wait:.0f} s."


def _write_cookie() -> None:
    """Set (or clear) the signed sign-in cookie in the browser, once, after the callback asked for it."""
    if _SET_COOKIE not in st.session_state:
        return
    token = st.session_state.pop(_SET_COOKIE)
    age = int(guard.TOKEN_TTL_S) if token else 0
    script = ("<script>(function(){var s=location.protocol==='https:'?'; Secure':'';"
              f"document.cookie={json.dumps(guard.COOKIE_NAME + '=' + token)}+'; Path=/; Max-Age={age}; "
              "SameSite=Strict'+s;})();</script>")
    try:
        st.html(script, unsafe_allow_javascript=True)
    except TypeError:  # a Streamlit without script support in st.html: the sign-in lasts for the session
        pass
