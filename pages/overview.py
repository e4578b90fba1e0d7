"""Overview: what a VAE is, then the current model -- loss curves, test digits beside their reconstructions,
samples decoded from the prior."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.guards import mnist_advice, mnist_or_none, page_model
from explorer.render.gallery import digit_strip_html

N_SHOWN = 10
CURVE_TERMS = {"−ELBO (total)": "loss", "Reconstruction": "reconstruction", "KL": "kl"}

link_slot = us.titled("Variational autoencoder on MNIST, with a 2-D latent space")
key, ckpt = page_model(latent_2d=False)  # curves, digits and prior samples need no 2-D latent
with link_slot:
    us.copy_link(us.model_schema("overview", us.model_names()), {"model": model_name(key.path)})  # the model alone

# on a phone, folded to its first lines (a tap unfolds it): the curves and digits start in the first screen
text, maths = st.container(key="phone_fold_overview").columns([1.1, 1], gap="large")
with text:
    st.markdown(
        "- The **encoder** reads a 28×28 digit *x* and outputs a Gaussian **q(z|x)** over a 2-D code *z*: "
        "a mean μ(x) and a spread σ(x).\n"
        "- **Reparameterisation**: draw *z* = μ + σ·ε with ε ~ N(0, I), so gradients flow through μ and σ.\n"
        "- The **decoder** turns *z* back into 784 pixel probabilities p(x|z).\n"
        "- Training maximises the **ELBO**: reconstruct well, while keeping q(z|x) close to the prior "
        "p(z) = N(0, I). We plot its negative, −ELBO = reconstruction + KL (nats per image; lower is better).\n"
        "- Because *z* is 2-D, the whole code space can be drawn: see the other pages."
        + ("\n- **This model deskews**: the encoder reads each digit stood upright by its slant, and the decoder's "
           "digit is slanted back like *x* before p(x|z) is scored, so *z* need not spend a dimension on slant."
           if ckpt.model_config.deskew else "")
    )
with maths:
    st.latex(r"q_\phi(z\mid x) = \mathcal{N}\big(\mu_\phi(x),\ \operatorname{diag}\sigma_\phi^2(x)\big)")
    st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x)\odot\varepsilon,\qquad \varepsilon\sim\mathcal{N}(0, I)")
    st.latex(r"\begin{aligned}-\mathrm{ELBO}(x) &= \underbrace{-\mathbb{E}_{q_\phi(z\mid x)}\log p_\theta(x\mid z)}"
             r"_{\text{reconstruction}} \\ &\quad + \underbrace{\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,"
             r"\mathcal{N}(0, I)\big)}_{\text{KL}}\end{aligned}")
    st.latex(r"\log p_\theta(x) \;\ge\; \mathrm{ELBO}(x)")

st.header("Training curves")
term = st.radio("Show", list(CURVE_TERMS), horizontal=True, key="overview_curve_term")
if ckpt.history:
    st.plotly_chart(cache.overview_curves(key, CURVE_TERMS[term], term), key="overview_curves",
                    theme=None)  # keep the large projector fonts
else:
    st.info("This checkpoint stores no training history.")


def digit_row(label: str, pictures: list[str], captions) -> None:
    """A label, then the digits in one row, each large and crisp (nearest-neighbour upscaled PNGs, made once per model
    and view by explorer.cache.overview); rows of five on a phone."""
    st.markdown(f"**{label}**")
    st.html(digit_strip_html(pictures, captions))


st.header("Test digits and their reconstructions")
test = mnist_or_none("test")
if test is None:
    st.warning(f"**MNIST is not available**, so no test digits can be shown. {mnist_advice()}",
               icon=":material/folder_off:")
else:
    test_x, test_y = test
    c1, c2 = st.columns(2)
    one_each = c1.toggle("One of each digit 0–9", value=True, key="overview_one_each")
    start = c2.number_input("…or 10 test digits from index", 0, len(test_x) - N_SHOWN, 0, step=N_SHOWN,
                            key="overview_start", disabled=one_each)
    if one_each:
        idx = np.array([np.flatnonzero(test_y == d)[0] for d in range(10)])
    else:
        idx = np.arange(start, start + N_SHOWN)
    digits, reconstructions = cache.overview_digits(key, tuple(int(i) for i in idx))
    digit_row("Test digits (label, #index)", digits, [f"{test_y[i]}  (#{i})" for i in idx])
    digit_row("Their reconstructions: the decoder applied to μ(x)" + (", slanted back like x" if ckpt.model_config.deskew
              else ""), reconstructions, [None] * N_SHOWN)

st.header("Samples from the prior")
st.caption("z drawn from N(0, I) and decoded — the decoder alone, no data needed.")
seed = st.number_input("Sample seed", 0, 1_000_000, 0, key="overview_prior_seed")
z, samples = cache.overview_prior_samples(key, N_SHOWN, int(seed))
digit_row("Decoded p(x|z), with z", samples, [", ".join(f"{v:+.1f}" for v in row[:2]).join("()") for row in z])
