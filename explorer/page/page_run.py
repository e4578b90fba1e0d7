"""A page's run under navigation.py, which draws the sidebar after the page so that a first view sends the page's
picture first (docs/performance.md, First view). Two things would otherwise lose or hold back the sidebar:

- st.stop() ends the whole script run at Streamlit's next call, so a page that stopped ("MNIST is not available",
  "pick a model with a training film", the class map before it is revealed) would take the model picker with it, the
  picker its visitor needs next. Pages stop with stop_page(): inside page_run() it raises PageStopped, which ends the
  page and not the run; a page run on its own (AppTest) or a fragment's rerun gets st.stop() as before.
- A page that waits for a shared computation (explorer.page.job_progress) would keep the sidebar back for as long:
  before it waits, it calls sidebar_now(), which draws the sidebar at once (into its own container, out of order).
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st


class PageStopped(Exception):  # noqa: N818 -- a signal, not an error: the page stopped as it meant to
    """A page stopped after showing its message (stop_page); page_run() ends the page there."""


class PageRun:
    """One run of a page: whether it stopped, and the sidebar, drawn once."""

    def __init__(self, draw_sidebar: Callable[[], None]) -> None:
        self._draw_sidebar = draw_sidebar
        self.sidebar_drawn = False
        self.stopped = False

    def sidebar(self) -> None:
        if not self.sidebar_drawn:
            self.sidebar_drawn = True
            self._draw_sidebar()


_RUN: contextvars.ContextVar[PageRun | None] = contextvars.ContextVar("vae_page_run", default=None)


@contextmanager
def page_run(draw_sidebar: Callable[[], None]) -> Iterator[PageRun]:
    """navigation.py runs the page inside: a stop_page() ends the page (run.stopped), and the sidebar is drawn when
    the page has ended, however it ended -- or earlier, if the page called sidebar_now()."""
    run = PageRun(draw_sidebar)
    token = _RUN.set(run)
    try:
        yield run
    except PageStopped:
        run.stopped = True
    finally:
        _RUN.reset(token)
        run.sidebar()


def stop_page() -> None:
    """End the page here, after its message: PageStopped inside page_run(), st.stop() otherwise."""
    if _RUN.get() is not None:
        raise PageStopped
    st.stop()


def sidebar_now() -> None:
    """Draw the sidebar now if navigation.py has not yet (a page about to wait); nothing otherwise."""
    run = _RUN.get()
    if run is not None:
        run.sidebar()
