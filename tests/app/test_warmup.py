"""app.py and explorer.startup.warmup: `streamlit run app.py` serves navigation.py and warms the default model's caches
before it answers, then imports the training code and scores in a background thread; the warm-up fills the caches the
pages read and never fails the server."""
import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.web.server.app_discovery import discover_asgi_app

import explorer.model.files
import vae_core as vc
from explorer import cache
from explorer.cache import anomaly_scores, result_store
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.startup import warmup

ROOT = Path(__file__).resolve().parents[2]
STEPS = ["import", "model", "checkpoint fingerprint", "test latents", "PCA of the test digits", "embedding scores",
         "latent map figures", "decoder grid figure"]


def clear_caches():
    for cached in (cache.load_model, cache.test_latents, cache.pca_test_codes, cache.embedding_metrics):
        cached.clear()
    cache.figures._latent_map.clear()
    cache.figures.decoder_grid.clear()
    result_store._content_digest.cache_clear()


def test_streamlit_run_app_py_serves_navigation_py_with_the_warm_up():
    found = discover_asgi_app(ROOT / "app.py")  # what `streamlit run app.py` looks for before running it
    assert found.is_asgi_app and found.import_string == "app:app"
    from app import app

    assert app._script_path == Path("navigation.py") and app._user_lifespan is warmup.lifespan
    assert (ROOT / "navigation.py").exists()


def must_not_run(*args, **kwargs):
    raise AssertionError("computed when it should not be")


def test_warm_up_fills_the_caches_the_latent_map_reads(real_data, monkeypatch):
    clear_caches()
    monkeypatch.setattr("vae_core.analysis.encode", must_not_run)  # the default stores its test encodings
    assert warmup.warm_up() == STEPS
    key = ModelKey.of(DEFAULT_CHECKPOINT)

    monkeypatch.setattr(vc, "load_checkpoint", must_not_run)  # every call below must be a cache hit
    monkeypatch.setattr(vc, "encode", must_not_run)
    monkeypatch.setattr(vc, "project_pca", must_not_run)
    assert cache.load_model(key).path == DEFAULT_CHECKPOINT
    mu, logvar = cache.test_latents(key)
    assert mu.shape == logvar.shape == (10_000, 2)
    assert cache.pca_test_codes(key).shape == (10_000, 2)
    assert set(cache.embedding_metrics(key)) == {"vae_knn_accuracy", "vae_trustworthiness",
                                                  "pca_knn_accuracy", "pca_trustworthiness"}
    misses = result_store._content_digest.cache_info().misses  # the checkpoint's bytes are hashed already
    assert result_store.checkpoint_fingerprint(str(key.path), key.mtime) is not None
    assert result_store._content_digest.cache_info().misses == misses
    monkeypatch.setattr(cache.figures, "decoder_grid_figure", must_not_run)  # and the decoder grid's figure
    cache.decoder_grid(key, 20, -3.0, 3.0, False)
    monkeypatch.setattr(cache.figures, "digit_scatter", must_not_run)  # the page's first maps are built already
    for which in ("vae", "pca"):
        fig, caption = cache.latent_map(key, which, cache.LATENT_MAP_HEIGHT[False], True, False)
        assert caption is None and len(fig.data) >= 10  # one trace per digit class


def test_warm_up_without_mnist_loads_the_model_and_stops_quietly(no_mnist):
    clear_caches()
    done = warmup.warm_up()
    assert done[:3] == ["import", "model", "checkpoint fingerprint"]
    assert done[3].startswith("stopped: MnistNotFoundError") and len(done) == 4


def test_warm_up_with_a_broken_default_checkpoint_stops_quietly(tmp_path, monkeypatch):
    broken = tmp_path / "default.pt"
    broken.write_bytes(b"not a checkpoint")
    monkeypatch.setattr(explorer.model.files, "DEFAULT_CHECKPOINT", broken)
    clear_caches()
    done = warmup.warm_up()
    assert done[0] == "import" and done[1].startswith("stopped: Checkpoint") and len(done) == 2


def test_lifespan_serves_once_warm_and_imported_for_training_and_scores_in_a_thread(monkeypatch):
    release = threading.Event()
    steps = []  # in the order they ran; the scoring is held until released, so it ends inside this test
    monkeypatch.setattr(warmup, "warm_up", lambda: steps.append("warm-up") or ["import"])
    monkeypatch.setattr(warmup, "prepare_training", lambda: steps.append("training imports"))
    monkeypatch.setenv(vc.settings.WARM_ANOMALY_DELAY_ENV, "0")
    monkeypatch.setattr(warmup, "prepare_anomaly_scores", lambda: release.wait(10) and steps.append("scores") or [])
    monkeypatch.setenv(vc.settings.WARM_ANOMALY_ENV, "1")

    async def serve():
        async with warmup.lifespan(None):
            return list(steps)  # the server answers only from here on

    interval = sys.getswitchinterval()
    try:
        assert asyncio.run(serve()) == ["warm-up", "training imports"]
        assert any(t.name == "warm-up" and t.is_alive() for t in threading.enumerate())  # the scoring, after
        assert sys.getswitchinterval() == pytest.approx(warmup.SWITCH_INTERVAL)
    finally:
        release.set()
        sys.setswitchinterval(interval)
    for thread in [t for t in threading.enumerate() if t.name == "warm-up"]:
        thread.join(10)
    assert steps == ["warm-up", "training imports", "scores"]


# prepare_training() in a process of its own, as the server's first training would find it: what was imported and
# frozen before, after one call, and after a second.
PREPARE_TRAINING = """
import gc, json, sys
from explorer.startup import warmup
seen = lambda: {"dynamo": "torch._dynamo" in sys.modules, "frozen": gc.get_freeze_count()}
before = seen()
warmup.prepare_training()
once = seen()
warmup.prepare_training()
print(json.dumps([before, once, seen()]))
"""


def test_preparing_training_imports_adam_and_freezes_what_it_brought():
    done = subprocess.run([sys.executable, "-c", PREPARE_TRAINING], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    before, once, twice = json.loads(done.stdout.strip().splitlines()[-1])
    assert not before["dynamo"] and before["frozen"] == 0  # a fresh server: neither imported nor frozen yet
    assert once["dynamo"]  # what constructing Adam pulls in
    assert once["frozen"] > 0
    # nothing new to import: the second call finds it all frozen already (not exactly equal: a frozen object whose
    # last reference goes is still freed -- CI saw 561,844 -> 561,827)
    assert twice["dynamo"] and abs(twice["frozen"] - once["frozen"]) < 0.01 * once["frozen"]


def test_anomaly_scores_of_the_default_are_prepared_for_the_first_visitor(real_data, cheap_anomaly_scores,
                                                                           monkeypatch):
    assert warmup.prepare_anomaly_scores() == ["test digits' anomaly scores", "probe sets"]
    monkeypatch.setattr(vc, "anomaly_scores", must_not_run)  # the page's calls are now cache hits
    key = ModelKey.of(DEFAULT_CHECKPOINT)
    assert cache.test_scores(key)["corrected"].shape == (10_000,)
    assert set(cache.probe_scores(key)) == set(vc.PROBE_NAMES)


def test_preparing_anomaly_scores_without_mnist_stops_quietly(no_mnist, cheap_anomaly_scores):
    cache.jobs.forget(lambda job_key: job_key[0].startswith("anomaly"))  # the shared jobs' finished results
    anomaly_scores._probe_images.clear()
    done = warmup.prepare_anomaly_scores()
    assert len(done) == 1 and done[0].startswith("stopped: MnistNotFoundError")
