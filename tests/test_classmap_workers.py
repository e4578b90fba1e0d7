"""Two Streamlit server processes on 127.0.0.1 sharing one class-map database, driven over the websocket protocol
(bench/classmap_load's StudentTab): a drawing sent through one worker appears on the other's Class map; a flood of
200 students sending at once is stored exactly once or refused with a reason; a worker killed while students send
through it loses nothing that was committed, and the other goes on."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from bench.browser_harness import serve_app
from bench.classmap_load import (
    Send,
    StudentTab,
    draw_digit,
    open_draw_once,
    presenter_tab,
    press_send,
    stroke_png,
    students,
    wait_warm,
)
from explorer.classmap.store import REASONS, SqliteStore

ROOT = Path(__file__).resolve().parents[1]
PER_ROOM = 150  # the flood's 200 students overfill the room: 50 must be refused, with the reason
TIMEOUT = 240.0  # a protocol request on a busy shared machine


@pytest.fixture(scope="module")
def workers(tmp_path_factory, real_data):
    """Two workers on one SQLite file, started and warmed (their first Draw page opened once): (urls, db, pids).
    The Draw page encodes against the test digits, so this needs MNIST."""
    folder = tmp_path_factory.mktemp("classmap_workers")
    db = folder / "room-data" / "classmap.sqlite3"
    env = {"VAE_CLASSMAP_URL": f"sqlite:///{db}", "VAE_CLASSMAP_HOLD_ABOVE": "1e9",
           "VAE_CLASSMAP_PER_ROOM": str(PER_ROOM)}
    logs = [folder / "worker1.log", folder / "worker2.log"]
    with serve_app(ROOT / "checkpoints", logs[0], env) as (url1, _), \
            serve_app(ROOT / "checkpoints", logs[1], env) as (url2, _):
        for log in logs:
            assert wait_warm(log), log.read_text()[-2000:]

        async def warm():
            await asyncio.gather(open_draw_once(url1), open_draw_once(url2))

        asyncio.run(warm())
        yield {"urls": [url1, url2], "db": db, "logs": logs}


@pytest.fixture
def store(workers):
    """The workers' database, opened by the test as a third process would, and emptied for each test."""
    s = SqliteStore(workers["db"])
    s.clear()
    yield s
    s.close()


async def _wait_for(condition, timeout: float = TIMEOUT) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return False


def test_a_drawing_sent_through_one_worker_appears_on_the_other_workers_class_map(workers, store):
    url1, url2 = workers["urls"]

    async def scenario():
        presenter = await presenter_tab(url2, timeout=TIMEOUT)
        tab, send = StudentTab(url1, path="draw", timeout=TIMEOUT), Send(0)
        assert await draw_digit(tab, stroke_png(random.Random(1)), send), send.reason
        await press_send(tab, send)
        assert send.outcome == "sent", send.reason
        seen = await _wait_for(lambda: send.drawing_id in presenter.stars)
        await asyncio.gather(tab.close(), presenter.close())
        return send, seen, presenter

    send, seen, presenter = asyncio.run(scenario())
    assert seen, f"drawing #{send.drawing_id} never reached the other worker's Class map"
    (stored,) = store.drawings()
    assert stored.id == send.drawing_id and stored.state == "shown"
    assert not [e for e in presenter.errors if e[1] != "disconnected"]


def test_a_flood_of_200_students_through_two_workers_is_stored_exactly_once_or_refused_with_a_reason(workers, store):
    rng = random.Random(7)
    pngs = [stroke_png(rng) for _ in range(200)]
    sends = asyncio.run(students(workers["urls"], pngs, [0.0] * 200, TIMEOUT))

    outcomes = [s.outcome for s in sends]
    assert outcomes.count("error") == 0, {s.reason for s in sends if s.outcome == "error"}
    assert outcomes.count("unavailable") == 0
    sent = [s for s in sends if s.outcome == "sent"]
    refused = [s for s in sends if s.outcome == "refused"]
    assert len(sent) == PER_ROOM and len(refused) == 200 - PER_ROOM
    assert {s.reason for s in refused} == {REASONS["room_full"].format(n=PER_ROOM)}
    assert {s.worker for s in sent} == {0, 1}  # both workers took drawings
    stored = store.drawings()
    assert sorted(d.id for d in stored) == sorted(s.drawing_id for s in sent)  # each told "sent" is there, once
    assert len({d.student for d in stored}) == len(stored)  # one drawing per student, none twice


def test_a_worker_killed_while_students_send_loses_nothing_committed_and_the_other_goes_on(workers, store):
    url1, url2 = workers["urls"]
    pid = _server_pid(workers["logs"][0], url1)

    async def scenario():
        rng = random.Random(3)
        tabs = [StudentTab(url1, path="draw", timeout=60) for _ in range(30)]
        sends = [Send(0) for _ in tabs]
        await asyncio.gather(*(draw_digit(t, stroke_png(rng), s) for t, s in zip(tabs, sends, strict=True)))
        flood = asyncio.gather(*(press_send(t, s) for t, s in zip(tabs, sends, strict=True)),
                               return_exceptions=True)
        told = lambda: sum(s.outcome == "sent" for s in sends)  # noqa: E731
        assert await _wait_for(lambda: told() >= 3, 120), "no student was told a drawing was sent"
        os.kill(pid, signal.SIGKILL)  # mid-flood: some sends are being written, others not yet started
        await flood
        await asyncio.gather(*(t.close() for t in tabs))
        # the other worker takes a drawing and shows everything the database holds
        presenter = await presenter_tab(url2, timeout=TIMEOUT)
        tab, late = StudentTab(url2, path="draw", timeout=TIMEOUT), Send(1)
        assert await draw_digit(tab, stroke_png(rng), late), late.reason
        await press_send(tab, late)
        ids = {d.id for d in store.drawings()}
        shown = await _wait_for(lambda: ids <= set(presenter.stars))
        await asyncio.gather(tab.close(), presenter.close())
        return sends, late, ids, shown

    sends, late, ids, shown = asyncio.run(scenario())
    confirmed = {s.drawing_id for s in sends if s.outcome == "sent"}
    assert len(confirmed) >= 3 and confirmed <= ids  # every drawing a student was told is sent survived the kill
    assert any(s.outcome != "sent" for s in sends)  # and the kill did cut the flood short
    assert late.outcome == "sent" and late.drawing_id in ids
    assert shown, "the surviving worker's Class map does not show every stored drawing"
    with sqlite3.connect(workers["db"]) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _server_pid(log: Path, url: str) -> int:
    """The pid of the `streamlit run` listening at url (serve_app keeps its Popen to itself)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(cmd) and port.encode() in cmd and str(ROOT).encode() in (
                    proc / "cwd").resolve().as_posix().encode():
                return int(proc.name)
    raise AssertionError(f"no streamlit process serves {url}")
