"""Holes: where the prior N(0, I) has mass but the test digits' aggregate posterior q(z) has little, and what the
decoder makes of prior samples from there."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.device import on_phone
from explorer.page.guards import need_mnist, page_model
from explorer.render.digit_images import digit
from explorer.render.figures import PRIOR_MASS_RADIUS
from explorer.room import session_pace

THRESHOLDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
N_HOLE, N_DENSE = 16, 10  # decoded prior samples shown from holes and from where q >= p

link_slot = us.titled("Holes in the latent space")
st.caption("The aggregate posterior q(z) is the average of the encoder's Gaussians N(μ(x), σ²(x)) over the 10,000 "
           "test digits: where the encoder actually puts digits. The decoder learns from z drawn there. Sampling a "
           "VAE draws z from the prior N(0, I) instead: wherever the prior has mass but q(z) has little — a hole — "
           "the decoder is asked for a z it was hardly ever trained on.")

key, ckpt = page_model()
with link_slot:
    us.copy_link(us.model_schema("holes", us.model_names()), {"model": model_name(key.path)})  # the model alone
need_mnist("test")
mu, logvar = cache.test_latents(key)
median_sigma = float(np.median(np.exp(0.5 * logvar)))
kl = cache.holes_kl(key)
side = ckpt.model_config.image_size

log_scale = st.toggle("Log scale", value=True, key="holes_log_scale",
                      help="Colour by log₁₀ of the density (4 decades); off: the density itself, where q's sharp "
                           "peaks outshine the prior.")
phone = on_phone()  # the colour bars go under the maps
q_fig, p_fig = cache.holes_density_figures(key, log_scale, phone)  # built once per model and view, for every session
left, right = st.columns(2, gap="large")
left.plotly_chart(q_fig, key="holes_q_chart")
right.plotly_chart(p_fig, key="holes_p_chart")


@session_pace.fragment
def holes_at_threshold() -> None:
    """The hole map, the share of prior samples in holes and the two galleries: a new threshold reruns only these."""
    map_col, figures_col = st.columns([3, 2], gap="large")
    with figures_col:
        tau = st.select_slider("Hole threshold τ: a hole is where q(z) < τ · p(z)", THRESHOLDS, value=0.1,
                               key="holes_tau", format_func=lambda t: f"{t:g}",
                               help="τ = 0.1: the prior draws z there at least 10 times as often as the encoder "
                                    "puts a test digit there. τ = 1: anywhere q is below the prior.")
        z, log_ratio = cache.holes_prior_samples(key)
        share, share_se = vc.hole_share(log_ratio, tau)
        st.metric("KL(q(z) ‖ p(z))", f"{kl.value:.3f} nats",
                  help=f"Monte-Carlo over {kl.n_samples:,} samples z ~ q, ± {kl.stderr:.3f} (standard error); log q "
                       f"sums all {kl.n_components:,} digits' Gaussians, the sampled one included, which biases it "
                       f"upwards as an estimate for all digits, not just these. Leaving that one out gives "
                       f"{kl.leave_one_out:.3f} ± {kl.leave_one_out_stderr:.3f}, biased downwards: the value for "
                       f"all digits lies between (in expectation). The average KL term of the ELBO, "
                       f"{kl.mean_kl:.2f} nats, is this plus {kl.information:.2f} nats of information about which "
                       "digit was encoded.")
        st.caption(f"How far the pooled encodings are from the prior: 0 if they filled N(0, I) exactly "
                   f"(± {kl.stderr:.3f}; leave-one-out {kl.leave_one_out:.3f}).")
        half = len(mu) // 2
        half_share = vc.hole_share(cache.holes_prior_samples(key, half)[1], tau)[0]
        st.metric("Prior samples in holes", f"{share:.1%}",
                  help=f"{len(log_ratio):,} draws z ~ N(0, I) (seed 0), ± {share_se:.1%} (standard error). q is "
                       f"built from {len(mu):,} narrow Gaussians (median σ {median_sigma:.3f}), so part of each hole "
                       f"is the gaps between them, which more digits would fill: with q of a random half of the "
                       f"test digits the share is {half_share:.1%}.")
        st.caption(f"Share of z ~ N(0, I) that land where q(z) < {tau:g} · p(z): samples the decoder was hardly "
                   "trained on.")
    gallery = cache.holes_gallery(key, tau, N_HOLE, N_DENSE)
    with map_col:
        st.plotly_chart(cache.holes_map_figure(key, tau, N_HOLE, N_DENSE, phone), key="holes_map_chart")
        st.caption(f"Red: q(z) below p(z); blue: above; the black line is q = {tau:g} · p; grey dots are the test "
                   f"digits' means. Drawn inside the prior's {PRIOR_MASS_RADIUS:g}σ circle, which holds 98.9% of "
                   "its mass.")
    for name, title in (("hole", f"Prior samples that landed in a hole (q < {tau:g} · p)"),
                        ("dense", "Prior samples that landed where q ≥ p")):
        st.subheader(title)
        z_picked, ratio, images = gallery[name]
        if not len(z_picked):
            st.info(f"None of the {len(log_ratio):,} prior samples landed there.")
            continue
        captions = [f"q/p = {r:.2g}" if r >= 1e-3 else "q/p < 0.001" for r in ratio]
        st.image([digit(im, side, px=84) for im in images], caption=captions, output_format="PNG")


holes_at_threshold()
