"""A Streamlit browser tab without the browser: speaks the app server's own websocket protocol (Streamlit 1.67), so a
load benchmark can simulate a room of students at the cost of a few protobufs each instead of one Chromium each.

What the frontend does, and this client copies (read from streamlit/runtime/app_session.py, script_requests.py,
web/server/starlette/starlette_websocket.py and the frontend bundle's App / ForwardMsgCache / PlotlyChart code):
- connect to ws://host/_stcore/stream with subprotocol "streamlit" (no XSRF token or session id to resume after it:
  a new tab), then send BackMsg.rerun_script with the URL's path as page_name and its query string;
- every later rerun carries the current page's script hash, every widget value the tab holds, the hashes of the
  messages it has cached (the server then sends a ref_hash instead of a large element it already sent), and for a
  widget inside an st.fragment that fragment's id (only the fragment reruns);
- a page change (sidebar link) reruns with the target page's script hash, without the old page's widget values;
- before the websocket, the frontend GETs /_stcore/health; the cookies that sets (a proxy's sticky-session cookie
  in a room with several workers, Streamlit's XSRF cookie) go with the websocket handshake and every later request;
- an st.image arrives as a /media/<hash> URL that the browser then loads over HTTP (once per URL and tab), or inline
  as a data: URI (nothing to load);
- ForwardMsg.auto_rerun (an st.fragment(run_every=..)) starts a timer that reruns that fragment every interval,
  whether or not a run is under way; stop_auto_rerun and a page change stop it;
- a run is announced by new_session (metadata.run: its id and the fragments it reruns) and ends with script_finished;
  FINISHED_EARLY_FOR_RERUN means another run follows at once.

Not copied: the values the frontend reports for widgets it has only mounted (the server falls back to their defaults
or session state, which gives the same runs), heartbeats, static files and fonts.

A request is done at the first finished run (not cut short for a rerun) that started after it was sent and covers it
(a full run, or a fragment run including its fragment): the server coalesces queued reruns, so that run carries it.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
WIDGET_TYPES = ("plotly_chart", "slider", "button", "selectbox", "number_input", "text_input", "checkbox", "radio",
                "download_button", "button_group")
HEALTH = "/_stcore/health"
WORKER_HEADER = "X-Worker"  # set by the room's proxy (explorer.room.proxy): which worker served the request
MAX_PENDING_POLLS = 8  # auto-rerun requests a tab keeps waiting for (the server coalesces the rest anyway)

# Messages by hash, shared by every tab of this process: the same 1 MB scatter need not be stored 60 times.
_MESSAGES: dict[str, bytes] = {}
_FIGURES: dict[str, list[dict]] = {}


@dataclass
class Widget:
    id: str
    kind: str  # the Element field: "plotly_chart", "slider", ...
    fragment_id: str  # "" outside any st.fragment
    msg_hash: str  # of the ForwardMsg that carried it (its figure is parsed once per hash)
    element: object  # the widget's proto (PlotlyChart, Slider, ...)


@dataclass
class Request:
    """One rerun this tab asked for: a user action or an auto-rerun tick."""
    kind: str
    fragment_id: str
    sent: float
    runs: set = field(default_factory=set)
    bytes: int = 0
    done: asyncio.Future | None = None


@dataclass
class Result:
    kind: str
    seconds: float | None  # send -> script_finished; None if it never finished
    error: str = ""  # "" | "timeout" | "disconnected" | the exception shown
    bytes: int = 0  # websocket payload received meanwhile


class StreamlitTab:
    """One browser tab on a Streamlit app. `await tab.open()`, then `navigate`, `set_widget`; `close()` at the end."""

    def __init__(self, base_url: str, path: str = "", query: str = "", timeout: float = 30.0):
        parts = urlsplit(base_url)
        self.base_url, self.path, self.query, self.timeout = base_url.rstrip("/"), path.strip("/"), query, timeout
        self.ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.page_hash = ""  # script hash of the page shown (from new_session)
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash, from the navigation message
        self.widgets: dict[str, Widget] = {}  # by widget id
        self.states: dict[str, WidgetState] = {}  # the widget values this tab sends with each rerun
        self.cache: dict[str, list] = {}  # msg hash -> [run count when last used, fragment id] (ForwardMsgCache)
        self.run_count = 0
        self.max_age = 2
        self.had_new_session = False
        self.seen_this_run: set[str] = set()
        self.run_fragments: dict[str, tuple[str, ...]] = {}  # script_run_id -> fragments, for runs under way
        self.pending: list[Request] = []
        self.auto: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, timer task)
        self.errors: list[tuple[float, str, str]] = []  # (time, kind, text): exception, alert, disconnected, ...
        self.polls: list[Result] = []  # auto-rerun ticks, timed like actions
        self.closed = False
        self.received = 0
        self.fetched: set[str] = set()  # media URLs (st.image) already loaded
        self.fetches: set[asyncio.Task] = set()
        self.media: list[Result] = []  # each media GET: seconds, error ("" or the HTTP status), bytes
        self.cookies: dict[str, str] = {}  # set by the server (or a proxy in front of it), sent back as a browser does
        self.worker = ""  # the proxy's X-Worker header on the first request ("" without a proxy)
        self.images: deque[str] = deque(maxlen=64)  # the latest picture URLs the pages sent (st.image), in order

    # ---- connection --------------------------------------------------------------------------------------------

    async def open(self) -> Result:
        """Connect and run the page at `path` (as typing the URL does)."""
        status, _ = await self._get(HEALTH)
        if status != "200":
            self._error(f"health {status}", HEALTH)
        headers = {"Cookie": self._cookie_header()} if self.cookies else None
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None, proxy=None,
                                           additional_headers=headers, compression=None, open_timeout=self.timeout,
                                           ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        return await self._request("open")

    async def close(self) -> None:
        if self.fetches:  # let the pictures of the last action load
            await asyncio.wait(list(self.fetches), timeout=self.timeout)
        self.closed = True
        for _, task in self.auto.values():
            task.cancel()
        self.auto.clear()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    # ---- what a user does ---------------------------------------------------------------------------------------

    async def navigate(self, url_pathname: str) -> Result:
        """Follow a sidebar link: rerun with that page's script hash and none of the old page's widget values."""
        for _, task in self.auto.values():  # the frontend's cleanupAutoReruns
            task.cancel()
        self.auto.clear()
        self.states.clear()
        target = self.pages[url_pathname]
        return await self._request(f"open {url_pathname or 'root'}", page_hash=target)

    async def set_widget(self, kind: str, widget: Widget, **value) -> Result:
        """Give a widget a new value as its frontend component does (e.g. string_value=.. for a Plotly selection,
        double_array_value=[..] for a slider) and rerun its fragment (or the whole page outside one)."""
        state = WidgetState(id=widget.id)
        for name, v in value.items():
            if name.endswith("array_value"):
                getattr(state, name).data.extend(v)
            else:
                setattr(state, name, v)
        self.states[widget.id] = state
        return await self._request(kind, fragment_id=widget.fragment_id)

    def widget(self, key_prefix: str) -> Widget | None:
        """The newest widget whose user key starts with key_prefix (ids end in '-<key>')."""
        found = [w for w in self.widgets.values() if _user_key(w.id).startswith(key_prefix)]
        return found[-1] if found else None

    # ---- requests -------------------------------------------------------------------------------------------------

    async def _request(self, kind: str, fragment_id: str = "", page_hash: str | None = None, auto: bool = False
                       ) -> Result:
        req = Request(kind, fragment_id, time.perf_counter(), done=asyncio.get_running_loop().create_future())
        if self.closed:
            return Result(kind, None, "disconnected")
        self.pending.append(req)
        try:
            page_hash = self.page_hash if page_hash is None else page_hash
            await self._send_rerun(fragment_id, page_hash, "" if page_hash else self.path, auto)
        except Exception as e:  # noqa: BLE001 -- a closed socket is a result, not a crash of the bench
            self.pending.remove(req)
            self._error("disconnected", f"send failed: {type(e).__name__}: {e}")
            return Result(kind, None, "disconnected")
        try:
            seconds, error = await asyncio.wait_for(req.done, self.timeout)
        except TimeoutError:
            seconds, error = None, "timeout"
            with contextlib.suppress(ValueError):
                self.pending.remove(req)
        return Result(kind, seconds, error, req.bytes)

    async def _send_rerun(self, fragment_id: str, page_hash: str, page_name: str, auto: bool) -> None:
        url = f"{self.base_url}/{self.path}" + (f"?{self.query}" if self.query else "")
        state = ClientState(query_string=self.query, page_script_hash=page_hash, page_name=page_name,
                            fragment_id=fragment_id, is_auto_rerun=auto)
        state.widget_states.widgets.extend(self.states.values())
        state.cached_message_hashes.extend(self.cache)
        ctx = state.context_info
        ctx.timezone, ctx.timezone_offset, ctx.locale, ctx.url, ctx.color_scheme = "UTC", 0, "en-US", url, "light"
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        """The frontend's setInterval for st.fragment(run_every=..): fires regardless of runs under way."""
        while not self.closed:
            await asyncio.sleep(interval)
            polls = [r for r in self.pending if r.kind == "poll"]
            if len(polls) >= MAX_PENDING_POLLS:
                continue
            task = asyncio.create_task(self._request("poll", fragment_id=fragment_id, auto=True))
            task.add_done_callback(lambda t: self.polls.append(t.result()) if not t.cancelled() else None)

    async def _get(self, path: str) -> tuple[str, bytes]:
        """GET path with this tab's cookies (HTTP/1.1, one connection each, as an <img> or fetch() may): (status,
        the whole response); the cookies it sets are kept."""
        parts = urlsplit(self.base_url)
        cookie = f"Cookie: {self._cookie_header()}\r\n" if self.cookies else ""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), self.timeout)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{cookie}Connection: close\r\n\r\n"
                         .encode())
            body = await asyncio.wait_for(reader.read(), self.timeout)
            writer.close()
        except (OSError, TimeoutError) as e:
            return type(e).__name__, b""
        if not body.startswith(b"HTTP/"):
            return "no response", body
        head = body.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == WORKER_HEADER.lower() and not self.worker:
                self.worker = value.strip()
            if name.strip().lower() == "set-cookie":
                key, _, val = value.strip().split(";", 1)[0].partition("=")
                self.cookies[key] = val
        return head[0].split(" ", 2)[1], body

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def _fetch(self, path: str) -> None:
        """GET an st.image's media file as the browser's <img> does."""
        start = time.perf_counter()
        status, body = await self._get(path)
        error = "" if status == "200" else f"media {status}"
        self.media.append(Result("media GET", time.perf_counter() - start, error, len(body)))
        if error:
            self._error(error, path)

    # ---- what the server sends ------------------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.received += len(raw)
                for req in self.pending:
                    req.bytes += len(raw)
                self._handle(ForwardMsg.FromString(raw), raw)
        except Exception as e:  # noqa: BLE001 -- any way the socket ends is recorded
            if not self.closed:
                self._error("disconnected", f"{type(e).__name__}: {e}")
        if not self.closed:
            self._error("disconnected", "server closed the websocket")
        self.closed = True
        for req in self.pending:
            if not req.done.done():
                req.done.set_result((None, "disconnected"))
        self.pending.clear()

    def _handle(self, msg: ForwardMsg, raw: bytes) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = _MESSAGES.get(msg.ref_hash)
            if cached is None or msg.ref_hash not in self.cache:
                self._error("cache miss", msg.ref_hash)
                return
            self.cache[msg.ref_hash][0] = self.run_count
            msg, raw, kind = ForwardMsg.FromString(cached), cached, "delta"
        elif msg.metadata.cacheable and msg.hash:
            _MESSAGES.setdefault(msg.hash, raw)
            self.cache.setdefault(msg.hash, [self.run_count, msg.delta.fragment_id])
        if kind == "delta":
            self._delta(msg)
        elif kind == "new_session":
            self._run_started(msg)
        elif kind == "script_finished":
            self._run_finished(msg)
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid and self.auto.get(fid, (None,))[0] != interval:
                if fid in self.auto:
                    self.auto[fid][1].cancel()
                self.auto[fid] = (interval, asyncio.create_task(self._auto_rerun(fid, interval)))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                if fid in self.auto:
                    self.auto.pop(fid)[1].cancel()
        elif kind == "page_not_found":
            self._error("page not found", msg.page_not_found.page_name)
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            e = msg.session_event.script_compilation_exception
            self._error("exception", f"{e.type}: {e.message}")

    def _delta(self, msg: ForwardMsg) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        etype = element.WhichOneof("type")
        if etype == "exception":
            self._error("exception", f"{element.exception.type}: {element.exception.message}")
        elif etype == "alert" and element.alert.format == Alert.ERROR:
            self._error("st.error", element.alert.body[:200])
        elif etype == "imgs":
            for img in element.imgs.imgs:
                self.images.append(img.url)
                if img.url.startswith("/") and img.url not in self.fetched:  # the browser loads each src once
                    self.fetched.add(img.url)
                    task = asyncio.create_task(self._fetch(img.url))
                    self.fetches.add(task)
                    task.add_done_callback(self.fetches.discard)
        elif etype in WIDGET_TYPES:
            proto = getattr(element, etype)
            if getattr(proto, "id", ""):
                self.widgets[proto.id] = Widget(proto.id, etype, msg.delta.fragment_id, msg.hash, proto)
                self.seen_this_run.add(proto.id)

    def _run_started(self, msg: ForwardMsg) -> None:
        self.had_new_session = True
        self.page_hash = msg.new_session.page_script_hash or self.page_hash
        self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
        run = msg.metadata.run
        fragments = tuple(run.fragment_ids)
        self.run_fragments[run.script_run_id] = fragments
        if not fragments:
            self.seen_this_run = set()
        for req in self.pending:
            if not fragments or (req.fragment_id and req.fragment_id in fragments):
                req.runs.add(run.script_run_id)

    def _run_finished(self, msg: ForwardMsg) -> None:
        status, run_id = msg.script_finished, msg.metadata.run.script_run_id
        fragments = self.run_fragments.pop(run_id, ())
        if status not in FINISHED:
            return
        if status == ForwardMsg.FINISHED_SUCCESSFULLY and not fragments:  # removeInactiveWidgetState
            self.widgets = {k: w for k, w in self.widgets.items() if k in self.seen_this_run}
            self.states = {k: s for k, s in self.states.items() if k in self.seen_this_run}
        if run_id and self.had_new_session:  # ForwardMsgCache.incrementRunCount
            self.run_count += 1
            for h, (used, fid) in list(self.cache.items()):
                if (not fragments or fid in fragments) and self.run_count - used > self.max_age:
                    del self.cache[h]
        now = time.perf_counter()
        for req in [r for r in self.pending if run_id and run_id in r.runs]:
            self.pending.remove(req)
            if not req.done.done():
                req.done.set_result((now - req.sent, ""))

    def _error(self, kind: str, text: str) -> None:
        self.errors.append((time.perf_counter(), kind, text))


def _user_key(widget_id: str) -> str:
    """'$$ID-<hash>-grid_chart' -> 'grid_chart' (Streamlit puts the user key last)."""
    return widget_id.split("-", 2)[-1] if widget_id.startswith("$$ID-") else widget_id


# ---- Plotly figures as the frontend sees them -------------------------------------------------------------------------

def figure_traces(widget: Widget) -> list[dict]:
    """The traces of a Plotly chart widget as {"x", "y", "customdata", "legendgroup"} (typed arrays decoded); parsed
    once per message hash for all tabs."""
    if widget.msg_hash not in _FIGURES:
        spec = json.loads(widget.element.spec)
        _FIGURES[widget.msg_hash] = [{"x": _array(t.get("x")), "y": _array(t.get("y")), "legendgroup": t.get("legendgroup"),
                                      "customdata": _array(t.get("customdata")),
                                      "typed": isinstance(t.get("customdata"), dict)} for t in spec.get("data", [])]
    return _FIGURES[widget.msg_hash]


def _array(value):
    """Plotly's JSON for a NumPy array ({"dtype", "bdata", "shape"}) or a plain list, as a Python list."""
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            a = a.reshape([int(s) for s in str(value["shape"]).split(",")])
        return a.tolist()
    return value


def selection_json(traces: list[dict], curve: int, index: int) -> str:
    """The widget value the frontend sends when point `index` of trace `curve` is clicked, as captured from Chromium:
    the Plotly event point in snake case without its data/fullData, a typed-array customdata row as {"0": .., "1": ..},
    plus the trace's legendgroup when it has one."""
    t = traces[curve]
    point = {"curve_number": curve, "point_number": index, "point_index": index, "x": t["x"][index], "y": t["y"][index]}
    if t["customdata"] is not None:
        row = t["customdata"][index]
        point["customdata"] = {str(i): v for i, v in enumerate(row)} if t["typed"] else row
    if t["legendgroup"] is not None:
        point["legendgroup"] = t["legendgroup"]
    return json.dumps({"selection": {"points": [point], "point_indices": [index], "box": [], "lasso": []}},
                      separators=(",", ":"))
