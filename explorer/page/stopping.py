"""Stopping a page once it has said why, without taking the sidebar with it.

navigation.py draws the sidebar after the page, so that a first view sends the page's picture first. st.stop() ends the
whole script run at Streamlit's next call, the sidebar's included: a page that stopped ("MNIST is not available",
"pick a model with a training film", the Anomalies page waiting for its scores) would lose the model picker the
visitor needs next. Pages stop with stop_page() instead: while navigation.py runs the page (`navigated()`), it raises
PageStopped, which navigation.py catches before drawing the sidebar; a page run on its own (AppTest) or a fragment's
rerun gets st.stop() as before."""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

_NAVIGATED: contextvars.ContextVar[bool] = contextvars.ContextVar("vae_page_navigated", default=False)


class PageStopped(Exception):  # noqa: N818 -- a signal, not an error: the page stopped as it meant to
    """A page stopped after showing its message (stop_page); navigation.py draws the sidebar, then the run ends."""


@contextmanager
def navigated() -> Iterator[None]:
    """navigation.py runs the page inside: stop_page() then raises PageStopped for it to catch."""
    token = _NAVIGATED.set(True)
    try:
        yield
    finally:
        _NAVIGATED.reset(token)


def stop_page() -> None:
    """End the page here, after its message: PageStopped under navigation.py, st.stop() otherwise."""
    if _NAVIGATED.get():
        raise PageStopped
    st.stop()
