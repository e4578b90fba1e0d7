"""Presenter and audience: who may change the server (train, cancel, delete models) and who may only explore.

Single user (the default, `streamlit run app.py` on 127.0.0.1): every session may do everything.
Room mode (`VAE_PRESENTER_TOKEN` set, e.g. by `vae-explorer room`): a session is the audience until it presents the
token once -- in the URL as ?presenter=<token>, or typed into the sidebar. app.py's server answers a ?presenter= link
with a redirect to the same address without it and keeps the token in a cookie for this browser
(explorer.room.presenter_link): the token never shows in the address bar or the history. Roles come from the token,
never from IP addresses (proxies and tunnels make them lie). Wrong tokens are limited: a few per minute per session
and for the whole server, after which nothing is compared until the minute has passed."""
from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections import deque
from urllib.parse import unquote, urlsplit

import streamlit as st

from vae_core import settings

QUERY = "presenter"  # ?presenter=<token>
PRESENTER = "roles_presenter"  # session state: this session presented the right token
SESSION = "roles_session_id"  # session state: an id for "the session that started this training"
REFUSED = "roles_refused"  # session state: why the last token presented was refused (shown once)
WRONG = "roles_wrong_tries"  # session state: when this session presented wrong tokens
COOKIE = "vae_presenter"  # the presenter link's token, kept by explorer.room.presenter_link
COOKIE_READ = "roles_cookie_read"  # session state: the cookie was looked at (once per session)
MIN_TOKEN_LENGTH = 16  # `vae-explorer room --token` refuses shorter ones
WRONG_PER_SESSION, WRONG_PER_SERVER, WRONG_WINDOW = 3, 5, 60.0  # wrong tokens allowed per WRONG_WINDOW seconds
WRONG_TOKEN = "That is not the presenter token."
_server_wrong: deque = deque()  # monotonic times of this server's wrong tokens (every session's)
_server_lock = threading.Lock()


def room_mode() -> bool:
    return bool(settings.presenter_token())


def token_matches(candidate: str | None) -> bool:
    """Constant-time comparison, so the token cannot be guessed character by character from response times."""
    token = settings.presenter_token()
    return bool(token and candidate) and hmac.compare_digest(str(candidate).encode(), token.encode())


def claim_from_url() -> None:
    """First thing in every run, before anything asks for the role: take ?presenter=<token> out of the URL (when the
    server's redirect did not already), or else the presenter link's cookie (once per session), and keep the result
    in the session."""
    if QUERY in st.query_params:
        candidate = st.query_params.get(QUERY)
        del st.query_params[QUERY]  # off the address bar: not on the projector, not in a shared link
        if room_mode():
            present(candidate)
        return
    if room_mode() and not st.session_state.get(COOKIE_READ):
        st.session_state[COOKIE_READ] = True
        try:
            cookie = st.context.cookies.get(COOKIE)
        except (AttributeError, RuntimeError):  # no browser request behind this run (AppTest)
            cookie = None
        if isinstance(cookie, str) and cookie and not st.session_state.get(PRESENTER):
            present(unquote(cookie))


def _recent(times: deque, now: float) -> deque:
    while times and now - times[0] > WRONG_WINDOW:
        times.popleft()
    return times


def wait_before_next_try() -> float:
    """Seconds until this session may present a token again (0: now): after WRONG_PER_SESSION wrong tokens of this
    session, or WRONG_PER_SERVER of the whole server, within WRONG_WINDOW seconds."""
    now = time.monotonic()
    waits = [0.0]
    with _server_lock:
        server = _recent(_server_wrong, now)
        if len(server) >= WRONG_PER_SERVER:
            waits.append(server[-WRONG_PER_SERVER] + WRONG_WINDOW - now)
    mine = _recent(deque(st.session_state.get(WRONG, ())), now)
    if len(mine) >= WRONG_PER_SESSION:
        waits.append(mine[-WRONG_PER_SESSION] + WRONG_WINDOW - now)
    return max(waits)


def present(candidate: str | None) -> bool:
    """Make this session the presenter if `candidate` is the token; returns whether it is. While wrong tokens are
    limited (`wait_before_next_try`), the candidate is not even compared."""
    wait = wait_before_next_try()
    if wait > 0:
        st.session_state[REFUSED] = f"Too many wrong tokens were tried: try again in {wait:.0f} s."
        return bool(st.session_state.get(PRESENTER))
    ok = token_matches(candidate)
    st.session_state[PRESENTER] = ok or bool(st.session_state.get(PRESENTER))
    st.session_state[REFUSED] = "" if ok else WRONG_TOKEN
    if not ok:
        now = time.monotonic()
        st.session_state[WRONG] = [*_recent(deque(st.session_state.get(WRONG, ())), now), now]
        with _server_lock:
            _server_wrong.append(now)
    return ok


def forget_wrong_tries() -> None:
    """Forget the server's wrong tokens (tests start each from a clean server)."""
    with _server_lock:
        _server_wrong.clear()


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
