"""How good a model and its 2-D embedding are: test -ELBO, IWAE, 5-NN accuracy, trustworthiness (VAE vs PCA)."""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .analysis import encode, fit_pca, iwae_log_likelihood, per_image_elbo, project_pca
from .model import VAE


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, k: int = 5) -> float:
    """Accuracy of a k-NN classifier fit on train codes and scored on test codes."""
    from sklearn.neighbors import KNeighborsClassifier  # scikit-learn is imported where used: it takes ~1.9 s

    return float(KNeighborsClassifier(n_neighbors=k).fit(train_codes, train_labels).score(test_codes, test_labels))


def trust(images, codes, k: int = 5, max_points: int = 5000, seed: int = 0) -> float:
    """Trustworthiness (Venna & Kaski 2001) of codes w.r.t. pixel space, on a seeded subset of max_points: how far
    each point's k nearest neighbours in the codes are also near it in pixel space; 1 = all of them are.

    The same figure as scikit-learn's `manifold.trustworthiness` (tests/test_analysis.py compares them), computed
    without its two n x n index arrays: a neighbour's rank in pixel space is the number of points closer than it,
    counted over blocks of rows of the distance matrix: faster, and in a fraction of the memory (docs/performance.md
    has both measured). Among equally distant points a neighbour takes the best rank, where scikit-learn's
    argsort picks one order at random."""
    from sklearn.neighbors import NearestNeighbors  # scikit-learn is imported where used: its import is slow

    images, codes = np.asarray(images).reshape(len(images), -1), np.asarray(codes)
    if len(images) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(images), max_points, replace=False))
        images, codes = images[idx], codes[idx]
    n = len(images)
    if not 0 < k < n / 2:
        raise ValueError(f"trustworthiness needs k < n / 2, got k = {k} for {n} points")
    x = images.astype(np.float64)
    squared = (x * x).sum(1)
    neighbours = NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(return_distance=False)  # (n, k), self excluded
    penalty = 0
    for start in range(0, n, TRUST_BLOCK):
        rows = slice(start, min(n, start + TRUST_BLOCK))
        d = squared[rows, None] + squared[None, :] - 2.0 * (x[rows] @ x.T)  # squared distances: same order
        d[np.arange(d.shape[0]), np.arange(rows.start, rows.stop)] = np.inf  # a point is not its own neighbour
        to_neighbour = np.take_along_axis(d, neighbours[rows], axis=1)
        rank = (d[:, :, None] < to_neighbour[:, None, :]).sum(1) + 1  # 1 = the nearest in pixel space
        penalty += int(np.clip(rank - k, 0, None).sum())
    return float(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))


TRUST_BLOCK = 256  # rows of the distance matrix at a time: 256 x 5000 x (8 + k) bytes


def embedding_quality(train_images, train_labels, test_images, test_labels, train_codes, test_codes,
                      k: int = 5, trust_points: int = 5000) -> dict[str, float]:
    return {
        "knn_accuracy": knn_accuracy(train_codes, train_labels, test_codes, test_labels, k),
        "trustworthiness": trust(test_images, test_codes, k, trust_points),
    }


def evaluate_model(model: VAE, train_images, train_labels, test_images, test_labels,
                   iwae_k: int = 0, trust_points: int = 5000, show_bar: bool = True, pca: dict | None = None) -> dict:
    """Everything `python -m vae_core evaluate` prints, as a flat dict of floats (stored in checkpoints).
    The PCA baseline is `pca` if given (from `fit_pca(train_images)`), else fitted here."""
    to_np = (lambda a: a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a))
    train_images, train_labels, test_images, test_labels = map(to_np, (train_images, train_labels, test_images, test_labels))
    elbo = per_image_elbo(model, test_images)
    metrics = {
        "n_test": len(test_images),
        "test_loss": float(elbo["loss"].mean()),
        "test_reconstruction": float(elbo["reconstruction"].mean()),
        "test_kl": float(elbo["kl"].mean()),
    }
    if iwae_k:
        with tqdm(total=len(test_images), desc=f"IWAE k={iwae_k}", unit="img", disable=not show_bar, leave=False) as bar:
            metrics["iwae_nll"] = float(-iwae_log_likelihood(model, test_images, k=iwae_k, progress=bar.update).mean())
        metrics["iwae_k"] = iwae_k
    metrics.update(compare_embeddings(train_images, train_labels, test_images, test_labels,
                                      {"vae": (encode(model, train_images)[0], encode(model, test_images)[0]),
                                       "pca": pca_codes(pca, train_images, test_images)}, trust_points))
    return metrics


BINARIZE_SEED = 0  # the one binarisation of the test digits that `evaluate --binarized` scores (numpy PCG64)


def binarize(images, seed: int = BINARIZE_SEED) -> np.ndarray:
    """One draw of dynamically binarised images: b ~ Bernoulli(pixel) for pixels in [0, 1], float32 0/1, from numpy's
    PCG64 generator seeded with `seed` -- the same digits on every machine and numpy version."""
    x = np.asarray(images.cpu().numpy() if hasattr(images, "cpu") else images, dtype=np.float32)
    return (np.random.default_rng(seed).random(x.shape, dtype=np.float32) < x).astype(np.float32)


def binarized_figures(model: VAE, test_images, iwae_k: int = 0, seed: int = BINARIZE_SEED,
                      show_bar: bool = True) -> dict:
    """Test -ELBO (with its parts) and IWAE on `binarize(test_images, seed)`: the protocol of the published MNIST
    likelihoods, such as the 2-D Gaussian and hyperspherical VAEs' 137.1 / 135.7 and 133.7 / 132.5 nats (Davidson
    et al. 2018), which score binary digits; the model's own figures are on the grey levels. Keys "binarized_*"."""
    x = binarize(test_images, seed)
    elbo = per_image_elbo(model, x)
    figures = {"binarized_seed": seed, "binarized_test_loss": float(elbo["loss"].mean()),
               "binarized_test_reconstruction": float(elbo["reconstruction"].mean()),
               "binarized_test_kl": float(elbo["kl"].mean())}
    if iwae_k:
        with tqdm(total=len(x), desc=f"IWAE k={iwae_k}, binarised", unit="img", disable=not show_bar, leave=False) as bar:
            figures["binarized_iwae_nll"] = float(-iwae_log_likelihood(model, x, k=iwae_k, progress=bar.update).mean())
        figures["binarized_iwae_k"] = iwae_k
    return figures


def compare_embeddings(train_images, train_labels, test_images, test_labels, codes: dict, trust_points: int = 5000) -> dict:
    """codes = {name: (train codes, test codes)} -> {"<name>_knn_accuracy", "<name>_trustworthiness"} for each name."""
    return {f"{name}_{key}": value
            for name, (tr, te) in codes.items()
            for key, value in embedding_quality(train_images, train_labels, test_images, test_labels, tr, te,
                                                trust_points=trust_points).items()}


def pca_codes(pca: dict | None, train_images, test_images) -> tuple[np.ndarray, np.ndarray]:
    """(train codes, test codes) under the PCA baseline, fitted on train_images if `pca` is None."""
    pca = pca or fit_pca(train_images)
    return project_pca(pca, train_images), project_pca(pca, test_images)
