"""Interpolation: walk through latent space from one test digit to another, beside a plain pixel cross-fade."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.device import map_height
from explorer.page.guards import need_mnist, page_model
from explorer.render.clicks import digit_and_rank, index_of, selected_index
from explorer.room import session_pace

CHART = "interp_chart"
ENDS = ("a", "b")
MODES = {"linear": "Linear (straight line)", "spherical": "Spherical (slerp)"}
FINE = 101  # frames precomputed for the t slider: t = 0.00, 0.01, ..., 1.00
STATE = {"mode": "interp_mode", "steps": "interp_steps", "t": "interp_t"}  # link field -> widget key (a, b: below)

link_slot = us.titled("Interpolation")
st.caption("Pick two test digits A and B. Their latent means are joined by a path through z-space and every point "
           "on it is decoded. For contrast, the pixel blend simply cross-fades the two images.")

key, ckpt = page_model()
test_x, test_y = need_mnist("test")
side = ckpt.model_config.image_size
counts = np.bincount(test_y, minlength=10)


def _set_end(end: str, index: int) -> None:
    st.session_state[f"interp_{end}_digit"], st.session_state[f"interp_{end}_rank"] = digit_and_rank(test_y, index)


# The link's view (or the defaults: the first 1 and the first 0), read once per session; the widgets own it after.
# Its ends are test indices, which the pickers show as (class, rank).
schema = us.interpolation_schema(us.model_names(), len(test_y), (index_of(test_y, 1, 0), index_of(test_y, 0, 0)))
linked = us.restore(schema)
for end in ENDS:
    rank_key = f"interp_{end}_rank"
    if f"interp_{end}_digit" not in st.session_state or rank_key not in st.session_state:
        _set_end(end, linked[end])
    # kept inside its class (a class change can leave it out of range)
    st.session_state[rank_key] = int(min(st.session_state[rank_key], counts[st.session_state[f"interp_{end}_digit"]] - 1))
for field, state_key in STATE.items():
    st.session_state.setdefault(state_key, linked[field])  # no value= on the widgets: the state is their only source
st.session_state.setdefault("interp_click_sets", "A")


def _random_pair() -> None:
    rng = np.random.default_rng()
    for end, index in zip(ENDS, rng.choice(len(test_y), size=2, replace=False), strict=True):
        _set_end(end, int(index))


def _on_click() -> None:
    index = selected_index(st.session_state.get(CHART), len(test_y))
    if index is None:
        return
    target = st.session_state["interp_click_sets"]
    _set_end(target.lower(), index)
    st.session_state["interp_click_sets"] = "B" if target == "A" else "A"  # the next click sets the other end


ends = {}
# on a phone the map and the frame at t come first, these pickers under them (styles.PHONE_CSS)
columns = st.container(key="phone_controls").columns([2, 2, 3], gap="large")
for end, col in zip(ENDS, columns[:2], strict=True):
    with col:
        st.markdown(f"### {end.upper()}")
        pick = st.columns(2)
        d = pick[0].selectbox("Digit class", range(10), key=f"interp_{end}_digit")
        r = pick[1].number_input(f"Which {d} (0–{counts[d] - 1})", 0, int(counts[d]) - 1, step=1,
                                 key=f"interp_{end}_rank")
        ends[end] = index_of(test_y, d, int(r))
        st.image(cache.test_digit_picture(ends[end], side, 140), caption=f"test #{ends[end]}", output_format="PNG")
with columns[2]:
    st.button("Random pair", key="interp_random", on_click=_random_pair, icon=":material/casino:")
    st.radio("A click on the map sets", ("A", "B"), key="interp_click_sets", horizontal=True)
    mode = st.radio("Path", tuple(MODES), format_func=MODES.get, key="interp_mode", horizontal=True)
    steps = st.slider("Steps (frames in the strip)", 3, 25, key="interp_steps")

a, b = ends["a"], ends["b"]
view = {"model": model_name(key.path), "a": a, "b": b, "mode": mode, "steps": steps}  # t: frame_at_t's
strips = cache.interpolation_strips(key, a, b, steps, mode)  # (decoded frames, pixel blend): PNG data URIs


@session_pace.fragment
def frame_at_t() -> None:
    """The frame at t, large: moving the slider reruns only this part (the scatter is not sent again)."""
    t = us.stepped_slider("t (0 = A, 1 = B)", schema.fields["t"], key="interp_t")
    k = int(round(t * (FINE - 1)))
    decoded, blended, (z1, z2) = cache.interpolation_frame(key, a, b, FINE, mode, k, 280)
    left, right = st.columns(2)
    left.image(decoded, output_format="PNG", caption=f"decoded z(t) = ({z1:+.2f}, {z2:+.2f})")
    right.image(blended, caption=f"pixel blend at t = {t:.2f}", output_format="PNG")
    st.caption("Left: the decoder at the point z(t) of the latent path. Right: the images themselves cross-faded, "
               "(1−t)·A + t·B -- a double exposure, not a digit.")
    # here: moving t (this fragment's rerun) updates the link; after the frames, as on the decoder grid
    us.publish(schema, {**view, "t": t})


map_col, frame_col = st.container(key="phone_picture").columns([3, 2], gap="large")
with map_col:
    st.plotly_chart(cache.interpolation_map(key, a, b, steps, mode, "Latent means, path A → B", map_height(640)),
                    key=CHART, on_select=_on_click, selection_mode="points")
with frame_col:
    frame_at_t()

st.markdown(f"#### Decoded along the {mode} path ({steps} frames)")
st.image(strips[0], width="stretch", output_format="PNG")
st.download_button("These frames as a GIF for a slide (1920 × 1080)",
                   lambda: cache.interpolation_gif(key, a, b, steps, mode),
                   file_name=f"interpolation_{a}_to_{b}_{mode}_{steps}.gif", mime="image/gif", key="interp_gif_download",
                   on_click="ignore", icon=":material/slideshow:",
                   help="The decoded frames one after the other, large, with A and B beside them; made when you click.")
st.markdown("#### Pixel blend, for contrast")
st.image(strips[1], width="stretch", output_format="PNG")
with link_slot:
    us.copy_link(schema, {**view, "t": st.session_state["interp_t"]})
