"""The model and the data every page reads: the checkpoint once per ModelKey, MNIST once per folder, the test
digits' latent codes and PCA, decoded grids and paths, and what the model makes of one drawn digit."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.render.digit_images import data_uri, png_bytes
from explorer.render.figures import add_prior_contours, digit_scatter, freeze_map
from vae_core.label_places import label_places


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(key) -> vc.Checkpoint:
    """The checkpoint of a ModelKey (explorer.model.choice), loaded once per key."""
    return vc.load_checkpoint(key.path)


def compute_model(key) -> vc.VAE:
    """The model of a ModelKey where the heavy computations (IWAE, anomaly scores, the calibration fit) run:
    `vc.on_compute_device` -- the cached model itself on a CPU-only machine, so the results are the CPU's bit for
    bit; else a copy on the GPU for the computation that asked, while the cached model stays on the CPU for the
    pages' light calls. The results come back as NumPy arrays either way."""
    return vc.on_compute_device(load_model(key).model)[1]


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


@st.cache_resource(show_spinner=False, max_entries=8)
def class_label_places(key) -> dict[int, tuple[float, float]]:
    """Where a map of the test digits' latent means writes each class's digit (vae_core.label_places): once per model
    for the pages that build their map on every run (Compare, Repair)."""
    return label_places(test_latents(key)[0], mnist("test")[1])


@st.cache_data(show_spinner="PCA of the pixels…", max_entries=8)
def pca_codes(key) -> tuple[np.ndarray, np.ndarray]:
    """PCA-2D of the training and test images: (train codes, test codes), with the PCA baseline stored in the
    checkpoint (fitted on the training images when it was scored) -- a matrix product, no scikit-learn import
    (seconds) or fit on a fresh server -- or, for a checkpoint without one, a PCA fitted here."""
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


@st.cache_resource(show_spinner=False, max_entries=32)
def grid_picture(key, grid_size: int, lo: float, hi: float) -> tuple[str, bytes]:
    """The decoded grid as one mosaic: (PNG data URI for the on-screen figure, PNG bytes of at least ~1000 px
    for download), both upscaled nearest-neighbour so digits stay crisp. A resource: a str and bytes cannot be
    changed, so every run shares them (as data, each page open would unpickle a copy of both)."""
    mosaic = vc.tile(decoded_grid(key, grid_size, lo, hi))
    screen_scale = max(1, -(-800 // mosaic.shape[1]))  # ceil: the figure is drawn ~800 px high
    file_scale = max(1, -(-1000 // mosaic.shape[1]))
    return data_uri(mosaic, screen_scale), png_bytes(mosaic, file_scale)


@st.cache_data(show_spinner=False, max_entries=64)
def interpolation(key, index_a: int, index_b: int, steps: int, mode: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From test digit index_a to index_b in `steps` frames: (latent path (steps, 2), decoded frames
    (steps, 28, 28), pixel-space cross-fade of the two images (steps, 28, 28)). A deskewing model's frames are
    slanted like the cross-fade at the same step: the ends like the two digits, the slant moving between them."""
    model = load_model(key).model
    mu = test_latents(key)[0]
    images = mnist("test")[0]
    side = model.config.image_size
    z = vc.interpolate(mu[index_a], mu[index_b], steps, mode)
    blend = vc.pixel_blend(images[index_a].reshape(side, side), images[index_b].reshape(side, side), steps)
    return z, vc.decode(model, z, like=blend.reshape(steps, -1)), blend


@st.cache_resource(show_spinner=False, max_entries=8)
def latent_backdrop(key, title: str, height: int = 560):
    """The test digits' latent map (with the prior's contours) as a fixed backdrop for markers drawn over it
    (figures.freeze_map, explorer.render.map_overlay): one Figure per model and title, shared by every session and never
    modified -- built anew, it would cost tens of ms in every run of a page that shows it."""
    codes, labels = test_latents(key)[0], mnist("test")[1]
    return freeze_map(add_prior_contours(digit_scatter(codes, labels, coord="z", title=title, height=height,
                                                       min_half_range=3.2)))


@st.cache_data(show_spinner=False, max_entries=64)
def drawn_digit(key, image: np.ndarray, n_nearest: int = 5) -> dict[str, np.ndarray]:
    """What the model makes of one digit (784,) in [0, 1] (drawn or uploaded): "mu" and "sigma" (2,) of q(z|x),
    "reconstruction" (784,) the decoded mean, "nearest" the n_nearest test digits closest to mu in latent space and
    "distances" theirs."""
    model, image = load_model(key).model, np.asarray(image, dtype=np.float32).reshape(1, -1)
    mu, logvar = vc.encode(model, image)
    distances = np.linalg.norm(test_latents(key)[0] - mu[0], axis=1)
    nearest = np.argsort(distances, kind="stable")[:n_nearest]
    return {"mu": mu[0], "sigma": np.exp(0.5 * logvar[0]), "reconstruction": vc.decode(model, mu, like=image).reshape(-1),
            "nearest": nearest, "distances": distances[nearest]}
