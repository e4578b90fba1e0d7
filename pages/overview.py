"""Overview: what a VAE is, then the current model -- loss curves, test digits beside their reconstructions,
samples decoded from the prior."""
from explorer.app_shell import require_app_shell

require_app_shell()  # first: a bookmarked page on a fresh server reruns through shell.py before importing torch

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.digit_images import CRISP_CSS, digit
from explorer.page_guards import mnist_missing_text, mnist_or_none
from explorer.sidebar import selected_checkpoint

N_SHOWN = 10
CURVE_TERMS = {"−ELBO (total)": "loss", "Reconstruction": "reconstruction", "KL": "kl"}
FONT = dict(size=18)

st.markdown(CRISP_CSS, unsafe_allow_html=True)
st.title("Variational autoencoder on MNIST, with a 2-D latent space")

text, maths = st.columns([1.1, 1], gap="large")
with text:
    st.markdown(
        "- The **encoder** reads a 28×28 digit *x* and outputs a Gaussian **q(z|x)** over a 2-D code *z*: "
        "a mean μ(x) and a spread σ(x).\n"
        "- **Reparameterisation**: draw *z* = μ + σ·ε with ε ~ N(0, I), so gradients flow through μ and σ.\n"
        "- The **decoder** turns *z* back into 784 pixel probabilities p(x|z).\n"
        "- Training maximises the **ELBO**: reconstruct well, while keeping q(z|x) close to the prior "
        "p(z) = N(0, I). We plot its negative, −ELBO = reconstruction + KL (nats per image; lower is better).\n"
        "- Because *z* is 2-D, the whole code space can be drawn: see the other pages."
    )
with maths:
    st.latex(r"q_\phi(z\mid x) = \mathcal{N}\big(\mu_\phi(x),\ \operatorname{diag}\sigma_\phi^2(x)\big)")
    st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x)\odot\varepsilon,\qquad \varepsilon\sim\mathcal{N}(0, I)")
    st.latex(r"\begin{aligned}-\mathrm{ELBO}(x) &= \underbrace{-\mathbb{E}_{q_\phi(z\mid x)}\log p_\theta(x\mid z)}"
             r"_{\text{reconstruction}} \\ &\quad + \underbrace{\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,"
             r"\mathcal{N}(0, I)\big)}_{\text{KL}}\end{aligned}")
    st.latex(r"\log p_\theta(x) \;\ge\; \mathrm{ELBO}(x)")

path, mtime = selected_checkpoint()
ckpt = cache.load_model(path, mtime)
model = ckpt.model

st.header("Training curves")
term = st.radio("Show", list(CURVE_TERMS), horizontal=True, key="overview_curve_term")
if ckpt.history:
    key = CURVE_TERMS[term]
    epochs = [h["epoch"] for h in ckpt.history]
    fig = go.Figure()
    for split, dash in (("train", "solid"), ("test", "dash")):
        fig.add_scatter(x=epochs, y=[h[f"{split}_{key}"] for h in ckpt.history], name=split,
                        mode="lines+markers", line=dict(width=3, dash=dash), marker=dict(size=10))
    fig.update_layout(height=400, font=FONT, template="plotly_white", margin=dict(l=10, r=10, t=30, b=10),
                      hovermode="x unified",
                      xaxis=dict(title="epoch", dtick=max(1, len(epochs) // 10)),
                      yaxis=dict(title=f"{term} (nats / image)"), legend=dict(orientation="h", y=1.12))
    st.plotly_chart(fig, key="overview_curves", theme=None)  # keep the large projector fonts
else:
    st.info("This checkpoint stores no training history.")


def digit_row(label: str, images, captions) -> None:
    """A label, then the digits in one row of columns, each large and crisp (nearest-neighbour upscaled)."""
    st.markdown(f"**{label}**")
    for col, image, caption in zip(st.columns(len(images)), images, captions, strict=True):
        col.image(digit(image, side=model.config.image_size, px=224), caption=caption, width="stretch")


st.header("Test digits and their reconstructions")
test = mnist_or_none("test")
if test is None:
    st.warning(mnist_missing_text(), icon=":material/folder_off:")
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
    recon = vc.reconstruct(model, test_x[idx])
    digit_row("Test digits (label, #index)", test_x[idx], [f"{test_y[i]}  (#{i})" for i in idx])
    digit_row("Their reconstructions: the decoder applied to μ(x)", recon, [None] * N_SHOWN)

st.header("Samples from the prior")
st.caption("z drawn from N(0, I) and decoded — the decoder alone, no data needed.")
seed = st.number_input("Sample seed", 0, 1_000_000, 0, key="overview_prior_seed")
z, samples = vc.sample_prior(model, N_SHOWN, seed=int(seed))
digit_row("Decoded p(x|z), with z", samples, [f"({a:+.1f}, {b:+.1f})" for a, b in z[:, :2]])
