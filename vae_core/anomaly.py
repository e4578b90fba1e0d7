"""Anomaly scores per image (higher = more anomalous), one of them not fooled by simple inputs, and their AUROCs.

A likelihood model gives simple images -- a blank field, a short stroke, a dot -- as high a likelihood as a digit
(Nalisnick et al. 2019): on the default model -log p(x) ranks nearly blank images, strokes and dots *below* held-out
digits (AUROC below 0.5, docs/model-card.md), because little ink costs few nats. Serra et al. 2020 ("Input complexity and
out-of-distribution detection with likelihood-based generative models") subtract the input's complexity, a lossless
compressor's code length L(x): S(x) = -log p(x) - L(x). Here

    corrected(x) = -log p(x) - w * L_q(x),   L_q(x) = 8 ln 2 * len(zlib(x quantised to q grey levels)) nats,

-log p(x) from the IWAE bound. Serra's w = 1 assumes both terms are code lengths of the same discrete data; ours are
not (a Bernoulli likelihood of grey levels vs. a q-level picture), so w and q are fitted (`fit_complexity`) on held-out
data: the last 5,000 training images (held out from what is reported, though the default model trained on them too)
and probe sets generated with another seed than the reported ones. On the default
model the fit chose q = 3 and w ~ 0.5: coarse levels keep anti-aliased edges from counting as complexity (with 8-bit
images no w qualified: at w = 0.01 the letters already fell more than 0.01 AUROC below -ELBO on the validation sets).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .analysis import iwae_log_likelihood, per_image_elbo
from .model import VAE

SCORES = ("neg_elbo", "reconstruction", "kl", "iwae", "corrected")  # the keys of anomaly_scores that are scores
LEVELS = (2, 3, 4, 6, 8, 16, 32, 256)  # quantisations fit_complexity tries
WEIGHTS = tuple(float(w) for w in np.geomspace(0.01, 3.0, 60))  # and weights on L_q(x)
NATS_PER_BYTE = 8 * math.log(2)


@dataclass(frozen=True)
class Complexity:
    # the defaults are what fit_complexity chose for checkpoints/default.pt (IWAE k=100, 5,000 validation digits,
    # 500 images per validation probe set); `python -m vae_core anomalies` refits them for the checkpoint it is given
    levels: int = 3  # grey levels an image is quantised to before it is compressed
    weight: float = 0.47797396393487496  # nats of -log p(x) per nat of compressed length (the fit chose the same for
    # the tanh default and the leaky-ReLU one before it; 0.5265 for the 120-epoch one)


def compressed_length(images, levels: int = 3) -> np.ndarray:
    """L_q(x): zlib's (level 9) code length of each image quantised to `levels` grey levels, in nats."""
    q = np.rint(np.asarray(images, dtype=np.float32).reshape(len(images), -1) * (levels - 1)).astype(np.uint8)
    return np.array([len(zlib.compress(row.tobytes(), 9)) for row in q], dtype=np.float64) * NATS_PER_BYTE


def anomaly_scores(model: VAE, images, iwae_k: int = 100, complexity: Complexity = Complexity(), seed: int = 0,
                   progress=None) -> dict[str, np.ndarray]:
    """Per-image anomaly scores, each (N,) float64, higher = more anomalous:

    neg_elbo        -ELBO = reconstruction + kl (one z sample, seeded), nats
    reconstruction  -E_q[log p(x|z)], the Bernoulli cross-entropy of x and its decoding, nats
    kl              KL(q(z|x) || p(z)), nats
    iwae            -log p(x) by the IWAE bound with iwae_k samples (memory bounded by analysis.iwae_log_likelihood)
    corrected       iwae - complexity.weight * compressed_length (Serra et al. 2020; see the module docstring)

    and "compressed_length" (L_q(x), nats; not a score). progress(n) is called as IWAE images are done."""
    elbo = per_image_elbo(model, images, seed=seed)
    nll = -iwae_log_likelihood(model, images, k=iwae_k, seed=seed, progress=progress).astype(np.float64)
    length = compressed_length(images, complexity.levels)
    return {"neg_elbo": elbo["loss"].astype(np.float64), "reconstruction": elbo["reconstruction"].astype(np.float64),
            "kl": elbo["kl"].astype(np.float64), "iwae": nll, "corrected": nll - complexity.weight * length,
            "compressed_length": length}


def _labelled(digit_scores, probe_scores) -> tuple[np.ndarray, np.ndarray]:
    """(is a probe, score) of digits and probes together, as scikit-learn's ROC functions take them."""
    return np.r_[np.zeros(len(digit_scores)), np.ones(len(probe_scores))], np.r_[digit_scores, probe_scores]


def auroc(digit_scores, probe_scores) -> float:
    """Area under the ROC curve of telling probes (positive) from digits by the score (1 = perfect, 0.5 = chance)."""
    from sklearn.metrics import roc_auc_score  # scikit-learn is imported where used: it takes ~2 s

    return float(roc_auc_score(*_labelled(digit_scores, probe_scores)))


def roc(digit_scores, probe_scores) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve under `auroc`: (false positive rate, true positive rate), the shares of digits and of probes
    scoring above a threshold, as the threshold falls from +inf (the corners Plotly needs, none of the collinear
    points between them)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(*_labelled(digit_scores, probe_scores), drop_intermediate=True)
    return fpr, tpr


def share_more_anomalous(reference, scores) -> np.ndarray:
    """For each of `scores`, the share of `reference` (e.g. the test digits' scores) strictly above it: 0 = more
    anomalous than all of them, 1 = more typical than all of them."""
    ordered = np.sort(np.asarray(reference))
    return 1.0 - np.searchsorted(ordered, scores, side="right") / len(ordered)


def _rank_auroc(digit_scores, probe_scores) -> float:
    """The same area by the Mann-Whitney U statistic (ties share their mean rank): ~20x faster than scikit-learn's
    curve, which the weight search below calls thousands of times."""
    from scipy.stats import rankdata

    ranks = rankdata(np.r_[digit_scores, probe_scores])[len(digit_scores):]
    n_probe = len(probe_scores)
    return float((ranks.sum() - n_probe * (n_probe + 1) / 2) / (n_probe * len(digit_scores)))


def fit_complexity(digit_scores: dict, digit_images, probe_scores: dict[str, dict], probe_images: dict,
                   levels=LEVELS, weights=WEIGHTS, tolerance: float = 0.01) -> tuple[Complexity, dict[str, float]]:
    """The (q, w) of the corrected score, chosen on held-out data: the highest mean AUROC over the probe sets, among
    the choices that leave no set more than `tolerance` below its -ELBO AUROC. *_scores are `anomaly_scores` outputs
    (only "iwae" and "neg_elbo" are used) of the validation digits and of each validation probe set.
    Returns the choice and its validation AUROC per set (w = 0, i.e. IWAE alone, when no choice qualifies)."""
    floor = {k: auroc(digit_scores["neg_elbo"], s["neg_elbo"]) - tolerance for k, s in probe_scores.items()}
    best = (Complexity(levels[0], 0.0), {k: auroc(digit_scores["iwae"], s["iwae"]) for k, s in probe_scores.items()})
    best_mean = -1.0
    for q in levels:
        digit_len = compressed_length(digit_images, q)
        probe_len = {k: compressed_length(probe_images[k], q) for k in probe_scores}
        for w in weights:
            digits = digit_scores["iwae"] - w * digit_len
            aucs = {k: _rank_auroc(digits, s["iwae"] - w * probe_len[k]) for k, s in probe_scores.items()}
            mean = float(np.mean(list(aucs.values())))
            if all(aucs[k] >= floor[k] for k in aucs) and mean > best_mean:
                best, best_mean = (Complexity(q, round(w, 4)), aucs), mean
    return best


def calibrate(model: VAE, train_images, iwae_k: int = 100, seed: int = 1, n_validation: int = 5000,
              n_probes: int = 500) -> tuple[Complexity, dict[str, float]]:
    """`fit_complexity` for a model from its training images: the last n_validation of them are the validation digits,
    and `probes.probe_sets(validation digits, n_probes, seed)` the validation probes -- keep `seed` different from the
    seed of any probe sets you report. ~35 s for the default model (9,000 images at k=100, one thread)."""
    from .probes import probe_sets

    validation = np.asarray(train_images[-n_validation:], dtype=np.float32)
    probes = probe_sets(validation, n_probes, seed)
    return fit_complexity(anomaly_scores(model, validation, iwae_k), validation,
                          {k: anomaly_scores(model, v, iwae_k) for k, v in probes.items()}, probes)
