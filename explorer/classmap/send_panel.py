"""The student's side of the class map, under the Draw page's canvas: send the digit shown (drawn or uploaded, already
checked and encoded by the page), then "sent -- you are here". The store enforces the limits and says why it refuses;
a database that fails shows one sentence, the same for every failure (the presenter's page says why)."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from explorer.classmap.board import UNAVAILABLE, board
from explorer.classmap.drawing import make_drawing
from explorer.classmap.store import Accepted, ClassMapUnavailable
from explorer.room import session_pace

SENT = "classmap_sent"  # session state: {fingerprint of a sent digit: (drawing id, state, z)}
NOTE = "classmap_note"  # session state: (fingerprint, why the last send was refused)
PAGE = "pages/class_map.py"


def _fingerprint(x: np.ndarray) -> str:
    return hashlib.md5(np.asarray(x, dtype=np.float32).tobytes()).hexdigest()


def _send(key, x: np.ndarray, seen: dict, fingerprint: str) -> None:
    b = board()
    try:
        result = b.add(make_drawing(key, x, seen, b.settings.hold_above))
    except ClassMapUnavailable:
        st.session_state[NOTE] = (fingerprint, UNAVAILABLE)
        return
    if isinstance(result, Accepted):
        st.session_state.setdefault(SENT, {})[fingerprint] = (result.id, result.state, tuple(seen["mu"]))
        st.session_state.pop(NOTE, None)
    else:
        st.session_state[NOTE] = (fingerprint, result.reason)


def send_panel(where, key, x: np.ndarray, seen: dict) -> None:
    """In `where` (the column under the canvas): the send button for digit x (784,) in [0, 1] that
    cache.drawn_digit encoded to `seen`, or what became of it once sent."""
    with where:
        _panel(key, x, seen)


@session_pace.fragment
def _panel(key, x: np.ndarray, seen: dict) -> None:
    """A fragment of its own: pressing Send reruns this panel, not the Draw page's map and pictures around it."""
    fingerprint = _fingerprint(x)
    sent = st.session_state.get(SENT, {})
    with st.container(key="classmap_send"):
        if fingerprint in sent:
            drawing_id, state, z = sent[fingerprint]
            st.success(f"**Sent — you are here:** ★ at z = ({z[0]:+.2f}, {z[1]:+.2f}), drawing #{drawing_id}."
                       + (" It waits for the presenter to look at it before it goes on the map."
                          if state == "held" else ""), icon=":material/where_to_vote:")
            st.caption("To send another, clear the canvas and draw a new digit (one every few seconds).")
        else:
            st.button("Send to the class map", key="classmap_send_button", icon=":material/send:",
                      on_click=_send, args=(key, x, seen, fingerprint),  # sent before this run draws the panel
                      help="Your digit joins the class's drawings on the presenter's latent map. Only the 28×28 "
                           "digit, where it lands and its scores are kept; nothing about you.")
            note = st.session_state.get(NOTE)
            if note and note[0] == fingerprint:
                st.warning(note[1], icon=":material/schedule_send:")
        if sent and board().refresh().status.revealed:
            st.page_link(PAGE, label="Watch the class map", icon=":material/scatter_plot:")
