"""Digit pictures that are the same for every session, encoded once: the PNG data URIs the latent map, the decoder
grid and the interpolation pages show. Encoded anew at every run, their PNG encoding was a sizeable share of a page
open's or a click's server CPU, the same work for every student of a room (docs/performance.md, Speed workarounds).

Each entry is a str (or a pair of them), handed out as it is (st.cache_resource: no copy). Bounded by max_entries: a
digit's URI is a few KB, a strip's a few tens of KB."""
from __future__ import annotations

import streamlit as st

import vae_core as vc
from explorer.cache.models import interpolation, load_model, mnist, test_latents
from explorer.render.digit_images import digit, strip


@st.cache_resource(show_spinner=False, max_entries=512)
def test_digit_picture(index: int, side: int, px: int) -> str:
    """Test digit `index` (side x side pixels) at about px x px."""
    return digit(mnist("test")[0][index], side, px)


@st.cache_resource(show_spinner=False, max_entries=512)
def reconstruction_picture(key, index: int, px: int) -> str:
    """The model's decoding of test digit `index`'s latent mean μ(x), slanted like the digit when the model deskews,
    at about px x px."""
    model = load_model(key).model
    picture = vc.decode(model, test_latents(key)[0][index], like=mnist("test")[0][index:index + 1])[0]
    return digit(picture, model.config.image_size, px)


@st.cache_resource(show_spinner=False, max_entries=1024)
def decoded_picture(key, z1: float, z2: float, px: int) -> str:
    """The decoder's picture at z = (z1, z2), at about px x px: the decoder grid's chosen cell (its sliders move
    in steps of 0.01 and a click picks a cell's centre, so a room asks for the same few hundred z again and again)."""
    model = load_model(key).model
    return digit(vc.decode(model, [[z1, z2]])[0], model.config.image_size, px)


@st.cache_resource(show_spinner=False, max_entries=64)
def interpolation_strips(key, index_a: int, index_b: int, steps: int, mode: str) -> tuple[str, str]:
    """The interpolation's two strips of `steps` frames: (decoded along the latent path, pixel blend)."""
    _, frames, blend = interpolation(key, index_a, index_b, steps, mode)
    return strip(frames), strip(blend)


@st.cache_resource(show_spinner=False, max_entries=1024)
def interpolation_frame(key, index_a: int, index_b: int, steps: int, mode: str, frame: int, px: int
                        ) -> tuple[str, str, tuple[float, float]]:
    """Frame `frame` of `steps` from test digit index_a to index_b, at about px x px: (decoded, pixel blend, its point
    z on the path): a move of the t slider reads no arrays."""
    z, frames, blend = interpolation(key, index_a, index_b, steps, mode)
    side = load_model(key).model.config.image_size
    return digit(frames[frame], side, px), digit(blend[frame], side, px), (float(z[frame, 0]), float(z[frame, 1]))
