"""Heavy computations shared by the whole server (an IWAE over the test digits, anomaly scoring, a calibration fit):
each runs once per key for every session, one at a time, in one background worker thread.

A session that asks for a computation submits it (or finds it already queued, running or done) and waits for it,
showing its progress and its place in the queue (explorer.page.job_progress); a session that stops waiting (a click
reruns its page) leaves the computation running for the others. Results live in this module, not in Streamlit's
caches, so a `clear_cache` does not throw hours of work away. A failed computation may be submitted again.

Across the processes of a room (`vae-explorer room --workers N`) and across restarts, the results of the kinds
registered with explorer.cache.result_store are kept on disk: a job whose result is stored is done at once, and
exactly one process computes a key at a time (a lock file per key). A process whose job another worker is
computing waits for that result (`Job.elsewhere`, with the other's progress), and computes it itself if that
worker dies first."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from explorer.cache import result_store

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(eq=False)
class Job:
    """One shared computation. `run(progress)` computes the result; progress(done, total) reports how far it is.
    `run` is None for a job seen computing in another process, until a session that may start it submits it."""
    key: Hashable
    title: str
    run: Callable[[Callable[[int, int], None]], Any] | None
    state: str = QUEUED
    done: int = 0
    total: int = 0
    result: Any = None
    error: BaseException | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    elsewhere: bool = False  # running: computed by another worker process of this room, its result awaited here

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
ELSEWHERE_POLL = 0.5  # seconds between two looks at a result another process computes


def find(key: Hashable) -> Job | None:
    """The job of this key (queued, running, done or failed), or None if nobody asked for it yet: in this process,
    or on disk (a stored result: done; another process computing it: running, watched from here)."""
    with _lock:
        job = _jobs.get(key)
    if job is not None and job.state != FAILED:
        return job
    return _from_store(key) or job  # a job that failed here may have been computed by another process since


def _from_store(key: Hashable) -> Job | None:
    entry = result_store.entry(key)
    if entry is None:
        return None
    result = entry.load()
    if result is not result_store.MISSING:
        return _register(Job(key, str(key[0]), None, state=DONE, result=result))
    progress = entry.computing_elsewhere()
    if progress is None:
        return None
    return _register(Job(key, progress["title"], None), queue=True)


def _register(job: Job, queue: bool = False) -> Job:
    """Keep a job found on disk, unless this process registered one of its key meanwhile (then that one)."""
    with _lock:
        mine = _jobs.get(job.key)
        if mine is not None and mine.state != FAILED:
            return mine
        _jobs[job.key] = job
        if queue:
            _enqueue(job)
        return job


def is_done(key: Hashable) -> bool:
    job = find(key)
    return job is not None and job.state == DONE


def submit(key: Hashable, title: str, run: Callable) -> Job:
    """The job of this key, queued now unless it is already queued, running or done (a failed one is queued again);
    done at once when its result is stored on disk. A job seen running in another process gets `run`, so this
    process computes it if that one stops."""
    with _lock:
        job = _jobs.get(key)
        if job is not None and job.state != FAILED:
            if job.run is None:
                job.run, job.title = run, title
            return job
    found = _from_store(key)
    if found is not None:
        with _lock:
            if found.run is None and not found.finished:
                found.run, found.title = run, title
        return found
    with _lock:
        job = _jobs.get(key)
        if job is not None and job.state != FAILED:
            return job
        job = _jobs[key] = Job(key, title, run)
        _enqueue(job)
        return job


def _enqueue(job: Job) -> None:
    """Queue a job and make sure the worker runs (under _lock)."""
    global _worker
    _queue.append(job)
    if _worker is None or not _worker.is_alive():
        _worker = threading.Thread(target=_work, name=WORKER_NAME, daemon=True)
        _worker.start()
    _lock.notify_all()


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
    """Drop the finished jobs whose key passes `test` from this process (their stored results stay on disk: asked
    again, they are loaded from there)."""
    with _lock:
        for key in [k for k, j in _jobs.items() if j.finished and test(k)]:
            del _jobs[key]


def _start(job: Job) -> None:
    """Mark a job taken off the queue as running (under _lock, so no one sees it neither queued nor running)."""
    job.state, job.started = RUNNING, time.monotonic()


def _execute(job: Job) -> None:
    try:
        entry = result_store.entry(job.key)
        result = _compute(job) if entry is None else _compute_once(job, entry)
        error, state = None, DONE
    except BaseException as e:  # noqa: BLE001 -- a failed job is reported to whoever waits for it
        result, error, state = None, e, FAILED
        logging.getLogger(__name__).warning("shared computation %r failed: %s: %s", job.title, type(e).__name__, e)
    with _lock:
        job.result, job.error, job.state = result, error, state
        _lock.notify_all()


def _compute(job: Job) -> Any:
    if job.run is None:
        raise RuntimeError("the computation stopped in another worker of this room before it finished; "
                           "it can be started again")
    return job.run(job.progress)


def _compute_once(job: Job, entry: result_store.Entry) -> Any:
    """The job's result from disk, or computed here while this process holds its lock (and then stored), or, while
    another process holds it, awaited: the result that process stores, or the lock once it dies."""
    while True:
        with entry.lock() as mine:
            if mine:
                job.elsewhere = False
                result = entry.load()  # stored by a process that held the lock before this one
                if result is not result_store.MISSING:
                    return result
                return _compute_published(job, entry)
        result = entry.load()  # stored before the other process let its lock go
        if result is not result_store.MISSING:
            return result
        job.elsewhere = True
        progress = entry.progress()
        if progress is not None:
            job.done, job.total = progress["done"], progress["total"]
            job.started = time.monotonic() - max(0.0, time.time() - progress["started"])
        time.sleep(ELSEWHERE_POLL)


def _compute_published(job: Job, entry: result_store.Entry) -> Any:
    """Compute the job here, its progress written for the other processes; store the result if it succeeds."""
    started = time.time()

    def progress(done: int, total: int) -> None:
        job.progress(done, total)
        entry.publish(job.title, done, total, started)

    if job.run is None:
        return _compute(job)  # watched only, and its process stopped: says so
    entry.publish(job.title, 0, 0, started, force=True)
    try:
        result = job.run(progress)
        entry.save(result)
        return result
    finally:
        entry.unpublish()


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
