"""The retraining job without Streamlit: validation, a real short training, cancel, divergence, one at a time."""
import math
from pathlib import Path

import pytest

import vae_core as vc
from explorer.model_files import CHECKPOINT_DIR_ENV, checkpoint_dir, list_checkpoints, name_problem
from explorer.training_form import TrainingRequest, validate_request
from explorer.training_job import TrainingAlreadyRunning, TrainingJob

ROOT = Path(__file__).resolve().parents[2]

VALID = dict(name="quick", epochs=1, batch_size=128, lr=1e-3, beta=1.0, arch="mlp", hidden="64, 32", seed=0,
             train_subset=1000)


def tiny_request(name="tiny", epochs=1, lr=1e-3, hidden=(64, 32)) -> TrainingRequest:
    """1000 training images, 1000 test images: one epoch takes a few seconds on 2 CPU cores."""
    return TrainingRequest(name, vc.ModelConfig(hidden=hidden),
                           vc.TrainConfig(epochs=epochs, lr=lr, train_subset=1000, test_subset=1000))


def test_valid_form_values_become_configs(tmp_path):
    request = validate_request(**VALID, directory=tmp_path)
    assert request.name == "quick"
    assert request.model_config.hidden == (64, 32) and request.model_config.arch == "mlp"
    assert (request.train_config.epochs, request.train_config.train_subset) == (1, 1000)
    full = validate_request(**{**VALID, "train_subset": 60000}, directory=tmp_path)
    assert full.train_config.train_subset == 0  # all of them


@pytest.mark.parametrize("changes, fragment", [
    ({"name": "default"}, "cannot be overwritten"),
    ({"name": "Default"}, "cannot be overwritten"),
    ({"name": "../evil"}, "Name: use"),
    ({"name": ""}, "Name: use"),
    ({"epochs": 0}, "Epochs: must be between 1 and 100"),
    ({"lr": float("nan")}, "Learning rate"),
    ({"lr": 5.0}, "Learning rate"),
    ({"beta": -1.0}, "β"),
    ({"batch_size": 4}, "Batch size"),
    ({"train_subset": 10}, "Training images"),
    ({"hidden": "abc"}, "whole numbers"),
    ({"hidden": "0, 32"}, "each must be between"),
    ({"arch": "conv", "hidden": "32, 64, 128"}, "exactly two channel counts"),
    ({"hidden": "8, 8, 8, 8, 8"}, "1 to 4 layer widths"),
    ({"arch": "rnn"}, "Architecture"),
])
def test_invalid_form_values_are_refused_with_a_reason(tmp_path, changes, fragment):
    with pytest.raises(ValueError, match=None) as info:
        validate_request(**{**VALID, **changes}, directory=tmp_path)
    assert fragment in str(info.value)


def test_all_problems_are_reported_at_once(tmp_path):
    with pytest.raises(ValueError) as info:
        validate_request(**{**VALID, "name": "a b", "epochs": 500, "hidden": "x"}, directory=tmp_path)
    assert len(str(info.value).splitlines()) == 3


def test_existing_names_are_never_overwritten(tmp_path):
    (tmp_path / "taken.pt").write_bytes(b"x")
    assert "already exists" in name_problem("taken", tmp_path)
    assert name_problem("free-name_2", tmp_path) is None


def test_checkpoint_dir_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    assert checkpoint_dir() == tmp_path
    (tmp_path / "b.pt").write_bytes(b"x")
    listed = list_checkpoints()
    assert listed[0].name == "default.pt" and listed[1] == tmp_path / "b.pt"


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
