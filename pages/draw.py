"""Draw a digit: draw one with the mouse (or upload a picture of one) and see where it lands in the latent space."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import hashlib

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.classmap.send_panel import send_panel
from explorer.page.device import map_height
from explorer.page.guards import need_mnist, page_model
from explorer.page.job_progress import await_all, may_score, presenter_can_compute
from explorer.page.score_labels import SCORE_LABELS
from explorer.page.session_keys import DRAWN, DRAWN_FROM
from explorer.render.digit_images import digit
from explorer.render.gallery import digit_strip_html
from explorer.render.map_overlay import star_overlay
from explorer.room import session_pace

VERSION = "draw_version"  # bumped by Clear: the canvas and the uploader get new keys, so they start empty
SOURCE = "draw_source"  # which input changed last, "canvas" or "upload": that one is shown
SEEN = "draw_seen"  # {input: fingerprint of its last content}, to tell which changed
RANK = "draw_ranked"  # the model whose test digits this visitor asked to score (they were not scored yet)
CANVAS_PX = 280  # 10 canvas pixels per MNIST pixel
STROKE_PX = 22  # ~2 MNIST pixels once the digit is scaled into its 20 px box, like MNIST's pen
# the longest data URL the canvas can send: its largest PNG in base64, with the "data:image/png;base64," head
CANVAS_URL_CHARS = cache.canvas_max_bytes(CANVAS_PX) * 4 // 3 + 64
TOO_LARGE = b"too large"  # canvas_png's answer to a longer one (compared by identity)
# The star (positioned HTML, explorer.render.map_overlay) and the latent map stacked in one grid cell, the star on
# top: a stroke redraws the star alone, and the 10k-point map -- the same figure every run -- is not drawn again.
# Above the canvas, room for its toolbar (upload, undo, pen, delete), which the canvas draws over what is above its
# top edge while the pointer is on it: over the introduction's second line.
DRAW_CSS = """<style>
.st-key-draw_row { margin-top: 3rem; }
.st-key-draw_map { display: grid !important; grid-template-columns: minmax(0, 1fr); }
.st-key-draw_map > div { grid-area: 1 / 1; width: 100%; }
.st-key-draw_map > div:first-child { pointer-events: none; z-index: 1; }
</style>"""

st.title("Draw a digit")
st.caption("Draw a digit with the mouse (or a finger) in the black box, or upload a picture of one. It is made to "
           "look like an MNIST digit -- cropped, scaled into 20×20, centred by its centre of mass in 28×28 -- and "
           "encoded: the star is where it lands among the 10,000 test digits, with its σ-ellipse.")

key, ckpt = page_model()
test_x, test_y = need_mnist("test")
side = ckpt.model_config.image_size


def clear() -> None:
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    for name in (DRAWN, DRAWN_FROM, SOURCE, SEEN):
        st.session_state.pop(name, None)


def canvas_png(version: int) -> bytes | None:
    """The canvas's picture as the PNG it sends at the end of each stroke, or None before the first stroke (decoded
    later, bounded, by `chosen_digit`: never by the component, which would decode whatever a client sends).

    streamlit-drawable-canvas is imported here, inside the running app: imported outside one, it raises (it registers
    its frontend from its pyproject's asset_dir, which only a running Streamlit has scanned)."""
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=STROKE_PX, stroke_color="#ffffff", background_color="#000000",
                       height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=f"draw_canvas_{version}")
    # The data URL as the client sent it (the result keeps it as is): one longer than the canvas's largest PNG in
    # base64 is refused by its length, at every rerun, without decoding or hashing it
    url = getattr(result, "_image_data_url", None)
    if isinstance(url, str) and len(url) > CANVAS_URL_CHARS:
        return TOO_LARGE
    try:
        return result.image_bytes
    except ValueError:  # not a base64 data URL: a client that is not the canvas
        return b""


def _changed(name: str, fingerprint: str | None) -> None:
    """Make `name` the shown input when its content is new (a stroke ended, a file was uploaded)."""
    seen = st.session_state.setdefault(SEEN, {})
    if fingerprint is not None and seen.get(name) != fingerprint:
        seen[name] = fingerprint
        st.session_state[SOURCE] = name


def chosen_digit(png: bytes | None, upload) -> tuple[np.ndarray, str] | None:
    """(the digit as the model sees it, where it came from) from the input changed last, or None with a message
    shown (nothing drawn yet, an unusable file). Each picture is checked and decoded once (cache.picture_digit):
    the canvas's as a PNG of the canvas's size at most, an upload within the uploader's limits."""
    if png is TOO_LARGE:
        st.error("**The drawing cannot be used:** it is larger than this canvas's largest picture.",
                 icon=":material/broken_image:")
        return None
    _changed("canvas", hashlib.sha256(png).hexdigest() if png is not None else None)
    _changed("upload", upload.file_id if upload is not None else None)
    source = st.session_state.get(SOURCE)
    if source == "upload" and upload is None:  # the file was removed: back to the drawing
        source = "canvas"
    if source == "upload":
        x, problem, why = cache.picture_digit(upload.getvalue(), vc.preprocess.MAX_BYTES, vc.preprocess.MAX_SIDE,
                                              vc.preprocess.UPLOAD_FORMATS)
        if problem == "rejected":
            st.error(f"**{upload.name} cannot be used:** {why}.", icon=":material/broken_image:")
        elif problem == "blank":
            st.warning(f"**No digit found in {upload.name}:** the picture is one flat colour.", icon=":material/info:")
        return None if x is None else (x, upload.name)
    if source == "canvas" and png is not None:
        x, problem, why = cache.picture_digit(png, cache.canvas_max_bytes(CANVAS_PX), CANVAS_PX,
                                              cache.drawn_digits.CANVAS_FORMATS)
        if problem == "rejected":
            st.error(f"**The drawing cannot be used:** {why}.", icon=":material/broken_image:")
            return None
        if x is not None:
            return x, "drawing"
    st.info("Draw a digit in the black box: the star appears at the end of each stroke.", icon=":material/draw:")
    return None


def _layout() -> tuple:
    """(the canvas's column, the digits' column, the map's column, a place for the page's message): the message spans
    the digits' and the map's columns, above them, so that a hint or an error reads on a line or two rather than
    down the digits' narrow column."""
    st.html(DRAW_CSS)
    left, rest = st.container(key="draw_row").columns([1.3, 3.4], gap="medium")
    message = rest.container()
    middle, right = rest.columns([0.8, 2.6], gap="medium")
    return left, middle, right, message


@session_pace.fragment
def draw_and_see() -> None:
    """The canvas and everything computed from it: a stroke reruns only this part of the page."""
    version = st.session_state.get(VERSION, 0)
    left, middle, right, message = _layout()
    with left:
        png = canvas_png(version)
        st.button("Clear", key="draw_clear", on_click=clear, icon=":material/delete:")
        upload = st.file_uploader("…or upload a picture of a digit (PNG or JPG)", type=["png", "jpg", "jpeg"],
                                  key=f"draw_upload_{version}", max_upload_size=vc.preprocess.MAX_BYTES // 2**20,
                                  help="Dark ink on light paper is inverted; the picture is cropped to its ink.")
    with message:
        chosen = chosen_digit(png, upload)
    if chosen is None:
        st.session_state.pop(DRAWN, None)
    else:
        x, origin = chosen
        st.session_state[DRAWN], st.session_state[DRAWN_FROM] = x, origin
        seen = cache.drawn_digit(key, x)
    with right:
        with st.container(key="draw_map"):
            base = cache.latent_backdrop(key, "Your digit among the test digits", height=map_height(560))
            # the star first: it reaches the browser before the map's figure (hundreds of KB) is serialised again
            st.html(star_overlay(base.layout, *((seen["mu"], seen["sigma"]) if chosen else ())))
            st.plotly_chart(base, key="draw_backdrop", config={"displayModeBar": False})
    if chosen is None:
        return
    send_panel(left, key, x, seen)  # "Send to the class map", under the canvas
    with middle:
        st.image(digit(x, side, px=168), caption="what the model sees (28×28)", output_format="PNG")
        st.image(digit(seen["reconstruction"], side, px=168), caption="its reconstruction", output_format="PNG")
        z, sigma = seen["mu"], seen["sigma"]
        st.markdown(f"z = μ(x) = **({z[0]:+.2f}, {z[1]:+.2f})**  \nσ = **({sigma[0]:.3f}, {sigma[1]:.3f})**")

    st.markdown("#### Its 5 nearest test digits in the latent space")
    st.html(digit_strip_html([digit(test_x[index], side, px=112) for index in seen["nearest"]],
                             [f"test #{index} · label {test_y[index]} · {distance:.2f} away"
                              for index, distance in zip(seen["nearest"], seen["distances"], strict=True)]))

    st.markdown("#### How typical it looks to the model")
    todo = cache.anomaly_scores.needed(key, ("test",))
    started = any(cache.jobs.find(job_key) for job_key, _, _ in todo)  # by anyone: its progress is shown here
    if todo and not (started or st.session_state.get(RANK) == key):
        st.info("Its anomaly scores are ranked among the 10,000 test digits', which are scored once per model for "
                "the whole server: about 30 s on a quiet machine, a minute or more on a busy one (the Anomalies page "
                "needs them too).", icon=":material/hourglass_empty:")
        if may_score(key):
            st.button("Score the test digits and rank this one", key="draw_rank", on_click=st.session_state.update,
                      kwargs={RANK: key}, icon=":material/leaderboard:")
        else:
            presenter_can_compute("The anomaly scores of this model's test digits")
        return
    if not await_all(todo, may_score(key), "The anomaly scores of this model's test digits"):
        return
    scores = cache.digit_scores(key, x)
    cols = st.columns(len(scores))
    for col, (name, (value, share)) in zip(cols, scores.items(), strict=True):
        col.metric(SCORE_LABELS.get(name, name), f"{value:.1f} nats", help="Higher = more anomalous.")
        col.caption(f"more atypical than **{share:.0%}** of the test digits")


draw_and_see()
