"""The model in every page's link (?model=<file stem>): read into the sidebar picker on a session's first run, and the
model shown written back on every run, so any page's link opens on the same model.

The sidebar is drawn before the page (navigation.py), so the link's model is selected in the picker before anything
is drawn from it. A bad name falls back to the default with one notice, and the address bar then names the default:
the page's own `url_state.restore`, later in the same run, finds a valid model and does not repeat the notice."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import url_state as us
from .model_files import DEFAULT_CHECKPOINT

READ = "model_link_read"  # session state: this session's link was read (once: the picker owns the model after that)
PARAM = "model"


def select_linked_model(picker_key: str) -> None:
    """On the session's first run, put the link's model (a checkpoint path) into the picker's session-state key; an
    unknown name selects the default, with a notice. Call before the picker is drawn."""
    if st.session_state.get(READ):
        return
    st.session_state[READ] = True
    if PARAM not in st.query_params:
        return
    schema = us.Schema("app", {PARAM: us.model_field(us.model_names())})
    values, notices = us.parse(schema, {PARAM: st.query_params.get_all(PARAM)})
    st.session_state[picker_key] = str(us.checkpoint_named(values[PARAM]) or DEFAULT_CHECKPOINT)
    for notice in notices:
        st.toast(notice, icon=":material/link_off:")


def model_name(path: str | Path) -> str:
    """A checkpoint's name in a link: its file's stem (`default` for the shipped one)."""
    return Path(path).stem


def publish_model(path: str | Path) -> None:
    """Name the model shown (not merely picked: one that fails to load is replaced by the default) in the address bar."""
    name = model_name(path)
    if st.query_params.get_all(PARAM) != [name]:
        st.query_params[PARAM] = name
