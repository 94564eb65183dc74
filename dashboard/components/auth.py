"""Viewer mode for hosted sharing: reading is open, running analyses and uploading need a signed-in person.

Two ways to sign in, whichever is configured: OpenID Connect through `st.login` (an `[auth]` section in
`.streamlit/secrets.toml`) or a shared password (`AFFECTLENS_PASSWORD`, compared in constant time).
Outside viewer mode everything is allowed, as on a researcher's own machine.
"""

from __future__ import annotations

import hmac
import importlib.util

import streamlit as st

from dashboard import settings

_PASSWORD_OK = "auth_password_ok"
_PASSWORD_INPUT = "auth-password-input"
_PASSWORD_WRONG = "auth-password-wrong"


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


def can_act() -> bool:
    """May this session run analyses, upload images and switch stores?"""
    if not settings.viewer_mode():
        return True
    return bool(st.session_state.get(_PASSWORD_OK)) or (oidc_configured() and _logged_in())


def sign_in_box() -> None:
    """The sidebar's sign-in controls in viewer mode (nothing outside it)."""
    if not settings.viewer_mode():
        return
    if can_act():
        name = st.user.get("name") or st.user.get("email") if oidc_configured() and _logged_in() else None
        st.caption(f"Signed in{f' as {name}' if name else ''}: analyses and uploads are on.")
        if st.button("Sign out", key="auth-sign-out", type="tertiary"):
            st.session_state.pop(_PASSWORD_OK, None)
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
        if st.session_state.pop(_PASSWORD_WRONG, False):
            st.error("Wrong password.")


def _check_password() -> None:
    """Form callback: compare, then forget what was typed."""
    given = st.session_state.get(_PASSWORD_INPUT) or ""
    st.session_state[_PASSWORD_INPUT] = ""
    if password_matches(given, settings.secret("AFFECTLENS_PASSWORD")):
        st.session_state[_PASSWORD_OK] = True
    else:
        st.session_state[_PASSWORD_WRONG] = True

