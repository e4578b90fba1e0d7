"""The Compare page's figures of a model, and its IWAE: a shared job (explorer.cache.jobs), once per model and k for
the whole server, stored for every worker of a room (explorer.cache.result_store)."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache import jobs, result_store
from explorer.cache.models import compute_model, load_model, mnist


@st.cache_data(show_spinner="Scoring the model on the 10,000 test digits…", max_entries=16)
def comparison_figures(key, iwae_k: int) -> dict:
    """vc.model_figures of a model on the test digits, its IWAE only when stored with this k (else None: computing
    it takes minutes, so the compare page does it on demand with `iwae_nll`). The 188 MB training set is read only
    when the 5-NN accuracy is not stored."""
    ckpt, (test_x, test_y) = load_model(key), mnist("test")
    train = None if ckpt.metrics.get("n_test") == len(test_x) and "vae_knn_accuracy" in ckpt.metrics else mnist("train")
    return vc.model_figures(ckpt, test_x, test_y, iwae_k, train=train, compute_iwae=False)


# test digits per IWAE step: at k = 1000 the progress bar moves every few seconds
IWAE_PART = 100


IWAE_JOB = "iwae"  # the job's kind
result_store.register(IWAE_JOB, result_store.NUMBER)


def iwae_job(key, k: int) -> tuple:
    """The shared job's key of a model's IWAE with k samples (explorer.cache.jobs)."""
    return (IWAE_JOB, key, k, IWAE_PART)  # the parts' seeds are their starts: a change of IWAE_PART changes the figure


def iwae_title(k: int) -> str:
    return f"IWAE (k = {k}) on the 10,000 test digits"


def _iwae(key, k: int):
    def compute(progress) -> float:
        model, test_x = compute_model(key), mnist("test")[0]  # on a GPU when there is one
        n, parts = len(test_x), []
        for start in range(0, n, IWAE_PART):
            parts.append(vc.iwae_log_likelihood(model, test_x[start:start + IWAE_PART], k=k, seed=start))
            progress(min(n, start + IWAE_PART), n)
        return float(-np.concatenate(parts).mean())
    return compute


def submit_iwae(key, k: int) -> jobs.Job:
    """Queue a model's IWAE -log p(x) (mean over the test digits, k samples) for the whole server, unless it is
    queued, running or done already: computed once, whoever asks and however often."""
    return jobs.submit(iwae_job(key, k), iwae_title(k), _iwae(key, k))


def find_iwae(key, k: int) -> jobs.Job | None:
    """The shared IWAE job of this model and k (queued, running, done or failed), or None if nobody asked for it."""
    return jobs.find(iwae_job(key, k))


def finished_iwae(key, k: int) -> float | None:
    """The IWAE -log p(x) of the test digits computed on this server for this model and k, or None."""
    job = jobs.find(iwae_job(key, k))
    return job.result if job is not None and job.state == jobs.DONE else None


def iwae_nll(key, k: int) -> float:
    """IWAE -log p(x), mean over the test digits: the shared job's result, waited for."""
    return jobs.wait(submit_iwae(key, k))
