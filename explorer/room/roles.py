"""Presenter and audience: who may change the server (train, cancel, delete models) and who may only explore.

Single user (the default, `streamlit run app.py` on 127.0.0.1): every session may do everything.
Room mode (`VAE_PRESENTER_TOKEN` set, e.g. by `vae-explorer room`): a session is the audience until it presents the
token once -- in the URL as ?presenter=<token> (taken from the address bar at once and kept for the session), or
typed into the sidebar. Roles come from the token, never from IP addresses (proxies and tunnels make them lie)."""
from __future__ import annotations

import hmac
import uuid
from urllib.parse import urlsplit

import streamlit as st

from vae_core import settings

QUERY = "presenter"  # ?presenter=<token>
PRESENTER = "roles_presenter"  # session state: this session presented the right token
SESSION = "roles_session_id"  # session state: an id for "the session that started this training"
REFUSED = "roles_refused"  # session state: a wrong token was presented (shown once)


def room_mode() -> bool:
    return bool(settings.presenter_token())


def token_matches(candidate: str | None) -> bool:
    """Constant-time comparison, so the token cannot be guessed character by character from response times."""
    token = settings.presenter_token()
    return bool(token and candidate) and hmac.compare_digest(str(candidate).encode(), token.encode())


def claim_from_url() -> None:
    """Once per run, before anything asks for the role: take ?presenter=<token> out of the URL and keep the result
    in the session (st.query_params is read once per session; the session state keeps the role)."""
    if QUERY not in st.query_params:
        return
    candidate = st.query_params.get(QUERY)
    del st.query_params[QUERY]  # off the address bar: not on the projector, not in a shared link
    if room_mode():
        present(candidate)


def present(candidate: str | None) -> bool:
    """Make this session the presenter if `candidate` is the token; returns whether it is."""
    ok = token_matches(candidate)
    st.session_state[PRESENTER] = ok or bool(st.session_state.get(PRESENTER))
    st.session_state[REFUSED] = not ok
    return ok


def is_presenter() -> bool:
    """May this session change the server? Always outside room mode."""
    return not room_mode() or bool(st.session_state.get(PRESENTER))


def session_id() -> str:
    """A random id for this browser session (which session started a training)."""
    return st.session_state.setdefault(SESSION, uuid.uuid4().hex)


def audience_url() -> str:
    """The link to give the room: $VAE_AUDIENCE_URL, else the address this browser used (without its query)."""
    url = settings.audience_url()
    if url:
        return url
    try:
        current = st.context.url or ""
    except AttributeError:
        current = ""
    parts = urlsplit(current)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else "http://localhost:8501/"
