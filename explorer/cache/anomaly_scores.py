"""The anomaly scores of the test digits, of the probe sets and of one drawn digit, once per model and settings."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model, mnist, test_latents
from explorer.model.files import DEFAULT_CHECKPOINT

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
