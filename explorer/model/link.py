"""The model in every page's link (?model=<file stem>): read into the sidebar picker on a session's first run, and the
model shown written back on every run, so any page's link opens on the same model.

The pick is resolved before the page (navigation.py, explorer.model.picker.pick_model), so the link's model is in the
picker's state before anything is drawn from it. A bad name falls back to the default with one notice, and the address
bar then names the default: the page's own `url_state.restore`, later in the same run, finds a valid model and does
not repeat the notice."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.page import url_state as us

LINKED = "model_link_linked"  # session state: the ?model= values of the address the session was opened with
READ = "model_link_read"  # session state: the link's model was put into the picker (once: the picker owns it after)
OWNS = "model_link_owns"  # session state: the picker shows the link's model still, not one picked in the browser
PARAM = "model"


def note_linked_model() -> None:
    """Keep the address's ?model= as the session's first run starts (navigation.py, before the page list is shown).
    The picker is drawn only after torch is imported -- seconds into a fresh server's first run -- and a page clicked
    before then starts a run whose address has lost the query (a browser test clicked that fast)."""
    if LINKED not in st.session_state:
        st.session_state[LINKED] = st.query_params.get_all(PARAM)


def select_linked_model(picker_key: str) -> None:
    """On the session's first run, put the link's model (a checkpoint path) into the picker's session-state key; an
    unknown name selects the default, with a notice. Call before the picker is drawn."""
    if st.session_state.get(READ):
        if st.session_state.get(OWNS) and picker_key in st.session_state:
            # Sent with the widget again until the user picks: a value set in a first run that a quick page click cut
            # short never reached the browser (it drops the messages of a run it left), whose picker then showed the
            # default and sent it back on the next run (2 of 5 runs of tests/browser/test_shared_link_in_browser.py).
            # Not after a pick: sending the value every run made picks flaky (2 of 10 runs of test_room_in_browser.py).
            st.session_state[picker_key] = st.session_state[picker_key]
        return
    st.session_state[READ] = True
    linked = st.session_state.get(LINKED, st.query_params.get_all(PARAM))  # noted, or (no navigation.py) the address
    if not linked:
        return
    schema = us.Schema("app", {PARAM: us.model_field(us.model_names())})
    values, notices = us.parse(schema, {PARAM: linked})
    st.session_state[picker_key] = str(us.checkpoint_named(values[PARAM]) or DEFAULT_CHECKPOINT)
    st.session_state[OWNS] = True
    for notice in notices:
        st.toast(notice, icon=":material/link_off:", duration=us.NOTICE_DURATION)


def release_linked_model() -> None:
    """The picker's on_change: the user picked a model in the browser, which holds the picker's value from now on."""
    st.session_state[OWNS] = False


def model_name(path: str | Path) -> str:
    """A checkpoint's name in a link: its file's stem (`default` for the shipped one)."""
    return Path(path).stem


def publish_model(path: str | Path) -> None:
    """Name the model shown (not merely picked: one that fails to load is replaced by the default) in the address bar."""
    name = model_name(path)
    if st.query_params.get_all(PARAM) != [name]:
        st.query_params[PARAM] = name
