"""The figures that compare two models on the same test digits: test -ELBO and its parts, IWAE, 5-NN accuracy,
trustworthiness and active latent units -- taken from the checkpoint where the CLI stored them, else computed."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .analysis import encode, iwae_log_likelihood, per_image_elbo, stored_or_fresh_encodings
from .checkpoint import Checkpoint
from .metrics import knn_accuracy, trust

ACTIVE_THRESHOLD = 0.01  # Burda et al. 2016, section 5.2: unit u is active if Cov_x(E_q[z_u | x]) > 0.01

# (name in model_figures' dict, label, +1 if higher is better, -1 if lower is, 0 if neither: a count, not a score)
COMPARED_FIGURES = (
    ("test_loss", "test −ELBO (nats)", -1),
    ("test_reconstruction", "reconstruction (nats)", -1),
    ("test_kl", "KL (nats)", 0),  # a small KL is not better in itself: β = 4 buys it with blurrier digits
    ("iwae_nll", "IWAE −log p(x) (nats)", -1),
    ("knn_accuracy", "5-NN accuracy", +1),
    ("trustworthiness", "trustworthiness (k = 5)", +1),
    ("active_units", "active latent units", 0),  # of latent_dim: more is not better across latent sizes
)


def active_units(means, threshold: float = ACTIVE_THRESHOLD) -> tuple[int, np.ndarray]:
    """(how many latent units are active, each unit's variance over the digits of its posterior mean E_q[z_u | x]).
    A unit whose mean hardly moves with x is ignored by the encoder (its posterior is the prior)."""
    variances = np.var(np.asarray(means, dtype=np.float64), axis=0)
    return int((variances > threshold).sum()), variances


# the names `evaluate_model` stores them under (it scores the VAE's codes beside PCA's)
STORED_AS = {"knn_accuracy": "vae_knn_accuracy", "trustworthiness": "vae_trustworthiness"}


def model_figures(ckpt: Checkpoint, test_images, test_labels, iwae_k: int = 1000,
                  progress: Callable[[int, int], None] | None = None, *, train: tuple | None = None,
                  compute_iwae: bool = True, trust_points: int = 5000) -> dict:
    """Every figure of COMPARED_FIGURES for one model on the given test digits, plus `unit_variances` (latent_dim,),
    `latent_dim`, `iwae_k` and `stored` (the names read from the checkpoint, not computed).

    A figure the CLI stored (`evaluate_model`, on as many test digits) is read, IWAE only if stored with this k;
    the rest is computed. IWAE with k = 1000 on 10,000 digits takes minutes: `progress(done, total)` is called as
    digits are scored, and memory stays bounded (`iwae_log_likelihood` goes through in chunks). iwae_k = 0 or
    compute_iwae=False leaves a missing IWAE as None; so is 5-NN accuracy when it is not stored and no
    `train` = (images, labels) is given (the classifier is fitted on training codes)."""
    model, metrics = ckpt.model, ckpt.metrics
    figures: dict = {"latent_dim": model.config.latent_dim, "iwae_k": iwae_k, "stored": []}

    def take(*names: str) -> bool:
        """Read these figures from the checkpoint if it holds them all, measured on as many test digits."""
        keys = [STORED_AS.get(name, name) for name in names]
        if metrics.get("n_test") != len(test_images) or not all(k in metrics for k in keys):
            return False
        figures.update({name: float(metrics[k]) for name, k in zip(names, keys, strict=True)})
        figures["stored"] += names
        return True

    if not take("test_loss", "test_reconstruction", "test_kl"):
        elbo = per_image_elbo(model, test_images)
        figures.update({"test_loss": float(elbo["loss"].mean()), "test_reconstruction": float(elbo["reconstruction"].mean()),
                        "test_kl": float(elbo["kl"].mean())})
    figures["iwae_nll"] = None
    if iwae_k and not (metrics.get("iwae_k") == iwae_k and take("iwae_nll")) and compute_iwae:
        figures["iwae_nll"] = iwae_nll(model, test_images, iwae_k, progress)
    mu = stored_or_fresh_encodings(model, test_images, ckpt.test_latents)[0]
    figures["active_units"], figures["unit_variances"] = active_units(mu)
    figures["knn_accuracy"] = None
    if not take("knn_accuracy") and train is not None:
        figures["knn_accuracy"] = knn_accuracy(encode(model, train[0])[0], np.asarray(train[1]), mu,
                                               np.asarray(test_labels))
    if not take("trustworthiness"):
        figures["trustworthiness"] = trust(test_images, mu, max_points=trust_points)
    return figures


def iwae_nll(model, images, k: int, progress: Callable[[int, int], None] | None = None, seed: int = 0) -> float:
    """Mean IWAE estimate of -log p(x) over the images (nats), reporting progress(done, total) in digits."""
    done, total = 0, len(images)

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return float(-iwae_log_likelihood(model, images, k=k, seed=seed, progress=step if progress else None).mean())


def best_of(values: list, direction: int) -> list[bool]:
    """Which of the values is the best for a figure of this direction (COMPARED_FIGURES): none on a tie, a missing value or
    a figure with no better side."""
    present = [v for v in values if v is not None]
    if direction == 0 or len(present) < 2:
        return [False] * len(values)
    top = max(present) if direction > 0 else min(present)
    winners = [v is not None and v == top for v in values]
    return winners if sum(winners) == 1 else [False] * len(values)
