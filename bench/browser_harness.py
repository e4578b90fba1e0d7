"""Start the app on 127.0.0.1 and drive it with Debian's Chromium through Playwright (used by bench/ and by tests/browser:
bench code never imports test modules). Never downloads a browser: it uses /usr/bin/chromium."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# The last flag resolves no address but localhost and 127.0.0.1: a test's or benchmark's browser reaches this machine
# only, whatever a page asks for (tests/browser/test_phone_in_browser.py checks that pages ask no other machine).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]


def free_port() -> int:
    """A port the OS had free a moment ago: another process may take it before the server binds it (serve_app
    retries then)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED = "URL: http://127.0.0.1:{port}"  # what `streamlit run` prints once it listens on the port
PORT_TAKEN = "is not available"  # what it logs when the port was taken first (it then exits)


@contextlib.contextmanager
def serve_app(checkpoint_dir: Path, log_path: Path, env: dict | None = None, timeout: float = 60.0,
              attempts: int = 5):
    """Run `streamlit run app.py` on a free loopback port; yields (base_url, seconds until healthy).

    A port is only known free until someone binds it, so the server is asked for one and this waits until the server
    itself says it listens there (its log line, not just an answer on the port, which another server could give);
    a port taken in between is retried with another."""
    # no anomaly scoring at start-up unless asked: it would take the CPU the test or benchmark is measuring
    # and a room data folder of its own beside the checkpoints: a fresh server, with no results stored by another
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(checkpoint_dir), "VAE_WARM_ANOMALY_SCORES": "0",
           "VAE_ROOM_DATA_DIR": str(Path(checkpoint_dir).parent / "room-data"), **(env or {})}
    start = time.perf_counter()
    for _ in range(attempts):
        port = free_port()
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = _wait_until_serving(proc, port, Path(log_path), start, timeout)
            if url is None:  # the port was taken before the server bound it: another one
                continue
            yield url, time.perf_counter() - start
            return
        finally:
            _stop(proc)
    raise RuntimeError(f"streamlit found no free port in {attempts} attempts; see {log_path}")


def _wait_until_serving(proc, port: int, log_path: Path, start: float, timeout: float) -> str | None:
    """The server's url once it says it listens on `port` and answers its health check; None if the port was taken."""
    url = f"http://127.0.0.1:{port}"
    while True:
        text = log_path.read_text(errors="replace")
        if proc.poll() is not None:
            if PORT_TAKEN in text:
                return None
            raise RuntimeError(f"streamlit exited (code {proc.returncode}); see {log_path}:\n{text[-2000:]}")
        if STARTED.format(port=port) in text:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    return url
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"streamlit did not come up in {timeout:.0f} s; see {log_path}:\n{text[-2000:]}")
        time.sleep(0.2)


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def chromium_browser():
    """A headless Chromium (Playwright's Browser), from the Debian package; pages come from its new_page()."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium(viewport=(1600, 1000)):
    """A headless Chromium page (Playwright), from the Debian package."""
    with chromium_browser() as browser:
        yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})


# ---- driving the pages (Streamlit + Plotly specifics) -----------------------------------------------------------

NAV = '[data-testid="stSidebarNav"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'
MAIN_PLOTS = '[data-testid="stMain"] .js-plotly-plot'  # the page's charts (the sidebar has a colour key)
# Page coordinates of point k of trace t in the i-th Plotly chart of the page.
POINT_JS = """([i, t, k]) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  const fl = el._fullLayout, d = el._fullData[t], r = el.getBoundingClientRect();
  return [r.left + fl.xaxis._offset + fl.xaxis.l2p(d.x[k]), r.top + fl.yaxis._offset + fl.yaxis.l2p(d.y[k])]; }"""
N_TRACES_JS = "(i) => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i]._fullData.length"
# How many pixels the WebGL layer of the i-th Plotly chart has drawn (Plotly keeps the drawing buffer, so it can be read).
GL_PIXELS_JS = """(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  const c = el && el.querySelector('canvas.gl-canvas-context');
  if (!c || !c.width || !c.height) return 0;
  const o = document.createElement('canvas'); o.width = c.width; o.height = c.height;
  const g = o.getContext('2d'); g.drawImage(c, 0, 0);
  const d = g.getImageData(0, 0, o.width, o.height).data;
  let n = 0; for (let p = 3; p < d.length; p += 4) if (d[p] > 0) n++;
  return n; }"""


def wait_idle(page, timeout_ms: float = 60_000) -> None:
    """Until no script run is under way (Streamlit marks the app root with its script state)."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)


# Counts the app's script runs that start from now on (Streamlit marks the app root with its script state).
# Counts the app's runs from now on: any change in the document while the app root says a script runs. The whole
# document is watched, not the root element alone, because React may replace the root during a run (an observer on
# the old element would never see the run end). A page that navigated has a new window with no counter: its own
# first run came after the action, so a missing counter counts as a run.
ARM_RUNS_JS = """() => { window.__runs = 0; if (window.__runObserver) window.__runObserver.disconnect();
  window.__runObserver = new MutationObserver(() => {
    const root = document.querySelector('[data-testid=stApp]');
    if (root && root.getAttribute('data-test-script-state') !== 'notRunning') window.__runs++; });
  window.__runObserver.observe(document.documentElement, {attributes: true, childList: true, subtree: true}); }"""
RAN_JS = """() => (window.__runs === undefined || window.__runs > 0)
  && !!document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')"""


@contextlib.contextmanager
def rerun_of(page, timeout_ms: float = 60_000):
    """Around an action that makes the app rerun: waits until no run is under way, then, on leaving, until a run that
    started after the action began has finished -- not for "idle", which is also the state before the rerun starts.

    The first wait matters: an action taken while a run is under way makes Streamlit restart that run, and the app
    root stays "running" throughout, so no new run would be seen to start."""
    wait_idle(page, timeout_ms)
    page.evaluate(ARM_RUNS_JS)
    yield
    page.wait_for_function(RAN_JS, timeout=timeout_ms, polling=50)


def open_page(page, base_url: str, slug: str | None = None, timeout_ms: float = 90_000, query: str = "") -> None:
    """Open the root (with `query`, e.g. "?presenter=<token>"), then (if slug) follow the sidebar link to /slug, as a
    user would."""
    page.goto(f"{base_url}/{query}")
    page.wait_for_selector(NAV, timeout=timeout_ms)
    if slug:
        page.locator(f'{NAV} a[href$="/{slug}"]').click()
        page.wait_for_url(re.compile(rf"/{slug}(\?|$)"), timeout=timeout_ms)  # a page's address holds its view's query


def point_position(page, chart: int, trace: int, point: int) -> tuple[float, float]:
    """Viewport (x, y) of a point of a Plotly chart, after scrolling the chart into view."""
    page.locator(MAIN_PLOTS).nth(chart).scroll_into_view_if_needed()
    x, y = page.evaluate(POINT_JS, [chart, trace, point])
    return x, y


# Arms a flag that Plotly's next hover event on the i-th chart sets (Plotly picks the point a click selects on hover).
ARM_HOVER_JS = """(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  el.__hovered = false; el.once('plotly_hover', () => { el.__hovered = true; }); }"""
HOVERED_JS = "(i) => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i].__hovered === true"


def click_point(page, chart: int, trace: int, point: int, timeout_ms: float = 30_000) -> tuple[float, float]:
    """Hover a Plotly point and wait until Plotly has picked it (its hover event), then click it; returns where it
    clicked. The mouse leaves the chart first, so the move onto the point is a new hover even if it was there."""
    x, y = point_position(page, chart, trace, point)
    page.mouse.move(0, 0)
    page.evaluate(ARM_HOVER_JS, chart)
    page.mouse.move(x, y)
    page.wait_for_function(HOVERED_JS, arg=chart, timeout=timeout_ms)
    page.mouse.click(x, y)
    return x, y


def n_traces(page, chart: int) -> int:
    return page.evaluate(N_TRACES_JS, chart)


def gl_pixels(page, chart: int) -> int:
    return page.evaluate(GL_PIXELS_JS, chart)


def wait_plot(page, chart: int = 0, timeout_ms: float = 90_000) -> None:
    """Until the chart-th Plotly chart on the page has been drawn (Plotly's bundle is loaded lazily)."""
    page.wait_for_function("(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];"
                           " return !!(el && el._fullData && el._fullLayout); }", arg=chart, timeout=timeout_ms)
