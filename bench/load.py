"""Load benchmark of the room for a lecture hall (issues 11 and 16): prints numbers, is not a test.

Each scenario starts a fresh room as `vae-explorer room --workers N --bind 127.0.0.1` does (explorer.room.launcher: a
free port, a temporary VAE_CHECKPOINT_DIR, a presenter token; with N > 1, N Streamlit workers behind Caddy with cookie
affinity; with --presenter-worker, the presenter's own worker too) -- or, with --url, uses a room already running on
this machine -- and then, at the same time:
- the audience: N students, each a Streamlit tab over the websocket protocol (no browser each: that would measure
  Chromium), in a process of their own (bench/load_audience.py: arrival over a few seconds, open the root, the latent
  map, the decoder grid, then one click / slider move every 2-3 s, seeded); every action is timed from its rerun
  request to its script_finished, and exception boxes, st.error boxes, disconnects and timeouts are counted;
- the presenter: one real headless Chromium tab opened with ?presenter=<token>, timing grid click -> decoded digit
  exactly as bench/ui_latency.py does (its open_grid, grid_cells, grid_click), once the room has arrived;
- the room's memory (VmRSS summed over every process of the room -- launcher, workers, Caddy -- sampled every 0.5 s)
  and CPU (utime + stime from /proc/<pid>/stat, summed over the same processes, over the scenario; and in 5 s windows,
  divided by the actions the room finished in each: the median of those is the server CPU per action).
Scenarios: a room of N arriving over --arrival seconds after the workers have warmed up, for each --n; a burst of
--burst students all connecting within --burst-within seconds of the room answering /_stcore/health (the issue saw
"partially initialized module 'numpy'" exception boxes then, and media 404s); with --training, the presenter starting
a training in the sidebar form (--train-epochs on --train-images images) alone and then with --training-n students,
the audience going on until it has finished; its per-epoch seconds come from the saved checkpoint's history.
Bounded: at most MAX_STUDENTS per scenario, --seconds of activity (at most MAX_SECONDS), a timeout per action; every
process it starts is stopped at the end of its scenario; traffic goes to 127.0.0.1 only.

Run: VAE_DATA_DIR=../shared/data .venv/bin/python bench/load.py [--workers 2] [--n 30 60 120 200] [--burst 200]
     [--seconds 30] [--training] [--quick] [--url http://127.0.0.1:8501/ --pid PID]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser_harness import chromium, free_port, open_page  # noqa: E402 -- after the sys.path line
from bench.ui_latency import cpu_times, grid_cells, grid_click, open_grid  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
TRAIN_TIMEOUT = 900.0  # s: a training that has not saved its checkpoint by then is reported as not finished
WARM_TIMEOUT = 90.0  # s: the workers' warm-up log lines
START_TIMEOUT = 120.0  # s: the room answering /_stcore/health
MAX_STUDENTS = 400  # per scenario
MAX_SECONDS = 600.0  # of audience activity per scenario
WINDOW = 5.0  # s: the windows of the CPU-per-action median
# issue 16, with 2 workers: at 60 students audience p95 <= 1.0 s and presenter p95 <= 300 ms; at 200, no errors or
# timeouts; every process of the room together <= 3 GB RSS
TARGETS = {"audience_p95_at": 60, "audience_p95": 1.0, "presenter_p95_at": 60, "presenter_p95": 0.300,
           "errors_at": 200, "rss_mb": 3072, "training_slowdown": 2.0}


@dataclass(frozen=True)
class Scenario:
    name: str
    n: int  # audience sessions
    arrival: float  # seconds over which they connect
    burst: bool = False  # connect as soon as the server is healthy (else after its warm-up)
    training: bool = False  # the presenter starts a training once the room is there


@dataclass
class Outcome:
    scenario: Scenario
    presenter: list[float] = field(default_factory=list)  # grid click -> digit, seconds
    presenter_error: str = ""
    presenter_lost: int = 0  # clicks whose digit never showed
    audience: dict = field(default_factory=dict)  # bench/load_audience.py's JSON
    rss_peak_mb: float = 0.0  # sampled VmRSS, summed over the room's processes
    cpu_s: float = 0.0  # server CPU seconds (every process of the room) over the scenario
    cpu_series: list = field(default_factory=list)  # (perf_counter, room CPU seconds so far), every 0.5 s
    processes: int = 0  # the room's processes at the end (launcher, workers, Caddy)
    load_before: tuple = ()  # the machine's load average (1, 5, 15 min) at the start of the scenario
    load_after: tuple = ()
    wall_s: float = 0.0
    machine_busy: float = 0.0  # share of all CPUs busy over the scenario (every process on the machine)
    steal: float = 0.0
    epochs: list[float] = field(default_factory=list)  # training seconds per epoch
    training_wall: float = 0.0
    training_error: str = ""
    log_tail: str = ""
    server_tracebacks: int = 0  # in the server's log


# ---- the server process: memory and CPU from /proc -------------------------------------------------------------------

def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # fields from 3 (state) on


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


@contextlib.contextmanager
def serve_room(workers: int, checkpoint_dir: Path, log_path: Path, env: dict, room_args: tuple = ()):
    """`vae-explorer room --workers N --bind 127.0.0.1` on a free port: yields (base_url, launcher pid). With one
    worker the launcher becomes the Streamlit server; with more it supervises them and Caddy."""
    port = free_port()
    # no anomaly scoring at start-up unless asked: it would take the CPU the benchmark is measuring
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VAE_CHECKPOINT_DIR": str(checkpoint_dir),
           "VAE_WARM_ANOMALY_SCORES": "0", "VAE_ROOM_DATA_DIR": str(Path(checkpoint_dir).parent / "room-data"), **env}
    cmd = [sys.executable, "-m", "explorer.room.launcher", "room", "--workers", str(workers), "--bind", "127.0.0.1",
           "--port", str(port), "--token", env["VAE_PRESENTER_TOKEN"], *room_args]
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.perf_counter() - start > START_TIMEOUT:
                raise RuntimeError(f"the room did not come up; see {log_path}:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()  # the launcher stops its workers and Caddy
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            for pid in descendants(proc.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()


def _healthy(url: str) -> bool:
    with contextlib.suppress(OSError):
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read() == b"ok"
    return False


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(p)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


class ServerProbe:
    """Samples the server's process tree every 0.5 s from a thread: peak VmRSS; CPU seconds from start to stop."""

    def __init__(self, pid: int):
        self.pid, self.peak_kb, self.stop_event = pid, 0, threading.Event()
        self.cpu0, self.t0, self.machine0 = cpu_seconds(descendants(pid)), time.perf_counter(), cpu_times()
        self.idle0 = _idle_jiffies()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

        self.series: list[tuple[float, float]] = [(self.t0, 0.0)]

    def _run(self) -> None:
        while not self.stop_event.wait(0.5):
            with contextlib.suppress(OSError):
                pids = descendants(self.pid)
                self.peak_kb = max(self.peak_kb, sum(_status_kb(p, "VmRSS") for p in pids))
                self.series.append((time.perf_counter(), cpu_seconds(pids) - self.cpu0))

    def stop(self, out: Outcome) -> None:
        self.stop_event.set()
        self.thread.join(2)
        pids = descendants(self.pid)
        out.cpu_s = cpu_seconds(pids) - self.cpu0
        out.wall_s = time.perf_counter() - self.t0
        out.rss_peak_mb = self.peak_kb / 1024
        out.cpu_series = self.series
        out.processes = len(pids)
        (all1, steal1), (all0, steal0) = cpu_times(), self.machine0
        out.machine_busy = 1 - (_idle_jiffies() - self.idle0) / max(1, all1 - all0)
        out.steal = (steal1 - steal0) / max(1, all1 - all0)


def _idle_jiffies() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[3] + fields[4]  # idle + iowait


def wait_warm(log: Path, workers: int, timeout: float = WARM_TIMEOUT) -> None:
    """Until every worker's lifespan warm-up has logged that it finished (or timeout)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if log.read_text(errors="replace").count("Warm-up of the default model") >= workers:
            return
        time.sleep(0.2)


# ---- the presenter (Chromium) ----------------------------------------------------------------------------------------

def start_training(page, url: str, query: str, name: str, epochs: int, images: int) -> None:
    """Fill the sidebar's "Train a new model" form as the presenter and press Train."""
    open_page(page, url, None, query=query)
    page.get_by_text("Train a new model").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Epochs", exact=True).fill(str(epochs))
    page.get_by_label("Training images", exact=True).fill(str(images))
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Your training").first.wait_for(timeout=120_000)


def presenter_clicks(page, url: str, query: str, n: int) -> tuple[list[float], int]:
    """ui_latency.grid_clicks, click by click: (seconds of each click whose digit showed, clicks lost). A click whose
    digit never shows -- e.g. the training ended meanwhile and the app reran on the new model -- is counted as lost
    and the grid is opened afresh for the next one."""
    times, lost, opened = [], 0, False
    for row, col in grid_cells(n):
        try:
            if not opened:
                open_grid(page, url, query)
                opened = True
            times.append(grid_click(page, row, col))
        except PlaywrightError:
            lost, opened = lost + 1, False
    return times, lost


def wait_checkpoint(path: Path, deadline: float) -> bool:
    while time.perf_counter() < deadline:
        if path.exists():
            return True
        time.sleep(0.5)
    return False


def epoch_seconds(path: Path) -> list[float]:
    import torch

    import vae_core as vc

    torch.set_num_threads(1)
    return [float(h["seconds"]) for h in vc.load_checkpoint(path).history]


# ---- one scenario ----------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def the_room(args, tmp: Path, log: Path, token: str):
    """(url, pid of the room's top process or None): a fresh room, or the running one --url names."""
    if args.url:
        log.write_text("")
        yield args.url.rstrip("/"), args.pid
        return
    env = {"VAE_PRESENTER_TOKEN": token, **dict(kv.split("=", 1) for kv in args.env)}
    room_args = ("--presenter-worker",) if args.presenter_worker else ()
    with serve_room(args.workers, tmp / "checkpoints", log, env, room_args) as room:
        yield room


def streamlit_pids(pid: int) -> list[int]:
    """The Streamlit servers of a room: pid itself with one worker, its workers with more."""
    found = []
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            if b"streamlit" in Path(f"/proc/{p}/cmdline").read_bytes():
                found.append(p)
    return found


def run_scenario(sc: Scenario, args, browser) -> Outcome:
    out = Outcome(sc, load_before=os.getloadavg())
    token = args.token or secrets.token_urlsafe(16)
    query = f"?presenter={token}"
    with tempfile.TemporaryDirectory(prefix="vae-load-") as tmp:
        tmp = Path(tmp)
        log = tmp / "room.log"
        with the_room(args, tmp, log, token) as (url, room_pid):
            if not sc.burst and not args.url:
                wait_warm(log, len(streamlit_pids(room_pid)))  # the presenter's worker too, when there is one
            probe = ServerProbe(room_pid) if room_pid else None
            spy = None
            if args.profile and room_pid:
                spy = start_py_spy(streamlit_pids(room_pid)[0], args.profile / f"{slug(sc.name)}.txt")
            stop_file, result_file = tmp / "stop", tmp / "audience.json"
            # The room stops when told (the stop file): after --seconds, and not before the presenter's clicks and
            # the training are done, so that every presenter click is timed under load; the cap bounds it anyway.
            audience_seconds = args.seconds + TRAIN_TIMEOUT
            audience = None
            if sc.n:
                audience = subprocess.Popen(
                    [sys.executable, "-m", "bench.load_audience", url, str(sc.n), "--arrival", str(sc.arrival),
                     "--seconds", str(audience_seconds), "--seed", str(args.seed), "--timeout", str(args.timeout),
                     "--stop-file", str(stop_file), "--out", str(result_file)], cwd=ROOT)
            start = time.perf_counter()
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            try:
                time.sleep(max(0.0, start + sc.arrival + args.settle - time.perf_counter()))  # the room is there
                if sc.training:
                    name = "load-bench"
                    t_train = time.perf_counter()
                    start_training(page, url, query, name, args.train_epochs, args.train_images)
                out.presenter, out.presenter_lost = presenter_clicks(page, url, query, args.clicks)
            except PlaywrightError as e:  # the training could not be started: a result too
                out.presenter_error = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
            finally:
                page.close()
            if sc.training and not out.presenter_error:
                ckpt = tmp / "checkpoints" / f"{name}.pt"
                if wait_checkpoint(ckpt, t_train + TRAIN_TIMEOUT):
                    out.training_wall = time.perf_counter() - t_train
                    time.sleep(1.0)  # the atomic save has renamed the file; let the job report
                    out.epochs = epoch_seconds(ckpt)
                else:
                    out.training_error = "did not finish"
            time.sleep(max(0.0, start + args.seconds - time.perf_counter()) if not sc.training else 0.0)
            stop_file.touch()
            if audience:
                try:
                    audience.wait(args.timeout + 120)  # its students finish the action under way
                except subprocess.TimeoutExpired:
                    audience.kill()
                    audience.wait()
                if result_file.exists():
                    out.audience = json.loads(result_file.read_text())
            if probe:
                probe.stop(out)
            out.load_after = os.getloadavg()
            if spy:
                stop_py_spy(spy)
            text = log.read_text(errors="replace")
            out.log_tail, out.server_tracebacks = text[-3000:], text.count("Traceback (most recent call last)")
    return out


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def start_py_spy(pid: int, out: Path) -> subprocess.Popen:
    """Sample the server's Python stacks (every thread that is not idle, 50 Hz, without pausing it) into `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "50", "--nonblocking", "--threads",
                             "--format", "raw", "--output", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl+C
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


# ---- the report ------------------------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ms(v: float) -> str:
    return "–" if v != v else f"{v * 1000:.0f}"


def audience_stats(out: Outcome) -> dict:
    students = out.audience.get("students", [])
    actions = [a for s in students for a in s["actions"]]
    done = [a["seconds"] for a in actions if a["seconds"] is not None and not a["kind"].startswith("open")]
    errors = Counter()
    for s in students:
        for e in s["errors"]:
            errors[e["kind"]] += 1
    for a in actions:
        if a["error"]:
            errors[a["error"]] += 1
    texts = Counter(e["text"] for s in students for e in s["errors"] if e["kind"] in ("exception", "st.error"))
    numpy = sum(c for t, c in texts.items() if "partially initialized" in t)
    polls = [p["seconds"] for s in students for p in s["polls"] if p["seconds"] is not None]
    return {"actions": actions, "clicks": done, "errors": errors, "texts": texts, "numpy": numpy, "polls": polls,
            "students": len(students), "cpu": out.audience.get("cpu", float("nan"))}


def action_counts(out: Outcome) -> dict[str, int]:
    """Actions the server ran in a scenario, by kind, named as bench/load_profile.py names its buckets: the
    audience's, the presenter's grid clicks and the pages its Chromium opened (the root, the grid; and the root
    once more to start a training)."""
    counts = Counter("open overview" if a["kind"] == "open" else a["kind"] for a in audience_stats(out)["actions"])
    counts["training poll"] = len(audience_stats(out)["polls"])
    counts["grid click"] += len(out.presenter)
    counts["open overview"] += 1 + out.scenario.training
    counts["open decoder_grid"] += 1
    return dict(counts)


def cpu_per_action(out: Outcome) -> float:
    """Median over WINDOW-second windows of (the room's CPU seconds in the window) / (audience actions it finished in
    the window), counting windows with at least 3 actions: what one action costs the server, all kinds together
    (opening a page, a click, a slider move), with its share of the event loop, garbage collection and media."""
    start, series = out.audience.get("start"), out.cpu_series
    if start is None or len(series) < 2:
        return float("nan")
    ends = sorted(start + a["t"] + a["seconds"] for a in audience_stats(out)["actions"] if a["seconds"] is not None)
    times, cpu = np.array([t for t, _ in series]), np.array([c for _, c in series])
    ratios = []
    for w0 in np.arange(times[0], times[-1] - WINDOW, WINDOW):
        n = int(np.searchsorted(ends, w0 + WINDOW) - np.searchsorted(ends, w0))
        if n >= 3:
            ratios.append(float(np.interp(w0 + WINDOW, times, cpu) - np.interp(w0, times, cpu)) / n)
    return float(np.median(ratios)) if ratios else float("nan")


def media_404s(out: Outcome) -> int:
    return sum(v for k, v in audience_stats(out)["errors"].items() if k == "media 404")


def opened(out: Outcome) -> int:
    """Students whose first page finished loading."""
    return sum(1 for s in out.audience.get("students", [])
               if s["actions"] and s["actions"][0]["kind"] == "open" and not s["actions"][0]["error"])


def loads(values: tuple) -> str:
    return " ".join(f"{v:.1f}" for v in values) if values else "–"


def report(outcomes: list[Outcome], args) -> str:
    lines = []
    alone = next((o for o in outcomes if o.scenario.training and o.scenario.n == 0), None)
    alone_epoch = float(np.mean(alone.epochs)) if alone and alone.epochs else float("nan")
    workers = "external room" if args.url else f"{args.workers}"
    lines.append("| room | workers | presenter grid click p50 / p95 ms | audience action p50 / p95 ms (n) | pages opened | "
                 "errors | timeouts | media 404s | server CPU s (% of 1 core) | RSS of all processes MB | "
                 "server CPU per audience action ms | load average before → after | training s/epoch |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        a = audience_stats(o)
        errors = sum(v for k, v in a["errors"].items() if k not in ("timeout", "media 404"))
        p = o.presenter
        pres = (f"{ms(pct(p, 50))} / {ms(pct(p, 95))}" + (f", {o.presenter_lost} lost" if o.presenter_lost else "")
                + (f" ({o.presenter_error})" if o.presenter_error else ""))
        epochs = ""
        if o.scenario.training:
            mean = float(np.mean(o.epochs)) if o.epochs else float("nan")
            epochs = " ".join(f"{e:.1f}" for e in o.epochs) or o.training_error
            if o.scenario.n and alone_epoch == alone_epoch:
                epochs += f" (×{mean / alone_epoch:.2f} alone)"
        lines.append(f"| {o.scenario.name} | {workers} | {pres} | {ms(pct(a['clicks'], 50))} / "
                     f"{ms(pct(a['clicks'], 95))} ({len(a['clicks'])}) | {opened(o)} / {o.scenario.n} | {errors}"
                     + (f" ({a['numpy']} numpy)" if a["numpy"] else "") + f" | {a['errors'].get('timeout', 0)} | "
                     f"{media_404s(o)} | {o.cpu_s:.0f} ({100 * o.cpu_s / max(o.wall_s, 1e-9):.0f}%) | "
                     f"{o.rss_peak_mb:.0f} | {ms(cpu_per_action(o))} | {loads(o.load_before[:1])} → "
                     f"{loads(o.load_after[:1])} | {epochs} |")
    lines.append("")
    lines.append("Per action type (audience; ms from rerun request to script_finished; KB received):")
    lines.append("")
    lines.append("| room | action | n | p50 | p95 | max | KB/action |")
    lines.append("|---|---|---|---|---|---|---|")
    for o in outcomes:
        a = audience_stats(o)
        kinds = sorted({x["kind"] for x in a["actions"]})
        for k in kinds:
            xs = [x for x in a["actions"] if x["kind"] == k]
            secs = [x["seconds"] for x in xs if x["seconds"] is not None]
            lines.append(f"| {o.scenario.name} | {k} | {len(xs)} | {ms(pct(secs, 50))} | {ms(pct(secs, 95))} | "
                         f"{ms(max(secs) if secs else float('nan'))} | {np.mean([x['bytes'] for x in xs]) / 1024:.0f} |")
        media = [m for st in o.audience.get("students", []) for m in st.get("media", [])]
        if media:
            secs = [m["seconds"] for m in media if not m["error"]]
            lines.append(f"| {o.scenario.name} | media GET (st.image) | {len(media)} | {ms(pct(secs, 50))} | "
                         f"{ms(pct(secs, 95))} | {ms(max(secs) if secs else float('nan'))} | "
                         f"{np.mean([m['bytes'] for m in media]) / 1024:.0f} |")
        if a["polls"]:
            lines.append(f"| {o.scenario.name} | training poll (auto-rerun) | {len(a['polls'])} | {ms(pct(a['polls'], 50))} "
                         f"| {ms(pct(a['polls'], 95))} | {ms(max(a['polls']))} | |")
    lines.append("")
    for o in outcomes:
        a = audience_stats(o)
        extra = [f"machine CPU busy {o.machine_busy:.0%} (steal {o.steal:.0%})", f"audience process CPU {a['cpu']:.0f} s",
                 f"scenario {o.wall_s:.0f} s", f"{o.processes} processes in the room"]
        if o.server_tracebacks:
            extra.append(f"**{o.server_tracebacks} tracebacks in the room's log**")
        if o.training_wall:
            extra.append(f"training start -> checkpoint {o.training_wall:.0f} s")
        lines.append(f"- {o.scenario.name}: " + ", ".join(extra))
        for text, count in a["texts"].most_common(5):
            lines.append(f"    - {count} × {text[:150]}")
        for kind, count in a["errors"].items():
            if kind not in ("exception", "st.error"):
                lines.append(f"    - {count} × {kind}")
    lines.append("")
    lines.append(f"Targets (issue 16, meant for 2 workers; this run: {workers}):")
    by_n = {o.scenario.n: o for o in outcomes if not o.scenario.training and not o.scenario.burst}
    checks = []
    if TARGETS["audience_p95_at"] in by_n:
        o = by_n[TARGETS["audience_p95_at"]]
        checks.append((f"audience p95 <= 1.0 s at {TARGETS['audience_p95_at']} students (s)",
                       pct(audience_stats(o)["clicks"], 95), TARGETS["audience_p95"]))
        checks.append((f"presenter grid-click p95 <= 300 ms at {TARGETS['presenter_p95_at']} students (ms)",
                       pct(o.presenter, 95) * 1000, TARGETS["presenter_p95"] * 1000))
    for o in outcomes:
        if o.scenario.n >= TARGETS["errors_at"] and not o.scenario.training:
            a = audience_stats(o)
            checks.append((f"{o.scenario.name}: errors + timeouts + media 404s", sum(a["errors"].values()), 0))
            checks.append((f"{o.scenario.name}: students without their page", o.scenario.n - opened(o), 0))
    if any(o.rss_peak_mb for o in outcomes):
        checks.append(("every process of the room together <= 3 GB RSS (peak over all rooms, MB)",
                       max(o.rss_peak_mb for o in outcomes), TARGETS["rss_mb"]))
    loaded = next((o for o in outcomes if o.scenario.training and o.scenario.n), None)
    if loaded and loaded.epochs and alone_epoch == alone_epoch:
        checks.append((f"training at most 2x slower with {loaded.scenario.n} sessions (ratio of mean epoch)",
                       float(np.mean(loaded.epochs)) / alone_epoch, TARGETS["training_slowdown"]))
    for name, value, limit in checks:
        lines.append(f"- {name}: {value:.2f} (target {limit:g}): {'met' if value <= limit else '**missed**'}")
    return "\n".join(lines)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    ram = _status_like(Path("/proc/meminfo"), "MemTotal") / 1024 / 1024
    return f"{os.cpu_count()} CPUs ({model}), {ram:.1f} GB RAM, load average " + \
        " ".join(f"{v:.2f}" for v in os.getloadavg())


def _status_like(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def scenarios(args) -> list[Scenario]:
    out = [Scenario(f"room of {n}", n, args.arrival) for n in args.n]
    if args.burst:
        out.append(Scenario(f"burst of {args.burst} at server start", args.burst, args.burst_within, burst=True))
    if args.training:
        if not args.skip_alone:
            out.append(Scenario("training alone", 0, 0.0, training=True))
        out.append(Scenario(f"training + room of {args.training_n}", args.training_n, args.arrival, training=True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[1, 15, 30, 60],
                        help="audience sizes of the rooms (default 1 15 30 60; none: only the other scenarios)")
    parser.add_argument("--seconds", type=float, default=60.0, help="audience activity per scenario (default 60)")
    parser.add_argument("--arrival", type=float, default=5.0, help="a room connects over this many seconds (default 5)")
    parser.add_argument("--settle", type=float, default=4.0,
                        help="after the arrival, seconds before the presenter starts (the room opens its pages)")
    parser.add_argument("--burst", type=int, default=None,
                        help="students connecting as soon as the room answers (default: the largest --n; 0: none)")
    parser.add_argument("--burst-within", type=float, default=10.0,
                        help="the burst connects within this many seconds of the room answering (default 10)")
    parser.add_argument("--workers", type=int, default=1,
                        help="Streamlit workers of each fresh room (vae-explorer room --workers N; default 1)")
    parser.add_argument("--presenter-worker", action="store_true",
                        help="fresh rooms with the presenter's own worker (vae-explorer room --presenter-worker)")
    parser.add_argument("--url", help="use this running room (http://127.0.0.1:PORT/) instead of starting one; its "
                                      "memory and CPU are measured only with --pid; no training scenarios")
    parser.add_argument("--pid", type=int, help="with --url: the room's top process (the launcher), to measure it")
    parser.add_argument("--token", help="with --url: the room's presenter token (vae-explorer room --token)")
    parser.add_argument("--clicks", type=int, default=20, help="presenter grid clicks per scenario (default 20)")
    parser.add_argument("--training", action="store_true", help="also: a training alone, and with --training-n students")
    parser.add_argument("--training-n", type=int, default=30)
    parser.add_argument("--skip-alone", action="store_true", help="no training-alone baseline (A/B runs)")
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=30.0, help="an action not finished after this is a timeout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="development: N = 1 and 5, 15 s, 5 presenter clicks, a burst of 5, a short training")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the server, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false to try a "
                             "Streamlit option (repeatable)")
    parser.add_argument("--json", type=Path, help="also write every raw result here")
    parser.add_argument("--profile", type=Path, help="sample the server with py-spy (pip install py-spy) into this "
                                                      "folder, one file of collapsed stacks per scenario")
    args = parser.parse_args()
    if args.quick:
        args.n, args.seconds, args.clicks, args.training_n = [1, 5], 15.0, 5, 5
        args.train_epochs, args.train_images = 2, 2000
        args.burst = 5 if args.burst is None else args.burst
    if args.burst is None:
        args.burst = 0 if args.url else max(args.n, default=0)
    if args.url and not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("--url: only a room on this machine (http://127.0.0.1:PORT/)")
    if args.url and (args.training or args.burst or not args.token):
        parser.error("--url: needs --token; no --training or --burst (they need a fresh room)")
    if max([*args.n, args.burst, args.training_n if args.training else 0]) > MAX_STUDENTS:
        parser.error(f"at most {MAX_STUDENTS} students per room")
    if not 0 < args.seconds <= MAX_SECONDS or not 1 <= args.workers <= 16:
        parser.error(f"--seconds: up to {MAX_SECONDS:.0f}; --workers: 1 to 16")
    print(f"machine: {machine()}")
    outcomes = []
    with chromium(viewport=(1600, 1000)) as page:
        browser = page.context.browser
        for sc in scenarios(args):
            t0 = time.perf_counter()
            out = run_scenario(sc, args, browser)
            outcomes.append(out)
            print(f"  {sc.name}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    print(f"after: load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print(report(outcomes, args))
    if args.profile:
        from bench.load_profile import summary

        print("\nWhere the server's time went (py-spy, bench/load_profile.py):\n")
        for o in outcomes:
            print(summary(args.profile / f"{slug(o.scenario.name)}.txt", action_counts(o)))
    if args.json:
        args.json.write_text(json.dumps([{**o.__dict__, "scenario": o.scenario.__dict__} for o in outcomes]))


if __name__ == "__main__":
    main()
