"""Heavy computations shared by the whole server (an IWAE over the test digits, anomaly scoring, a calibration fit):
each runs once per key for every session, one at a time, in one background worker thread.

A session that asks for a computation submits it (or finds it already queued, running or done) and waits for it,
showing its progress and its place in the queue (explorer.page.job_progress); a session that stops waiting (a click
reruns its page) leaves the computation running for the others. Results live in this module, not in Streamlit's
caches, so a `clear_cache` does not throw hours of work away. A failed computation may be submitted again."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(eq=False)
class Job:
    """One shared computation. `run(progress)` computes the result; progress(done, total) reports how far it is."""
    key: Hashable
    title: str
    run: Callable[[Callable[[int, int], None]], Any]
    state: str = QUEUED
    done: int = 0
    total: int = 0
    result: Any = None
    error: BaseException | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


_lock = threading.Condition()
_jobs: dict[Hashable, Job] = {}  # every job of this server by key: queued, running, done or failed
_queue: list[Job] = []  # waiting to run, in order
_worker: threading.Thread | None = None
WORKER_NAME = "shared-computations"
# Cached calls (explorer.cache) made in the worker warn once each that they run outside a page ("missing
# ScriptRunContext"): expected there.
_CONTEXT_LOGGER = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")


def find(key: Hashable) -> Job | None:
    """The job of this key (queued, running, done or failed), or None if nobody asked for it yet."""
    with _lock:
        return _jobs.get(key)


def is_done(key: Hashable) -> bool:
    job = find(key)
    return job is not None and job.state == DONE


def submit(key: Hashable, title: str, run: Callable) -> Job:
    """The job of this key, queued now unless it is already queued, running or done (a failed one is queued again)."""
    global _worker
    with _lock:
        job = _jobs.get(key)
        if job is not None and job.state != FAILED:
            return job
        job = _jobs[key] = Job(key, title, run)
        _queue.append(job)
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name=WORKER_NAME, daemon=True)
            _worker.start()
        _lock.notify_all()
        return job


def place(job: Job) -> int:
    """0 while it runs or is finished, else how many jobs run or wait before it (1 = it runs next)."""
    with _lock:
        if job.state != QUEUED:
            return 0
        return _queue.index(job) + (1 if any(j.state == RUNNING for j in _jobs.values()) else 0)


def wait(job: Job, on_update: Callable[[Job], None] | None = None, poll: float = 0.25) -> Any:
    """The job's result, once it is done; on_update(job) is called every `poll` seconds meanwhile (a page's progress
    bar: a Streamlit rerun request interrupts the wait there, never the job). A failed job raises what it raised. In
    the worker thread itself (a job that needs another's result), a queued job is run at once instead of waited for."""
    if threading.current_thread() is _worker:
        with _lock:
            inline = job in _queue
            if inline:
                _queue.remove(job)
                _start(job)
        if inline:
            _execute(job)
    while True:
        with _lock:
            if not job.finished:
                _lock.wait(poll)
        if job.finished:
            break
        if on_update is not None:
            on_update(job)
    if job.state == FAILED:
        raise job.error  # what the computation raised: the same for every session that waited for it
    return job.result


def run(key: Hashable, title: str, compute: Callable) -> Any:
    """submit, then wait: the result of this shared computation, computed once for the whole server."""
    return wait(submit(key, title, compute))


def forget(test: Callable[[Hashable], bool]) -> None:
    """Drop the finished jobs whose key passes `test` (tests start from a clean state with it)."""
    with _lock:
        for key in [k for k, j in _jobs.items() if j.finished and test(k)]:
            del _jobs[key]


def _start(job: Job) -> None:
    """Mark a job taken off the queue as running (under _lock, so no one sees it neither queued nor running)."""
    job.state, job.started = RUNNING, time.monotonic()


def _execute(job: Job) -> None:
    try:
        result, error, state = job.run(job.progress), None, DONE
    except BaseException as e:  # noqa: BLE001 -- a failed job is reported to whoever waits for it
        result, error, state = None, e, FAILED
        logging.getLogger(__name__).warning("shared computation %r failed: %s: %s", job.title, type(e).__name__, e)
    with _lock:
        job.result, job.error, job.state = result, error, state
        _lock.notify_all()


def _work() -> None:
    """The worker: runs the queued jobs one after the other, for as long as the server runs."""
    _CONTEXT_LOGGER.setLevel(logging.ERROR)
    while True:
        with _lock:
            while not _queue:
                _lock.wait()
            job = _queue.pop(0)
            _start(job)
        _execute(job)
