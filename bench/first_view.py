"""First view of a fresh server, side by side with its floor (prints numbers; not a test): seconds from opening
/latent_map on a server that has just answered /_stcore/health to its VAE scatter drawn in headless Chromium (the
WebGL layer of its first chart holding >= 2000 drawn pixels), against the same for bench/floor_page.py, a bare
Streamlit page that draws one 10k-point scattergl. Rounds alternate app / floor, each on a fresh server and a fresh
browser page (no cached bundles: a new browser context each); the ratio is of the medians.

With --profile, each page load is also profiled over Chrome's DevTools protocol (the browser's main thread, from
opening the page to the scatter drawn) and split into Plotly's bundle and charts, the rest of the page's scripts and
the browser's own work -- where the gap to the floor is spent. The profiler slows the page a little: time and
profile are best read from separate runs.

Run: VAE_DATA_DIR=../shared/data .venv/bin/python bench/first_view.py [--rounds 3] [--profile]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser_harness import GL_PIXELS_JS, chromium, free_port  # noqa: E402 -- after the sys.path line

SLOW = 180_000  # ms
DRAWN = f"() => ({GL_PIXELS_JS})(0) >= 2000"


@contextlib.contextmanager
def serve(script: str, checkpoints: Path, log: Path, timeout: float = 90.0):
    """`streamlit run <script>` on a free loopback port, as bench.browser_harness.serve_app runs app.py."""
    port = free_port()
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(checkpoints), "VAE_WARM_ANOMALY_SCORES": "0"}
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.address",
           "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url, start = f"http://127.0.0.1:{port}", time.perf_counter()
            while True:
                with contextlib.suppress(OSError):
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                if proc.poll() is not None or time.perf_counter() - start > timeout:
                    raise RuntimeError(f"{script} did not come up:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def first_view(browser, script: str, path: str, profile: bool = False) -> tuple[float, dict | None]:
    """(seconds from opening `path` on a fresh server of `script` to its first chart's points drawn, the browser
    main thread's busy seconds by kind over that time if `profile`, else None)."""
    with tempfile.TemporaryDirectory(prefix="vae-first-view-") as tmp, \
            serve(script, Path(tmp) / "checkpoints", Path(tmp) / "streamlit.log") as url:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        if profile:
            cdp = context.new_cdp_session(page)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 500})  # microseconds
            cdp.send("Profiler.start")
        t0 = time.perf_counter()
        page.goto(f"{url}/{path}")
        page.wait_for_function(DRAWN, timeout=SLOW, polling="raf")
        seconds = time.perf_counter() - t0
        split = busy_by_kind(cdp.send("Profiler.stop")["profile"]) if profile else None
        context.close()
        return seconds, split


def busy_by_kind(profile: dict) -> dict[str, float]:
    """Seconds of a DevTools CPU profile by what ran: Plotly's chunk (its bundle and charts), the page's other
    scripts (Streamlit's React app), the browser's own work (layout, style, paint, GC: "(program)", "(root)" and
    "(garbage collector)"); idle time left out."""
    nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    kinds = collections.Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[sample]
        if frame["functionName"] == "(idle)":
            continue
        name = frame["url"].rsplit("/", 1)[-1]
        kind = ("Plotly" if name.startswith("PlotlyChart") else "scripts" if name
                else "browser" if frame["functionName"] in ("(program)", "(garbage collector)", "(root)") else "scripts")
        kinds[kind] += delta / 1e6
    return {"busy": sum(kinds.values()), **kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile the browser's main thread")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    times = {"app": [], "floor": []}
    with chromium() as page:
        browser = page.context.browser
        for _ in range(args.rounds):
            for name, script, path in (("app", "app.py", "latent_map"), ("floor", "bench/floor_page.py", "")):
                seconds, split = first_view(browser, script, path, args.profile)
                times[name].append(seconds)
                shown = f" (main thread {', '.join(f'{k} {v:.2f} s' for k, v in split.items())})" if split else ""
                print(f"  {name} {seconds:.2f} s{shown}", file=sys.stderr, flush=True)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    app, floor = statistics.median(times["app"]), statistics.median(times["floor"])
    print(f"/latent_map first view: median {app:.2f} s ({', '.join(f'{t:.2f}' for t in times['app'])})")
    print(f"floor page first view:  median {floor:.2f} s ({', '.join(f'{t:.2f}' for t in times['floor'])})")
    print(f"ratio: {app / floor:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
