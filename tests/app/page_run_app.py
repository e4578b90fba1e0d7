"""AppTest harness: a page run as navigation.py runs one (explorer.page.page_run), its steps and the sidebar's drawing
logged in order. The query's `do` picks the page: "end" (runs to its end), "stop" (stop_page) or "wait" (waits for a
shared computation that takes a moment)."""
import threading
import time

import streamlit as st

from explorer.cache import jobs
from explorer.page.job_progress import await_job
from explorer.page.page_run import page_run, stop_page

log = st.session_state.setdefault("log", [])
log.clear()


def draw_sidebar() -> None:
    log.append("sidebar")
    st.sidebar.markdown("the sidebar")


def slow(progress) -> str:
    time.sleep(0.3)
    return "computed"


with page_run(draw_sidebar) as run:
    log.append("page starts")
    do = st.query_params.get("do", "end")
    if do == "stop":
        st.info("The page says why it stops.")
        stop_page()
        log.append("after stop")
    elif do == "wait":
        log.append(f"waited for {await_job(jobs.submit(('page-run-test', threading.get_ident()), 'A test', slow))}")
    log.append("page ends")
log.append(f"stopped: {run.stopped}")
