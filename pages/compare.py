"""Compare: any two checkpoints side by side on the same axes -- one table of their figures, their latent maps, their
decoder grids and what each decodes from the same draws of the prior."""
from explorer.startup.deep_link import ensure_navigation

ensure_navigation()  # first, before torch is imported: a deep link on a fresh server reruns through navigation.py


import pandas as pd
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey, chosen, load_problem
from explorer.model.files import list_checkpoints
from explorer.model.link import model_name
from explorer.model.picker import label
from explorer.page import url_state as us
from explorer.page.device import map_height
from explorer.page.guards import need_mnist
from explorer.page.job_progress import await_job, presenter_can_compute
from explorer.page.page_run import stop_page
from explorer.page.public_text import public
from explorer.render.digit_images import digit
from explorer.render.figures import add_prior_contours, decoder_grid_figure, digit_scatter, same_axes
from explorer.render.gallery import digit_strip_html
from explorer.room import session_pace
from explorer.room.roles import is_presenter

SLOTS = ("a", "b")
IWAE_KS = (10, 100, 1000, 5000)  # k = 1000 is the published protocol; fewer samples for a quick look
SEED = "compare_prior_seed"
N_SAMPLES = 10
BEST = " ★"

link_slot = us.titled("Compare two models")
st.caption("Two checkpoints side by side: their figures on the 10,000 MNIST test digits, their latent maps and decoder "
           "grids on the same axes, and what each decodes from the same draws z ~ N(0, I). ★ marks the better value.")

paths = [str(p) for p in list_checkpoints()]
if len(paths) < 2:
    st.info("**Only one model is available, so there is nothing to compare it with.** Train another model in the "
            "sidebar (it is listed here as soon as it is saved), or restore the shipped beta4.pt and conv.pt in "
            "checkpoints/.", icon=":material/info:")
    stop_page()


def _default_pair(a: str | None = None) -> tuple[str, str]:
    """A: `a` if given (already picked, or named by the link), else the model chosen in the sidebar; B: the first other
    model listed -- the shipped ones come first (default, beta4, conv), so the default is set against beta4 and any
    other model against the default."""
    a = a or (chosen().path if chosen().path in paths else paths[0])
    return a, next(p for p in paths if p != a)


schema = us.compare_schema(us.model_names())
linked = us.restore(schema)  # the link's A and B, if it names them (read once per session)
named = {slot: str(path) for slot in SLOTS if linked[slot] and (path := us.checkpoint_named(linked[slot]))}
picked_a = st.session_state.get("compare_model_a")
pickers = st.columns(2, gap="large")
for slot, col, default in zip(SLOTS, pickers, _default_pair(picked_a if picked_a in paths else named.get("a")),
                              strict=True):
    if st.session_state.get(f"compare_model_{slot}") not in paths:
        st.session_state[f"compare_model_{slot}"] = named.get(slot, default)
    col.selectbox(f"Model {slot.upper()}", paths, key=f"compare_model_{slot}", format_func=label)
keys = [ModelKey.of(st.session_state[f"compare_model_{slot}"]) for slot in SLOTS]
view = {"model": model_name(chosen().path), "a": model_name(keys[0].path), "b": model_name(keys[1].path)}
us.publish(schema, view)
with link_slot:
    us.copy_link(schema, view)
names = [f"{slot.upper()}: {label(key.path)}" for slot, key in zip(SLOTS, keys, strict=True)]
for name, key in zip(names, keys, strict=True):
    if problem := load_problem(key):
        st.error(public(f"**Model {name} cannot be loaded.** {problem}"), icon=":material/error:")
        stop_page()
if keys[0].path == keys[1].path:
    st.warning("Models A and B are the same file: pick another model for B to see a difference.", icon=":material/info:")
ckpts = [cache.load_model(key) for key in keys]
deskewing = [name for name, ckpt in zip(names, ckpts, strict=True) if ckpt.model_config.deskew]
# a deskewing model's likelihood is of each digit given its slant: no star where only one of the two is
UNSTARRED = ("test_loss", "test_reconstruction", "iwae_nll") if len(deskewing) == 1 else ()
test_x, test_y = need_mnist("test")

# ---------------------------------------------------------------------------------------------- the figures
st.subheader("Figures on the 10,000 test digits")
iwae_k = st.select_slider("IWAE samples k", IWAE_KS, value=1000, key="compare_iwae_k",
                          help="IWAE estimates −log p(x) with k importance samples per digit (Burda et al. 2016): "
                               "the more samples, the tighter. k = 1000 is the published protocol.")
figures = [cache.comparison_figures(key, iwae_k) for key in keys]
for key, fig in zip(keys, figures, strict=True):
    fig["iwae_nll"] = fig["iwae_nll"] if fig["iwae_nll"] is not None else cache.finished_iwae(key, iwae_k)


def _cell(name: str, value, figure: dict) -> str:
    if value is None:
        return "not computed"
    if name == "active_units":
        return f"{value} of {figure['latent_dim']}"
    return f"{value:.4f}" if name in ("knn_accuracy", "trustworthiness") else f"{value:.2f}"


def _table(figs: list[dict]) -> pd.DataFrame:
    """Rows = figures, columns = the two models; the better value of a row carries a star."""
    rows, index = [], []
    for name, text, direction in vc.COMPARED_FIGURES:
        values = [f[name] for f in figs]
        marks = [False] * len(values) if name in UNSTARRED else vc.best_of(values, direction)
        rows.append([_cell(name, v, f) + (BEST if m else "") for v, f, m in zip(values, figs, marks, strict=True)])
        arrow = {-1: " ↓", 1: " ↑", 0: ""}[direction]
        index.append(text + (f", k = {iwae_k}" if name == "iwae_nll" else "") + arrow)
    rows.append([", ".join(f"{v:.2f}" for v in f["unit_variances"]) for f in figs])
    index.append("Var of E[z_u | x], per unit")
    return pd.DataFrame(rows, index=index, columns=names)


table = st.empty()
table.table(_table(figures))
st.caption("↓ lower is better, ↑ higher is better. A unit is active if its posterior mean varies with the digit: "
           f"Var over x of E[z_u | x] > {vc.ACTIVE_THRESHOLD} (Burda et al. 2016). Figures that `python -m vae_core train` "
           "stored in a checkpoint are read from it; the rest is computed here, once per model.")
if len(deskewing) == 1:
    st.info(f"**{deskewing[0]} deskews:** it stands each digit upright before encoding it and draws its decoded digit "
            "slanted back like the input. Its −ELBO and IWAE are of each digit's own pixels *given its slant*, one "
            "number per digit that the other model has to code in z, so the two are not strictly comparable and "
            "those rows carry no star.",
            icon=":material/info:")
iwae_slot = st.container()
missing = [i for i, f in enumerate(figures) if f["iwae_nll"] is None]
# IWAE runs as one shared job per model and k (explorer.cache.jobs): asked for by anyone, computed once, its progress
# shown to everyone on this page. Only the presenter starts one in room mode: k = 5000 is about an hour per model.
jobs_of = {i: cache.comparison.find_iwae(keys[i], iwae_k) for i in missing}
unasked = [i for i, job in jobs_of.items() if job is None or job.state == cache.jobs.FAILED]  # a failed one: again


def _request_iwae() -> None:
    if is_presenter():  # checked again here: a callback runs on whatever the session sends
        for i in unasked:
            cache.submit_iwae(keys[i], iwae_k)


if unasked:
    with iwae_slot:
        who = " and ".join(names[i] for i in unasked)
        if is_presenter():
            st.button(f"Compute IWAE (k = {iwae_k}) for {who}", key="compare_iwae_button", on_click=_request_iwae,
                      icon=":material/calculate:")
            st.caption("Not stored in the checkpoint. At k = 1000 it takes minutes per model (12 min for the default "
                       "model on one busy CPU core); the result is kept for every session of this server.")
        else:
            presenter_can_compute(f"IWAE (k = {iwae_k}) for {who}")

# ---------------------------------------------------------------------------------------------- latent maps
st.subheader("Latent maps on the same axes")
st.caption("The test digits at the means of q(z|x), with the prior's 1σ, 2σ, 3σ circles.")
maps = {}
for i, (key, ckpt) in enumerate(zip(keys, ckpts, strict=True)):
    if ckpt.model_config.latent_dim == 2:
        maps[i] = add_prior_contours(digit_scatter(cache.test_latents(key)[0], test_y, coord="z", title=names[i],
                                                   height=map_height(560), min_half_range=3.2,
                                                   label_at=cache.class_label_places(key)))
same_axes(*maps.values())
for i, col in enumerate(st.columns(2, gap="large")):
    with col:
        if i in maps:
            st.plotly_chart(maps[i], key=f"compare_map_{SLOTS[i]}")
        else:
            st.info(f"**{names[i]}** has a {ckpts[i].model_config.latent_dim}-D latent space: its latent map and "
                    "decoder grid need a 2-D one. Its figures are in the table above.", icon=":material/info:")


@session_pace.fragment
def decoder_grids() -> None:
    """Both decoders over the same G x G lattice; the sliders rerun only this part."""
    st.subheader("Decoder grids over the same lattice")
    controls = st.columns(2)
    size = controls[0].slider("Grid size G (G × G digits)", 5, 30, 15, key="compare_grid_size")
    extent = us.stepped_slider("Extent a: z ∈ [−a, a]²", us.GRID_EXTENT, key="compare_grid_extent", where=controls[1],
                               value=us.GRID_EXTENT.default)
    for i, col in enumerate(st.columns(2, gap="large")):
        if i in maps:
            uri, _ = cache.grid_picture(keys[i], size, -extent, extent)
            col.plotly_chart(decoder_grid_figure(uri, size, (-extent, extent), height=560), key=f"compare_grid_{SLOTS[i]}",
                             config={"displayModeBar": False, "scrollZoom": False})


@session_pace.fragment
def prior_samples() -> None:
    """N_SAMPLES draws z ~ N(0, I) of one seed, decoded by each model: the same z for both when their latent sizes
    agree. "New samples" reruns only this part."""
    st.subheader(f"{N_SAMPLES} samples from the prior, the same z for both")
    seed = st.session_state.setdefault(SEED, 0)
    st.button("New samples", key="compare_new_samples", icon=":material/casino:",
              on_click=lambda: st.session_state.update({SEED: seed + 1}))
    for name, ckpt in zip(names, ckpts, strict=True):
        z, images = vc.sample_prior(ckpt.model, N_SAMPLES, seed)
        st.markdown(f"**{name}**")
        st.html(digit_strip_html(  # one row on a desktop, rows of five on a phone
            [digit(image, ckpt.model_config.image_size, px=168) for image in images],
            [f"z = ({', '.join(f'{v:+.2f}' for v in code[:2])}{', …' if len(code) > 2 else ''})" for code in z]))
    if ckpts[0].model_config.latent_dim != ckpts[1].model_config.latent_dim:
        st.caption("The two latent spaces differ in size, so the draws differ too (same seed).")


decoder_grids()
prior_samples()

# ------------------------------------------------- IWAE under way, last: the rest of the page is drawn meanwhile
for i, job in jobs_of.items():
    if job is None:
        continue
    with iwae_slot:
        try:
            figures[i]["iwae_nll"] = await_job(job)
        except Exception as e:  # noqa: BLE001 -- the job's own error, shown without paths
            st.error(public(f"**IWAE for {names[i]} failed:** {type(e).__name__}: {e}"), icon=":material/error:")
            continue
    table.table(_table(figures))
