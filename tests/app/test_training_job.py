"""The retraining job without Streamlit: a real short training, cancel, divergence, one at a time."""
import math
from pathlib import Path

import pytest

import vae_core as vc
from explorer.training_form import TrainingRequest
from explorer.training_job import TrainingAlreadyRunning, TrainingJob

ROOT = Path(__file__).resolve().parents[2]

def tiny_request(name="tiny", epochs=1, lr=1e-3, hidden=(64, 32)) -> TrainingRequest:
    """1000 training images, 1000 test images: one epoch takes a few seconds on 2 CPU cores."""
    return TrainingRequest(name, vc.ModelConfig(hidden=hidden),
                           vc.TrainConfig(epochs=epochs, lr=lr, train_subset=1000, test_subset=1000))


def test_a_short_real_training_writes_a_checkpoint_that_loads(tmp_path, real_data):
    job = TrainingJob()
    job_id = job.start(tiny_request(), directory=tmp_path, evaluate_subset=1000)
    status = job.wait(timeout=120)
    assert status.job_id == job_id
    assert status.state == "succeeded", status.message
    assert Path(status.path) == tmp_path / "tiny.pt"
    ckpt = vc.load_checkpoint(status.path)
    assert ckpt.model_config.hidden == (64, 32)
    assert len(ckpt.history) == 1 and ckpt.train_config.train_subset == 1000
    assert ckpt.metrics["n_test"] == 1000 and math.isfinite(ckpt.metrics["test_loss"])
    test_x = vc.load_mnist("test", limit=1000)[0]  # the encodings stored for the latent map are of these digits
    assert ckpt.test_latents["digest"] == vc.images_digest(test_x) and ckpt.test_latents["mu"].shape == (1000, 2)
    assert status.fraction == 1.0 and len(status.history) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.pt"]  # no temp files left behind


def test_a_cancelled_training_writes_nothing(tmp_path, real_data):
    job = TrainingJob()
    job.start(tiny_request(epochs=3), directory=tmp_path)
    job.cancel()
    status = job.wait(timeout=120)
    assert status.state == "cancelled"
    assert "nothing was saved" in status.message
    assert list(tmp_path.iterdir()) == []


def test_a_diverging_training_writes_nothing(tmp_path, real_data):
    job = TrainingJob()
    job.start(tiny_request(lr=1e3), directory=tmp_path)
    status = job.wait(timeout=120)
    assert status.state == "failed"
    assert "diverged" in status.message and "NaN" in status.message
    assert list(tmp_path.iterdir()) == []


def test_missing_mnist_fails_clearly_and_writes_nothing(tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv(vc.DATA_ENV, str(empty))
    job = TrainingJob()
    job.start(tiny_request(), directory=tmp_path / "out")
    status = job.wait(timeout=60)
    assert status.state == "failed"
    assert vc.DATA_ENV in status.message and vc.DOWNLOAD_COMMAND in status.message
    assert not (tmp_path / "out").exists()


def test_only_one_training_at_a_time(tmp_path, real_data):
    job = TrainingJob()
    first = job.start(tiny_request("first", epochs=20), directory=tmp_path)
    try:
        with pytest.raises(TrainingAlreadyRunning, match="already running"):
            job.start(tiny_request("second"), directory=tmp_path)
        assert job.snapshot().name == "first" and job.snapshot().active
    finally:
        job.cancel()
    assert job.wait(timeout=120).state == "cancelled"
    # once it has ended, the next one may start
    second = job.start(tiny_request("second"), directory=tmp_path)
    assert second == first + 1
    job.cancel()
    job.wait(timeout=120)
    assert list(tmp_path.iterdir()) == []
