"""The anomaly scores of the test digits, of the probe sets and of one drawn digit, once per model and settings.

The three heavy computations -- a non-default model's calibration fit, scoring the 10,000 test digits, scoring the
probe sets -- are shared jobs (explorer.cache.jobs): once per model for the whole server, one at a time, in the
background, kept through a `clear_cache`, and stored for every worker of a room (explorer.cache.result_store); they
and a drawn digit's scores run on a GPU when there is one (`compute_model`). `needed(key)` lists the ones a page still
waits for, so the page can show their progress or say who may start them; the derived views (AUROCs, ROC curves,
galleries) are cheap Streamlit caches over their results."""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache import jobs, result_store
from explorer.cache.models import compute_model, load_model, mnist, test_latents
from vae_core.settings import DEFAULT_CHECKPOINT

# The settings every job and cache keys on, so a change of these constants (a test's smaller k) never reads results
# made with others.
IWAE_K = 100  # importance samples of -log p(x) (and so of the corrected score): the CLI's and the README's k
N_PROBES = 1000  # images per probe set, as in the README's AUROC table: scoring them costs a little less than the test set
N_VALIDATION, N_VALIDATION_PROBES = 5000, 500  # what a non-default model's complexity term is fitted on (the CLI's)


def is_default(key) -> bool:
    return Path(key.path).resolve() == DEFAULT_CHECKPOINT.resolve()


def _settings(key) -> tuple:
    """What this model's scores depend on besides the model: known without computing anything."""
    return IWAE_K, N_PROBES, N_VALIDATION, N_VALIDATION_PROBES, is_default(key)


FIT_JOB, TEST_JOB, PROBE_JOB = "anomaly fit", "anomaly test scores", "anomaly probe scores"  # the jobs' kinds


def _encode_complexity(c: vc.Complexity) -> dict[str, np.ndarray]:
    return {"levels": np.int64(c.levels), "weight": np.float64(c.weight)}


def _decode_complexity(arrays: dict[str, np.ndarray]) -> vc.Complexity:
    levels, weight = arrays.get("levels"), arrays.get("weight")
    if (set(arrays) != {"levels", "weight"} or levels.shape != () or levels.dtype.kind != "i" or weight.shape != ()
            or weight.dtype.kind != "f" or not 2 <= int(levels) <= 256 or not np.isfinite(weight)):
        raise ValueError("expected a complexity's grey levels (2-256) and finite weight")
    return vc.Complexity(levels=int(levels), weight=float(weight))


result_store.register(FIT_JOB, result_store.Codec(_encode_complexity, _decode_complexity))
result_store.register(TEST_JOB, result_store.SCORES)
result_store.register(PROBE_JOB, result_store.SCORES_BY_SET)


def _fit_job(key) -> tuple:
    return (FIT_JOB, key, IWAE_K, N_VALIDATION, N_VALIDATION_PROBES)


def _test_job(key) -> tuple:
    return (TEST_JOB, key, _settings(key))


def _probe_job(key) -> tuple:
    return (PROBE_JOB, key, _settings(key))


def _counted(progress: Callable[[int, int], None], total: int) -> Callable[[int], None]:
    """vc.anomaly_scores' progress(n more images) as a job's progress(done, total)."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        progress(min(done[0], total), total)
    return step


def _fit(key) -> Callable:
    k, n_validation, n_probes = IWAE_K, N_VALIDATION, N_VALIDATION_PROBES  # as submitted, whatever changes later

    def compute(progress) -> vc.Complexity:
        return vc.calibrate(compute_model(key), mnist("train")[0], k, n_validation=n_validation,
                            n_probes=n_probes)[0]
    return compute


def _score_test_digits(key) -> Callable:
    k = IWAE_K

    def compute(progress) -> dict[str, np.ndarray]:
        images = mnist("test")[0]
        return vc.anomaly_scores(compute_model(key), images, k, anomaly_complexity(key),
                                 progress=_counted(progress, len(images)))
    return compute


def _score_probes(key) -> Callable:
    k, n = IWAE_K, N_PROBES

    def compute(progress) -> dict[str, dict[str, np.ndarray]]:
        model, complexity = compute_model(key), anomaly_complexity(key)
        sets = _probe_images(n, str(vc.data_dir().resolve()))
        step = _counted(progress, sum(len(images) for images in sets.values()))
        return {name: vc.anomaly_scores(model, images, k, complexity, progress=step)
                for name, images in sets.items()}
    return compute


def _specs(key) -> dict[str, tuple]:
    """{what: (job key, title, compute)} of a model's three heavy computations (no fit for the default model)."""
    specs = {"test": (_test_job(key), "Scoring the 10,000 test digits", _score_test_digits(key)),
             "probes": (_probe_job(key), f"Scoring {N_PROBES:,} images of each probe set", _score_probes(key))}
    if not is_default(key):
        specs = {"fit": (_fit_job(key), "Fitting the corrected score to this model on "
                                        f"{N_VALIDATION:,} held-out training digits", _fit(key)), **specs}
    return specs


def needed(key, what: tuple[str, ...] = ("test", "probes")) -> list[tuple]:
    """The (job key, title, compute) of the computations `what` ("test", "probes") needs that are not done yet, in
    the order they run (the fit first)."""
    specs = _specs(key)
    wanted = (["fit"] if "fit" in specs else []) + [w for w in ("test", "probes") if w in what]
    return [specs[w] for w in wanted if not jobs.is_done(specs[w][0])]


def needs_fit(key) -> bool:
    """Whether this model's corrected score is still to be fitted (on training digits)."""
    return not is_default(key) and not jobs.is_done(_fit_job(key))


def anomaly_complexity(key) -> vc.Complexity:
    """The corrected score's (q, w) for this model: the shipped defaults for the default checkpoint (they were fitted
    for it), else fitted here as `python -m vae_core anomalies` does, on held-out training digits and probe sets of
    another seed (`vc.calibrate`: tens of seconds of CPU; it reads the 188 MB training set)."""
    if is_default(key):
        return vc.Complexity()
    return jobs.run(*_specs(key)["fit"])


def test_scores(key) -> dict[str, np.ndarray]:
    """vc.anomaly_scores of the 10,000 test digits (k = IWAE_K, this model's `anomaly_complexity`), once per model:
    tens of seconds of CPU for the default model, minutes on a busy server."""
    return jobs.run(*_specs(key)["test"])


def test_scores_ready(key) -> bool:
    """Whether `test_scores(key)` has been computed in this server, so it returns at once (asked without computing
    anything, not even a non-default model's complexity fit)."""
    return jobs.is_done(_test_job(key))


def probe_images(key) -> dict[str, np.ndarray]:
    """The probe sets the scores are tested on, as the CLI reports them: `vc.probe_sets` of the test digits, N_PROBES
    each, seed 0 (the same for every model; seconds, mostly rendering the letters)."""
    return _probe_images(N_PROBES, str(vc.data_dir().resolve()))


@st.cache_resource(show_spinner="Making the probe sets…", max_entries=2)
def _probe_images(n: int, root: str) -> dict[str, np.ndarray]:
    """A resource, read-only and shared: cache_data would copy the 25 MB on every call."""
    sets = vc.probe_sets(mnist("test")[0], n, seed=0)
    for images in sets.values():
        images.flags.writeable = False
    return sets


def probe_scores(key) -> dict[str, dict[str, np.ndarray]]:
    """{probe set: vc.anomaly_scores of its images}, once per model: 8,000 images at N_PROBES = 1000, a little less time
    than `test_scores` takes."""
    return jobs.run(*_specs(key)["probes"])


def _per_settings(**cache_args):
    """A Streamlit cache of fn(key, ...) that also keys on the model's anomaly settings (`_settings`), so a change of
    the module's constants never reads results made with others."""
    def decorate(fn):
        @st.cache_data(**cache_args)
        @functools.wraps(fn)
        def cached(key, settings: tuple, *args):
            return fn(key, *args)

        @functools.wraps(fn)
        def call(key, *args):
            return cached(key, _settings(key), *args)
        call.clear = cached.clear
        return call
    return decorate


@_per_settings(show_spinner="AUROC of every score and probe set…", max_entries=8)
def probe_aurocs(key) -> dict[str, dict[str, float]]:
    """{score: {probe set: AUROC of "test digit vs probe"}}: the CLI's table (vc.auroc_table)."""
    return vc.auroc_table(test_scores(key), probe_scores(key))


@_per_settings(show_spinner=False, max_entries=64)
def probe_rocs(key, score: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{probe set: (false positive rate, true positive rate)} of one score's ROC curve against the test digits."""
    digits = test_scores(key)[score]
    return {name: vc.roc(digits, s[score]) for name, s in probe_scores(key).items()}


@_per_settings(show_spinner=False, max_entries=64)
def extreme_digits(key, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"typical", "atypical"}: (test indices, reconstructions (n, side, side) from their latent means) of the n test
    digits with the lowest and the highest `score`, most extreme first."""
    order = np.argsort(test_scores(key)[score], kind="stable")
    picks = {"typical": order[:n], "atypical": order[::-1][:n]}
    model, mu, images = load_model(key).model, test_latents(key)[0], mnist("test")[0]
    return {name: (index, vc.decode(model, mu[index], like=images[index])) for name, index in picks.items()}


@_per_settings(show_spinner=False, max_entries=64)
def digit_like_probes(key, score: str, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{probe set: (indices, reconstructions)} of each set's n images with the lowest `score`: those it finds most
    digit-like, most digit-like first."""
    model, images = load_model(key).model, probe_images(key)
    picks = {name: np.argsort(s[score], kind="stable")[:n] for name, s in probe_scores(key).items()}
    return {name: (index, vc.reconstruct(model, images[name][index])) for name, index in picks.items()}


def digit_scores(key, image: np.ndarray) -> dict[str, tuple[float, float]]:
    """One digit's anomaly scores, each with its percentile among the 10,000 test digits' (`test_scores`): the
    share of them that score lower, i.e. look more typical (0.97 = more atypical than 97% of the test digits)."""
    return _digit_scores(key, np.asarray(image, dtype=np.float32).reshape(1, -1))


@_per_settings(show_spinner=False, max_entries=64)
def _digit_scores(key, image: np.ndarray) -> dict[str, tuple[float, float]]:
    # as the test digits: same k, same complexity, same device
    scores = vc.anomaly_scores(compute_model(key), image, IWAE_K, anomaly_complexity(key))
    test = test_scores(key)
    return {name: (float(scores[name][0]), float(np.mean(test[name] < scores[name][0]))) for name in vc.SCORES}
