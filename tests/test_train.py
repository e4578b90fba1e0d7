"""Training on tiny synthetic tensors: history, reproducibility, progress/cancel, NaN guard, snapshots,
the time budget, chunked evaluation and the time estimate."""
import importlib
import math

import pytest
import torch

import vae_core as vc
from vae_core.config import ConfigError
from vae_core.model import negative_elbo
from vae_core.train import TrainingTimeout, device_problem, evaluate_loss, pick_device

CFG = vc.ModelConfig(hidden=(32, 16))


def test_train_returns_model_and_history(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=64, lr=3e-3), data=tiny_data, show_bar=False)
    assert isinstance(result.model, vc.VAE)
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    for row in result.history:
        for key in ("train_loss", "train_reconstruction", "train_kl", "test_loss", "test_reconstruction", "test_kl"):
            assert math.isfinite(row[key])
        assert row["train_loss"] == pytest.approx(row["train_reconstruction"] + row["train_kl"], rel=1e-4)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.device == str(vc.pick_device("auto"))  # the default device is "auto"
    assert {row["device"] for row in result.history} == {result.device}  # saved with the history


def test_training_is_reproducible_on_cpu(tiny_data):
    config = vc.TrainConfig(epochs=2, batch_size=32, seed=7)
    a = vc.train(CFG, config, data=tiny_data, show_bar=False).model.state_dict()
    b = vc.train(CFG, config, data=tiny_data, show_bar=False).model.state_dict()
    c = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=32, seed=8), data=tiny_data, show_bar=False).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_progress_reports_steps_and_epochs_and_can_cancel(tiny_data):
    seen = []
    vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=32), data=tiny_data, show_bar=False,
             progress=seen.append, progress_every=2)
    steps = 256 // 32
    assert [(p.epoch, p.step) for p in seen][:4] == [(1, 2), (1, 4), (1, 6), (1, steps)]
    assert seen[-1].fraction == 1.0 and len(seen[-1].history) == 2
    assert math.isfinite(seen[0].running_loss)

    calls = []

    def cancel_after_three(p):
        calls.append(p)
        return len(calls) < 3

    with pytest.raises(vc.TrainingCancelled):
        vc.train(CFG, vc.TrainConfig(epochs=5, batch_size=32), data=tiny_data, show_bar=False,
                 progress=cancel_after_three, progress_every=1)
    assert len(calls) == 3


def test_nan_loss_stops_with_a_clear_error(tiny_data, tmp_path):
    train_x, test_x, test_y = tiny_data
    poisoned = train_x.clone()
    poisoned[:] = float("nan")
    with pytest.raises(vc.TrainingDiverged, match="NaN or infinite"):
        vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=32), data=(poisoned, test_x, test_y), show_bar=False)


def test_snapshots_track_fixed_test_digits(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=64, snapshot_size=10), data=tiny_data, show_bar=False)
    snaps = result.snapshots
    assert snaps["means"].shape == (4, 10, 2)  # 4 steps per epoch: before training + after each epoch
    assert snaps["steps"].tolist() == [0, 4, 8, 12]
    assert len(snaps["indices"]) == len(snaps["labels"]) == 10
    assert torch.equal(snaps["labels"], tiny_data[2][snaps["indices"]])
    assert not torch.equal(snaps["means"][0], snaps["means"][-1])


def test_pick_device_prefers_the_named_one():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in ("cuda", "mps", "cpu")


def test_dynamic_binarisation_trains_on_bernoulli_samples(tiny_data, monkeypatch):
    train_module = importlib.import_module("vae_core.train")  # the module, not the function vae_core re-exports

    seen = []

    def recording_elbo(logits, x, *rest):
        if torch.is_grad_enabled():  # training steps only, not the per-epoch test evaluation
            seen.append(x.detach().clone())
        return negative_elbo(logits, x, *rest)

    monkeypatch.setattr(train_module, "negative_elbo", recording_elbo)
    soft = (torch.full_like(tiny_data[0], 0.5), tiny_data[1], tiny_data[2])
    vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64, binarize=True), data=soft, show_bar=False)
    binary = torch.cat(seen)
    assert set(binary.unique().tolist()) == {0.0, 1.0}
    assert 0.4 < binary.mean() < 0.6
    seen.clear()
    vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64), data=soft, show_bar=False)
    assert set(torch.cat(seen).unique().tolist()) == {0.5}


train_module = importlib.import_module("vae_core.train")  # the module, not the function vae_core re-exports


# --- the wall-clock budget (VAE_MAX_TRAIN_MINUTES) ---

def test_a_run_over_its_time_budget_stops_and_returns_nothing(tiny_data, monkeypatch):
    monkeypatch.setenv("VAE_MAX_TRAIN_MINUTES", "0.0005")  # 30 ms
    seen = []
    with pytest.raises(TrainingTimeout) as caught:
        vc.train(CFG, vc.TrainConfig(epochs=1000, batch_size=32), data=tiny_data, show_bar=False, progress=seen.append)
    message = str(caught.value)
    assert "0.0005 min" in message and "VAE_MAX_TRAIN_MINUTES" in message and "nothing was saved" in message
    assert "epoch" in message and "%" in message  # how far it got
    assert isinstance(caught.value, vc.TrainingCancelled)  # callers that handle a cancel handle this too
    assert len(seen) < 1000 * 256 // 32  # stopped long before the end


def test_the_budget_is_read_when_a_training_starts_and_must_be_a_positive_number(tiny_data, monkeypatch):
    monkeypatch.delenv("VAE_MAX_TRAIN_MINUTES", raising=False)
    assert vc.max_train_minutes() == 20.0
    monkeypatch.setenv("VAE_MAX_TRAIN_MINUTES", "90")
    assert vc.max_train_minutes() == 90.0
    for bad in ("0", "-5", "soon", "nan", "inf"):
        monkeypatch.setenv("VAE_MAX_TRAIN_MINUTES", bad)
        with pytest.raises(ConfigError, match="VAE_MAX_TRAIN_MINUTES: must be a number of minutes > 0"):
            vc.train(CFG, vc.TrainConfig(epochs=1), data=tiny_data, show_bar=False)


def test_limits_that_need_both_configs_are_checked_before_training(tiny_data):
    big_snapshots = vc.TrainConfig(epochs=1000, snapshot_size=10_000)
    with pytest.raises(ConfigError, match="snapshot_size: a training film of 10,000 digits over 1,000 epochs"):
        vc.train(vc.ModelConfig(hidden=(32,), latent_dim=16), big_snapshots, data=tiny_data, show_bar=False)


def test_a_device_that_is_not_available_here_is_a_config_error():
    problem = device_problem("cuda:99")
    assert problem.startswith("device: 'cuda:99' is not available")
    with pytest.raises(ConfigError, match="not available"):
        pick_device("cuda:99")
    assert device_problem("cpu") is None and device_problem("auto") is None
    assert device_problem("gpu").startswith("device: must be")


# --- memory: evaluation in chunks ---

def test_evaluate_loss_in_chunks_equals_one_pass(tiny_data):
    torch.manual_seed(0)
    model = vc.VAE(CFG)
    test_x = tiny_data[1]
    torch.manual_seed(1)
    whole = evaluate_loss(model, test_x, batch_size=len(test_x))
    torch.manual_seed(1)
    chunked = evaluate_loss(model, test_x, batch_size=5)
    assert torch.allclose(whole, chunked, rtol=1e-5)
    assert model.training  # the mode it was in


# --- the time estimate ---

def test_the_estimate_is_positive_and_leaves_the_random_state_alone():
    state = torch.get_rng_state()
    seconds = vc.estimate_training_seconds(CFG, vc.TrainConfig(epochs=1, batch_size=64), n_train=256)
    assert math.isfinite(seconds) and seconds > 0
    assert torch.equal(torch.get_rng_state(), state)


def test_the_estimate_scales_with_epochs_steps_and_test_images(monkeypatch):
    timings = iter([0.01, 0.002] * 4)  # a step of 128 images, then a test pass of 128 images, per call
    monkeypatch.setattr(train_module, "_seconds_per_call", lambda *args, **kwargs: next(timings))
    estimate = lambda **fields: vc.estimate_training_seconds(CFG, vc.TrainConfig(**fields), n_train=1280)
    one = estimate(epochs=1, test_subset=128)
    assert one == pytest.approx(10 * 0.01 + 0.002)
    assert estimate(epochs=4, test_subset=128) == pytest.approx(4 * one)
    # a batch of 256 is timed at 128 images and scaled: the same seconds per image, half the steps
    assert estimate(epochs=1, test_subset=128, batch_size=256) == pytest.approx(5 * 0.02 + 0.002)
    assert estimate(epochs=1, test_subset=0) == pytest.approx(10 * 0.01 + 10_000 / 128 * 0.002)  # all 10,000

