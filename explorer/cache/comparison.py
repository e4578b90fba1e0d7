"""The Compare page's figures of a model, and its IWAE computed in cached parts shared by every session."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model, mnist


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
