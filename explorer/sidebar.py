"""The sidebar every page shares: checkpoint picker, model card, retraining form. (Minimal first version.)"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from .checkpoints import DEFAULT_CHECKPOINT, list_checkpoints

STATE_KEY = "sidebar_checkpoint"


def selected_checkpoint() -> tuple[str, float]:
    """(path, mtime) of the checkpoint the user picked, or of the shipped default."""
    path = Path(st.session_state.get(STATE_KEY) or DEFAULT_CHECKPOINT)
    if not path.exists():
        path = DEFAULT_CHECKPOINT
    return str(path), path.stat().st_mtime


def render_sidebar() -> None:
    paths = [str(p) for p in list_checkpoints()]
    with st.sidebar:
        st.selectbox("Checkpoint", paths, key=STATE_KEY, format_func=lambda p: Path(p).stem)
