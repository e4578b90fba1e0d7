"""Repair: damage a digit -- noise, or missing pixels -- and let the VAE repair it, beside model-free baselines."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.device import map_height
from explorer.page.guards import need_mnist, page_model
from explorer.page.session_keys import DRAWN, DRAWN_FROM
from explorer.render.digit_images import digit, strip
from explorer.render.figures import add_path, add_prior_contours, digit_scatter
from vae_core.corruption import HALVES

SOURCES = {"test": "A test digit", "drawn": "Your digit from the Draw page"}
DAMAGE = dict(zip(us.DAMAGES, ("Gaussian noise", "Salt and pepper", "Missing rectangle", "Missing half"), strict=True))
STATE = {"digit": "repair_index", "damage": "repair_kind", "sigma": "repair_sigma", "p": "repair_p",  # link -> state
         "rows": "repair_rows", "cols": "repair_cols", "half": "repair_half", "iters": "repair_iters",
         "seed": "repair_seed"}
MISSING_GREY = 0.35  # missing pixels are shown in this grey: black would look like background the model saw

link_slot = us.titled("Repair a damaged digit")
st.caption("Damage a digit with noise or by hiding pixels, then let the VAE repair it. Noise: the digit the model "
           "thinks it is, decode(mean of q(z|x)). Missing pixels: fill them with 0, then encode, decode and put the "
           "seen pixels back, again and again -- the pixels that were seen never change. Beside it, repairs that know "
           "nothing of digits but the training images.")

key, ckpt = page_model()
test_x, test_y = need_mnist("test")
need_mnist("train")  # the baselines' mean image and KNN pool
side = ckpt.model_config.image_size
drawn = st.session_state.get(DRAWN)

schema = us.repair_schema(us.model_names(), len(test_x), side)
linked = us.restore(schema)  # the link's view (or the defaults), read once per session; the widgets own it after
for field, state_key in STATE.items():
    st.session_state.setdefault(state_key, linked[field])  # no value= on the widgets: the state is their only source
if drawn is None and st.session_state.get("repair_source") == "drawn":  # cleared on the Draw page since
    st.session_state["repair_source"] = "test"


def _random_digit() -> None:
    st.session_state["repair_index"] = int(np.random.default_rng().integers(len(test_x)))
    st.session_state["repair_source"] = "test"


def _new_noise() -> None:
    st.session_state["repair_seed"] += 1


# on a phone the damaged and repaired digits come first, these controls under them (styles.PHONE_CSS)
pick, damage, settings = st.container(key="phone_controls").columns([1.1, 1.3, 1.2], gap="large")
with pick:
    if drawn is None:  # one source: nothing to choose
        source = "test"
        st.caption("Draw or upload a digit on the **Draw a digit** page to repair it here.")
    else:
        source = st.radio("Digit", tuple(SOURCES), format_func=SOURCES.get, key="repair_source")
        if source == "drawn":
            st.caption("A link holds the test digit below, not your drawing: that stays in this browser.")
    index = st.number_input(f"Test digit # (0–{len(test_x) - 1})", 0, len(test_x) - 1, step=1, key="repair_index",
                            disabled=source != "test")
    st.button("Random test digit", key="repair_random", on_click=_random_digit, icon=":material/casino:")
with damage:
    kind = st.radio("Damage", tuple(DAMAGE), format_func=DAMAGE.get, key="repair_kind", horizontal=True)
    if kind == "gaussian":
        corruption = ("gaussian", us.stepped_slider("Noise σ", schema.fields["sigma"], key="repair_sigma"))
    elif kind == "salt_and_pepper":
        corruption = ("salt_and_pepper", us.stepped_slider("Share of pixels turned black or white (p)",
                                                           schema.fields["p"], key="repair_p"))
    elif kind == "rectangle":
        r0, r1 = st.slider("Rows missing", 0, side - 1, key="repair_rows")
        c0, c1 = st.slider("Columns missing", 0, side - 1, key="repair_cols")
        corruption = ("rectangle", r0, c0, r1 - r0 + 1, c1 - c0 + 1)
    else:
        corruption = ("half", st.radio("Missing half", HALVES, key="repair_half", horizontal=True))
with settings:
    noise = kind in ("gaussian", "salt_and_pepper")
    if noise:
        st.button("New noise", key="repair_new_noise", on_click=_new_noise, icon=":material/refresh:")
        n_iter = 10
    else:
        n_iter = st.slider("Iterations of encode → decode → put the seen pixels back", 1, 30, key="repair_iters")

if source == "drawn":
    origin = st.session_state.get(DRAWN_FROM, "drawing")
    clean, name = np.asarray(drawn, dtype=np.float32), "your drawing" if origin == "drawing" else origin
else:
    clean, name = test_x[int(index)], f"test #{int(index)} (label {test_y[int(index)]})"
r = cache.repair(key, clean, corruption, n_iter, st.session_state["repair_seed"])
shown = np.where(r["observed"], r["corrupted"], MISSING_GREY)

picture = st.container(key="phone_picture")
picture.subheader(f"Repairing {name}")
cols = picture.container(key="phone_row_repair").columns(4)  # on a phone: the three digits in a row
cols[0].image(digit(shown, side, px=196), output_format="PNG",
              caption="damaged" + ("" if noise else " (missing pixels in grey)"))
cols[1].image(digit(r["vae"], side, px=196), caption="repaired by the VAE", output_format="PNG")
cols[2].image(digit(clean, side, px=196), caption="original", output_format="PNG")
with cols[3]:
    scored = "all pixels" if noise else f"the {int((~r['observed']).sum())} missing pixels"
    st.metric("Error of the VAE's repair", f"{r['mse']['VAE']:.4f}",
              delta=f"{r['mse']['VAE'] - r['mse']['damaged']:+.4f} vs damaged", delta_color="inverse",
              help=f"Mean squared error against the original, on {scored} (pixel values 0 to 1).")
    st.caption(f"Mean squared error on {scored}; the damaged digit's: {r['mse']['damaged']:.4f}.")

if noise:
    st.markdown("#### One pass through the code")
    st.image(strip(r["steps"].reshape(-1, side, side), px=420), output_format="PNG",
             caption="damaged → decode(mean of q(z|x)): nothing to iterate, the code is read once")
else:
    st.markdown(f"#### The {n_iter} iterations")
    st.image(strip(r["steps"].reshape(-1, side, side)), width="stretch", output_format="PNG",
             caption="left: the missing pixels filled with 0; then after each encode → decode → put the seen pixels "
                     "back")

map_col, base_col = st.columns([1.3, 1], gap="large")
with map_col:
    mu = cache.test_latents(key)[0]
    fig = digit_scatter(mu, test_y, coord="z", height=map_height(600), label_at=cache.class_label_places(key),
                        title="The clean digit's code and the damaged one's" if noise else "z across the iterations")
    add_prior_contours(fig)
    add_path(fig, r["path"], names=("clean", "damaged") if noise else ("start", "end"))
    st.plotly_chart(fig, key="repair_map")
    st.caption("The damaged digit's code is what the VAE decodes." if noise else
               "Each dot is the encoder's mean for one iteration's image: start is the zero-filled digit.")
with base_col:
    st.markdown("#### Against repairs that know no digits")
    rows = [("VAE", r["vae"])] + list(r["baselines"].items())
    for (method, image), col in zip(rows, st.columns(len(rows)), strict=True):
        col.image(digit(image, side, px=140), output_format="PNG", caption=f"{method}: {r['mse'][method]:.4f}")
    st.caption(("Median filter: each pixel replaced by the median of its 3×3 neighbourhood, the classic remedy for "
                "salt and pepper. Mean image: the average training digit, whatever was drawn. "
                if noise else
                "Mean fill: each missing pixel set to its average over the training digits. KNNImputer "
                "(scikit-learn): the average of the 5 training digits closest on the seen pixels. ")
               + f"The figures are mean squared errors on {scored}.")

# the view, the hidden settings included: a link restores every widget (last, so the browser gets the pictures first)
view = {"model": model_name(key.path), **{field: st.session_state[state_key] for field, state_key in STATE.items()}}
us.publish(schema, view)
with link_slot:
    us.copy_link(schema, view)
