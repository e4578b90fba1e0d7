"""The sidebar's retraining: the form that starts a training (with its estimated time), and the live progress of the
one shared training job. In room mode only the presenter gets the form, the chart and the cancel button; the audience
sees a line saying what is being trained (explorer.room.roles)."""
from __future__ import annotations

import math

import streamlit as st

import vae_core as vc
from explorer.model.picker import select_next_run
from explorer.page.public_text import public
from explorer.render.figures import loss_curves
from explorer.room import session_pace
from explorer.room.roles import is_presenter, room_mode, session_id
from explorer.training.form import (
    DEFAULT_ACTIVATION,
    FULL_TRAIN,
    SUBSET_RANGE,
    TrainingRequest,
    preset_request,
    validate_request,
)
from explorer.training.job import (
    ModelQuotaReached,
    NotYourTraining,
    TrainingAlreadyRunning,
    room_status,
    shared_job,
    training_enabled,
)

MY_JOB = "sidebar_my_job"  # id of the training this session started
SEEN_JOB = "sidebar_seen_job"  # id of the last finished training this session has reacted to
WATCHED_JOB = "sidebar_watched_job"  # id of the last training this session saw running
TRAIN_OPEN = "sidebar_train_open"  # the "Train a new model" expander's state: open or not
POLL_SECONDS = 1.0  # the presenter's live progress
AUDIENCE_POLL_SECONDS = 5.0  # the audience sees one line: each poll is a script run per student


def render_training() -> None:
    """The form, then the progress panel below it (in view right after pressing Train)."""
    if is_presenter() and training_enabled():
        _form()
    _progress_panel()


@st.cache_data(show_spinner="Timing a few training steps…", max_entries=64)
def _estimated_seconds(model: dict, train: dict) -> float:
    """vae_core's estimate from a measured step time (a few real steps of this model), per config."""
    return vc.estimate_training_seconds(vc.ModelConfig(**model), vc.TrainConfig(**train))


def _estimate(request: TrainingRequest) -> float:
    return _estimated_seconds(request.model_config.to_dict(), request.train_config.to_dict())


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


CUSTOM = "custom"  # the preset choice that shows every field


@st.cache_resource(show_spinner=False, max_entries=8)
def _device_line(device: str, threads: int, precision: str) -> str:
    """Where and how a run with these settings trains (vc.training_device_line), once per process and settings:
    naming a GPU initialises CUDA, and the answer stays the same while the server runs."""
    return vc.training_device_line(vc.TrainConfig(device=device, threads=threads, precision=precision))


def _preset_label(choice: str) -> str:
    return "Custom" if choice == CUSTOM else vc.PRESETS[choice].label


def _form() -> None:
    # Built only while open (a rerun when it opens): a closed form costs every first view its ~20 widgets
    # (docs/performance.md, First view).
    expander = st.expander("Train a new model", key=TRAIN_OPEN, on_change="rerun")
    if not expander.open:
        return
    with expander:
        choice = st.radio("Preset", [CUSTOM, *vc.PRESETS], format_func=_preset_label, horizontal=True,
                          key="sidebar_preset", help="Quick: a short filmed run for a live demo; Custom: every setting.")
        preset = vc.PRESETS.get(choice)
        settings = preset.train_config if preset else vc.TrainConfig()  # a custom run's device, threads, precision
        st.caption(_device_line(settings.device, settings.threads, settings.precision))
        with st.form("sidebar_train_form"):
            name = st.text_input("Name", value="my-model", key="sidebar_name", max_chars=64,
                                 help="Saved as checkpoints/<name>.pt; letters, digits, '-' and '_'. "
                                      "'default' and existing names are refused.")
            fields = _preset_summary(preset) if preset else _custom_fields()
            seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="sidebar_seed")
            # one under the other, each as wide as the form: side by side, half a sidebar's form cut "Estimate time"
            estimate_only = st.form_submit_button("Estimate time", width="stretch")
            submitted = st.form_submit_button("Train", type="primary", width="stretch")
    if not (submitted or estimate_only):
        return
    try:
        request = (preset_request(preset, name=name, seed=seed) if preset
                   else validate_request(name=name, seed=seed, **fields))
    except ValueError as e:
        st.error("Not started:\n\n" + "\n".join(f"- {line}" for line in str(e).splitlines()),
                 icon=":material/block:")
        return
    seconds, budget = _estimate(request), vc.max_train_minutes() * 60
    if seconds > budget:
        st.error(f"Not started: this run would take about {_duration(seconds)} on this machine, over the "
                 f"{_duration(budget)} a training may take here ({vc.BUDGET_ENV}). Use fewer epochs or images, "
                 "or a smaller model.", icon=":material/timer_off:")
        return
    if estimate_only:
        st.info(f"About **{_duration(seconds)}** on this machine (measured from a few training steps).",
                icon=":material/timer:")
        return
    try:
        st.session_state[MY_JOB] = shared_job().start(request, owner=session_id())
    except (TrainingAlreadyRunning, ModelQuotaReached) as e:
        st.warning(f"Not started: {e}.", icon=":material/hourglass_top:")
        return
    st.rerun(scope="app")  # re-render with the progress panel polling


def _progress_panel() -> None:
    """Live progress of the shared training job: polled by a fragment while a training runs."""
    running = room_status().active
    every = POLL_SECONDS if is_presenter() else AUDIENCE_POLL_SECONDS
    session_pace.fragment(run_every=every if running else None)(_progress_body)()


def _progress_body() -> None:
    s = room_status()
    mine = st.session_state.get(MY_JOB) == s.job_id
    if s.active:
        st.session_state[WATCHED_JOB] = s.job_id
        who = "Your training" if mine else "The presenter is training" if room_mode() else "Another session is training"
        st.markdown(f"**{who}: `{s.name}`**")
        text = ("Saving…" if s.state == "saving" else
                f"Epoch {max(s.epoch, 1)}/{s.epochs} · loss {s.running_loss:.1f}" if not math.isnan(s.running_loss)
                else f"Epoch {max(s.epoch, 1)}/{s.epochs} · starting…")
        st.progress(min(max(s.fraction, 0.0), 1.0), text=text)
        if not is_presenter():
            return
        if s.history or not math.isnan(s.running_loss):
            running = (s.epoch, s.running_loss) if s.state == "running" and not math.isnan(s.running_loss) else None
            st.plotly_chart(loss_curves(s.history, height=260, font_size=15, epochs=s.epochs, running=running),
                            theme=None, config={"displayModeBar": False})  # no key: redrawn each poll
        if s.elsewhere:
            st.caption("It runs on another of the room's workers: cancel it from the browser that started it.")
        elif st.button("Cancel training", key="sidebar_cancel", type="secondary", disabled=s.state == "saving"):
            try:
                if shared_job().cancel(s.job_id, by=session_id(), presenter=is_presenter()):
                    st.toast("Cancelling… the training stops at its next progress report.")
            except NotYourTraining as e:
                st.toast(str(e).capitalize())
        return
    if s.job_id and st.session_state.get(SEEN_JOB) != s.job_id:
        # a training this session watched just ended: rerun the whole app so the picker lists (and, for the starter,
        # selects) it. A session that opened after the end lists it already, and its first run is left whole (a
        # rerun would drop what that run had sent, such as a link's notices).
        st.session_state[SEEN_JOB] = s.job_id
        if mine or st.session_state.get(WATCHED_JOB) == s.job_id:
            if mine and s.state == "succeeded":
                select_next_run(s.path)
            st.rerun(scope="app")
    if mine and s.state == "succeeded":
        st.success(public(s.message), icon=":material/check_circle:")
    elif mine and s.state in ("failed", "cancelled"):
        st.error(public(s.message), icon=":material/error:")


def _preset_summary(preset: vc.Preset) -> dict:
    """A preset's settings as one caption (its fields are fixed)."""
    m, t = preset.model_config, preset.train_config
    beta = "" if t.beta == 1 else f", KL weight β = {t.beta:g} (its test −ELBO is the true one, β = 1)"
    upright = ", digits stood upright (deskewed)" if m.deskew else ""
    st.caption(f"{preset.description} {m.arch} {', '.join(map(str, m.hidden))}, {m.activation}{upright}; {t.epochs} "
               f"epochs of batch {t.batch_size}, {t.lr_schedule} learning rate peaking at {t.lr:g}{beta}; the whole "
               "training set.")
    return {}


def _custom_fields() -> dict:
    """Every field of a custom run, as validate_request's keyword arguments."""
    return dict(
        epochs=st.number_input("Epochs", 1, 100, 5, key="sidebar_epochs"),
        train_subset=st.number_input("Training images", *SUBSET_RANGE, FULL_TRAIN, step=1000, key="sidebar_subset",
                                     help="Train on the first N of the 60,000 training images: fewer = faster "
                                          "(1,000 images × 1 epoch takes seconds). The test set is always all 10,000."),
        batch_size=st.number_input("Batch size", 16, 4096, 128, step=16, key="sidebar_batch"),
        lr=st.number_input("Learning rate", 1e-5, 1.0, 1e-3, step=1e-4, format="%.5f", key="sidebar_lr"),
        beta=st.number_input("β (KL weight)", 0.0, 10.0, 1.0, step=0.1, key="sidebar_beta",
                             help="1 is the true ELBO; >1 pushes the codes towards the prior (β-VAE)."),
        arch=st.selectbox("Architecture", vc.ARCHITECTURES, key="sidebar_arch",
                          help="mlp: fully connected; conv: small convolutional net (slower on CPU)."),
        hidden=st.text_input("Hidden sizes", "512, 256", key="sidebar_hidden",
                             help="mlp: 1–4 layer widths, e.g. 512, 256. conv: two channel counts, e.g. 32, 64."),
        activation=st.selectbox("Activation", vc.ACTIVATIONS, index=vc.ACTIVATIONS.index(DEFAULT_ACTIVATION),
                                key="sidebar_activation",
                                help="The hidden layers' nonlinearity. tanh: the shipped default's and the Quick "
                                     "preset's (a lower loss and better-separated digits in the same time); "
                                     "leaky_relu: the earlier default's."),
        deskew=st.checkbox("Deskew", False, key="sidebar_deskew",
                           help="Stand each digit upright before encoding it, and draw the decoded digit slanted back "
                                "like the input: the two latent dimensions no longer spend one on slant, and the "
                                "classes separate (4 and 9, 3, 5 and 8). The Quick preset's choice."),
    )
