"""The sidebar every page shares: the model picker and its card, retraining, and in room mode the link for the
room or the presenter's token field. Drawn by navigation.py once per full run, before the page, so the page finds
the chosen model's key (explorer.model.choice)."""
from __future__ import annotations

import streamlit as st

from explorer.model.picker import render_picker
from explorer.room.panel import render_room_panel
from explorer.room.roles import claim_from_url
from explorer.shell.presentation import render_toggle
from explorer.training.panel import render_training


def render_sidebar() -> None:
    """Written where the caller is (`with st.sidebar:`)."""
    claim_from_url()  # first: a ?presenter=<token> link decides what the rest of the sidebar offers
    render_picker()
    st.divider()
    render_training()
    render_room_panel()
    render_toggle()
