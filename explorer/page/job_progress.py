"""A page waiting for a shared computation (explorer.cache.jobs): a progress bar with its place in the queue and how
far it is, the same for every session that asked; or, when this session may not start it, what the presenter can do."""
from __future__ import annotations

import time

import streamlit as st

from explorer.cache import jobs
from explorer.page.page_run import sidebar_now
from explorer.page.public_text import public
from explorer.room.roles import is_presenter


def status(job: jobs.Job) -> tuple[float, str]:
    """(fraction done, the sentence under the bar) of a queued or running job."""
    place = jobs.place(job)
    if job.state == jobs.QUEUED:
        if place == 0:
            return 0.0, f"{job.title}: starting"
        ahead = "1 computation" if place == 1 else f"{place} computations"
        return 0.0, f"{job.title}: number {place + 1} in this server's queue, after {ahead} (one runs at a time)"
    seconds = time.monotonic() - (job.started or job.submitted)
    if job.elsewhere:
        so_far = f"{job.done:,} of {job.total:,} done, " if job.total else ""
        return (job.done / job.total if job.total else 0.0,
                f"{job.title}: computing in another worker of this room, {so_far}{seconds:.0f} s so far "
                "(shared by every visitor)")
    if job.total:
        return (job.done / job.total,
                f"{job.title}: {job.done:,} of {job.total:,} done, {seconds:.0f} s so far (shared by every visitor)")
    return 0.0, f"{job.title}: running for {seconds:.0f} s (shared by every visitor)"


def await_job(job: jobs.Job):
    """The job's result; meanwhile a progress bar here. A click elsewhere on the page reruns it and leaves the job
    running for everyone."""
    if job.state == jobs.DONE:
        return job.result
    sidebar_now()  # the wait may be long: the sidebar, drawn after the page otherwise, does not wait with it
    bar = st.progress(*status(job))
    try:
        return jobs.wait(job, lambda j: bar.progress(*status(j)))
    finally:
        bar.empty()


def presenter_can_compute(what: str) -> None:
    """What an audience session sees instead of a button that would start a long computation."""
    st.info(f"**{what} is not computed on this server yet.** The presenter can compute it (once, for everyone).",
            icon=":material/hourglass_empty:")


def may_score(key) -> bool:
    """May this session start a model's anomaly scoring? The presenter may (anyone outside room mode); so may anyone
    for the default model, which the server scores at start-up anyway. A room's audience otherwise waits for the
    presenter: each other model costs minutes of the server's CPU."""
    from explorer.cache.anomaly_scores import is_default

    return is_presenter() or is_default(key)


def await_all(specs: list[tuple], may_start: bool, what: str) -> bool:
    """Wait for the shared computations `specs` ((job key, title, compute), in order), first starting those nobody
    started if `may_start`. True once all are done; else False with a message shown (the presenter can compute
    them, or why one failed)."""
    # submitted even when found: a job seen running in another worker then gets its computation, to take over
    found = [jobs.submit(*spec) if may_start else jobs.find(spec[0]) for spec in specs]
    for job in found:
        if job is None or job.state == jobs.FAILED and not may_start:
            presenter_can_compute(what)
            return False
        try:
            await_job(job)
        except Exception as e:  # noqa: BLE001 -- the job's own error, shown without paths
            st.error(public(f"**{job.title} failed:** {type(e).__name__}: {e}"), icon=":material/error:")
            return False
    return True
