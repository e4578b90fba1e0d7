"""Everything the pages compute, cached per model: the checkpoint once per ModelKey (path, mtime), arrays with
st.cache_data. Every function takes the key as its first argument."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(key) -> vc.Checkpoint:
    """The checkpoint of a ModelKey (explorer.model_choice), loaded once per key."""
    return vc.load_checkpoint(key.path)


def mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 784) float32 in [0, 1], labels (N,) int64) from VAE_DATA_DIR, read-only and shared by all
    sessions; raises vc.MnistNotFoundError."""
    return _mnist(split, str(vc.data_dir().resolve()))


@st.cache_resource(show_spinner="Reading MNIST…", max_entries=4)
def _mnist(split: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    """A resource, not cache_data: the 60k training images are 188 MB, which cache_data would pickle once and
    copy on every call. Cached per folder too, so pointing VAE_DATA_DIR elsewhere is seen."""
    x, y = vc.load_mnist(split, root=root)
    x, y = x.numpy(), y.numpy()
    x.flags.writeable = y.flags.writeable = False
    return x, y


@st.cache_data(show_spinner="Encoding the 10,000 test digits…", max_entries=8)
def test_latents(key) -> tuple[np.ndarray, np.ndarray]:
    """Latent means and log-variances of every test digit: stored in the checkpoint when they were made from these
    test images (no encoder pass on a fresh server), else encoded here."""
    ckpt = load_model(key)
    return vc.stored_or_fresh_encodings(ckpt.model, mnist("test")[0], ckpt.test_latents)


@st.cache_data(show_spinner="PCA of the pixels…", max_entries=8)
def pca_codes(key) -> tuple[np.ndarray, np.ndarray]:
    """PCA-2D of the training and test images: (train codes, test codes), with the PCA baseline stored in the
    checkpoint (fitted on the training images when it was scored) -- a matrix product, no scikit-learn import
    (~2 s) or fit (~0.5 s) on a fresh server -- or, for a checkpoint without one, a PCA fitted here."""
    return vc.pca_codes(load_model(key).pca or None, mnist("train")[0], mnist("test")[0])


@st.cache_data(show_spinner="PCA of the pixels…", max_entries=8)
def pca_test_codes(key) -> np.ndarray:
    """PCA-2D of the test images, as the latent map shows them: with the checkpoint's stored baseline only the
    10,000 test images are projected (the 188 MB training set is not read); without one, as `pca_codes`."""
    pca = load_model(key).pca
    return vc.project_pca(pca, mnist("test")[0]) if pca else pca_codes(key)[1]


@st.cache_data(show_spinner="Scoring the embeddings…", max_entries=8)
def embedding_metrics(key) -> dict[str, float]:
    """5-NN accuracy and trustworthiness of the VAE latent means and of PCA-2D (from the checkpoint when stored)."""
    stored = load_model(key).metrics
    keys = ("vae_knn_accuracy", "vae_trustworthiness", "pca_knn_accuracy", "pca_trustworthiness")
    if all(k in stored for k in keys):
        return {k: stored[k] for k in keys}
    (train_x, train_y), (test_x, test_y) = mnist("train"), mnist("test")
    model = load_model(key).model
    codes = {"vae": (vc.encode(model, train_x)[0], test_latents(key)[0]), "pca": pca_codes(key)}
    return vc.compare_embeddings(train_x, train_y, test_x, test_y, codes)


@st.cache_data(show_spinner=False, max_entries=32)
def decoded_grid(key, grid_size: int, lo: float, hi: float) -> np.ndarray:
    """(G, G, 28, 28) decoded lattice over [lo, hi]^2, row 0 at z2 = hi."""
    return vc.decode_grid(load_model(key).model, grid_size, (lo, hi))


@st.cache_data(show_spinner=False, max_entries=32)
def grid_picture(key, grid_size: int, lo: float, hi: float) -> tuple[str, bytes]:
    """The decoded grid as one mosaic: (PNG data URI for the on-screen figure, PNG bytes of at least ~1000 px
    for download), both upscaled nearest-neighbour so digits stay crisp."""
    from .digit_images import data_uri, png_bytes

    mosaic = vc.tile(decoded_grid(key, grid_size, lo, hi))
    screen_scale = max(1, -(-800 // mosaic.shape[1]))  # ceil: the figure is drawn ~800 px high
    file_scale = max(1, -(-1000 // mosaic.shape[1]))
    return data_uri(mosaic, screen_scale), png_bytes(mosaic, file_scale)


HOLE_SAMPLES = 10_000  # prior samples behind the hole share (standard error <= 0.5 points) and its gallery


@st.cache_data(show_spinner="Evaluating q(z) on a grid…", max_entries=8)
def holes_density_grid(key, half_width: float = 4.0, size: int = 101) -> vc.DensityGrid:
    """q(z) of the test digits and p(z) on a size x size grid over [-half_width, half_width]^2: 10^8 log-densities
    for the default model, ~2 s on one busy thread."""
    return vc.density_grid(*test_latents(key), extent=(-half_width, half_width), size=size)


@st.cache_data(show_spinner="Estimating KL(q(z) ‖ p(z))…", max_entries=8)
def holes_kl(key) -> vc.KLEstimate:
    """Monte-Carlo KL of the test digits' aggregate posterior to the prior (10,000 samples, seed 0; ~3 s)."""
    return vc.aggregate_kl(*test_latents(key), n_samples=HOLE_SAMPLES, seed=0)


@st.cache_data(show_spinner="Sampling the prior…", max_entries=16)
def holes_prior_samples(key, n_digits: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(z, log q(z)/p(z)) of HOLE_SAMPLES draws z ~ N(0, I), seed 0: every threshold's hole share reads them (~2 s).
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


@st.cache_data(show_spinner=False, max_entries=64)
def interpolation(key, index_a: int, index_b: int, steps: int, mode: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From test digit index_a to index_b in `steps` frames: (latent path (steps, 2), decoded frames
    (steps, 28, 28), pixel-space cross-fade of the two images (steps, 28, 28))."""
    model = load_model(key).model
    mu = test_latents(key)[0]
    images = mnist("test")[0]
    side = model.config.image_size
    z = vc.interpolate(mu[index_a], mu[index_b], steps, mode)
    blend = vc.pixel_blend(images[index_a].reshape(side, side), images[index_b].reshape(side, side), steps)
    return z, vc.decode(model, z), blend


@st.cache_data(show_spinner="Scoring the model on the 10,000 test digits…", max_entries=16)
def comparison_figures(key, iwae_k: int) -> dict:
    """vc.model_figures of a model on the test digits, its IWAE only when stored with this k (else None: computing
    it takes minutes, so the compare page does it on demand with `iwae_nll`). The 188 MB training set is read only
    when the 5-NN accuracy is not stored."""
    ckpt, (test_x, test_y) = load_model(key), mnist("test")
    train = None if ckpt.metrics.get("n_test") == len(test_x) and "vae_knn_accuracy" in ckpt.metrics else mnist("train")
    return vc.model_figures(ckpt, test_x, test_y, iwae_k, train=train, compute_iwae=False)


# test digits per cached IWAE part: ~7 s for the default model at k = 1000 (712 s for all 10,000 on one thread of a
# busy 2-core machine), so the progress bar moves and a rerun loses at most one part's work
IWAE_PART = 100


@st.cache_data(show_spinner=False, max_entries=2048)
def iwae_part(key, k: int, start: int, stop: int) -> np.ndarray:
    """IWAE log p(x) estimates (k samples) of test digits start..stop-1; cached part by part, so a rerun in the
    middle of a long computation (any click) resumes it instead of starting again."""
    return vc.iwae_log_likelihood(load_model(key).model, mnist("test")[0][start:stop], k=k, seed=start)


@st.cache_resource(max_entries=1)
def _finished_iwae() -> dict:
    """{(key, k): IWAE -log p(x)} of every computation finished on this server, for every session to show."""
    return {}


def finished_iwae(key, k: int) -> float | None:
    """The IWAE -log p(x) of the test digits computed on this server for this model and k, or None."""
    return _finished_iwae().get((key, k))


def iwae_nll(key, k: int, progress=None) -> float:
    """IWAE -log p(x), mean over the test digits, computed part by part (cached) with progress(done, total)."""
    n = len(mnist("test")[0])
    parts = []
    for start in range(0, n, IWAE_PART):
        parts.append(iwae_part(key, k, start, min(n, start + IWAE_PART)))
        if progress is not None:
            progress(min(n, start + IWAE_PART), n)
    _finished_iwae()[(key, k)] = value = float(-np.concatenate(parts).mean())
    return value


# The anomaly scores. Each cached function takes `_anomaly_settings(key)` besides the key, so a change of these
# constants (a test's smaller k) never reads results made with others. Streamlit computes a missing entry once:
# a room opening the page together waits for one scoring (each session sees the spinner), not 30 of them.
IWAE_K = 100  # importance samples of -log p(x) (and so of the corrected score): the CLI's and the README's k
N_PROBES = 1000  # images per probe set, as in the README's AUROC table: scoring them costs ~0.8x the test set
N_VALIDATION, N_VALIDATION_PROBES = 5000, 500  # what a non-default model's complexity term is fitted on (the CLI's)


def anomaly_complexity(key) -> vc.Complexity:
    """The corrected score's (q, w) for this model: the shipped defaults for the default checkpoint (they were fitted
    for it), else fitted here as `python -m vae_core anomalies` does, on held-out training digits and probe sets of
    another seed (`vc.calibrate`: 34 s for the default model on one quiet thread; it reads the 188 MB training set)."""
    from .model_files import DEFAULT_CHECKPOINT

    if Path(key.path).resolve() == DEFAULT_CHECKPOINT.resolve():
        return vc.Complexity()
    return _fitted_complexity(key, IWAE_K, N_VALIDATION, N_VALIDATION_PROBES)


@st.cache_data(show_spinner="Fitting the corrected score to this model on 5,000 held-out training digits, once "
                            "(about a minute)…", show_time=True, max_entries=8)
def _fitted_complexity(key, iwae_k: int, n_validation: int, n_probes: int) -> vc.Complexity:
    return vc.calibrate(load_model(key).model, mnist("train")[0], iwae_k, n_validation=n_validation,
                        n_probes=n_probes)[0]


def _anomaly_settings(key) -> tuple[int, int, int, float]:
    c = anomaly_complexity(key)
    return IWAE_K, N_PROBES, c.levels, c.weight


def test_scores(key) -> dict[str, np.ndarray]:
    """vc.anomaly_scores of the 10,000 test digits (k = IWAE_K, this model's `anomaly_complexity`), once per model:
    14 s for the default model on a quiet machine with 2 threads, 25 s with one, a minute or more on a busy one."""
    scores = _test_scores(key, _anomaly_settings(key))
    _scored().add((key, IWAE_K))
    return scores


@st.cache_resource(max_entries=1)
def _scored() -> set:
    """(key, IWAE_K) of the models whose test digits this server has scored (shared by every session)."""
    return set()


def test_scores_ready(key) -> bool:
    """Whether `test_scores(key)` has been computed in this server, so it returns at once: asked without computing
    anything (not even a non-default model's complexity fit). False after its cache entry was evicted is fine: it is
    only computed again, with its spinner."""
    return (key, IWAE_K) in _scored()


@st.cache_data(show_spinner="Scoring the 10,000 test digits, once for this model (15 s on a quiet machine, a minute "
                            "or more on a busy one)…", show_time=True, max_entries=8)
def _test_scores(key, settings: tuple) -> dict[str, np.ndarray]:
    iwae_k, _, levels, weight = settings
    return vc.anomaly_scores(load_model(key).model, mnist("test")[0], iwae_k, vc.Complexity(levels, weight))


def probe_images(key) -> dict[str, np.ndarray]:
    """The probe sets the scores are tested on, as the CLI reports them: `vc.probe_sets` of the test digits, N_PROBES
    each, seed 0 (the same for every model; 3.5 s for 1,000 per set, mostly rendering the letters)."""
    return _probe_images(N_PROBES, str(vc.data_dir().resolve()))


@st.cache_resource(show_spinner="Making the probe sets…", max_entries=2)
def _probe_images(n: int, root: str) -> dict[str, np.ndarray]:
    """A resource, read-only and shared: cache_data would copy the 25 MB on every call."""
    sets = vc.probe_sets(mnist("test")[0], n, seed=0)
    for images in sets.values():
        images.flags.writeable = False
    return sets


def probe_scores(key) -> dict[str, dict[str, np.ndarray]]:
    """{probe set: vc.anomaly_scores of its images}, once per model: 8,000 images at N_PROBES = 1000, ~0.8x the time
    of `test_scores` (80 s against 103 s for it on this machine under a load of 3)."""
    return _probe_scores(key, _anomaly_settings(key))


@st.cache_data(show_spinner="Scoring 1,000 images of each probe set, once for this model (12 s on a quiet machine, "
                            "a minute or more on a busy one)…", show_time=True, max_entries=8)
def _probe_scores(key, settings: tuple) -> dict[str, dict[str, np.ndarray]]:
    iwae_k, _, levels, weight = settings
    model, complexity = load_model(key).model, vc.Complexity(levels, weight)
    return {name: vc.anomaly_scores(model, images, iwae_k, complexity) for name, images in probe_images(key).items()}


def probe_aurocs(key) -> dict[str, dict[str, float]]:
    """{score: {probe set: AUROC of "test digit vs probe"}}: the CLI's table (vc.auroc_table)."""
    return _probe_aurocs(key, _anomaly_settings(key))


@st.cache_data(show_spinner="AUROC of every score and probe set…", max_entries=8)
def _probe_aurocs(key, settings: tuple) -> dict[str, dict[str, float]]:
    return vc.auroc_table(test_scores(key), probe_scores(key))


def probe_rocs(key, score: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{probe set: (false positive rate, true positive rate)} of one score's ROC curve against the test digits."""
    return _probe_rocs(key, _anomaly_settings(key), score)


@st.cache_data(show_spinner=False, max_entries=64)
def _probe_rocs(key, settings: tuple, score: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    digits = test_scores(key)[score]
    return {name: vc.roc(digits, s[score]) for name, s in probe_scores(key).items()}


def extreme_digits(key, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"typical", "atypical"}: (test indices, reconstructions (n, side, side) from their latent means) of the n test
    digits with the lowest and the highest `score`, most extreme first."""
    return _extreme_digits(key, _anomaly_settings(key), score, n)


@st.cache_data(show_spinner=False, max_entries=64)
def _extreme_digits(key, settings: tuple, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    order = np.argsort(test_scores(key)[score], kind="stable")
    picks = {"typical": order[:n], "atypical": order[::-1][:n]}
    model, mu = load_model(key).model, test_latents(key)[0]
    return {name: (index, vc.decode(model, mu[index])) for name, index in picks.items()}


def digit_like_probes(key, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{probe set: (indices, reconstructions)} of each set's n images with the lowest `score`: those it finds most
    digit-like, most digit-like first."""
    return _digit_like_probes(key, _anomaly_settings(key), score, n)


@st.cache_data(show_spinner=False, max_entries=64)
def _digit_like_probes(key, settings: tuple, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    model, images = load_model(key).model, probe_images(key)
    picks = {name: np.argsort(s[score], kind="stable")[:n] for name, s in probe_scores(key).items()}
    return {name: (index, vc.reconstruct(model, images[name][index])) for name, index in picks.items()}


@st.cache_resource(show_spinner=False, max_entries=8)
def latent_backdrop(key, title: str, height: int = 560):
    """The test digits' latent map (with the prior's contours) as a fixed backdrop for markers drawn over it
    (figures.freeze_map, explorer.map_overlay): one Figure per model and title, shared by every session and never
    modified -- building it took ~70 ms, in every run of a page that showed it."""
    from .figures import add_prior_contours, digit_scatter, freeze_map

    codes, labels = test_latents(key)[0], mnist("test")[1]
    return freeze_map(add_prior_contours(digit_scatter(codes, labels, coord="z", title=title, height=height,
                                                       min_half_range=3.2)))


@st.cache_data(show_spinner=False, max_entries=64)
def drawn_digit(key, image: np.ndarray, n_nearest: int = 5) -> dict[str, np.ndarray]:
    """What the model makes of one digit (784,) in [0, 1] (drawn or uploaded): "mu" and "sigma" (2,) of q(z|x),
    "reconstruction" (784,) the decoded mean, "nearest" the n_nearest test digits closest to mu in latent space and
    "distances" theirs."""
    model = load_model(key).model
    mu, logvar = vc.encode(model, np.asarray(image, dtype=np.float32).reshape(1, -1))
    distances = np.linalg.norm(test_latents(key)[0] - mu[0], axis=1)
    nearest = np.argsort(distances, kind="stable")[:n_nearest]
    return {"mu": mu[0], "sigma": np.exp(0.5 * logvar[0]), "reconstruction": vc.decode(model, mu).reshape(-1),
            "nearest": nearest, "distances": distances[nearest]}


def digit_scores(key, image: np.ndarray) -> dict[str, tuple[float, float]]:
    """One digit's anomaly scores, each with its percentile among the 10,000 test digits' (`test_scores`): the
    share of them that score lower, i.e. look more typical (0.97 = more atypical than 97% of the test digits)."""
    return _digit_scores(key, _anomaly_settings(key), np.asarray(image, dtype=np.float32).reshape(1, -1))


@st.cache_data(show_spinner=False, max_entries=64)
def _digit_scores(key, settings: tuple, image: np.ndarray) -> dict[str, tuple[float, float]]:
    iwae_k, _, levels, weight = settings  # as the test digits were scored
    scores = vc.anomaly_scores(load_model(key).model, image, iwae_k, vc.Complexity(levels, weight))
    test = test_scores(key)
    return {name: (float(scores[name][0]), float(np.mean(test[name] < scores[name][0]))) for name in vc.SCORES}


FILM_MAX_FRAMES = 60  # frames of a film the page animates (a 100-epoch film: the first epoch's and every 2nd after)
FILM_GREYS = 16  # grey levels of the animated grids: beta4's 35 frames send 0.7 MB of PNGs, not 1.7 MB at 256


@st.cache_data(show_spinner="Reading the training film…", max_entries=8)
def film(key) -> dict:
    """The checkpoint's training film, ready to animate: "frames" (indices into the film, at most FILM_MAX_FRAMES),
    "means" (F, n, 2) float32, "labels" (n,), "captions", "epochs" (F,), "grids" (PNG data URIs in FILM_GREYS grey
    levels, or None without grids) and "extent", the half-side of square axes that hold every frame's means."""
    from vae_core.slides import map_extent, pick_frames

    from .digit_images import grey_levels_uri

    s = load_model(key).snapshots
    frames = pick_frames(s["epochs"], FILM_MAX_FRAMES)
    means = s["means"][frames].float().numpy()
    grids = [grey_levels_uri(vc.frame_grid(s, f), FILM_GREYS) for f in frames] if vc.has_grids(s) else None
    return {"frames": frames, "means": means, "labels": s["labels"].numpy(), "grids": grids,
            "captions": [vc.frame_caption(s, f) for f in frames], "epochs": s["epochs"][frames].numpy(),
            "extent": map_extent(s["means"].float().numpy())}


@st.cache_resource(show_spinner="Drawing the training film…", max_entries=4)
def film_chart(key):
    """The film as one animated Plotly figure (explorer.figures.film_figure), built once per model for every session:
    building beta4's 35 frames takes ~0.5 s; sending the cached figure costs each page run ~0.2 s (Streamlit's
    copy and JSON)."""
    from .figures import film_figure

    f = film(key)
    return film_figure(f["means"], f["labels"], f["captions"], f["epochs"], f["grids"], load_model(key).history,
                       f["extent"], grid_extent=vc.FILM_EXTENT, grid_cells=vc.FILM_GRID)


@st.cache_data(show_spinner=False, max_entries=4)
def film_gif(key) -> bytes:
    """The training film as a 1920 x 1080 animated GIF for a slide (vae_core.slides.film_gif: ~4 s, ~5 MB)."""
    from pathlib import Path

    from vae_core.slides import film_gif as gif

    return gif(load_model(key).snapshots, title=f"Training film · {Path(key.path).stem}")


@st.cache_data(show_spinner=False, max_entries=8)
def latent_map_png(key) -> bytes:
    """The 10,000 test digits' latent means as a 1920 x 1080 PNG for a slide (~0.2 s)."""
    from pathlib import Path

    from vae_core import slides

    side = slides.panel_side(1)
    panel = slides.map_panel(test_latents(key)[0], mnist("test")[1], side)
    return slides.png_for_slide(panel, f"Latent means μ(x) of the 10,000 test digits · {Path(key.path).stem}",
                                key_colours=slides.TAB10)


# Digits on a latent map: square cells, DIGIT_CELLS along the longer side of the map's axes, and tiles DIGIT_SPACING of
# a cell wide, so no two tiles ever overlap (vc.spread_picks). On the default model's axes 24 x 24 cells at spacing 1
# kept only ~121 digits (the issue asks for 300-600); 40 cells along the longer side at spacing 0.8 keep 420 on the
# VAE map (36 x 40 cells) and 502 on PCA's (40 x 32). A cell is DIGIT_TILE_PX / DIGIT_SPACING = 35 px, so each tile
# is a digit's own 28 x 28 pixels (no resampling when composing; the browser scales the picture, pixelated).
DIGIT_CELLS, DIGIT_SPACING, DIGIT_TILE_PX = 40, 0.8, 28
DIGIT_GREYS = 32  # grey levels of the digits picture's palette PNG (5 bits; no banding seen at map size)


def _palette_png_uri(picture, greys: int = DIGIT_GREYS) -> str:
    """An RGBA picture of grey tiles in coloured frames on a transparent ground as a palette PNG data URI: greys
    quantised to `greys` levels, every other colour (a frame's) kept exactly. The 8-bit RGBA PNG of the default
    model's VAE map was 238 KB and 86 ms to encode; this one is 86 KB (114 KB as base64) and ~50 ms: ~35 ms to index
    the 1.8 M pixels (one lookup for the greys, the few frame pixels apart), ~17 ms of zlib."""
    import base64
    import io

    from PIL import Image

    a = np.asarray(picture)
    r, g, b, opaque = a[..., 0], a[..., 1], a[..., 2], a[..., 3] > 0
    index = np.rint(np.arange(256) * ((greys - 1) / 255)).astype(np.uint8)[r]  # a grey's level
    coloured = opaque & ((r != g) | (g != b))  # the frames (white and grey frames are greys)
    packed = (r[coloured].astype(np.uint32) << 16) | (g[coloured].astype(np.uint32) << 8) | b[coloured]
    colours, which = np.unique(packed, return_inverse=True)  # at most the 10 class colours
    index[coloured] = greys + which.reshape(-1)
    transparent = greys + len(colours)
    index[~opaque] = transparent
    palette = [round(i * 255 / (greys - 1)) for i in range(greys) for _ in range(3)]
    palette += [int(v) for c in colours.tolist() for v in ((c >> 16) & 255, (c >> 8) & 255, c & 255)] + [0, 0, 0]
    pil = Image.fromarray(index, mode="P")
    pil.putpalette(palette)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", transparency=transparent)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def digits_grid(x_range, y_range, cells: int = DIGIT_CELLS) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """(extent (x0, x1, y0, y1), (cells_x, cells_y)) of square cells over a map's axis ranges: `cells` along the longer
    axis, the shorter one widened symmetrically to whole cells (a picture a little larger than the axes, cut at the
    plot's edge)."""
    (x0, x1), (y0, y1) = (float(v) for v in x_range), (float(v) for v in y_range)
    side = max(x1 - x0, y1 - y0) / cells
    nx, ny = (max(1, int(np.ceil(span / side - 1e-9))) for span in (x1 - x0, y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - nx * side / 2, cx + nx * side / 2, cy - ny * side / 2, cy + ny * side / 2), (nx, ny)


@st.cache_data(show_spinner=False, max_entries=32)
def map_digits(key, which: str, x_range: tuple[float, float], y_range: tuple[float, float],
               subset: np.ndarray | None = None) -> tuple[str, tuple[float, float, float, float], int]:
    """The test digits drawn on a latent map ("vae": at their latent means, "pca": at their PCA-2D codes) as one
    picture for its axis ranges: (PNG data URI, the extent it covers, how many digits it draws). subset: the test
    indices to pick among (a selection), else all. Picked by vc.spread_picks, framed in their class colours; ~2 ms
    to pick, 5-10 ms to compose and ~50 ms to encode (67-119 ms a first call, 0.3-0.5 ms a cached one), once per
    model, map, axes and subset."""
    from .palette import DIGIT_COLOURS

    codes = test_latents(key)[0] if which == "vae" else pca_test_codes(key)
    images, labels = mnist("test")
    extent, cells = digits_grid(x_range, y_range)
    among = np.arange(len(codes)) if subset is None else np.asarray(subset, dtype=np.int64)
    picks = among[vc.spread_picks(codes[among], extent, cells, DIGIT_SPACING)]
    cell_px = DIGIT_TILE_PX / DIGIT_SPACING
    size = (round(cells[0] * cell_px), round(cells[1] * cell_px))
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in DIGIT_COLOURS], dtype=np.uint8)
    picture = vc.digits_picture(images[picks], codes[picks], extent, size, vc.tile_size(size, cells, DIGIT_SPACING),
                                frames=rgb[labels[picks]])
    return _palette_png_uri(picture), extent, len(picks)


@st.cache_data(show_spinner=False, max_entries=16)
def map_csv(key, indices: np.ndarray | None = None, with_scores: bool = False) -> str:
    """The latent map as CSV (vc.map_table): one row per test digit in `indices` (None: all 10,000), with the anomaly
    scores as extra columns if with_scores (call it so only once `test_scores_ready`: it would compute them)."""
    mu, logvar = test_latents(key)
    return vc.map_table(indices, mnist("test")[1], mu, logvar, pca_test_codes(key),
                        scores={name: test_scores(key)[name] for name in vc.SCORES} if with_scores else None)


@st.cache_data(show_spinner=False, max_entries=16)
def grid_slide_png(key, grid_size: int, lo: float, hi: float) -> bytes:
    """The decoded grid as a 1920 x 1080 PNG for a slide, on z axes."""
    from pathlib import Path

    from vae_core import slides

    panel = slides.grid_panel(vc.tile(decoded_grid(key, grid_size, lo, hi)), slides.panel_side(1, key=False), (lo, hi))
    return slides.png_for_slide(panel, f"Decoder grid, {grid_size} × {grid_size} over [{lo:g}, {hi:g}]² · "
                                       f"{Path(key.path).stem}")


@st.cache_data(show_spinner=False, max_entries=16)
def interpolation_gif(key, index_a: int, index_b: int, steps: int, mode: str) -> bytes:
    """The decoded frames of an interpolation path as a 1920 x 1080 animated GIF, test digits A and B beside them."""
    from vae_core.slides import interpolation_gif as gif

    z, frames, _ = interpolation(key, index_a, index_b, steps, mode)
    images, side = mnist("test")[0], load_model(key).model_config.image_size
    captions = [f"t = {t:.2f}   z = ({a:+.2f}, {b:+.2f})" for t, (a, b) in zip(np.linspace(0, 1, steps), z, strict=True)]
    return gif(frames, captions, f"{mode.capitalize()} path from test #{index_a} to #{index_b}",
               ends=(images[index_a].reshape(side, side), images[index_b].reshape(side, side)))


KNN_POOL = 2000  # training digits the KNNImputer baseline searches, as `python -m vae_core repair` (0.25 s a digit)


@st.cache_resource(show_spinner="Reading the training digits for the baselines…", max_entries=2)
def _repair_baseline_data(root: str) -> tuple[np.ndarray, np.ndarray]:
    """(the training digits' mean image, the first KNN_POOL training digits), per MNIST folder."""
    train = mnist("train")[0]
    return train.mean(0), np.array(train[:KNN_POOL])


def _corrupt(image: np.ndarray, corruption: tuple, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(corrupted (1, 784), observed mask (1, 784), "noise" or "missing") for a corruption tuple, e.g.
    ("gaussian", sigma), ("salt_and_pepper", p), ("rectangle", row0, col0, height, width), ("half", "top")."""
    name, *args = corruption
    kinds = {"gaussian": (vc.gaussian_noise, "noise"), "salt_and_pepper": (vc.salt_and_pepper, "noise"),
             "rectangle": (vc.missing_rectangle, "missing"), "half": (vc.missing_half, "missing")}
    apply, kind = kinds[name]
    return *apply(image.reshape(1, -1), *args, seed=seed), kind


@st.cache_data(show_spinner="Repairing…", max_entries=64)
def repair(key, image: np.ndarray, corruption: tuple, n_iter: int = 10, seed: int = 0) -> dict:
    """One digit (784,) damaged (`_corrupt`) and repaired by the VAE and by the baselines, each scored by its mean
    squared error against the undamaged digit on the damaged pixels (vc.damaged: all of them for noise).

    Returns {"corrupted", "observed", "kind", "vae" (the VAE's repair), "steps" (the iterations' images, (n, 784):
    noise: [corrupted, repaired]; missing: vc.impute's steps), "path" ((n, 2) z along them: noise: the clean
    digit's code, then the damaged one's, which is decoded), "baselines" {name: image}, "mse" {name: error} with
    "damaged" (no repair), "VAE" and each baseline}."""
    model = load_model(key).model
    clean = np.asarray(image, dtype=np.float32).reshape(1, -1)
    corrupted, observed, kind = _corrupt(clean, corruption, seed)
    mean_image, pool = _repair_baseline_data(str(vc.data_dir().resolve()))
    if kind == "noise":
        vae = vc.denoise(model, corrupted)
        steps = np.concatenate([corrupted, vae])
        path = vc.encode(model, np.concatenate([clean, corrupted]))[0]
        baselines = {"median filter 3×3": vc.median_filter(corrupted),
                     "mean image": vc.mean_fill(corrupted, np.zeros_like(observed), mean_image)}
    else:
        fill = vc.impute(model, corrupted, observed, n_iter)
        vae, steps, path = fill["images"], fill["steps"][:, 0], fill["latents"][:, 0]
        baselines = {"mean fill": vc.mean_fill(corrupted, observed, mean_image),
                     f"KNNImputer (5-NN of {KNN_POOL:,})": vc.knn_fill(corrupted, observed, pool)}
    scored = vc.damaged(kind, observed)
    mse = {name: float(((repaired - clean) ** 2)[scored].mean())
           for name, repaired in {"damaged": corrupted, "VAE": vae, **baselines}.items()}
    return {"corrupted": corrupted[0], "observed": observed[0], "kind": kind, "vae": vae[0], "steps": steps,
            "path": path, "baselines": {name: b[0] for name, b in baselines.items()}, "mse": mse}
