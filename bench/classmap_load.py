"""The class map under a room: N students each send one drawing within a few seconds, through two workers sharing
one database, while the presenter's Class map page (a protocol-level tab on the other worker) polls. Measures the time
from a student's send to its star in the presenter's page, p50 / p95 (target p95 <= 2 s), and the students' own
action latency meanwhile (the stroke, the send).

Each student is one Streamlit tab over the websocket protocol (bench/streamlit_client): it opens the Draw page (all of
them first), then, at its moment within --window seconds, sends a stroke as the canvas component does (its JSON with a
PNG data URL) and presses "Send to the class map". Students alternate between the two workers; the presenter watches
worker 2.

    python -m bench.classmap_load --students 120 --window 10
    python -m bench.classmap_load --url http://127.0.0.1:8501 --url http://127.0.0.1:8502 --presenter-token T

Without --url it starts two plain servers (bench/browser_harness.serve_app) on one fresh SQLite file. Only 127.0.0.1.
Also used by tests/test_classmap_workers.py (the StudentTab and the send steps)."""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402
from streamlit.proto.Alert_pb2 import Alert  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from bench.streamlit_client import StreamlitTab, Widget  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENT = re.compile(r"Sent — you are here:.*drawing #(\d+)")
STAR_ID = re.compile(r'class="cm-star[^"]*"[^>]*data-id="(\d+)"')


class StudentTab(StreamlitTab):
    """A tab that also keeps the custom components (the canvas), the alerts shown and the stars on a class map."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.components: dict[str, Widget] = {}
        self.alerts: list[tuple[float, int, str]] = []  # (time, Alert.Format, body)
        self.stars: dict[int, float] = {}  # drawing id -> when its star first arrived

    def _delta(self, msg: ForwardMsg) -> None:
        super()._delta(msg)
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        etype = element.WhichOneof("type")
        now = time.perf_counter()
        if etype in ("bidi_component", "component_instance") and getattr(element, etype).id:
            c = getattr(element, etype)  # the canvas is a v2 (bidi) component: its state is one JSON value
            self.components[c.id] = Widget(c.id, etype, msg.delta.fragment_id, msg.hash, c)
        elif etype == "alert":
            self.alerts.append((now, element.alert.format, element.alert.body))
        elif etype == "html":
            for found in STAR_ID.findall(element.html.body):
                self.stars.setdefault(int(found), now)

    def component(self, key_suffix: str) -> Widget | None:
        found = [w for w in self.components.values() if w.id.endswith(key_suffix)]
        return found[-1] if found else None


def stroke_png(rng: random.Random, size: int = 280) -> bytes:
    """A digit-like stroke as the canvas draws it (white on black, 22 px pen): a seeded 1, 7 or L-shape."""
    im = Image.new("RGBA", (size, size), "black")
    j = lambda v: v + rng.randint(-25, 25)  # noqa: E731
    shape = rng.choice([[(140, 40), (150, 240)], [(70, 50), (210, 50), (120, 240)], [(90, 40), (90, 230), (200, 230)]])
    ImageDraw.Draw(im).line([(j(x), j(y)) for x, y in shape], fill="white", width=22, joint="curve")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def canvas_value(png: bytes) -> str:
    """The canvas component's value at the end of a stroke: its Fabric.js JSON and a PNG data URL of its pixels."""
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return json.dumps({"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None})


@dataclass
class Send:
    """One student's drawing: what became of it and how long each step took."""
    worker: int
    outcome: str = ""  # "sent" | "refused" | "unavailable" | "error"
    drawing_id: int | None = None
    reason: str = ""
    stroke_s: float | None = None
    send_s: float | None = None
    sent_at: float | None = None  # perf_counter when Send was pressed
    errors: list = field(default_factory=list)


async def open_draw(tab: StudentTab, send: Send) -> bool:
    """Open the Draw page until its canvas is there; False (with send.outcome "error") if it never is."""
    opened = await tab.open()
    deadline = time.perf_counter() + tab.timeout
    # a deep link on a fresh server reruns through the navigation: the canvas comes with that second run
    while tab.component("draw_canvas_0") is None and not tab.closed and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    if opened.error or tab.component("draw_canvas_0") is None:
        send.outcome, send.reason = "error", opened.error or ("no canvas on the Draw page: " + "; ".join(
            f"{k} {t[:80]}" for _, k, t in tab.errors[:2]))
        return False
    return True


async def stroke(tab: StudentTab, png: bytes, send: Send) -> bool:
    """One stroke on the canvas, as the component sends it at pen-up; False if no send button came with it."""
    result = await tab.set_widget("stroke", tab.component("draw_canvas_0"), json_value=canvas_value(png))
    send.stroke_s = result.seconds
    if result.error or tab.widget("classmap_send_button") is None:
        send.outcome, send.reason = "error", result.error or "no send button after the stroke"
        return False
    return True


async def draw_digit(tab: StudentTab, png: bytes, send: Send) -> bool:
    """Open the Draw page and make one stroke."""
    return await open_draw(tab, send) and await stroke(tab, png, send)


async def press_send(tab: StudentTab, send: Send) -> None:
    """Press "Send to the class map" and read what the page says: sent (with the id), refused (why), unavailable."""
    button = tab.widget("classmap_send_button")
    seen = len(tab.alerts)
    send.sent_at = time.perf_counter()
    result = await tab.set_widget("send", button, trigger_value=True)
    tab.states.pop(button.id, None)  # a trigger is sent once, as the frontend does
    send.send_s = result.seconds
    if result.error:
        send.outcome, send.reason = "error", result.error
        return
    for _, fmt, body in tab.alerts[seen:]:
        match = SENT.search(body)
        if match:
            send.outcome, send.drawing_id = "sent", int(match.group(1))
            return
        if "not taking drawings" in body:
            send.outcome, send.reason = "unavailable", body
            return
        if fmt == Alert.WARNING:
            send.outcome, send.reason = "refused", body
            return
    send.outcome, send.reason = "error", "the page said nothing about the drawing"


async def students(urls: list[str], pngs: list[bytes], moments: list[float], timeout: float,
                   draw_first: bool = True, on_start=None) -> list[Send]:
    """Every student opens the Draw page (on worker k mod 2) -- and draws, if draw_first; once all have, each draws
    (if not yet) and presses Send at its moment (seconds after the last one got ready). on_start() is called then."""
    tabs = [StudentTab(urls[k % len(urls)], path="draw", timeout=timeout) for k in range(len(pngs))]
    sends = [Send(k % len(urls)) for k in range(len(pngs))]

    async def guarded(k: int, step) -> bool:
        try:
            return await step
        except Exception as e:  # noqa: BLE001 -- a refused connection is a result of the load
            sends[k].outcome, sends[k].reason = "error", f"{type(e).__name__}: {e}"
            return False

    ready = await asyncio.gather(*(guarded(k, draw_digit(tabs[k], pngs[k], sends[k]) if draw_first else
                                           open_draw(tabs[k], sends[k])) for k in range(len(tabs))))
    start = time.perf_counter()
    if on_start is not None:
        on_start()

    async def act(k: int) -> None:
        await asyncio.sleep(max(0.0, start + moments[k] - time.perf_counter()))
        if draw_first or await guarded(k, stroke(tabs[k], pngs[k], sends[k])):
            await guarded(k, press_send(tabs[k], sends[k]))

    await asyncio.gather(*(act(k) for k in range(len(tabs)) if ready[k]))
    for tab, s in zip(tabs, sends, strict=True):
        s.errors = [(k, t) for _, k, t in tab.errors]
    await asyncio.gather(*(tab.close() for tab in tabs))
    return sends


async def open_draw_once(url: str, timeout: float = 120.0) -> None:
    """One tab opens the Draw page and leaves: the canvas's first use imports pandas (Streamlit checks its data for
    dataframes), and other threads using Plotly meanwhile can see a half-imported module -- a fresh server's race that
    is not this benchmark's subject."""
    tab = StudentTab(url, path="draw", timeout=timeout)
    try:
        await draw_digit(tab, stroke_png(random.Random(-1)), Send(0))
    finally:
        await tab.close()


async def presenter_tab(url: str, query: str = "", timeout: float = 60.0) -> StudentTab:
    """The Class map page in a protocol-level tab; its fragment polls by itself (auto-rerun) and records the stars."""
    tab = StudentTab(url, path="class_map", query=query, timeout=timeout)
    result = await tab.open()
    if result.error:
        raise RuntimeError(f"the Class map page did not open: {result.error}")
    return tab


def wait_warm(log: Path, timeout: float = 120.0) -> bool:
    """Until a started server's warm-up has logged that it finished (its heavy imports done: a room connecting
    to a cold server at once is bench/load.py's subject, not this one's)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if "Warm-up of the default model" in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


async def run(urls: list[str], n: int, window: float, seed: int, timeout: float, query: str = "",
              draw_first: bool = False) -> dict:
    await asyncio.gather(*(open_draw_once(u) for u in urls))
    presenter = await presenter_tab(urls[-1], query, timeout)
    rng = random.Random(seed)
    drawings = [stroke_png(rng) for _ in range(n)]
    moments = sorted(rng.uniform(0, window) for _ in range(n))
    # the students open the page first (the room arriving is bench/load.py's subject); within the window each one
    # draws and sends (or, draw_first, only sends), so the stroke is timed while the others' drawings arrive
    sends = await students(urls, drawings, moments, timeout, draw_first, on_start=presenter.polls.clear)
    sent = [s for s in sends if s.outcome == "sent"]
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and not all(s.drawing_id in presenter.stars for s in sent):
        await asyncio.sleep(0.1)
    await presenter.close()
    latency = [presenter.stars[s.drawing_id] - s.sent_at for s in sent if s.drawing_id in presenter.stars]
    return {"students": n, "window_s": window, "draw_first": draw_first, "outcomes": {o: sum(s.outcome == o for s in sends)
                                                           for o in ("sent", "refused", "unavailable", "error")},
            "stars_seen": len(latency), "send_to_star": latency,
            "stroke": [s.stroke_s for s in sends if s.stroke_s is not None],
            "send": [s.send_s for s in sends if s.send_s is not None],
            "polls": [p.seconds for p in presenter.polls if p.seconds is not None],
            "reasons": sorted({s.reason for s in sends if s.outcome != "sent"}),
            "errors": [e for s in sends for e in s.errors][:10]}


def table(r: dict) -> str:
    rows = [("send → star on the presenter's page", r["send_to_star"]),
            ("student: stroke → star on their Draw page", r["stroke"]),
            ("student: Send → 'sent, you are here'", r["send"]),
            ("presenter: a poll of the live map (in the window)", r["polls"])]
    lines = [f"{r['students']} students, one drawing each within {r['window_s']:g} s"
             + (" (drawn before the window)" if r["draw_first"] else " (drawn and sent in the window)")
             + ", two workers: "
             + ", ".join(f"{k} {v}" for k, v in r["outcomes"].items()) + f"; stars seen {r['stars_seen']}",
             "", "| measure | n | p50 | p95 | max |", "|---|---:|---:|---:|---:|"]
    for name, values in rows:
        lines.append(f"| {name} | {len(values)} | {pct(values, 50):.2f} s | {pct(values, 95):.2f} s | "
                     f"{max(values, default=float('nan')):.2f} s |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", action="append", default=[], help="a running worker (give two); else two are started")
    p.add_argument("--students", type=int, default=120)
    p.add_argument("--window", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--presenter-token", default="")
    p.add_argument("--draw-first", action="store_true",
                   help="every student draws before the window and only sends in it (default: draws and sends in it)")
    p.add_argument("--json", type=Path)
    p.add_argument("--logs", type=Path, help="where the started servers write their logs (default: a temp folder)")
    args = p.parse_args()
    if any(not u.startswith(("http://127.0.0.1:", "http://localhost:")) for u in args.url):
        raise SystemExit("the students only connect to servers on this machine")
    query = f"presenter={args.presenter_token}" if args.presenter_token else ""
    with contextlib.ExitStack() as stack:
        urls = args.url
        if not urls:
            from bench.browser_harness import serve_app

            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            env = {"VAE_CLASSMAP_URL": f"sqlite:///{folder}/classmap.sqlite3", "VAE_CLASSMAP_HOLD_ABOVE": "1e9"}
            logs = args.logs or folder
            logs.mkdir(parents=True, exist_ok=True)
            urls = [stack.enter_context(serve_app(ROOT / "checkpoints", logs / f"worker{i + 1}.log", env))[0]
                    for i in range(2)]
            for i in range(2):
                wait_warm(logs / f"worker{i + 1}.log")
        result = asyncio.run(run(urls, args.students, args.window, args.seed, args.timeout, query, args.draw_first))
    print(table(result))
    if result["reasons"]:
        print("not sent:", "; ".join(result["reasons"][:5]))
    if args.json:
        args.json.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
