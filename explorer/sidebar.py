"""The sidebar every page shares: checkpoint picker, model card, retraining form and its live progress.

Pages call `selected_checkpoint()` (or `current_model()`); a checkpoint that cannot be loaded is reported
with st.error and replaced by the shipped default, so no page crashes on a broken file.
"""
from __future__ import annotations

import math
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

import vae_core as vc

from . import cache
from .checkpoints import DEFAULT_CHECKPOINT, checkpoint_dir, list_checkpoints
from .training_job import RANGES, TrainingAlreadyRunning, TrainingJob, validate_request

STATE_KEY = "sidebar_checkpoint"  # the picker's widget key: the selected checkpoint path
PENDING_KEY = "sidebar_pending_checkpoint"  # a path to select on the next full run (a freshly trained model)
MY_JOB_KEY = "sidebar_my_job"  # id of the training this session started
REPORTED_KEY = "sidebar_reported_error"  # the load error the sidebar already showed in this run
POLL_SECONDS = 1.0


@st.cache_resource
def training_job() -> TrainingJob:
    """The one training job of this server process, shared by every browser session."""
    return TrainingJob()


def _try_load(path: Path) -> str | None:
    """None if the checkpoint at path loads (cached per path + mtime), else the reason it does not."""
    try:
        cache.load_model(*cache.checkpoint_key(path))
    except vc.CheckpointError as e:
        return str(e)
    except OSError as e:  # vanished between listing and stat
        return f"{path} cannot be read: {e}"
    return None


def _resolve() -> tuple[Path, str | None]:
    """(the checkpoint to use, the load error of the one picked if it had to be replaced by the default)."""
    picked = Path(st.session_state.get(STATE_KEY) or DEFAULT_CHECKPOINT)
    if picked != DEFAULT_CHECKPOINT:
        error = _try_load(picked)
        if error is None:
            return picked, None
        return DEFAULT_CHECKPOINT, f"Could not load {picked.name}: {error}. Showing the default model instead."
    return DEFAULT_CHECKPOINT, None


def selected_checkpoint() -> tuple[str, float]:
    """(path, mtime) of the checkpoint the user picked -- or of the shipped default when none is picked
    (a page run without the sidebar) or when the picked one cannot be loaded (then shown as st.error)."""
    path, error = _resolve()
    if error and st.session_state.get(REPORTED_KEY) != error:
        st.error(error, icon=":material/warning:")
    if path == DEFAULT_CHECKPOINT:
        default_error = _try_load(DEFAULT_CHECKPOINT)
        if default_error:
            st.error(f"The shipped default model cannot be loaded: {default_error}", icon=":material/error:")
            st.stop()
    return cache.checkpoint_key(path)


def current_model() -> vc.Checkpoint:
    """The loaded checkpoint of `selected_checkpoint()` (cached per path + mtime)."""
    return cache.load_model(*selected_checkpoint())


def render_sidebar() -> None:
    """Picker, model card and retraining, written where the caller is (`with st.sidebar:`); once per run,
    before the page."""
    pending = st.session_state.pop(PENDING_KEY, None)
    paths = [str(p) for p in list_checkpoints()]
    if pending and pending in paths:
        st.session_state[STATE_KEY] = pending
    if st.session_state.get(STATE_KEY) not in paths:
        st.session_state[STATE_KEY] = str(DEFAULT_CHECKPOINT)
    st.session_state[REPORTED_KEY] = None
    st.selectbox("Model", paths, key=STATE_KEY, format_func=_label,
                 help=f"The shipped default plus every model trained since (in {checkpoint_dir()}).")
    path, error = _resolve()
    if error:
        st.error(error, icon=":material/warning:")
        st.session_state[REPORTED_KEY] = error
    _model_card(path)
    st.divider()
    _retrain_form()
    _progress_panel()  # below the form: in view right after pressing Train




def _label(path: str) -> str:
    return "default (shipped)" if Path(path) == DEFAULT_CHECKPOINT else Path(path).stem


def _model_card(path: Path) -> None:
    try:
        ckpt = cache.load_model(*cache.checkpoint_key(path))
    except (vc.CheckpointError, OSError) as e:
        st.error(f"The shipped default model cannot be loaded: {e}", icon=":material/error:")
        return
    mc, tc = ckpt.model_config, ckpt.train_config
    test_loss = ckpt.metrics.get("test_loss", ckpt.history[-1]["test_loss"] if ckpt.history else math.nan)
    epochs = tc.epochs if tc else len(ckpt.history)
    lines = [f"**{mc.arch.upper()}**, hidden {' × '.join(map(str, mc.hidden))}, latent {mc.latent_dim}-D",
             f"**{epochs}** epoch{'' if epochs == 1 else 's'}"
             + (f" on {tc.train_subset:,} images" if tc and tc.train_subset else "")
             + (f", β = {tc.beta:g}" if tc and tc.beta != 1 else ""),
             f"test −ELBO **{test_loss:.1f}** nats/image"]
    st.markdown("  \n".join(lines))


def _progress_panel() -> None:
    """Live progress of the shared training job: polled by a fragment while a training runs."""
    job = training_job()
    running = job.snapshot().active
    st.fragment(run_every=POLL_SECONDS if running else None)(_progress_body)()


def _progress_body() -> None:
    job = training_job()
    s = job.snapshot()
    mine = st.session_state.get(MY_JOB_KEY) == s.job_id
    if s.active:
        who = "Your training" if mine else "A training is already running (started in another session)"
        st.markdown(f"**{who}: `{s.name}`**")
        text = ("Saving…" if s.state == "saving" else
                f"Epoch {max(s.epoch, 1)}/{s.epochs} · loss {s.running_loss:.1f}" if not math.isnan(s.running_loss)
                else f"Epoch {max(s.epoch, 1)}/{s.epochs} · starting…")
        st.progress(min(max(s.fraction, 0.0), 1.0), text=text)
        if s.history or not math.isnan(s.running_loss):
            st.plotly_chart(_live_curves(s), theme=None, config={"displayModeBar": False})  # no key: redrawn each poll
        if st.button("Cancel training", key="sidebar_cancel", type="secondary", disabled=s.state == "saving"):
            job.cancel()
            st.toast("Cancelling… the training stops at its next progress report.")
        return
    if s.job_id and st.session_state.get("sidebar_seen_job") != s.job_id:
        # a training just ended: rerun the whole app so the picker lists (and, for the starter, selects) it
        st.session_state["sidebar_seen_job"] = s.job_id
        if mine and s.state == "succeeded":
            st.session_state[PENDING_KEY] = s.path
        st.rerun(scope="app")
    if mine and s.state == "succeeded":
        st.success(s.message, icon=":material/check_circle:")
    elif mine and s.state in ("failed", "cancelled"):
        st.error(s.message, icon=":material/error:")


def _live_curves(s) -> go.Figure:
    epochs = [h["epoch"] for h in s.history]
    fig = go.Figure()
    fig.add_scatter(x=epochs, y=[h["train_loss"] for h in s.history], mode="lines+markers", name="train")
    fig.add_scatter(x=epochs, y=[h["test_loss"] for h in s.history], mode="lines+markers", name="test")
    if s.state == "running" and not math.isnan(s.running_loss):
        fig.add_scatter(x=[s.epoch], y=[s.running_loss], mode="markers", name="this epoch",
                        marker=dict(size=12, symbol="diamond"))
    fig.update_layout(height=260, margin=dict(l=0, r=0, t=30, b=0), font=dict(size=15), template="plotly_white",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=dict(title="epoch", range=[0.5, s.epochs + 0.5], dtick=max(1, s.epochs // 5)),
                      yaxis=dict(title="−ELBO"))
    return fig


def _retrain_form() -> None:
    with st.expander("Train a new model", expanded=False), st.form("sidebar_train_form"):
        e_lo, e_hi = RANGES["epochs"]
        name = st.text_input("Name", value="my-model", key="sidebar_name", max_chars=64,
                             help="Saved as checkpoints/<name>.pt; letters, digits, '-' and '_'. "
                                  "'default' and existing names are refused.")
        epochs = st.number_input("Epochs", e_lo, e_hi, 5, key="sidebar_epochs")
        subset = st.number_input("Training images", *RANGES["train_subset"], 60000, step=1000, key="sidebar_subset",
                                 help="Train on the first N of the 60,000 training images: fewer = faster "
                                      "(1,000 images × 1 epoch takes seconds). The test set is always all 10,000.")
        batch = st.number_input("Batch size", *RANGES["batch_size"], 128, step=16, key="sidebar_batch")
        lr = st.number_input("Learning rate", *RANGES["lr"], 1e-3, step=1e-4, format="%.5f", key="sidebar_lr")
        beta = st.number_input("β (KL weight)", *RANGES["beta"], 1.0, step=0.1, key="sidebar_beta",
                               help="1 is the true ELBO; >1 pushes the codes towards the prior (β-VAE).")
        arch = st.selectbox("Architecture", vc.ARCHITECTURES, key="sidebar_arch",
                            help="mlp: fully connected; conv: small convolutional net (slower on CPU).")
        hidden = st.text_input("Hidden sizes", "512, 256", key="sidebar_hidden",
                               help="mlp: 1–4 layer widths, e.g. 512, 256. conv: two channel counts, e.g. 32, 64.")
        seed = st.number_input("Seed", *RANGES["seed"], 0, key="sidebar_seed")
        submitted = st.form_submit_button("Train", type="primary", width="stretch")
    if not submitted:
        return
    try:
        request = validate_request(name=name, epochs=epochs, batch_size=batch, lr=lr, beta=beta, arch=arch,
                                   hidden=hidden, seed=seed, train_subset=subset)
    except ValueError as e:
        st.error("Not started:\n\n" + "\n".join(f"- {line}" for line in str(e).splitlines()),
                 icon=":material/block:")
        return
    try:
        st.session_state[MY_JOB_KEY] = training_job().start(request)
    except TrainingAlreadyRunning as e:
        st.warning(f"Not started: {e}.", icon=":material/hourglass_top:")
        return
    st.rerun(scope="app")  # re-render with the progress panel polling
