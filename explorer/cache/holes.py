"""The Holes page's computations: q(z) on a grid, KL(q(z) ‖ p(z)), prior samples and where they fall; and its figures,
built once per model and view and shared by every session and rerun (as explorer.cache.figures does for the maps)."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model, test_latents
from explorer.render.figures import density_images, frozen, hole_map

HOLE_SAMPLES = 10_000  # prior samples behind the hole share (standard error <= 0.5 points) and its gallery


@st.cache_data(show_spinner="Evaluating q(z) on a grid…", max_entries=8)
def holes_density_grid(key, half_width: float = 4.0, size: int = 101) -> vc.DensityGrid:
    """q(z) of the test digits and p(z) on a size x size grid over [-half_width, half_width]^2: 10^8 log-densities
    for the default model, seconds of CPU."""
    return vc.density_grid(*test_latents(key), extent=(-half_width, half_width), size=size)


@st.cache_data(show_spinner="Estimating KL(q(z) ‖ p(z))…", max_entries=8)
def holes_kl(key) -> vc.KLEstimate:
    """Monte-Carlo KL of the test digits' aggregate posterior to the prior (10,000 samples, seed 0)."""
    return vc.aggregate_kl(*test_latents(key), n_samples=HOLE_SAMPLES, seed=0)


@st.cache_data(show_spinner="Sampling the prior…", max_entries=16)
def holes_prior_samples(key, n_digits: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(z, log q(z)/p(z)) of HOLE_SAMPLES draws z ~ N(0, I), seed 0: every threshold's hole share reads them.
    n_digits: q of a random subset of that many test digits (seed 0) instead of all, to show how holes shrink as
    digits are added."""
    mu, logvar = test_latents(key)
    if n_digits is not None and n_digits < len(mu):
        subset = np.random.default_rng(0).choice(len(mu), n_digits, replace=False)
        mu, logvar = mu[subset], logvar[subset]
    return vc.prior_density_ratio(mu, logvar, n_samples=HOLE_SAMPLES, seed=0)


@st.cache_data(show_spinner=False, max_entries=64)
def holes_gallery(key, tau: float, n_hole: int, n_dense: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{"hole", "dense"}: (z (k, 2), q/p (k,), decoded (k, side, side)) of the first prior samples drawn in holes
    (q < tau·p) and where q >= p."""
    z, log_ratio = holes_prior_samples(key)
    model = load_model(key).model
    side = model.config.image_size
    picks = dict(zip(("hole", "dense"), vc.gallery_picks(log_ratio, tau, n_hole, n_dense), strict=True))
    return {name: (z[i], np.exp(log_ratio[i]), vc.decode(model, z[i]) if len(i) else np.zeros((0, side, side)))
            for name, i in picks.items()}


@st.cache_resource(show_spinner=False, max_entries=16)
def holes_density_figures(key, log_scale: bool, phone: bool = False):
    """(q(z) heatmap, p(z) heatmap) of holes_density_grid, frozen: a rerun sends them without building them.
    `phone`: laid out for a phone (explorer.page.device), one more view shared by every phone."""
    grid = holes_density_grid(key)
    q_fig, p_fig = density_images(grid.axis, grid.log_q, grid.log_p, log_scale=log_scale, phone=phone)
    return frozen(q_fig), frozen(p_fig)


@st.cache_resource(show_spinner=False, max_entries=32)
def holes_map_figure(key, tau: float, n_hole: int, n_dense: int, phone: bool = False):
    """The hole map at threshold tau with the test digits' means and the gallery's decoded prior samples, frozen."""
    grid = holes_density_grid(key)
    gallery = holes_gallery(key, tau, n_hole, n_dense)
    picks = {f"decoded: in a hole ({len(gallery['hole'][0])})": gallery["hole"][0],
             f"decoded: q ≥ p ({len(gallery['dense'][0])})": gallery["dense"][0]}
    return frozen(hole_map(grid.axis, grid.log_q, grid.log_p, tau, means=test_latents(key)[0], picks=picks,
                           phone=phone))
