import gc
import shutil
from pathlib import Path

import pytest

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey
from vae_core.settings import CHECKPOINT_DIR_ENV, DEFAULT_CHECKPOINT


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """VAE_DATA_DIR points at an empty folder: the app must run without MNIST."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(vc.DATA_ENV, str(empty))
    return empty


@pytest.fixture(autouse=True)
def empty_checkpoint_dir(tmp_path, monkeypatch):
    """Models trained by a test go to a tmp folder, never to the repository's checkpoints/."""
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path / "ckpts"))


@pytest.fixture(autouse=True)
def own_gc_freeze():
    """Each test starts with nothing frozen: a page's first run freezes the heap (explorer/startup/gc_freeze.py) in
    this process, which would otherwise carry over into every later test."""
    yield
    gc.unfreeze()


@pytest.fixture
def cheap_anomaly_scores(monkeypatch):
    """The anomaly caches at 2 importance samples and 50 images per probe set: seconds instead of the ~30 s (quiet
    machine) of k = 100 and 1,000 per set. The pages read these constants as they run, and the caches key on them."""
    from explorer.cache import anomaly_scores

    monkeypatch.setattr(anomaly_scores, "IWAE_K", 2)
    monkeypatch.setattr(anomaly_scores, "N_PROBES", 50)


@pytest.fixture(scope="session")
def tiny_checkpoint_file(tmp_path_factory) -> Path:
    """One tiny real checkpoint for the session: an untrained VAE with one hidden layer of 8 units."""
    return vc.save_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.pt", vc.VAE(vc.ModelConfig(hidden=(8,))))


@pytest.fixture
def tiny_checkpoint(tiny_checkpoint_file):
    """write(path) puts a copy of the tiny real checkpoint at `path` (its folder made if missing) and returns it: a
    model file the app can list, name and load, where the test is about files rather than models."""
    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_checkpoint_file, path)
        return path
    return write


@pytest.fixture(scope="session")
def default_model():
    """The shipped default model, as the app's cache holds it."""
    return cache.load_model(ModelKey.of(DEFAULT_CHECKPOINT)).model
