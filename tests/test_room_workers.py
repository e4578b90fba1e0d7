"""A room of two workers, started for real as `python -m explorer.room.launcher room --workers 2 --bind 127.0.0.1
--presenter-worker`:
both workers serve behind Caddy, a browser's cookie keeps it on its worker (websocket included), an upload through the
proxy is accepted, a picture a page sent is still there after the student moved on, the presenter's link and browser
reach the presenter's own worker and nothing else does, a killed worker is restarted while its browsers are served by
another, and SIGTERM stops every process of the room.

Which worker answered is read from the X-Worker header the room's proxy adds (explorer.room.proxy)."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import websockets
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.streamlit_client import StreamlitTab
from explorer.room.proxy import COOKIE, PRESENTER_COOKIE, WORKER_HEADER

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0  # s: three Streamlit processes and Caddy on a busy 2-core machine
XSRF = "_streamlit_xsrf"
TOKEN = "t" * 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    """Poll condition() until it returns something truthy (returned) or fail after timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def get(port: int, path: str = "/_stcore/health", cookies: dict | None = None, timeout: float = 10.0):
    """(status, headers as a list of pairs, body) of GET http://127.0.0.1:port/path."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def header(headers, name: str) -> str:
    return next((v for k, v in headers if k.lower() == name.lower()), "")


def set_cookies(headers) -> dict:
    return dict(v.split(";", 1)[0].split("=", 1) for k, v in headers if k.lower() == "set-cookie")


def answers(port: int) -> bool:
    with contextlib.suppress(OSError):
        return get(port, timeout=2.0)[0] == 200
    return False


def children_of(pid: int) -> list[int]:
    """Every process below pid (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, parent in parents.items() if parent == p]
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def worker_pid(launcher: subprocess.Popen, worker: str) -> int:
    """The pid of the Streamlit worker that X-Worker names ("127.0.0.1:<port>")."""
    port = worker.rsplit(":", 1)[1]
    for pid in children_of(launcher.pid):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"streamlit" in b" ".join(argv) and port.encode() in argv:
                return pid
    raise AssertionError(f"no worker process serves {worker}")


class Room:
    def __init__(self, tmp: Path, workers: int = 2):
        self.port = free_port()
        self.log = tmp / "room.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "VAE_CHECKPOINT_DIR": str(tmp / "checkpoints"),
               "VAE_WARM_ANOMALY_SCORES": "0", "VAE_ROOM_DATA_DIR": str(tmp / "room-data")}
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "explorer.room.launcher", "room", "--workers", str(workers), "--bind",
                 "127.0.0.1", "--port", str(self.port), "--token", TOKEN, "--presenter-worker"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "The room is open" in self.output() or self.proc.poll() is not None, START_TIMEOUT,
                 "the room's workers to answer")
        assert self.proc.poll() is None, self.output()[-3000:]
        wait_for(lambda: answers(self.port), 30, "the proxy to answer")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def workers_seen(self, tries: int = 60) -> set[str]:
        """The workers new browsers (no cookie) are sent to, over `tries` of them."""
        return {header(get(self.port)[1], WORKER_HEADER) for _ in range(tries)}

    def sticky_cookie(self, worker: str | None = None) -> tuple[dict, str]:
        """Cookies of a new browser (the proxy's affinity cookie and Streamlit's XSRF cookie) and its worker; with
        `worker`, of a browser placed on that one."""
        for _ in range(200):
            status, headers, _ = get(self.port)
            assert status == 200
            if worker is None or header(headers, WORKER_HEADER) == worker:
                return set_cookies(headers), header(headers, WORKER_HEADER)
        raise AssertionError(f"no new browser was sent to {worker}")

    def presenter_link(self) -> tuple[dict, str, list]:
        """What the presenter's link (?presenter=<token>) gets: its cookies, its worker and its headers."""
        status, headers, _ = get(self.port, f"/?presenter={TOKEN}")
        assert status == 303  # the app takes the token out of the address bar (explorer.room.presenter_link)
        return set_cookies(headers), header(headers, WORKER_HEADER), headers

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for pid in children_of(self.proc.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    r = Room(tmp_path_factory.mktemp("room"))
    yield r
    r.stop()


def test_both_workers_serve_the_room_behind_its_one_port(room):
    workers = room.workers_seen()
    assert len(workers) == 2 and all(w.startswith("127.0.0.1:") for w in workers), workers
    assert all(answers(int(w.rsplit(":", 1)[1])) for w in workers)  # and each answers on loopback itself


def test_streamlits_metrics_are_not_served_to_the_room(room):
    worker = int(next(iter(room.workers_seen())).rsplit(":", 1)[1])
    assert get(worker, "/_stcore/metrics")[0] == 200  # the owner's, on the worker's loopback port
    for path in ("/_stcore/metrics", "/_stcore/metrics?x=1", "/_stcore/metrics/"):
        status, _, body = get(room.port, path)
        assert status == 404 and b"explorer" not in body, path
    assert get(room.port)[0] == 200  # the health check still answers through the proxy


def test_the_presenters_link_is_served_by_a_worker_of_its_own_which_sets_the_route_cookie(room):
    cookies, presenter, headers = room.presenter_link()
    assert presenter.startswith("127.0.0.1:") and presenter not in room.workers_seen()
    assert worker_pid(room.proc, presenter)  # a Streamlit process of the room, the third one
    route = cookies.get(PRESENTER_COOKIE)
    assert route and TOKEN not in route and len(route) >= 16
    line = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith(f"{PRESENTER_COOKIE}="))
    assert {"Path=/", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in line.split(";")}


def test_every_request_with_the_route_cookie_goes_to_the_presenters_worker_websocket_and_static_files_included(room):
    cookies, presenter, _ = room.presenter_link()
    health = [get(room.port, cookies=cookies)[1] for _ in range(10)]
    assert {header(h, WORKER_HEADER) for h in health} == {presenter}
    status, headers, page = get(room.port, "/", cookies=cookies)
    assert status == 200 and header(headers, WORKER_HEADER) == presenter
    script = "/" + re.search(r'src="\./(static/[^"]+\.js)"', page.decode()).group(1)  # the page's own script
    status, js_headers, _ = get(room.port, script, cookies=cookies)
    assert status == 200 and header(js_headers, WORKER_HEADER) == presenter
    # its websocket's session lives on the presenter's worker: a PUT straight to that worker finds it
    cookies |= set_cookies(health[0])  # Streamlit's XSRF cookie, which its health answer set
    assert asyncio.run(session_upload(room.port, cookies, put_to=int(presenter.rsplit(":", 1)[1]))) == 204


def test_no_route_cookie_a_wrong_route_id_or_a_wrong_token_never_reaches_the_presenters_worker(room):
    presenter = room.presenter_link()[1]
    assert presenter not in room.workers_seen()
    wrong_route = {PRESENTER_COOKIE: "x" * 22}
    assert presenter not in {header(get(room.port, cookies=wrong_route)[1], WORKER_HEADER) for _ in range(20)}
    for guess in ("wrong", TOKEN[:-1], TOKEN + "t", f"{TOKEN}%20"):
        status, headers, _ = get(room.port, f"/?presenter={guess}")
        assert status == 303 and header(headers, WORKER_HEADER) not in ("", presenter), guess
        assert PRESENTER_COOKIE not in set_cookies(headers), guess


async def session_upload(port: int, cookies: dict, put_to: int | None = None, xsrf: str | None = None) -> int:
    """As a browser's file uploader does: open a session (a websocket, through the proxy with `cookies`), ask it
    where to PUT a file, and PUT one there (through the proxy, or straight to the worker on port `put_to`) while the
    session is open; returns the PUT's HTTP status (400: no such session on the worker that got it)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], proxy=None,
                                  additional_headers={"Cookie": cookie}, open_timeout=30, max_size=None) as ws:
        msg = BackMsg()
        msg.file_urls_request.request_id = "r1"
        msg.file_urls_request.file_names.append("digit.png")
        await ws.send(msg.SerializeToString())
        while True:
            reply = ForwardMsg.FromString(await asyncio.wait_for(ws.recv(), 30))
            if reply.WhichOneof("type") == "file_urls_response":
                url = reply.file_urls_response.file_urls[0].upload_url
                break
        assert url.startswith("/_stcore/upload_file/")
        return await asyncio.to_thread(put_file, put_to or port, url, cookies, xsrf or cookies[XSRF])


def put_file(port: int, url: str, cookies: dict, xsrf: str) -> int:
    boundary = uuid.uuid4().hex
    png = io.BytesIO()
    Image.new("L", (28, 28)).save(png, format="PNG")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"digit.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("PUT", url, body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": xsrf,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_browser_with_the_cookie_stays_on_its_worker_for_every_request_and_its_websocket(room):
    cookies, worker = room.sticky_cookie()
    assert COOKIE in cookies
    assert {header(get(room.port, cookies=cookies)[1], WORKER_HEADER) for _ in range(20)} == {worker}
    assert {header(get(room.port, "/", cookies=cookies)[1], WORKER_HEADER) for _ in range(3)} == {worker}
    # the session its websocket opened lives on that worker: a PUT straight to it finds the session
    assert asyncio.run(session_upload(room.port, cookies, put_to=int(worker.rsplit(":", 1)[1]))) == 204


def test_an_upload_through_the_proxy_is_accepted_even_with_the_xsrf_cookie_of_the_other_worker(room):
    cookies, worker = room.sticky_cookie()
    assert asyncio.run(session_upload(room.port, cookies)) == 204
    # a student whose worker died carries the XSRF cookie the first worker issued to the second one
    other = next(w for w in room.workers_seen() if w != worker)
    foreign = room.sticky_cookie(other)[0][XSRF]
    assert asyncio.run(session_upload(room.port, {**cookies, XSRF: foreign})) == 204


def test_a_picture_the_decoder_grid_sent_is_still_there_after_the_student_moved_on(room):
    async def student() -> tuple[list[str], StreamlitTab]:
        tab = StreamlitTab(f"http://127.0.0.1:{room.port}", path="decoder_grid", timeout=90)
        try:
            opened = await tab.open()
            assert not opened.error, opened
            shown = list(tab.images)
            moved = await tab.navigate("")  # the overview: a full rerun of this session on another page
            assert not moved.error, moved
            for url in shown:  # what the browser asks for the pictures it was sent, after the rerun
                if url.startswith("/"):
                    status, _ = await tab._get(url)
                    assert status == "200", f"{url}: {status}"
            return shown, tab
        finally:
            await tab.close()

    shown, tab = asyncio.run(student())
    assert shown and tab.worker
    for url in shown:
        if url.startswith("data:image/png;base64,"):
            Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).verify()


def test_a_killed_worker_is_restarted_and_its_browsers_are_served_by_the_other_meanwhile(room):
    cookies, worker = room.sticky_cookie()
    pid = worker_pid(room.proc, worker)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), 10, "the killed worker to go")
    status, headers, body = get(room.port, cookies=cookies)
    assert status == 200 and body == b"ok" and header(headers, WORKER_HEADER) not in ("", worker)
    assert COOKIE in set_cookies(headers)  # the browser is given the other worker's cookie
    restarted = wait_for(lambda: worker_pid(room.proc, worker) if answers(int(worker.rsplit(":", 1)[1])) else None,
                         START_TIMEOUT, "the worker to be restarted on its port")
    assert restarted != pid and "starting it again" in room.output()
    wait_for(lambda: len(room.workers_seen(20)) == 2, 60, "the proxy to send new browsers to the restarted worker")


def test_a_killed_presenters_worker_leaves_the_presenter_on_an_audience_worker_until_it_is_back(room):
    cookies, presenter, _ = room.presenter_link()
    pid = worker_pid(room.proc, presenter)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), 10, "the killed worker to go")
    status, headers, body = get(room.port, cookies=cookies)
    assert status == 200 and body == b"ok" and header(headers, WORKER_HEADER) in room.workers_seen(20)
    wait_for(lambda: answers(int(presenter.rsplit(":", 1)[1])), START_TIMEOUT, "the presenter's worker to restart")
    wait_for(lambda: header(get(room.port, cookies=cookies)[1], WORKER_HEADER) == presenter, 60,
             "the proxy to send the presenter to its restarted worker")


def test_sigterm_stops_every_process_of_the_room(tmp_path):
    r = Room(tmp_path)
    try:
        processes = children_of(r.proc.pid)
        assert len(processes) >= 4  # two workers, the presenter's worker and Caddy
        r.proc.send_signal(signal.SIGTERM)
        assert r.proc.wait(30) == 0
        wait_for(lambda: not any(alive(p) for p in processes), 15, "every worker and the proxy to stop")
        assert "The room is closed" in r.output()
    finally:
        r.stop()


def test_a_second_room_on_a_taken_port_refuses_to_open_and_starts_nothing(room, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VAE_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    second = subprocess.run(
        [sys.executable, "-m", "explorer.room.launcher", "room", "--workers", "2", "--bind", "127.0.0.1", "--port",
         str(room.port), "--token", TOKEN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 2
    assert f"Cannot open the room: port {room.port} on 127.0.0.1 is not free" in second.stderr
    assert "Presenter" not in second.stdout  # no links printed for a room that does not open
    assert len(room.workers_seen(20)) == 2  # the first room serves on, unsplit
