"""Latent map: the 10,000 test digits at their VAE latent means, beside a PCA-2D projection of the same digits."""
from explorer.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.anomaly_text import SCORE_LABELS
from explorer.clicks import selected_index, selected_points
from explorer.digit_images import digit
from explorer.figures import add_prior_contours, digit_scatter, posterior_closeup
from explorer.page_guards import need_mnist, page_model

SELECTED = "latent_selected"  # test index of the clicked digit (either map)
COLOUR_BY = {"label": "label", "neg_elbo": SCORE_LABELS["neg_elbo"], "kl": SCORE_LABELS["kl"],
             "reconstruction": "reconstruction error", "corrected": "corrected score"}  # issue #9's choices
VERSIONS = "latent_chart_versions"  # per map: bumped to redraw it without a stale highlight

st.title("Latent map: VAE vs PCA")
st.caption("Each dot is one of the 10,000 MNIST test digits. Left: the mean of q(z|x) from the VAE encoder. "
           "Right: the first two principal components of the raw pixels. Click a dot to inspect that digit; "
           "click a legend entry to hide or show a digit class.")

key, ckpt = page_model()
test_x, test_y = need_mnist("test")
mu, logvar = cache.test_latents(key)

controls = st.columns(3)
show_prior = controls[0].toggle("Prior N(0, I) contours (1σ, 2σ, 3σ)", value=True, key="latent_show_prior")
show_ellipse = controls[1].toggle("σ-ellipse of the selected digit", value=True, key="latent_show_ellipse",
                                  help="Drawn on the close-up under the maps: at the scale of the whole map "
                                       "q(z|x) is a few pixels wide.")
colour_by = controls[2].selectbox(
    "Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, key="latent_colour_by",
    help="A digit's label, or how anomalous the VAE finds it (higher = darker; see the Anomalies page). Both maps "
         "use the same colours, so you can see where the VAE's atypical digits land in PCA too.")
# the 10,000 test digits' scores: computed once per model for every session (the Anomalies page's)
colour = {} if colour_by == "label" else dict(values=cache.test_scores(key)[colour_by], value_name=COLOUR_BY[colour_by])


def _chart_key(chart: str) -> str:
    versions = st.session_state.setdefault(VERSIONS, {"vae": 0, "pca": 0})
    return f"latent_{chart}_chart_{versions[chart]}"


def _remember(chart: str, other: str):
    def callback():
        index = selected_index(st.session_state.get(_chart_key(chart)))
        if index is not None:
            st.session_state[SELECTED] = index
            if selected_points(st.session_state.get(_chart_key(other))):  # it highlights the previous digit:
                st.session_state[VERSIONS][other] += 1  # a new key redraws it without (the one slow click)
    return callback


def _metrics(metrics: dict[str, float], prefix: str, other: str | None = None) -> None:
    cols = st.columns(2)
    for col, (name, label, help_text) in zip(cols, (
        ("knn_accuracy", "5-NN accuracy", "Share of test digits whose 5 nearest training digits in this 2-D map "
                                          "mostly carry the same label."),
        ("trustworthiness", "Trustworthiness", "k = 5. How far neighbours in the map are also neighbours in pixel "
                                                        "space (1 = perfectly trustworthy)."),
    ), strict=True):
        value = metrics[f"{prefix}_{name}"]
        delta = f"{value - metrics[f'{other}_{name}']:+.1%} vs PCA" if other else None
        col.metric(label, f"{value:.1%}", delta=delta, help=help_text)


@st.fragment
def maps_and_selection() -> None:
    """Both maps and the clicked digit: a click reruns only this part of the page."""
    selected = st.session_state.get(SELECTED)
    left, right = st.columns(2, gap="large")
    with left:  # the maps do not depend on the selection: a click does not send their 10k points again
        fig = digit_scatter(mu, test_y, coord="z", title="VAE: latent means μ(x)", min_half_range=3.2,
                            highlight_selection=True, **colour)
        if show_prior:
            add_prior_contours(fig)
        st.plotly_chart(fig, key=_chart_key("vae"), on_select=_remember("vae", "pca"), selection_mode="points")
        vae_scores = st.container()
    with right:
        if not ckpt.pca:
            need_mnist("train")  # no stored PCA baseline: it is fitted on the training images
        pca_test = cache.pca_test_codes(key)
        fig = digit_scatter(pca_test, test_y, coord="PC", title="PCA-2D of the pixels", highlight_selection=True,
                            **colour)
        st.plotly_chart(fig, key=_chart_key("pca"), on_select=_remember("pca", "vae"), selection_mode="points")
        pca_scores = st.container()
    metrics = cache.embedding_metrics(key)
    with vae_scores:
        _metrics(metrics, "vae", other="pca")
    with pca_scores:
        _metrics(metrics, "pca")

    st.subheader("Selected digit")
    if selected is None:
        st.info("Click a dot on either map to see that digit, its reconstruction, its latent mean z and its σ.")
        return
    side = ckpt.model_config.image_size
    sigma = np.exp(0.5 * logvar[selected])
    recon = vc.decode(ckpt.model, mu[selected])[0]
    cols = st.columns([1, 1, 1.2, 2])
    cols[0].image(digit(test_x[selected], side), caption=f"test #{selected}", output_format="PNG")
    cols[1].image(digit(recon, side), caption="reconstruction (decoded μ)", output_format="PNG")
    with cols[2]:
        st.metric("Label", str(int(test_y[selected])))
        st.metric("z = μ(x)", f"({mu[selected, 0]:+.2f}, {mu[selected, 1]:+.2f})")
        st.metric("σ = exp(½·log σ²)", f"({sigma[0]:.3f}, {sigma[1]:.3f})")
        st.metric("PCA-2D", f"({pca_test[selected, 0]:+.2f}, {pca_test[selected, 1]:+.2f})")
    with cols[3]:
        st.caption(f"Close-up of the VAE map around test #{selected}"
                   + (": q(z|x) = N(μ, σ²) as its 1σ and 2σ ellipses" if show_ellipse else ""))
        st.plotly_chart(posterior_closeup(mu, test_y, selected, sigma, show_ellipse), key="latent_closeup",
                        config={"displayModeBar": False})


maps_and_selection()
st.download_button("VAE map as a PNG for a slide (1920 × 1080)", lambda: cache.latent_map_png(key),
                   file_name="latent_map_slide.png", mime="image/png", key="latent_slide_download", on_click="ignore",
                   icon=":material/slideshow:", help="The 10,000 latent means in their digit colours, with the prior's "
                                                     "1σ-3σ circles and a colour key; made when you click.")
