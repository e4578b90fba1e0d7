"""Training on tiny synthetic tensors: history, reproducibility, progress/cancel, NaN guard, snapshots,
the time budget, chunked evaluation and the time estimate."""
import importlib
import math
from dataclasses import replace

import pytest
import torch

import vae_core as vc
from vae_core.analysis import elbo_by_chunk
from vae_core.config import ConfigError
from vae_core.model import negative_elbo
from vae_core.train import (
    TrainingTimeout,
    device_problem,
    evaluate_loss,
    evaluation_rows,
    make_optimizer,
    pick_device,
)

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


def test_evaluating_some_rows_scores_them_as_a_whole_evaluation_would_and_draws_the_same_noise(tiny_data):
    torch.manual_seed(0)
    model = vc.VAE(CFG)
    test_x = tiny_data[1]
    rows = torch.tensor([3, 10, 11, 40, 63])
    torch.manual_seed(1)
    per_image = torch.cat([loss for loss, _, _ in elbo_by_chunk(model, test_x)])
    after_whole = torch.get_rng_state()
    torch.manual_seed(1)
    sample = evaluate_loss(model, test_x, rows=rows)
    assert sample[0].item() == pytest.approx(per_image[rows].mean().item(), rel=1e-5)
    assert sample[0].item() != pytest.approx(per_image.mean().item(), rel=1e-3)  # not the whole set's mean
    assert torch.equal(torch.get_rng_state(), after_whole)  # the generator advanced as a whole evaluation's does


# --- how much of the test set each epoch is scored on (TrainConfig.eval_subset) ---

def test_by_default_every_epoch_is_scored_on_the_whole_test_set(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=64), data=tiny_data, show_bar=False)
    assert vc.TrainConfig().eval_subset == 0
    assert [row["test_images"] for row in result.history] == [64, 64, 64]


def test_an_evaluation_subset_scores_the_epochs_before_the_last_on_a_sample_and_the_last_on_all(tiny_data):
    whole = vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=64), data=tiny_data, show_bar=False)
    sampled = vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=64, eval_subset=16), data=tiny_data, show_bar=False)
    assert [row["test_images"] for row in sampled.history] == [16, 16, 64]
    assert sampled.history[0]["test_loss"] != whole.history[0]["test_loss"]  # a sample's figure, not the set's
    assert sampled.history[-1]["test_loss"] == whole.history[-1]["test_loss"]  # the last epoch: the whole set


def test_an_evaluation_subset_leaves_the_trained_model_exactly_as_it_was(tiny_data):
    config = vc.TrainConfig(epochs=3, batch_size=32, seed=5, snapshot_size=16)
    whole = vc.train(CFG, config, data=tiny_data, show_bar=False)
    sampled = vc.train(CFG, replace(config, eval_subset=16), data=tiny_data, show_bar=False)
    a, b = whole.model.state_dict(), sampled.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["train_loss"] for r in whole.history] == [r["train_loss"] for r in sampled.history]
    assert torch.equal(whole.snapshots["means"], sampled.snapshots["means"])


def test_the_evaluation_sample_is_the_filmed_digits_when_it_is_as_large_as_the_film(tiny_data):
    config = vc.TrainConfig(epochs=1, batch_size=64, seed=3, snapshot_size=20, eval_subset=20)
    filmed = vc.train(CFG, config, data=tiny_data, show_bar=False).snapshots["indices"]
    assert torch.equal(evaluation_rows(config, 64), filmed)
    assert evaluation_rows(replace(config, seed=4), 64).tolist() != filmed.tolist()  # drawn with the run's seed
    assert evaluation_rows(replace(config, eval_subset=0), 64) is None
    assert evaluation_rows(replace(config, eval_subset=64), 64) is None  # as large as the test set: all of it


def test_an_evaluation_subset_must_be_a_whole_number_from_zero():
    with pytest.raises(ConfigError) as caught:
        vc.TrainConfig(eval_subset=-1)
    assert [p.split(":")[0] for p in caught.value.problems] == ["eval_subset"]
    with pytest.raises(ConfigError, match="eval_subset"):
        vc.TrainConfig(eval_subset=2.5)


def test_weight_decay_shrinks_only_the_decoders_weight_matrices(tiny_data):
    plain = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=64, seed=5), data=tiny_data, show_bar=False).model
    decayed = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=64, seed=5, weight_decay=50.0), data=tiny_data,
                       show_bar=False).model
    norms = {name: [p.norm().item() for p in m.parameters() if p.ndim > 1]
             for name, m in (("plain", plain.decoder), ("decayed", decayed.decoder))}
    assert all(d < 0.8 * p for p, d in zip(norms["plain"], norms["decayed"], strict=True))
    optimizer = make_optimizer(decayed, vc.TrainConfig(weight_decay=0.01), torch.device("cpu"))
    by_decay = {g["weight_decay"]: {id(p) for p in g["params"]} for g in optimizer.param_groups}
    assert by_decay[0.01] == {id(p) for p in decayed.decoder.parameters() if p.ndim > 1}
    assert {id(p) for p in decayed.encoder.parameters()} <= by_decay[0.0]


def test_without_weight_decay_the_optimiser_is_plain_adam():
    model = vc.VAE(CFG)
    assert type(make_optimizer(model, vc.TrainConfig(), torch.device("cpu"))) is torch.optim.Adam
    with pytest.raises(ConfigError, match="weight_decay"):
        vc.TrainConfig(weight_decay=-0.1)


# --- the time estimate ---

def test_the_estimate_is_positive_and_leaves_the_random_state_alone():
    state = torch.get_rng_state()
    seconds = vc.estimate_training_seconds(CFG, vc.TrainConfig(epochs=1, batch_size=64), n_train=256)
    assert math.isfinite(seconds) and seconds > 0
    assert torch.equal(torch.get_rng_state(), state)


def scripted_timings(monkeypatch, *seconds):
    """_seconds_per_call returns these in turn (each call still runs fn once, as the estimate's real work); returns
    the batch sizes the optimiser steps saw."""
    timings, stepped = iter(seconds), []

    def timed(fn, *args, **kwargs):
        fn()
        return next(timings)

    def recording_elbo(logits, x, *args):
        stepped.append(len(x))
        return negative_elbo(logits, x, *args)

    monkeypatch.setattr(train_module, "_seconds_per_call", timed)
    monkeypatch.setattr(train_module, "negative_elbo", recording_elbo)  # the estimate's steps, not its evaluation
    return stepped


def parts(**fields):
    return train_module.training_time_parts(CFG, vc.TrainConfig(**fields), n_train=1280)


def test_the_estimate_scales_with_epochs_steps_and_test_images(monkeypatch):
    scripted_timings(monkeypatch, *[0.01, 0.002] * 4)  # a step of 128 images, then an evaluation, per estimate
    one = parts(epochs=1, test_subset=128)
    # 10 steps of 0.01 s; the evaluation timed on all 128 test images (fewer than a 0.05-s step trains), once
    assert one == pytest.approx({"steps": 10 * 0.01, "evaluation": 0.002, "film": 0.0})
    assert parts(epochs=4, test_subset=128) == pytest.approx({"steps": 0.4, "evaluation": 4 * 0.002, "film": 0.0})
    # all 10,000 test digits: the evaluation is timed on the 640 images a 0.05-s step trains, and scaled
    assert parts(epochs=1)["evaluation"] == pytest.approx(10_000 / 640 * 0.002)
    assert vc.estimate_training_seconds(CFG, vc.TrainConfig(epochs=1, test_subset=128), n_train=1280) == \
        pytest.approx(sum(one.values()))


def test_a_short_step_is_timed_again_at_the_runs_own_batch_size(monkeypatch):
    stepped = scripted_timings(monkeypatch, 0.001, 0.0024, 0.002)  # 128 images, then 384: less per image
    assert parts(epochs=2, batch_size=384, test_subset=128)["steps"] == pytest.approx(2 * 4 * 0.0024)
    assert set(stepped) == {128, 384}


def test_a_long_step_is_scaled_from_128_images_without_timing_the_runs_batch(monkeypatch):
    stepped = scripted_timings(monkeypatch, 0.1, 0.002)  # 0.1 s for 128 images: 0.3 s for the run's 384
    assert parts(epochs=2, batch_size=384, test_subset=128)["steps"] == pytest.approx(2 * 4 * 0.3)
    assert set(stepped) == {128}


def test_the_estimate_scores_the_epochs_before_the_last_on_the_evaluation_subset(monkeypatch):
    scripted_timings(monkeypatch, *[0.01, 0.002] * 2)  # 0.002 s for 128 test images
    assert parts(epochs=3, test_subset=128)["evaluation"] == pytest.approx(3 * 0.002)
    assert parts(epochs=3, test_subset=128, eval_subset=16)["evaluation"] == pytest.approx((2 * 16 + 128) / 128 * 0.002)


def test_the_estimate_counts_every_film_frame_with_its_grid_and_the_filmed_digits(monkeypatch):
    # a step, an evaluation, a frame of one digit (the grid, mostly), a frame of the 64 filmed digits
    scripted_timings(monkeypatch, 0.01, 0.002, 0.004, 0.006)
    film = parts(epochs=2, test_subset=128, snapshot_size=64)["film"]
    assert film == pytest.approx(3 * 0.006)  # frames before training and after each of the 2 epochs of 10 steps


def test_the_frames_of_a_slow_model_are_timed_once_each_to_bound_the_estimates_own_time(monkeypatch):
    calls = []

    def timed(fn, device, warmup, repeats, max_seconds=0.4):
        calls.append((warmup, repeats))
        return [0.01, 1.0, 0.3, 0.4][len(calls) - 1]  # an evaluation of 1 s for 128 images: a slow model

    monkeypatch.setattr(train_module, "_seconds_per_call", timed)
    film = parts(epochs=2, test_subset=128, snapshot_size=64)["film"]
    assert calls[2:] == [(0, 1), (0, 1)]  # the two frames: no warm-up, one call
    assert film == pytest.approx(3 * 0.4)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def windows(fallback, clock, seconds_per_step: list[float], steps: int = 20) -> list[bool]:
    """Time windows of `steps` steps at these seconds per step; what stepped() answered after each."""
    answers = []
    for s in seconds_per_step:
        fallback.restart()
        clock.now += s * steps
        answers.append(fallback.stepped(steps))
    return answers


def test_automatic_threads_drop_to_one_when_steps_stay_three_times_slower():
    from vae_core.train import ThreadFallback

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clock = FakeClock()
        fallback = ThreadFallback(True, clock)
        # a single slow window (a stall) changes nothing; two running after the fastest do
        assert windows(fallback, clock, [0.010, 0.012, 0.040, 0.011, 0.035]) == [False] * 5
        assert torch.get_num_threads() == 2
        assert windows(fallback, clock, [0.040]) == [True]
        assert torch.get_num_threads() == 1
        assert windows(fallback, clock, [0.5, 0.5]) == [False, False]  # once dropped, it stays quiet
    finally:
        torch.set_num_threads(before)


def test_a_chosen_thread_count_is_never_changed_by_the_fallback():
    from vae_core.train import ThreadFallback

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clock = FakeClock()
        fallback = ThreadFallback(False, clock)  # threads set by the user, or a GPU run
        assert windows(fallback, clock, [0.010, 0.1, 0.1, 0.1]) == [False] * 4
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("two, one, kept", [(0.02, 0.01, 1), (0.01, 0.02, 2)], ids=["busy", "idle"])
def test_on_automatic_threads_the_estimate_times_one_thread_too_and_goes_on_with_the_faster(monkeypatch, two, one,
                                                                                            kept):
    monkeypatch.setattr(train_module, "auto_threads", lambda: 2)
    threads, timings = [], iter([two, one, 0.002])  # 128 images on two threads, then on one; an evaluation

    def timed(fn, *args, **kwargs):
        fn()
        threads.append(torch.get_num_threads())
        return next(timings)

    monkeypatch.setattr(train_module, "_seconds_per_call", timed)
    steps = parts(epochs=1, test_subset=128, threads=vc.AUTO_THREADS)["steps"]
    assert threads == [2, 1, kept] and steps == pytest.approx(10 * min(two, one))
