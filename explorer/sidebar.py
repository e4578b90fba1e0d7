"""The sidebar every page shares: the model picker and its card, then retraining. Drawn by navigation.py once per
full run, before the page, so the page finds the chosen model's key (explorer.model_choice)."""
from __future__ import annotations

import streamlit as st

from .model_picker import render_picker
from .training_panel import render_training


def render_sidebar() -> None:
    """Written where the caller is (`with st.sidebar:`)."""
    render_picker()
    st.divider()
    render_training()
