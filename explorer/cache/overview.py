"""The overview page's pictures, made once per model and view and shared by every session and rerun: its loss
curves, its ten test digits with their reconstructions, and its samples from the prior. The overview is the page
every student of a room opens first; made anew, its 30 digit PNGs and its curves cost ~35 ms of the server's CPU at
every open."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model, mnist
from explorer.render.digit_images import digit
from explorer.render.figures import frozen, loss_curves

DIGIT_PX = 224  # a digit's size on the overview: large enough to read from the back of a room


@st.cache_resource(show_spinner=False, max_entries=32)
def overview_curves(key, term: str, label: str):
    """The checkpoint's train and test curves of one −ELBO term (figures.loss_curves), frozen."""
    return frozen(loss_curves(load_model(key).history, term, label=label))


@st.cache_data(show_spinner=False, max_entries=64)
def overview_digits(key, indices: tuple[int, ...]) -> tuple[list[str], list[str]]:
    """(the test digits at `indices`, their reconstructions from μ(x)) as PNG data URIs."""
    model = load_model(key).model
    images = mnist("test")[0][list(indices)]
    side = model.config.image_size
    return ([digit(x, side, DIGIT_PX) for x in images],
            [digit(x, side, DIGIT_PX) for x in vc.reconstruct(model, images)])


@st.cache_data(show_spinner=False, max_entries=64)
def overview_prior_samples(key, n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """n codes z drawn from N(0, I) with `seed` and their decodings as PNG data URIs."""
    model = load_model(key).model
    z, samples = vc.sample_prior(model, n, seed=seed)
    return z, [digit(x, model.config.image_size, DIGIT_PX) for x in samples]
