"""What a student can send without a browser, to a real room-mode server on 127.0.0.1 (issue 16, part 1): Streamlit's
websocket protocol spoken by bench/streamlit_client.py, and plain HTTP. The owner's protocol messages are ignored,
an upload over 5 MB is refused by the server, the canvas's picture is bounded before it is decoded, a presenter
link is turned into a cookie by a redirect before any page loads, and a student flooding the server with new views is
held to its session's CPU budget."""
import asyncio
import base64
import http.client
import io
import json
import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.browser_harness import serve_app
from bench.streamlit_client import StreamlitTab
from explorer.room.roles import COOKIE
from explorer.room.session_pace import BURST, RATE
from explorer.startup import owner_messages
from vae_core.settings import TOKEN_ENV

TOKEN = "a-presenter-token-of-24ch"


class Tab(StreamlitTab):
    """A tab that also keeps its session id, every text it was sent (labels, alerts, markdown) and the canvas's id."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_id, self.texts, self.canvas_id, self.kinds = "", [], "", []

    def _handle(self, msg, raw):
        self.kinds.append(msg.WhichOneof("type"))
        if msg.WhichOneof("type") == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
        super()._handle(msg, raw)

    def _delta(self, msg):
        delta = msg.delta
        if delta.WhichOneof("type") == "add_block":
            self.texts.append(str(delta.add_block))
        elif delta.WhichOneof("type") == "new_element":
            element = delta.new_element
            if element.WhichOneof("type") == "bidi_component":
                self.canvas_id = element.bidi_component.id
            self.texts.append(str(element))
        super()._delta(msg)

    async def send(self, **fields) -> None:
        await self.ws.send(BackMsg(**fields).SerializeToString())

    async def rerun(self):
        return await self._request("rerun")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A room-mode server (a presenter token set), shared by the tests of this module."""
    folder = tmp_path_factory.mktemp("room")
    log = folder / "server.log"
    with serve_app(folder / "ckpts", log, env={TOKEN_ENV: TOKEN}) as (url, _):
        yield url, log


def run(coroutine):
    return asyncio.run(coroutine)


def presenter_controls(tab: Tab) -> bool:
    return any("Share with the room" in text for text in tab.texts)


# ---- 2 and 8: the owner's messages

def test_clear_cache_from_a_client_is_ignored_in_room_mode(room):
    url, log = room

    async def scenario():
        tab = Tab(url, query=f"presenter={TOKEN}", timeout=120)
        await tab.open()  # the query's token: this session presents
        assert presenter_controls(tab)
        await tab.send(clear_cache=True)  # would empty every cache -- and this session's state, its role with it
        tab.texts.clear()
        tab.query = ""
        result = await tab.rerun()
        await tab.close()
        return tab, result

    tab, result = run(scenario())
    assert result.error == "" and presenter_controls(tab)  # the session state (the role) is still there
    assert "ignored a 'clear_cache' message" in Path(log).read_text()


class RecordingSession:
    """Stands in for an AppSession: records which of its handlers the BackMsg dispatch calls."""
    id = "recording-session"

    def __init__(self):
        self.called = []

    def __getattr__(self, name):
        if name.startswith("_handle"):
            return lambda *args: self.called.append(name)
        raise AttributeError(name)


@pytest.mark.parametrize("message", [{"load_git_info": True}, {"clear_cache": True}, {"set_run_on_save": True}])
def test_owner_messages_reach_streamlit_only_outside_room_mode(message, monkeypatch):
    from streamlit.runtime.app_session import AppSession

    owner_messages.install()
    session, msg = RecordingSession(), BackMsg(**message)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    AppSession.handle_backmsg(session, msg)  # one user on this machine: handled as before
    assert len(session.called) == 1
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    AppSession.handle_backmsg(session, msg)
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    AppSession.handle_backmsg(session, rerun)  # the room's own messages still go through
    assert session.called[1:] == ["_handle_rerun_script_request"]


# ---- 4: uploads over 5 MB

def upload(url: str, session_id: str, size: int) -> int:
    """PUT a file of `size` bytes to the upload endpoint as the uploader would (XSRF cookie and header); the status."""
    host = urlsplit(url).netloc
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", "/_stcore/health")  # where the frontend gets its XSRF cookie
    response = conn.getresponse()
    response.read()
    xsrf = re.search(r"_streamlit_xsrf=([^;]+)", response.getheader("set-cookie") or "")
    headers = {"Cookie": f"_streamlit_xsrf={xsrf.group(1)}", "X-Xsrftoken": xsrf.group(1)} if xsrf else {}
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + bytes(size) + f"\r\n--{boundary}--\r\n".encode()
    conn.request("PUT", f"/_stcore/upload_file/{session_id}/{uuid.uuid4()}", body=body,
                 headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_an_upload_over_5_mb_is_refused_by_the_server(room):
    url, _ = room

    async def session_id():
        tab = Tab(url, timeout=120)
        await tab.open()
        return tab, tab.session_id

    tab, sid = run(session_id())
    try:
        assert sid
        assert upload(url, sid, 100_000) == 204  # the same request, small: accepted
        assert upload(url, sid, 6 * 1024 * 1024) == 413
    finally:
        run(tab.close())


# ---- 1: the canvas's picture

def canvas_state(tab: Tab, picture: bytes):
    url = "data:image/png;base64," + base64.b64encode(picture).decode()
    value = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}
    return WidgetState(id=tab.canvas_id, json_value=json.dumps(value))


def test_a_canvas_message_with_a_6000_pixel_picture_is_refused_from_its_header(room, real_data):  # Draw needs MNIST
    url, _ = room
    buf = io.BytesIO()
    Image.new("1", (6000, 6000)).save(buf, format="PNG")  # ~20 kB on the wire

    async def scenario():
        tab = Tab(url, timeout=180)
        await tab.open()
        await tab.navigate("draw")  # the sidebar's link, as a student follows it
        assert tab.canvas_id, "the Draw page sent no canvas"
        tab.states[tab.canvas_id] = canvas_state(tab, buf.getvalue())
        tab.texts.clear()
        result = await tab.rerun()
        await tab.close()
        return tab, result

    tab, result = run(scenario())
    assert result.error == ""
    assert any("The drawing cannot be used" in text and "too large" in text for text in tab.texts), tab.texts


def test_a_message_over_4_mb_closes_its_own_connection_and_the_room_serves_on(room, real_data):
    url, _ = room

    async def scenario():
        tab = Tab(url, timeout=180)
        await tab.open()
        await tab.navigate("draw")
        tab.states[tab.canvas_id] = canvas_state(tab, bytes(5 * 2**20))  # 6.7 MB of base64: under Streamlit's 25
        result = await tab.rerun()
        await tab.close()
        other = Tab(url, timeout=180)
        await other.open()  # another student, after it
        opened = await other.rerun()
        await other.close()
        return result, opened

    result, opened = run(scenario())
    assert result.error != ""  # refused: the connection that sent it is closed
    assert opened.error == "" and opened.seconds is not None


# ---- 6: the presenter link

def test_a_presenter_link_is_redirected_to_the_bare_address_with_the_token_in_a_cookie(room):
    url, _ = room
    conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=60)
    conn.request("GET", f"/draw?presenter={TOKEN}&model=default")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 303
    assert response.getheader("location") == "/draw?model=default"
    cookie = response.getheader("set-cookie")
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


# ---- a session's CPU budget

FLOOD_SECONDS = 10.0  # how long the student keeps sending new views
FLOOD_MARGIN = 2.0  # CPU seconds the budget does not see: the last run's overdraft (~0.6 s), torch's other thread
# (~12 % of a grid's CPU), the server's event loop sending each view


def server_pid(url: str) -> int:
    """The process of the Streamlit server listening on `url`'s port (bench.browser_harness.serve_app's)."""
    port = str(urlsplit(url).port).encode()
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"--server.port" in cmd and cmd[cmd.index(b"--server.port") + 1:][:1] == [port]:
            return int(entry.name)
    raise LookupError(f"no Streamlit server on {url}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of every thread of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_student_flooding_the_decoder_grid_with_new_views_is_held_to_its_cpu_budget(room):
    """30 views of 36-40 digits a side at extents 3.5-6 (each ~0.5 s of CPU to decode and draw, none cached), sent
    one after another as fast as the server answers, for FLOOD_SECONDS: the server spends at most the session's
    budget on them, and tells the student why its views wait."""
    url, _ = room
    pid = server_pid(url)
    views = [(size, extent) for size in range(36, 41) for extent in (3.5, 4.0, 4.5, 5.0, 5.5, 6.0)]

    async def flood():
        tab = Tab(url, timeout=60)
        await tab.open()
        await tab.navigate("decoder_grid")
        tab.texts.clear()
        cpu, start, sent = cpu_seconds(pid), time.perf_counter(), 0
        for size, extent in views:
            if time.perf_counter() - start > FLOOD_SECONDS:
                break
            grid = tab.widget("grid_size")
            tab.states[grid.id] = WidgetState(id=grid.id)
            tab.states[grid.id].double_array_value.data.append(size)
            result = await tab.set_widget("new view", tab.widget("grid_extent"), double_array_value=[extent])
            assert result.error == "", result
            sent += 1
        spent, elapsed = cpu_seconds(pid) - cpu, time.perf_counter() - start
        await tab.close()
        return tab, sent, spent, elapsed

    tab, sent, spent, elapsed = run(flood())
    assert spent <= BURST + RATE * elapsed + FLOOD_MARGIN, f"{spent:.1f} s of CPU in {elapsed:.1f} s ({sent} views)"
    assert any("Many changes at once" in text for text in tab.texts)
