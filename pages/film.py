"""Training film: the latent map of 2,000 fixed test digits and the decoded grid as the model learned, frame by frame,
with the loss curves; and, while a training started from the sidebar runs, its latest frame live."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py


import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.device import on_phone
from explorer.page.guards import page_model
from explorer.page.page_run import stop_page
from explorer.render.digit_images import pil_uri, to_pil
from explorer.render.figures import film_map
from explorer.room import session_pace
from explorer.room.roles import is_presenter, room_mode
from explorer.training.job import room_status
from explorer.training.panel import AUDIENCE_POLL_SECONDS, POLL_SECONDS

LIVE_EXTENT = "film_live_extent"  # (job id, half-side of the live map's axes): they only ever grow during a job
WATCHED = "film_watched_job"  # id of the training this page last showed live
TRAINED = "film_trained"  # the name of a training this page showed live and that has been saved since

link_slot = us.titled("Training film")
st.caption("How the latent space forms: the latent means of 2,000 fixed test digits and the decoder's grid over "
           "[−3, 3]², before training, after 10, 30, 100 and 300 steps of the first epoch (when the map forms "
           "fastest), then after every epoch. The axes stay put, so what moves, moved in z. Press ▶ Play or drag the "
           "slider under the loss curves.")

key, ckpt = page_model()
name = model_name(key.path)
with link_slot:  # the model alone: the frame shown is the browser's (Plotly's animation slider), never the server's
    us.copy_link(us.model_schema("film", us.model_names()), {"model": name})
if (trained := st.session_state.pop(TRAINED, None)) and trained != name:  # once, after the live view it ends
    st.success(f"`{trained}` is trained and saved: pick it in the sidebar's model picker to play its film.",
               icon=":material/check_circle:")


def _live_extent(job_id: int, frame) -> float:
    """Axes that hold every frame seen so far in this session and the prior's 3σ circle: they grow, never shrink,
    so the map does not jump back and forth between frames. The untrained model's frame does not count: a small
    random encoder can throw its codes out to |z| ~ 10, which would leave the map forming in a corner."""
    seen_job, seen = st.session_state.get(LIVE_EXTENT, (None, 0.0))
    spread = float(np.abs(frame.means).max(initial=0.0)) * 1.05 if frame.step > 0 else 0.0
    extent = max(4.0, seen if seen_job == job_id else 0.0, spread)
    st.session_state[LIVE_EXTENT] = (job_id, extent)
    return extent


def _live() -> None:
    """The running training's latest film frame (polled; the job exposes only its latest frame), whichever of the
    room's workers runs it. When a training shown here ends, the whole app reruns: the model picker lists it."""
    s = room_status()
    if not s.active:
        if st.session_state.pop(WATCHED, None) == s.job_id:
            if s.state == "succeeded" and s.name != name:
                st.session_state[TRAINED] = s.name
            st.rerun(scope="app")
        return
    st.session_state[WATCHED] = s.job_id
    st.subheader(f"Live: `{s.name}` is training", divider="gray")
    frame = s.film
    if frame is None or frame.means.shape[1] != 2:
        st.caption("Its first frame appears here with its first progress report." if frame is None else
                   "Its latent space is not 2-D: there is no map to draw.")
        return
    left, right = st.columns(2, gap="large")
    extent = _live_extent(s.job_id, frame)
    left.plotly_chart(film_map(frame.means.astype(np.float32), frame.labels, extent, title=frame.caption),
                      key="film_live_map", config={"displayModeBar": False})
    picture = frame.grid_picture()
    if picture is not None:
        right.image(pil_uri(to_pil(picture / 255.0, scale=2)), caption=f"Decoded grid over [−3, 3]², {frame.caption}",
                    output_format="PNG")
    st.caption(f"Redrawn after every epoch (and at steps 10–300 of the first) while `{s.name}` trains; it will "
               "appear in the model picker when it is saved.")


# While a training runs, the presenter's view polls fast and the audience's at its pace; in a room, the audience polls
# when nothing runs too, so a training the presenter starts appears on every student's film page.
running = room_status().active
if running:
    poll = POLL_SECONDS if is_presenter() else AUDIENCE_POLL_SECONDS
else:
    poll = AUDIENCE_POLL_SECONDS if room_mode() else None
session_pace.fragment(run_every=poll)(_live)()

if not vc.has_film(ckpt.snapshots):
    st.info(f"**{name} has no training film.** It was saved before trainings were filmed (checkpoint format 2 or "
            "older), or trained with `--snapshot-size 0`. Pick a model trained since, e.g. one you train from the "
            "sidebar's *Train a new model*: every training started there is filmed, and shown here live while it "
            "runs.", icon=":material/movie_off:")
    stop_page()

film = cache.film(key)
n_frames, n_digits = len(film["frames"]), len(film["labels"])
st.plotly_chart(cache.film_chart(key, stacked=on_phone()), key="film_chart", config={"displayModeBar": False})
stored = len(ckpt.snapshots["steps"])
st.caption(f"{name}: {n_frames} frames" + (f" of the {stored} stored" if n_frames < stored else "")
           + f", {n_digits:,} test digits. The grids are drawn in 16 grey levels to keep the page light.")
st.download_button("Training film as a GIF for a slide (1920 × 1080)", data=lambda: cache.film_gif(key),
                   file_name=f"{name}_training_film.gif", mime="image/gif", key="film_gif_download",
                   on_click="ignore", icon=":material/download:",
                   help="An animated GIF of every frame (at most 40), the map and the grid side by side. "
                        "Made when you click: a few seconds.")
