"""The audience of bench/load.py: N students, each one Streamlit tab over the websocket protocol (bench/streamlit_client),
run by asyncio in a process of its own so that its CPU is not the bench's and can be reported apart.

Each student arrives at a seeded random moment within `arrival` seconds, opens the app's root, follows the sidebar
links to the latent map and then the decoder grid, and then, every 2-3 s (seeded), does one thing on the page it is
on -- a click on a latent-map dot, a click on a decoder-grid cell, a move of the interpolation t slider -- or, with
probability SWITCH, opens one of the other two pages instead. It stops at `seconds` after the audience started.
Every action is timed from its rerun request to its script_finished; every exception element, st.error box,
disconnect and action that does not finish within `timeout` is recorded with its time.

Run by bench/load.py: python -m bench.load_audience URL N --arrival 5 --seconds 60 --seed 0 --out results.json
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.streamlit_client import Result, StreamlitTab, figure_traces, selection_json  # noqa: E402

PAGES = ("latent_map", "decoder_grid", "interpolation")
THINK = (2.0, 3.0)  # seconds between two actions of one student (uniform)
SWITCH = 0.2  # chance that an action is opening another page rather than using the one shown
VAE_SHARE = 0.8  # of latent-map clicks on the VAE map; the rest on the PCA map beside it


async def act(tab: StreamlitTab, page: str, rng: random.Random) -> Result:
    """One click or slider move on `page`, as its frontend component would report it."""
    if page == "latent_map":
        chart = tab.widget("latent_vae_chart_" if rng.random() < VAE_SHARE else "latent_pca_chart_")
        if chart is None:
            return Result("map click", None, "widget missing")
        traces = figure_traces(chart)
        curve = rng.randrange(10)  # one trace per digit class
        index = rng.randrange(len(traces[curve]["x"]))
        return await tab.set_widget("map click", chart, string_value=selection_json(traces, curve, index))
    if page == "decoder_grid":
        chart = tab.widget("grid_chart")
        if chart is None:
            return Result("grid click", None, "widget missing")
        traces = figure_traces(chart)
        cells = len(traces) - 1  # the invisible click layer is the last trace
        return await tab.set_widget("grid click", chart,
                                    string_value=selection_json(traces, cells, rng.randrange(len(traces[cells]["x"]))))
    slider = tab.widget("interp_t")
    if slider is None:
        return Result("t slider", None, "widget missing")
    return await tab.set_widget("t slider", slider, double_array_value=[round(rng.uniform(0.0, 1.0), 2)])


async def student(number: int, url: str, rng: random.Random, delay: float, deadline: Deadline, timeout: float,
                  start: float) -> dict:
    await asyncio.sleep(delay)
    tab = StreamlitTab(url, timeout=timeout)
    actions = []

    def record(result: Result) -> bool:
        """Keep the result, stamped with when it was sent (seconds since the audience started)."""
        sent = time.perf_counter() - (result.seconds if result.seconds is not None else timeout) - start
        actions.append({"kind": result.kind, "t": round(sent, 3), "seconds": result.seconds, "error": result.error,
                        "bytes": result.bytes})
        return not result.error

    try:
        ok = record(await tab.open())
    except Exception as e:  # noqa: BLE001 -- a refused connection is a result of the load, not a bench crash
        tab.errors.append((time.perf_counter(), "connect failed", f"{type(e).__name__}: {e}"))
        ok = False
    page = ""
    for first in ("latent_map", "decoder_grid"):
        if ok and not tab.closed:
            ok, page = record(await tab.navigate(first)), first
    while ok and not tab.closed and deadline.left() > 0:
        think = rng.uniform(*THINK)
        while think > 0 and deadline.left() > 0:  # a stop file ends the pause too
            await asyncio.sleep(min(think, 0.5))
            think -= 0.5
        if deadline.left() <= 0 or tab.closed:
            break
        if rng.random() < SWITCH:
            page = rng.choice([p for p in PAGES if p != page])
            record(await tab.navigate(page))
        else:
            record(await act(tab, page, rng))
    await tab.close()
    return {"student": number, "arrived": round(delay, 3), "actions": actions,
            "errors": [{"t": round(t - start, 3), "kind": k, "text": text} for t, k, text in tab.errors],
            "polls": [{"seconds": p.seconds, "error": p.error} for p in tab.polls], "received": tab.received,
            "media": [{"seconds": m.seconds, "error": m.error, "bytes": m.bytes} for m in tab.media]}


class Deadline:
    """When the students stop: `seconds` after the start, or as soon as `stop_file` exists."""

    def __init__(self, seconds: float, stop_file: Path | None):
        self.at, self.stop_file = time.perf_counter() + seconds, stop_file

    def left(self) -> float:
        return self.at - time.perf_counter()

    async def watch(self) -> None:
        while self.stop_file is not None and self.left() > 0:
            if self.stop_file.exists():
                self.at = time.perf_counter()
                return
            await asyncio.sleep(0.5)


async def audience(url: str, n: int, arrival: float, seconds: float, seed: int, timeout: float,
                   stop_file: Path | None = None) -> list[dict]:
    start = time.perf_counter()
    rngs = [random.Random(seed * 100_003 + k) for k in range(n)]
    delays = sorted(rng.uniform(0.0, arrival) for rng in rngs)
    deadline = Deadline(seconds, stop_file)
    watcher = asyncio.create_task(deadline.watch())
    students = await asyncio.gather(*(student(k, url, rngs[k], delays[k], deadline, timeout, start)
                                      for k in range(n)))
    watcher.cancel()
    return students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("--arrival", type=float, default=5.0, help="students connect within this many seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="the students stop acting after this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="an action not finished after this is a timeout")
    parser.add_argument("--stop-file", type=Path, help="the students also stop as soon as this file exists")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not args.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise SystemExit("the audience only connects to a server on this machine")
    wall = time.perf_counter()
    students = asyncio.run(audience(args.url, args.n, args.arrival, args.seconds, args.seed, args.timeout,
                                    args.stop_file))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    args.out.write_text(json.dumps({"students": students, "wall": time.perf_counter() - wall, "start": wall,
                                    "cpu": usage.ru_utime + usage.ru_stime}))


if __name__ == "__main__":
    main()
