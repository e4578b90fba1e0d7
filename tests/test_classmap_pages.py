"""The class map's pages in AppTest, on the default checkpoint and real MNIST: a digit drawn on the Draw page is sent
and lands on the Class map; a drawing that does not look like a digit waits for the presenter, who approves or hides
it; a student sees the map only once it is shown; a database deleted under the running app gives the student one
sentence and the presenter the reason; the exports hold what they should and nothing about students."""
from __future__ import annotations

import base64
import csv
import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from explorer.classmap.board import board
from explorer.classmap.store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
DRAW, CLASS_MAP = str(ROOT / "pages" / "draw.py"), str(ROOT / "pages" / "class_map.py")


def stroke_png(points) -> bytes:
    im = Image.new("RGBA", (280, 280), "black")
    ImageDraw.Draw(im).line(points, fill="white", width=22, joint="curve")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def room(tmp_path, monkeypatch, real_data):
    """A fresh class map database for this test (the board is one per process: made anew)."""
    db = tmp_path / "room-data" / "classmap.sqlite3"
    monkeypatch.setenv("VAE_CLASSMAP_URL", f"sqlite:///{db}")
    monkeypatch.setenv("VAE_CLASSMAP_INTERVAL_S", "0")
    board.clear()
    yield db
    board.clear()


def send_from_draw_page(points=((140, 40), (150, 240))) -> AppTest:
    at = AppTest.from_file(DRAW, default_timeout=300).run()
    url = "data:image/png;base64," + base64.b64encode(stroke_png(list(points))).decode()
    at.session_state["draw_canvas_0"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url},
                                         "backgroundFit": None}
    at.run()
    (button,) = [b for b in at.button if b.key == "classmap_send_button"]
    button.click().run()
    assert not at.exception, at.exception
    return at


def stars(at: AppTest) -> int:
    return sum(h.proto.body.count('class="cm-star') for h in at.get("html"))


def test_a_sent_digit_is_stored_and_lands_on_the_class_map(room, monkeypatch):
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "1e9")
    board.clear()
    at = send_from_draw_page()
    assert any("Sent — you are here" in s.value for s in at.success)
    assert not [b for b in at.button if b.key == "classmap_send_button"]  # this digit is sent: no second button
    (stored,) = SqliteStore(room).drawings()
    assert stored.state == "shown" and stored.predicted == 1 and stored.image().max() == 255
    page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
    assert not page.exception, page.exception
    assert stars(page) == 1
    assert any("**1** drawing on the map" in m.value for m in page.markdown)


def test_a_drawing_above_the_threshold_waits_until_the_presenter_approves_it(room, monkeypatch):
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "-1e9")  # everything looks unusual
    board.clear()
    at = send_from_draw_page()
    assert any("waits for the presenter" in s.value for s in at.success)
    page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
    assert stars(page) == 0  # nothing unreviewed on the projector
    assert any("Waiting for you: 1" in h.value for h in page.subheader)
    (approve,) = [b for b in page.button if b.key.startswith("classmap_approve_")]
    approve.click().run()
    assert SqliteStore(room).drawings()[0].state == "shown"
    page.run()
    assert stars(page) == 1
    (hide,) = [b for b in page.button if b.key.startswith("classmap_toggle_")]
    hide.click().run()
    assert SqliteStore(room).drawings()[0].state == "hidden"


def test_drawings_held_under_an_older_threshold_are_approved_in_one_click_once_it_is_known(room, monkeypatch):
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "-1e9")  # held when sent
    board.clear()
    send_from_draw_page()
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "1e9")  # the threshold known now lets it through
    board.clear()
    page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
    assert stars(page) == 0 and SqliteStore(room).drawings()[0].state == "held"  # nothing moves by itself
    (approve,) = [b for b in page.button if b.key == "classmap_approve_under"]
    assert "Approve the 1 waiting" in approve.label
    approve.click().run()
    assert SqliteStore(room).drawings()[0].state == "shown"
    assert not [b for b in page.button if b.key == "classmap_approve_under"]


def test_with_the_threshold_unknown_the_presenter_starts_the_shared_scoring_that_sets_it(room, monkeypatch):
    from explorer.cache import anomaly_scores, jobs

    def fake_scores(key):  # the real one is minutes of CPU: these scores put the 99th percentile at 9,899 nats
        return lambda progress: {"corrected": np.arange(10_000, dtype=np.float64)}

    is_test_scores = lambda job_key: job_key[0] == "anomaly test scores"  # noqa: E731
    jobs.forget(is_test_scores)
    monkeypatch.setattr(anomaly_scores, "_score_test_digits", fake_scores)
    monkeypatch.delenv("VAE_CLASSMAP_HOLD_ABOVE", raising=False)
    board.clear()
    try:
        send_from_draw_page()  # held: nothing is known yet
        assert SqliteStore(room).drawings()[0].state == "held"
        page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
        (score,) = [b for b in page.button if b.key == "classmap_score_tests"]
        score.click().run()
        deadline = time.monotonic() + 120
        while not [b for b in page.button if b.key == "classmap_approve_under"] and time.monotonic() < deadline:
            page.run()
        assert any("9899 nats" in c.value for c in page.caption)
        (approve,) = [b for b in page.button if b.key == "classmap_approve_under"]
        approve.click().run()
        assert SqliteStore(room).drawings()[0].state == "shown"
    finally:
        jobs.forget(is_test_scores)


def test_a_student_sees_the_class_map_only_once_the_presenter_shows_it(room, monkeypatch):
    monkeypatch.setenv("VAE_PRESENTER_TOKEN", "secret-token")
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "1e9")
    board.clear()
    send_from_draw_page()
    page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
    assert any("has not shown the class map yet" in i.value for i in page.info)
    assert stars(page) == 0 and not [b for b in page.button if b.key.startswith("classmap_")]
    SqliteStore(room).set_flags(revealed=True)  # by the presenter, through another worker say
    deadline = time.monotonic() + 60
    while stars(page.run()) == 0 and time.monotonic() < deadline:  # the next polls see it
        time.sleep(0.1)
    assert stars(page) == 1  # a read-only map: no presenter's buttons
    assert not [b for b in page.button if b.key in ("classmap_open", "classmap_clear", "classmap_reveal")]


def test_a_database_deleted_under_the_app_refuses_drawings_and_the_presenter_sees_why(room, monkeypatch):
    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "1e9")
    board.clear()
    send_from_draw_page()
    for p in room.parent.glob("classmap.sqlite3*"):
        p.unlink()
    at = send_from_draw_page(((70, 50), (210, 50), (120, 240)))
    assert any("not taking drawings right now" in w.value for w in at.warning)
    assert not room.exists()  # not silently replaced by an empty database
    page = AppTest.from_file(CLASS_MAP, default_timeout=300).run()
    assert not page.exception, page.exception
    assert any("is gone (deleted or moved)" in e.value for e in page.error)
    assert stars(page) == 1  # what it had stays on screen


def test_the_exports_hold_the_drawings_and_nothing_about_students(room, monkeypatch):
    from explorer.classmap import render as cr

    monkeypatch.setenv("VAE_CLASSMAP_HOLD_ABOVE", "1e9")
    board.clear()
    send_from_draw_page()
    (d,) = SqliteStore(room).drawings()
    rows = list(csv.DictReader(io.StringIO(cr.csv_text([d]))))
    assert rows[0]["predicted_class"] == "1" and rows[0]["state"] == "shown"
    assert float(rows[0]["z1"]) == pytest.approx(d.z[0], abs=1e-4)
    assert d.student not in cr.csv_text([d]) and "student" not in rows[0]
    png = cr.slide_png(np.zeros((10, 2), np.float32), np.arange(10), [d], "t")
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)
