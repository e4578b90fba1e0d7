"""Where the server's time goes under load: a summary of the py-spy profile (collapsed stacks, `--threads --format raw`)
that bench/load.py --profile records of the streamlit process, one file per scenario.

Samples are of threads that were not idle (running Python or native code, or waiting for the GIL), 50 per second,
so a bucket's thread-seconds can exceed the CPU seconds the server used; samples whose innermost frame is a wait
(select, a condition, a queue, a sleep) are left out. Each sample is put in one bucket: a script
run by what it ran -- a full run (a page opened) by its page, a fragment run by its fragment function (a grid click
reruns grid_and_cell, a latent-map click maps_and_selection, the t slider frame_at_t, the training poll
_progress_body) -- or the event loop (MainThread: websocket traffic, starting script threads), the training thread,
the warm-up, other threads. Within a bucket, what the app's own code calls is ranked: the deepest frame of the app
(pages, navigation.py, explorer/, vae_core/) and the library function it called there, by inclusive samples. Last,
inside st.plotly_chart (every scenario's biggest library cost), which of its steps take the time.

Run: .venv/bin/python bench/load_profile.py PROFILE.txt [--top 8]
"""
from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

RATE = 50  # samples per second (bench/load.py's py-spy --rate)
FRAGMENTS = {"_progress_body": "training poll", "grid_and_cell": "grid click", "cell_view": "z slider",
             "maps_and_selection": "map click", "frame_at_t": "t slider"}
PAGES = ("latent_map", "decoder_grid", "interpolation", "overview")
APP_FILE = re.compile(r"\((?:pages/)?(?:latent_map|decoder_grid|interpolation|overview|navigation|app)\.py:"
                      r"|\((?:explorer|vae_core)/")
LINE = re.compile(r"^(.*) (\d+)$")


# Leaf functions of a thread that waits (py-spy --nonblocking does not always tell them idle).
WAITS = {"EpollSelector.select", "Condition.wait", "Event.wait", "Queue.get", "PollingPathWatcher._schedule.<locals>.task",
         "_worker", "sleep"}


def bucket(thread: str, frames: list[str]) -> str | None:
    """What a sample of a thread was doing, from its stack (outermost first); None for a thread that only waits."""
    names = [f.split(" (", 1)[0] for f in frames]
    if not names or names[-1] in WAITS:
        return "event loop: blocked starting a script thread" if "ScriptRunner.start" in names else None
    if "ScriptRunner._run_script_thread" in names:
        if any(f.startswith("<module> (navigation.py") for f in frames):
            page = next((p for f in frames for p in PAGES if f.startswith(f"<module> ({p}.py")
                         or f.startswith(f"<module> (pages/{p}.py")), None)
            return f"full run: open {page}" if page else "full run: navigation + sidebar (every page open)"
        fragment = next((n for n in names if n in FRAGMENTS), None)
        return f"fragment run: {fragment} ({FRAGMENTS[fragment]})" if fragment else "script thread: start/finish"
    if "vae_core/train.py" in " ".join(frames) or any("TrainingJob._run" in n for n in names):
        return "training thread"
    if "warm_up" in names or "_run_and_log" in names:
        return "warm-up thread"
    if "MainThread" in thread:
        return "event loop (MainThread)"
    return "other threads"


def app_call(frames: list[str]) -> str | None:
    """'deepest app frame -> the function it called' for one stack (None if no app code is on it)."""
    for i in range(len(frames) - 1, -1, -1):
        if APP_FILE.search(frames[i]):
            callee = frames[i + 1].split(" (", 1)[0] if i + 1 < len(frames) else "(itself)"
            return f"{frames[i]} -> {callee}"
    return None


def load(path: Path) -> dict:
    totals, calls, plotly = Counter(), defaultdict(Counter), Counter()
    for line in path.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if not m:
            continue
        stack, count = m.group(1).split(";"), int(m.group(2))
        thread, frames = stack[0], stack[1:]  # the first entry names the thread
        b = bucket(thread, frames)
        if b is None:
            continue
        totals[b] += count
        call = app_call(frames)
        if call:
            calls[b][call] += count
        names = [f.split(" (", 1)[0] for f in frames]
        if "PlotlyMixin.plotly_chart" in names:
            i = names.index("PlotlyMixin.plotly_chart")
            step = names[i + 1] if i + 1 < len(names) else "(itself)"
            plotly[step if step != "gather_metrics.<locals>.wrapped_func" else "(itself)"] += count
    return {"totals": totals, "calls": calls, "plotly": plotly}


def summary(path: Path, actions: dict[str, int] | None = None, top: int = 8, min_share: float = 0.015) -> str:
    """The profile in a few lines per bucket; `actions`: how many actions of each kind the scenario made (e.g.
    {"map click": 55, "open latent_map": 31}), to give thread-milliseconds per action."""
    data = load(path)
    totals = data["totals"]
    n = sum(totals.values()) or 1
    out = [f"{path.name}: {n / RATE:.0f} thread-seconds of non-idle samples"]
    for b, c in totals.most_common():
        if c / n < min_share:
            continue
        kind = next((k for k in (actions or {}) if k in b), None)
        per = f", {c / RATE * 1000 / actions[kind]:.0f} ms per {kind} ({actions[kind]})" if kind and actions[kind] else ""
        out.append(f"  {c / n:5.1%} {c / RATE:6.1f} s  {b}{per}")
        for call, k in data["calls"][b].most_common(top):
            if k / c >= 0.03:
                out.append(f"          {k / c:5.1%}  {call}")
    plotly = data["plotly"]
    if plotly:
        total = sum(plotly.values())
        out.append(f"  inside st.plotly_chart ({total / RATE:.1f} s, {total / n:.0%} of all):")
        for step, k in plotly.most_common(top):
            out.append(f"          {k / total:5.1%}  {step}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    for p in args.profiles:
        print(summary(p, top=args.top))


if __name__ == "__main__":
    main()
