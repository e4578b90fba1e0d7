"""A CPU budget per audience session in a room: a student who sends rerun after rerun waits, and the room does not.

Every view a student asks for is a script run in the worker, and a student speaking Streamlit's websocket protocol
can ask for a new view (a new grid to decode) as fast as the server answers, holding a core that the rest of the
room shares. So each audience session has a token bucket of CPU seconds in its session state: it holds at most
BURST seconds, refills at RATE seconds per second, and every script run of the session -- a full run (navigation.py
runs the page inside `paced_run`) and the rerun of a fragment (`fragment`: a visitor's action or a poll) -- is
charged the CPU time its thread spent (`time.thread_time`: this session's own work, not the other sessions' runs in
other threads, nor the time it waited for the interpreter lock). A run that starts with the bucket overdrawn first
says so in one short toast (unless the wait is too short to notice) and sleeps, at most MAX_WAIT seconds, until the
bucket is back to zero, then runs. Nested runs (a fragment's first run inside the page's run) are charged once, by
the outer run. The presenter, and every session
outside room mode, is never paced.

Why these numbers: a student's action costs the server 10-80 ms of CPU (docs/room.md, *Load*: ~25 ms per action in
a room), and a real student acts at most every second or two: 0.08 s of CPU a second at the busiest, a third of
RATE, so the bucket never drains. The costliest thing a real student does is the first open of a page for a model
the worker has not cached yet (its latents, figures and pictures): 1-2 s, within BURST, and the bucket is full again
12 s later. A flood of new views (0.6 s of CPU each for a 40 x 40 decoder grid) is held to BURST + RATE x its
duration: after its first BURST seconds, a quarter of one core, however fast it sends. The measurements are in
docs/room.md, *Limits*.
"""
from __future__ import annotations

import contextvars
import functools
import math
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from explorer.room.roles import is_presenter

RATE = 0.25  # CPU seconds a second an audience session may spend on average
BURST = 3.0  # CPU seconds it may spend at once (the bucket's size)
MAX_WAIT = 10.0  # seconds a run waits at most before it runs anyway
TOLD_FROM = 0.5  # seconds: a shorter wait is not announced (its toast would outlast it)
BUCKET = "session_pace_bucket"  # session state: this session's Bucket

_METERING: contextvars.ContextVar[bool] = contextvars.ContextVar("vae_session_pace", default=False)


@dataclass
class Bucket:
    """CPU seconds a session may still spend (negative: overdrawn), as of the clock time `at`."""
    level: float = BURST
    at: float | None = None

    def refill(self, now: float) -> None:
        """Add what RATE has refilled since `at`, up to BURST."""
        if self.at is not None:
            self.level = min(BURST, self.level + RATE * max(0.0, now - self.at))
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until the bucket is back to zero (0 when it is not overdrawn), at most MAX_WAIT."""
        self.refill(now)
        return min(MAX_WAIT, max(0.0, -self.level / RATE))

    def charge(self, cpu_seconds: float, now: float) -> None:
        """Take a run's CPU time out of the bucket."""
        self.refill(now)
        self.level -= max(0.0, cpu_seconds)


def bucket_for(state: MutableMapping, presenter: bool) -> Bucket | None:
    """This session's bucket, kept in its session state; None for a session that is never paced (the presenter,
    and everyone outside room mode, whom roles.is_presenter counts as the presenter)."""
    if presenter:
        return None
    bucket = state.get(BUCKET)
    if not isinstance(bucket, Bucket):
        bucket = state[BUCKET] = Bucket()
    return bucket


@contextmanager
def metered(bucket: Bucket | None, tell: Callable[[float], None], clock: Callable[[], float] = time.monotonic,
            cpu: Callable[[], float] = time.thread_time, sleep: Callable[[float], None] = time.sleep
            ) -> Iterator[None]:
    """One run of a session: wait first if its bucket is overdrawn (after `tell`ing it how long, if at least
    TOLD_FROM), then charge the run's CPU time, however the run ends (a rerun or a stop interrupts it with an
    exception). Inside another metered run, or without a bucket, it does nothing: the outer run's charge holds the
    inner one's CPU."""
    if bucket is None or _METERING.get():
        yield
        return
    token = _METERING.set(True)
    start = cpu()
    try:
        wait = bucket.wait(clock())
        if wait >= TOLD_FROM:
            tell(wait)
        if wait > 0:
            sleep(wait)
        yield
    finally:
        bucket.charge(cpu() - start, clock())
        _METERING.reset(token)


def _tell(wait: float) -> None:
    st.toast(f"Many changes at once: this view waits {math.ceil(wait)} s", icon=":material/hourglass_top:")


def paced_run():
    """Meter this session's run (a context manager): navigation.py runs every page inside it."""
    return metered(bucket_for(st.session_state, is_presenter()), _tell)


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """`st.fragment` whose reruns are metered like a page's runs: those a visitor's action starts (a slider, a click,
    a button) and those on a timer (`run_every`, a poll). A client decides when it asks for a poll's rerun, so a
    poll is paced too; a real student's polls (every 2-5 s, ~20 ms each) never drain the bucket. Used as
    `@fragment` or `@fragment(run_every=2.0)`."""
    if func is None:
        return functools.partial(fragment, run_every=run_every)

    @functools.wraps(func)
    def paced(*args, **kwargs):
        with paced_run():
            return func(*args, **kwargs)
    return st.fragment(paced, run_every=run_every)
