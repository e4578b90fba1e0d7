"""Latent map: the 10,000 test digits at their VAE latent means, beside a PCA-2D projection of the same digits; digits
drawn on the maps, box and lasso selections (counted, shown, found on the other map, downloaded as CSV), and a link
that restores the view."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.link import model_name
from explorer.page import url_state as us
from explorer.page.device import map_height
from explorer.page.guards import need_mnist, page_model
from explorer.page.job_progress import await_all, may_score
from explorer.page.score_labels import COLOUR_LABELS
from explorer.render.clicks import is_region, selected_index, selected_indices, selected_points, selection_outlines
from explorer.render.figures import label_counts_figure, posterior_closeup
from explorer.render.gallery import gallery_html
from explorer.room import session_pace
from explorer.startup import first_draw

SELECTED = "latent_selected"  # test index of the clicked digit (either map)
# The box or lasso selection: {"map": "vae" or "pca" (where it was drawn), "indices": its sorted test indices,
# "outlines": the drawn boxes and lassos, (xs, ys) in data units, as many and as long as a person draws (clicks.py)}
REGION = "latent_region"
VERSIONS = "latent_chart_versions"  # per map: bumped to redraw it without a stale highlight
MAP_NAMES = {"vae": "VAE", "pca": "PCA"}
GALLERY = 100  # digits of a selection shown (evenly spread over it)
LINKED = {"digit": SELECTED, "colour_by": "latent_colour_by", "show_digits": "latent_show_digits"}  # link -> state

link_slot = us.titled("Latent map: VAE vs PCA")
st.caption("Each dot is one of the 10,000 MNIST test digits. Left: the mean of q(z|x) from the VAE encoder. "
           "Right: the first two principal components of the raw pixels. Click a dot to inspect that digit; "
           "click a legend entry to hide or show a digit class; pick Box Select or Lasso Select at a map's top right "
           "and drag to select a group of digits.")

key, ckpt = page_model()
test_x, test_y = need_mnist("test")
mu, logvar = cache.test_latents(key)
if not ckpt.pca:
    need_mnist("train")  # no stored PCA baseline: it is fitted on the training images
pca_test = cache.pca_test_codes(key)

schema = us.latent_map_schema(us.model_names(), len(test_y), tuple(COLOUR_LABELS))
us.restore(schema, into=LINKED)  # the link's view, read once per session (its model is the sidebar's); then the state's

# The view's settings are read here and their widgets drawn after the maps, into this slot above them: a first view
# sends the maps first (docs/performance.md, First view). A keyed widget's value is in the session state before the
# run, so maps and widgets agree. On a phone the slot sits under the selected digit (styles.PHONE_CSS).
VIEW_DEFAULTS = {"latent_show_prior": True, "latent_show_ellipse": True, "latent_show_digits": False,
                 "latent_colour_by": "label"}
controls_slot = st.container(key="phone_controls")
show_prior, show_ellipse, show_digits, colour_by = (st.session_state.get(k, v) for k, v in VIEW_DEFAULTS.items())
# the 10,000 test digits' scores: a shared job, once per model for the whole server (the Anomalies page's); until
# they exist (and the audience may not start them), the maps keep the label colours
colour = {}
if colour_by != "label" and await_all(cache.anomaly_scores.needed(key, ("test",)), may_score(key),
                                      "The anomaly scores of this model's test digits"):
    colour = dict(values=cache.test_scores(key)[colour_by], value_name=COLOUR_LABELS[colour_by])
view = {"model": model_name(key.path), "colour_by": colour_by, "show_digits": show_digits}  # digit: the fragment's


def _chart_key(chart: str) -> str:
    versions = st.session_state.setdefault(VERSIONS, {"vae": 0, "pca": 0})
    return f"latent_{chart}_chart_{versions[chart]}"


def _redraw(chart: str) -> None:
    """A new key for the chart: drawn anew, without the point Plotly highlights on it."""
    st.session_state[VERSIONS][chart] += 1


def _remember(chart: str, other: str):
    """The chart's on_select: a box or lasso makes the region selection, a click selects one digit."""
    def callback():
        event = st.session_state.get(_chart_key(chart))
        if is_region(event):  # both maps are redrawn with it (_map_figure)
            st.session_state[REGION] = {"map": chart, "indices": selected_indices(event, len(test_y)),
                                        "outlines": selection_outlines(event)}
            return
        index = selected_index(event, len(test_y))  # None for a digit that does not exist: nothing happens
        if index is not None:
            st.session_state[SELECTED] = index
            if selected_points(st.session_state.get(_chart_key(other))):  # it highlights the previous digit:
                _redraw(other)  # a new key redraws it without (the one slow click)
        # an empty event (a double click, a redrawn map) leaves the region alone: "Clear selection" clears it
    return callback


def _clear_region() -> None:
    st.session_state.pop(REGION, None)


def _map_figure(which: str, region: dict | None):
    """(one map, a caption on its digits or None): one figure per model and view, shared by every session and rerun
    (explorer.cache.figures), so a click costs no rebuild and sends the same figure again."""
    height = map_height(cache.LATENT_MAP_HEIGHT[show_digits])
    return cache.latent_map(key, which, height, show_prior, show_digits, region=region, **colour)


def _selection_panel(region: dict) -> None:
    """What a box or lasso selected: how many and of which labels, up to GALLERY of them, and its CSV."""
    indices = region["indices"]
    other = "PCA" if region["map"] == "vae" else "VAE"
    head = st.columns([4, 1.2], vertical_alignment="bottom")
    head[0].subheader(f"Selection: {len(indices):,} digits on the {MAP_NAMES[region['map']]} map")
    head[1].button("Clear selection", key="latent_clear_region", on_click=_clear_region, icon=":material/close:")
    if not len(indices):
        st.info("The box or lasso holds no digits: drag over some dots.")
        return
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.caption(f"Labels of the selected digits. Both maps draw them at full strength and fade the rest: see where "
                   f"the {other} map put them. The selection stays until you clear it.")
        st.plotly_chart(label_counts_figure(test_y[indices]), key="latent_region_counts",
                        config={"displayModeBar": False})
        scores = cache.test_scores_ready(key)
        st.download_button("Download selection (CSV)", lambda: cache.map_csv(key, indices, scores),
                           file_name=f"latent_map_selection_{len(indices)}.csv", mime="text/csv",
                           key="latent_region_csv", on_click="ignore", icon=":material/download:",
                           help="One row per selected digit: test_index, label, z1, z2, sigma1, sigma2, pc1, pc2"
                                + (", and its anomaly scores." if scores else "."))
    with right:
        shown = indices if len(indices) <= GALLERY else indices[np.linspace(0, len(indices) - 1, GALLERY).astype(int)]
        st.caption(f"{len(shown)} of the {len(indices):,} selected digits" + (", evenly spread over them"
                                                                               if len(shown) < len(indices) else ""))
        side = ckpt.model_config.image_size
        st.html(gallery_html([([test_x[i]], f"#{i} · {test_y[i]}") for i in shown], px=48, side=side))


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


@session_pace.fragment
def maps_and_selection() -> None:
    """Both maps, the region selection and the clicked digit: a click or a lasso reruns only this part of the page.
    A click leaves both maps' figures as they were, so their 10k points are not sent again; a box or lasso (a
    deliberate act, not a click) redraws both, with the selection highlighted and, with digits shown, its pictures."""
    selected = st.session_state.get(SELECTED)
    region = st.session_state.get(REGION)
    # with digits drawn, one map per row at full width: side by side they would be ~9 px a digit on a 1600 px screen
    places = (st.container(), st.container()) if show_digits else st.columns(2, gap="large")
    columns = dict(zip(MAP_NAMES, places, strict=True))
    below = {}
    for which, other in (("vae", "pca"), ("pca", "vae")):
        with columns[which]:
            fig, caption = _map_figure(which, region)
            st.plotly_chart(fig, key=_chart_key(which), on_select=_remember(which, other),
                            selection_mode=("points", "box", "lasso"))
            if caption:
                st.caption(caption)
            below[which] = st.container()
        if which == "vae":
            first_draw.hold()  # a first view: the rest (the PCA map first) once the browser has drawn this map
    metrics = cache.embedding_metrics(key)
    with below["vae"]:
        _metrics(metrics, "vae", other="pca")
    with below["pca"]:
        _metrics(metrics, "pca")

    if region is not None:
        _selection_panel(region)

    st.subheader("Selected digit")
    if selected is None:
        st.info("Click a dot on either map to see that digit, its reconstruction, its latent mean z and its σ.")
    else:
        _selected_digit(selected)
    # here, so a click (this fragment's rerun) updates the link too; last, as the decoder grid does: the
    # address change re-renders Streamlit's app root, so the digit's own messages go first
    us.publish(schema, {**view, "digit": selected})


def _selected_digit(selected: int) -> None:
    """The clicked digit: its image and reconstruction, label, z, σ and PCA code, and a close-up of the VAE map."""
    side = ckpt.model_config.image_size
    sigma = np.exp(0.5 * logvar[selected])
    cols = st.columns([1, 1, 1.2, 2])
    cols[0].image(cache.test_digit_picture(selected, side, 224), caption=f"test #{selected}", output_format="PNG")
    cols[1].image(cache.reconstruction_picture(key, selected, 224), caption="reconstruction (decoded μ)",
                  output_format="PNG")
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


def _view_controls() -> None:
    """The view's widgets (their values were read above, before the maps)."""
    controls = controls_slot.columns([3, 3, 2, 3])
    controls[0].toggle("Prior N(0, I) contours (1σ, 2σ, 3σ)", value=VIEW_DEFAULTS["latent_show_prior"],
                       key="latent_show_prior")
    controls[1].toggle("σ-ellipse of the selected digit", value=VIEW_DEFAULTS["latent_show_ellipse"],
                       key="latent_show_ellipse",
                       help="Drawn on the close-up under the maps: at the scale of the whole map q(z|x) is a few "
                            "pixels wide.")
    controls[2].toggle(
        "Show digits", value=VIEW_DEFAULTS["latent_show_digits"], key="latent_show_digits",
        help="A few hundred test digits drawn at their places on both maps (420 and 502 for the default model), at most "
             "one per cell of a grid over the map, never overlapping; framed in their class colours. With a selection, "
             "picked among the selected digits. Zoom in to see them larger.")
    controls[3].selectbox(
        "Colour by", list(COLOUR_LABELS), format_func=COLOUR_LABELS.get, key="latent_colour_by",
        help="A digit's label, or how anomalous the VAE finds it (higher = darker; see the Anomalies page). Both maps "
             "use the same colours, so you can see where the VAE's atypical digits land in PCA too.")


with st.container(key="phone_picture"):
    maps_and_selection()
_view_controls()
downloads = st.columns([2, 2, 3], vertical_alignment="center")
downloads[0].download_button("VAE map as a PNG for a slide (1920 × 1080)", lambda: cache.latent_map_png(key),
                             file_name="latent_map_slide.png", mime="image/png", key="latent_slide_download",
                             on_click="ignore", icon=":material/slideshow:",
                             help="The 10,000 latent means in their digit colours, with the prior's 1σ-3σ circles and "
                                  "a colour key; made when you click.")
# Anomaly scores go in the CSVs only once this server has them: scoring the 10,000 digits takes tens of seconds,
# minutes on a busy server, too long to hide behind a download click. Otherwise a button computes them first,
# in the open, with the spinner and its timer.
with_scores = cache.test_scores_ready(key)
downloads[1].download_button("Download whole map (CSV)", lambda: cache.map_csv(key, None, with_scores),
                             file_name=f"latent_map_{model_name(key.path)}.csv", mime="text/csv",
                             key="latent_map_csv", on_click="ignore", icon=":material/table:",
                             help="One row per test digit: test_index, label, z1, z2, sigma1, sigma2, pc1, pc2"
                                  + (f", {', '.join(vc.SCORES)}." if with_scores else "."))
with downloads[2]:
    if with_scores:
        st.caption("The CSVs hold the anomaly scores too: " + ", ".join(vc.SCORES) + ".")
    elif may_score(key) and st.button(
            "Add the anomaly scores to the CSVs", key="latent_csv_scores", icon=":material/add:",
            help="Scores the 10,000 test digits for this model once (about 30 s on a quiet machine, a minute or more "
                 "on a busy one), as the Anomalies page does."):
        if await_all(cache.anomaly_scores.needed(key, ("test",)), True, "The anomaly scores"):
            st.rerun()
with link_slot:  # opening it reruns the page, so its link has the digit a click (a fragment's rerun) selected
    us.copy_link(schema, {**view, "digit": st.session_state.get(SELECTED)})
