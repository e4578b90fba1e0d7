"""The sidebar's model picker and the card describing the chosen model. The pick is resolved here, once per run and
before the page, into the ModelKey the page uses (explorer.model.choice); the picker is drawn after the page."""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.choice import choose, chosen
from explorer.model.files import DEFAULT_CHECKPOINT, delete_model, is_shipped, list_checkpoints
from explorer.model.link import publish_model, release_linked_model, select_linked_model
from explorer.page.public_text import public
from explorer.room.roles import is_presenter

PICKER = "sidebar_checkpoint"  # the picker's widget key: the selected checkpoint path
PENDING = "sidebar_pending_checkpoint"  # a path to select on the next full run (a freshly trained model)


class Pick(NamedTuple):
    """The picker's choices this run and why the picked model was replaced by the default (None if it was not)."""
    paths: list[str]
    problem: str | None


def pick_model() -> Pick:
    """Resolve this run's pick into the ModelKey the page uses (explorer.model.choice); before the page runs, while the
    picker itself is drawn after it (render_picker), so that the page's picture is the first thing sent."""
    select_linked_model(PICKER)  # a session opened from a link (?model=beta4) starts on the link's model
    pending = st.session_state.pop(PENDING, None)
    paths = [str(p) for p in list_checkpoints()]
    if pending and pending in paths:
        st.session_state[PICKER] = pending
    if st.session_state.get(PICKER) not in paths:
        st.session_state[PICKER] = str(DEFAULT_CHECKPOINT)
    problem = choose(st.session_state[PICKER])
    publish_model(chosen().path)  # every page's link names the model it shows
    return Pick(paths, problem)


def render_picker(pick: Pick) -> None:
    """The picker, then the card of the model in use (or why the picked one is not)."""
    st.selectbox("Model", pick.paths, key=PICKER, format_func=label, on_change=release_linked_model,
                 help="The shipped models (the default, β = 4 and conv) plus every model trained since on this "
                      "server.")  # no folder named: the projector and the room's phones see this text
    if pick.problem:
        st.error(public(pick.problem), icon=":material/warning:")
    _model_card()
    if is_presenter() and not is_shipped(st.session_state[PICKER]):
        _delete_button(Path(st.session_state[PICKER]))


def select_next_run(path: str) -> None:
    """Select `path` in the picker on the next full run (a model this session just trained)."""
    st.session_state[PENDING] = path


def label(path: str) -> str:
    return f"{Path(path).stem} (shipped)" if is_shipped(path) else Path(path).stem


def _model_card() -> None:
    try:
        ckpt = cache.load_model(chosen())
    except (vc.CheckpointError, OSError) as e:
        st.error(public(f"The shipped default model cannot be loaded: {e}"), icon=":material/error:")
        return
    mc, tc = ckpt.model_config, ckpt.train_config
    test_loss = ckpt.metrics.get("test_loss", ckpt.history[-1]["test_loss"] if ckpt.history else math.nan)
    epochs = tc.epochs if tc else len(ckpt.history)
    upright = ", deskewed" if mc.deskew else ""
    lines = [f"**{mc.arch.upper()}** ({mc.activation}{upright}), hidden {' × '.join(map(str, mc.hidden))}, "
             f"latent {mc.latent_dim}-D",
             f"**{epochs}** epoch{'' if epochs == 1 else 's'}"
             + (f" on {tc.train_subset:,} images" if tc and tc.train_subset else "")
             + (f", β = {tc.beta:g}" if tc and tc.beta != 1 else ""),
             f"test −ELBO **{test_loss:.1f}** nats/image"]
    st.markdown("  \n".join(lines))


def _delete_button(path: Path) -> None:
    """Delete the picked (trained) model, after a confirmation; the presenter only (not drawn for anyone else)."""
    with st.popover("Delete this model…", icon=":material/delete:", width="stretch"):
        st.markdown(f"Delete **{path.stem}** for everyone? This cannot be undone.")
        if st.button(f"Yes, delete {path.stem}", key="sidebar_delete_confirm", type="primary"):
            try:
                delete_model(path)
            except (OSError, PermissionError) as e:
                st.error(public(f"Not deleted: {e}"), icon=":material/error:")
                return
            select_next_run(str(DEFAULT_CHECKPOINT))
            st.toast(f"Deleted {path.stem}.")
            st.rerun(scope="app")
