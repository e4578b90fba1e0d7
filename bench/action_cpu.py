"""Server CPU per audience action (prints numbers; not a test): one student over Streamlit's websocket protocol
(bench/streamlit_client, the actions of bench/load_audience.py) does --n actions of each kind, one at a time, against
a fresh, warmed-up server in room mode; each action is charged the CPU time all the server's threads used between
its request and its script_finished plus --tail seconds (work Streamlit does after the run: its post-run GC, the
messages' sending), from /proc/<pid>/stat (utime + stime: it keeps the time of the script threads that have ended,
which per-thread counters lose). Its unit is a clock tick (10 ms), so the table gives each kind's mean (total over
the n actions) and its median and p90 in ticks.

Alone on the server, an action's CPU is what it costs the room: under load the same work queues behind the other
students' (bench/load.py measures that). Other processes on the machine do not enter the figure, but a busy machine
still inflates it (caches, frequency): note the load average it prints.

With --opens, opening each page from the sidebar (the other fifth of a room's actions) is measured too, n times each.

Run: VAE_DATA_DIR=../shared/data .venv/bin/python bench/action_cpu.py [--n 30] [--opens] [--env KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser_harness import serve_app  # noqa: E402 -- after the sys.path line
from bench.load import cpu_seconds, start_py_spy, stop_py_spy, wait_warm  # noqa: E402
from bench.load_audience import act  # noqa: E402
from bench.streamlit_client import StreamlitTab  # noqa: E402

PAGES = ("latent_map", "decoder_grid", "interpolation")


def server_pid(url: str) -> int:
    """The pid of the `streamlit run` serving `url` (the one process whose command line names its port)."""
    port = url.rstrip("/").rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone
            continue
        if b"--server.port" in args and args[args.index(b"--server.port") + 1:][:1] == [port.encode()]:
            return int(proc.name)
    raise RuntimeError(f"no streamlit process serves {url}")


def cpu_ms(pid: int) -> float:
    """CPU time of a process so far (every thread, the ended ones included)."""
    return cpu_seconds([pid]) * 1000


async def settle(pid: int, quiet_ms: float = 30.0, limit: float = 120.0) -> None:
    """Until the server has used less than quiet_ms of CPU in a second (its warm-up's later steps, e.g. the training
    imports, run in a background thread after the warm-up's log line), or `limit` seconds."""
    for _ in range(int(limit)):
        before = cpu_ms(pid)
        await asyncio.sleep(1.0)
        if cpu_ms(pid) - before < quiet_ms:
            return


async def measure(url: str, pid: int, n: int, tail: float, seed: int, pages=PAGES) -> dict[str, list[float]]:
    rng = random.Random(seed)
    tab = StreamlitTab(url, timeout=60)
    await tab.open()
    out: dict[str, list[float]] = {}
    for page in pages:
        await tab.navigate(page)
        await settle(pid)
        for _ in range(n + 2):  # the first two warm the page's caches and are not counted
            before = cpu_ms(pid)
            result = await act(tab, page, rng)
            await asyncio.sleep(tail)
            if result.error:
                raise RuntimeError(f"{result.kind}: {result.error}")
            out.setdefault(result.kind, []).append(cpu_ms(pid) - before)
        out[result.kind] = out[result.kind][2:]
    await tab.close()
    return out


async def measure_opens(url: str, pid: int, n: int, tail: float, pages=PAGES) -> dict[str, list[float]]:
    """CPU of opening each page from the sidebar (a fifth of a room's actions), n times each, in turn."""
    tab = StreamlitTab(url, timeout=60)
    await tab.open()
    for page in pages:  # the first open of each warms its caches and is not counted
        await tab.navigate(page)
    await settle(pid)
    out: dict[str, list[float]] = {}
    for _ in range(n):
        for page in pages:
            before = cpu_ms(pid)
            result = await tab.navigate(page)
            await asyncio.sleep(tail)
            if result.error:
                raise RuntimeError(f"open {page}: {result.error}")
            out.setdefault(f"open {page}", []).append(cpu_ms(pid) - before)
    await tab.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="actions of each kind (default 30)")
    parser.add_argument("--tail", type=float, default=0.3, help="seconds after script_finished still charged")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pages", nargs="+", default=PAGES, choices=PAGES)
    parser.add_argument("--opens", action="store_true", help="also measure opening each page from the sidebar")
    parser.add_argument("--profile", type=Path, help="also sample the server with py-spy into this file (raw stacks)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra server environment")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="vae-action-cpu-") as tmp:
        env = {"VAE_PRESENTER_TOKEN": secrets.token_urlsafe(12), **dict(kv.split("=", 1) for kv in args.env)}
        log = Path(tmp) / "streamlit.log"
        with serve_app(Path(tmp) / "checkpoints", log, env=env) as (url, _):
            wait_warm(log, workers=1)
            pid = server_pid(url)
            spy = start_py_spy(pid, args.profile) if args.profile else None
            found = asyncio.run(measure(url, pid, args.n, args.tail, args.seed, args.pages))
            if args.opens:
                found |= asyncio.run(measure_opens(url, pid, args.n, args.tail, args.pages))
            if spy:
                stop_py_spy(spy)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| action | n | median ms | mean ms | p90 ms |\n|---|---|---|---|---|")
    every = []
    for kind, values in found.items():
        every += values
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"| {kind} | {len(values)} | {statistics.median(values):.1f} | {statistics.mean(values):.1f} | {p90:.1f} |")
    print(f"| all | {len(every)} | {statistics.median(every):.1f} | {statistics.mean(every):.1f} | "
          f"{statistics.quantiles(every, n=10)[-1]:.1f} |")


if __name__ == "__main__":
    main()
