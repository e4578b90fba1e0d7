"""The sidebar's room-mode panel: the presenter gets the audience link with a QR code to project; an audience session
gets a field to present the token (explorer.room.roles). Nothing is drawn outside room mode."""
from __future__ import annotations

import io

import segno
import streamlit as st

from explorer.room.roles import REFUSED, audience_url, is_presenter, present, room_mode


@st.cache_data(show_spinner=False, max_entries=4)
def qr_png(url: str) -> bytes:
    """The link as a QR code, large enough to scan from the back of a room when projected."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=8, border=2)
    return buf.getvalue()


def render_room_panel() -> None:
    if not room_mode():
        return
    if is_presenter():
        url = audience_url()
        with st.expander("Share with the room", expanded=False, icon=":material/qr_code_2:"):
            st.image(qr_png(url), caption="Scan to follow along", width="stretch")
            st.code(url, language=None)
            st.caption("Students who open this link explore every page; only this session (the presenter) can "
                       "train, cancel or delete models.")
        return
    with st.expander("Presenter?", expanded=False, icon=":material/key:"), st.form("room_token_form"):
        token = st.text_input("Presenter token", type="password", key="room_token",
                              help="Printed by `vae-explorer room` in the lecturer's terminal.")
        if st.form_submit_button("Present") and present(token):
            st.rerun(scope="app")
    if refused := st.session_state.get(REFUSED):
        st.caption(refused)  # not the token, or too many wrong ones tried
