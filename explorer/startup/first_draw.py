"""A session's first view sends the page's picture, then holds the rest of the page until the browser says the
picture is drawn (at most VAE_FIRST_DRAW_SECONDS, vae_core.settings.first_draw_seconds()).

Why: a browser that opens /latent_map renders whatever has arrived while it runs Plotly's chunk and draws the first
map. The second map, the controls and the sidebar, arriving just after the first map, are rendered and drawn in the
same stretch of its one main thread and push the first picture back (docs/performance.md, First view, ninth round).
Held back until the map is drawn, they come a moment later and the picture comes first. The decoder grid holds the
same way after its grid.

How, with no rerun and no widget state (an automatic rerun raced a visitor's first click: eighth round):
- each page's HTML runs HEAD_SCRIPT before Streamlit's own scripts (explorer/startup/page_head.py). It makes a random
  token and puts it in a cookie, which the websocket's handshake then carries to the session (st.context.cookies);
  once the page's first Plotly chart is drawn it POSTs the token to PATH and drops the cookie (a session that
  reconnects later has no first view; the cookie lasts a minute at most anyway);
- route() is that POST's handler in app.py's st.App: it sets the token's event, if a session waits on it;
- navigation.py runs the page inside first_view(): on a session's first run, with a browser that ran the script,
  it registers the token; the page calls hold() right after its picture, which waits for the event.

A session holds once, on its first run: a later page has no first view to speed up. Without the route
(`streamlit run navigation.py`), without the cookie (AppTest, a client speaking the protocol) or after that time
nothing waits. The waiting thread takes no CPU; it ends when the browser answers or the time is up."""
from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vae_core.settings import first_draw_seconds

COOKIE = "vae_first_draw"
PATH = "/_vae/drawn"
MAX_WAITING = 2048  # sessions in their first run at once, beyond which a first view does not hold
SEEN = "_first_draw_seen"  # session state: this session has had its first run
_TOKEN = re.compile(r"[0-9a-f]{32}")

HEAD_SCRIPT = """<script>(() => {
  const bytes = new Uint8Array(16); crypto.getRandomValues(bytes);  /* randomUUID needs https; a room has http */
  const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  document.cookie = "COOKIE=" + token + "; path=/; max-age=60; SameSite=Strict";
  const start = performance.now();
  /* laid out, and a chart with WebGL traces has its WebGL canvas sized (every chart has a .gl-container) */
  const drawn = (el) => el && el._fullLayout && el._fullData
    && (!el._fullData.some((t) => t.type.endsWith("gl")) || el.querySelector("canvas.gl-canvas-context[width]"));
  const look = () => {
    if (drawn(document.querySelector("[data-testid=stMain] .js-plotly-plot"))) {
      requestAnimationFrame(() => {  /* the frame with the chart is on screen */
        const base = (window.__streamlit && window.__streamlit.BACKEND_BASE_URL) || location.origin + "/";
        fetch(base.replace(/\\/?$/, "/") + "PATH?t=" + token, {method: "POST", keepalive: true}).catch(() => {});
        /* a session that reconnects later (a worker restarted) has no first view to wait for */
        if (document.cookie.includes("COOKIE=" + token)) document.cookie = "COOKIE=; path=/; max-age=0";
      });
    } else if (performance.now() - start < 60000) {
      requestAnimationFrame(look);
    }
  };
  requestAnimationFrame(look);
})();</script>""".replace("COOKIE", COOKIE).replace("PATH", PATH.lstrip("/"))

_waiting: dict[str, threading.Event] = {}  # token -> event, for the sessions in their first run
_lock = threading.Lock()
_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("vae_first_draw", default=None)
_served = False  # route() was called: this server answers the browser's POST


async def _drawn(request: Request) -> Response:
    """The browser's word: its first chart is drawn. An unknown or ill-formed token changes nothing; the answer is the
    same either way."""
    token = request.query_params.get("t", "")
    with _lock:
        event = _waiting.get(token) if _TOKEN.fullmatch(token) else None
    if event is not None:
        event.set()
    return Response(status_code=204)


def route() -> Route:
    """The POST handler for app.py's st.App; with it, first views hold."""
    global _served
    _served = True
    return Route(PATH, _drawn, methods=["POST"])


@contextmanager
def first_view() -> Iterator[None]:
    """navigation.py runs the page inside: on a session's first run in a browser that ran HEAD_SCRIPT, the page's
    hold() waits for that browser's word."""
    first = not st.session_state.get(SEEN, False)
    st.session_state[SEEN] = True
    token = st.context.cookies.get(COOKIE, "") if first and _served else ""
    event = threading.Event()
    with _lock:
        registered = bool(_TOKEN.fullmatch(token)) and token not in _waiting and len(_waiting) < MAX_WAITING
        if registered:
            _waiting[token] = event
    reset = _current.set(event if registered else None)
    try:
        yield
    finally:
        _current.reset(reset)
        if registered:
            with _lock:
                _waiting.pop(token, None)


def hold() -> None:
    """Wait, on a session's first view, until the browser says the page's first chart is drawn (at most
    first_draw_seconds()); return at once otherwise. Called once the picture is sent and before the rest of the page."""
    event = _current.get()
    if event is not None:
        _current.set(None)  # once per run
        event.wait(first_draw_seconds())
