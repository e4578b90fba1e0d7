"""The sidebar every page shares: the model picker and its card, retraining, and in room mode the link for the
room or the presenter's token field. navigation.py resolves the pick before the page (the page finds the chosen
model's key, explorer.model.choice) and draws the sidebar after it, so that a first view sends the page's picture
before the sidebar's widgets (docs/performance.md, First view)."""
from __future__ import annotations

import streamlit as st

from explorer.model.picker import Pick, pick_model, render_picker
from explorer.room.panel import render_room_panel
from explorer.room.roles import claim_from_url
from explorer.shell.presentation import render_toggle
from explorer.training.panel import render_training


def choose_model() -> Pick:
    """Before the page: the session's role and the model the page shows."""
    claim_from_url()  # first: a ?presenter=<token> link decides what the rest of the sidebar offers
    return pick_model()


def render_sidebar(pick: Pick) -> None:
    """Written where the caller is (`with st.sidebar:`), after the page."""
    render_picker(pick)
    st.divider()
    render_training()
    render_room_panel()
    render_toggle()
