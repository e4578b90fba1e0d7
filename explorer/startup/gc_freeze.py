"""Keep Python's cyclic garbage collector from stalling the server on every click.

The app's heap holds ~500k long-lived objects (torch, Plotly, scikit-learn, Streamlit itself). Each click or
slider move allocates enough to trigger a full (generation-2) collection, and CPython then walks that whole heap
with the GIL held, so the server sends nothing while it runs: a pause of hundreds of milliseconds, most of the
latency of a grid click or a t-slider release.

`gc.freeze()` moves every object alive now into a permanent generation that collections skip (the technique
CPython documents for long-lived servers); objects are still freed by reference counting, and anything allocated
later is collected as usual. It runs once per page and server process, after that page's first complete run, so
the modules and cached models that page pulled in are frozen too (at most one freeze per page).
"""
from __future__ import annotations

import gc

import streamlit as st


@st.cache_resource(show_spinner=False)
def freeze_long_lived_objects(page: str) -> bool:
    """Collect garbage, then exempt everything still alive from future collections. Returns True (a value for the
    cache); not gc.get_freeze_count(), which walks the whole frozen heap with the GIL held, on the first page a fresh
    server serves, while that page is being sent (docs/performance.md, Speed workarounds)."""
    gc.collect()
    gc.freeze()
    return True
