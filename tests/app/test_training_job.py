"""The retraining job without Streamlit: a real short training; cancel (by its starter or the presenter, never a late
click on the next job); divergence; one job per process whatever caches are cleared, one per folder across
processes; the folder quota; stale temp files cleared at start."""
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vae_core as vc
from explorer.model.files import DEFAULT_CHECKPOINT, delete_model
from explorer.training import job as training_job
from explorer.training.form import TrainingRequest
from explorer.training.job import (
    MAX_MODELS_ENV,
    ModelQuotaReached,
    NotYourTraining,
    TrainingAlreadyRunning,
    TrainingJob,
    shared_job,
)
from vae_core.analysis import images_digest
from vae_core.settings import CHECKPOINT_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]


def tiny_request(name="tiny", epochs=1, lr=1e-3, hidden=(64, 32)) -> TrainingRequest:
    """1000 training images, 1000 test images: one epoch takes a few seconds on 2 CPU cores."""
    return TrainingRequest(name, vc.ModelConfig(hidden=hidden),
                           vc.TrainConfig(epochs=epochs, lr=lr, train_subset=1000, test_subset=1000))


def files(directory: Path) -> list[str]:
    """What a training left in its folder, besides the folder's lock file."""
    return sorted(p.name for p in directory.iterdir() if p.name != ".training.lock") if directory.exists() else []


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
    assert ckpt.test_latents["digest"] == images_digest(test_x) and ckpt.test_latents["mu"].shape == (1000, 2)
    assert status.fraction == 1.0 and len(status.history) == 1
    assert files(tmp_path) == ["tiny.pt"]  # no temp files left behind


def test_a_cancelled_training_writes_nothing(tmp_path, real_data):
    job = TrainingJob()
    job_id = job.start(tiny_request(epochs=3), directory=tmp_path)
    assert job.cancel(job_id)
    status = job.wait(timeout=120)
    assert status.state == "cancelled"
    assert "nothing was saved" in status.message
    assert files(tmp_path) == []


def test_a_diverging_training_writes_nothing(tmp_path, real_data):
    job = TrainingJob()
    job.start(tiny_request(lr=1e3), directory=tmp_path)
    status = job.wait(timeout=120)
    assert status.state == "failed"
    assert "diverged" in status.message and "NaN" in status.message
    assert files(tmp_path) == []


def test_missing_mnist_fails_clearly_and_writes_nothing(tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv(vc.DATA_ENV, str(empty))
    job = TrainingJob()
    job.start(tiny_request(), directory=tmp_path / "out")
    status = job.wait(timeout=60)
    assert status.state == "failed"
    assert vc.DATA_ENV in status.message and vc.DOWNLOAD_COMMAND in status.message
    assert files(tmp_path / "out") == []


def test_only_one_training_at_a_time(tmp_path, real_data):
    job = TrainingJob()
    first = job.start(tiny_request("first", epochs=20), directory=tmp_path)
    try:
        with pytest.raises(TrainingAlreadyRunning, match="already running"):
            job.start(tiny_request("second"), directory=tmp_path)
        assert job.snapshot().name == "first" and job.snapshot().active
    finally:
        job.cancel(first)
    assert job.wait(timeout=120).state == "cancelled"
    # once it has ended, the next one may start
    second = job.start(tiny_request("second"), directory=tmp_path)
    assert second == first + 1
    job.cancel(second)
    assert job.wait(timeout=120).state == "cancelled"
    assert files(tmp_path) == []


def test_only_the_starter_or_the_presenter_may_cancel(tmp_path, real_data):
    job = TrainingJob()
    job_id = job.start(tiny_request(epochs=50), directory=tmp_path, owner="session-a")
    try:
        with pytest.raises(NotYourTraining, match="only the session that started this training"):
            job.cancel(job_id, by="session-b", presenter=False)  # another student's click
        assert job.snapshot().active
        assert job.cancel(job_id, by="session-a", presenter=False)  # its starter may
    finally:
        job.cancel(job_id)
    assert job.wait(timeout=120).state == "cancelled"


def test_a_late_cancel_click_does_not_cancel_the_next_training(tmp_path, real_data):
    job = TrainingJob()
    first = job.start(tiny_request("first", epochs=50), directory=tmp_path)
    job.cancel(first)
    assert job.wait(timeout=120).state == "cancelled"
    second = job.start(tiny_request("second", epochs=50), directory=tmp_path)
    try:
        assert job.cancel(first) is False  # the click meant for the first one arrives now
        time.sleep(1.0)
        assert job.snapshot().job_id == second and job.snapshot().active
    finally:
        job.cancel(second)
    assert job.wait(timeout=120).state == "cancelled"


def test_clearing_streamlit_caches_during_a_training_never_makes_a_second_job(tmp_path, real_data):
    import streamlit as st

    job = shared_job()
    job_id = job.start(tiny_request(epochs=50), directory=tmp_path)
    try:
        st.cache_resource.clear()  # what any websocket client's clear_cache message does
        st.cache_data.clear()
        assert shared_job() is job and job.snapshot().active
        with pytest.raises(TrainingAlreadyRunning, match="already running"):
            shared_job().start(tiny_request("second"), directory=tmp_path)
    finally:
        job.cancel(job_id)
    assert job.wait(timeout=120).state == "cancelled"


def test_the_folder_quota_refuses_a_training_until_a_model_is_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_MODELS_ENV, "2")
    for name in ("a", "b"):
        vc.save_checkpoint(tmp_path / f"{name}.pt", vc.VAE(vc.ModelConfig(hidden=(16,))))
    job = TrainingJob()
    with pytest.raises(ModelQuotaReached, match="delete one first"):
        job.start(tiny_request(), directory=tmp_path)
    delete_model(tmp_path / "a.pt", tmp_path)
    with pytest.raises(PermissionError, match="the shipped model 'default' cannot be deleted"):
        delete_model(DEFAULT_CHECKPOINT, tmp_path)
    assert job.snapshot().state == "idle" and files(tmp_path) == ["b.pt"]


HOLD_LOCK = """
import sys, time
import vae_core as vc
with vc.training_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_another_process_training_into_the_folder_blocks_this_one(tmp_path, real_data):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        job = TrainingJob()
        job.start(tiny_request(), directory=tmp_path)
        status = job.wait(timeout=60)
        assert status.state == "failed" and "another training" in status.message.lower(), status.message
        assert files(tmp_path) == []
    finally:
        holder.kill()
        holder.wait()


def test_temp_files_left_by_a_killed_save_are_removed_when_the_server_starts(tmp_path, monkeypatch):
    stale = tmp_path / ".lesson.pt.k2x9_q7m.tmp"  # as mkstemp names it
    stale.write_bytes(b"half a checkpoint")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(training_job, "_SHARED", None)
    shared_job()
    assert not stale.exists()
