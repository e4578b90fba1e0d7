"""The named presets (vae_core.PRESETS), the one-cycle schedule and the thread setting they use. The Quick preset's
timing is the benchmark's job (bench/quick_preset.py), not a test's: here it trains on a small subset only."""
import importlib
import io
import math
import multiprocessing
import os

import pytest
import torch

import vae_core as vc
from vae_core.train import lr_scheduler

CFG = vc.ModelConfig(hidden=(32, 16))


def test_the_quick_preset_is_a_short_filmed_onecycle_run_of_a_2d_model():
    quick = vc.PRESETS["quick"]
    assert quick is vc.QUICK and quick.name == "quick" and quick.label and quick.description
    mc, tc = quick.model_config, quick.train_config
    assert mc.latent_dim == 2 and mc.arch == "mlp" and mc.activation == "tanh"
    assert mc.deskew  # its map shows ten clusters only with the slant taken out (docs/training-speed.md)
    assert tc.lr_schedule == "onecycle" and 0 < tc.warmup < 1
    assert tc.epochs <= 20 and tc.batch_size >= 256 and tc.threads == vc.AUTO_THREADS
    assert not tc.binarize  # trained on the grey levels its test -ELBO is measured on
    assert tc.precision == "auto" and tc.data_bias
    assert tc.snapshot_size == vc.PRESET_FILM_DIGITS > 0  # filmed, like every run of the form
    assert tc.eval_subset == tc.snapshot_size  # the epochs before the last are scored on the filmed digits
    assert tc.train_subset == 0 and tc.test_subset == 0  # all of MNIST: the 30 s are measured on the full set
    assert tc.device == "auto" and 0 < tc.beta <= 1  # a beta-VAE while it trains; scored on the true ELBO


def test_a_preset_takes_replaced_fields_and_checks_them_again():
    quick = vc.PRESETS["quick"]
    assert quick.with_train(seed=3).seed == 3 and quick.with_train(seed=3).lr == quick.train_config.lr
    with pytest.raises(vc.ConfigError, match="epochs"):
        quick.with_train(epochs=0)


def test_the_quick_preset_trains_on_a_small_subset_films_and_learns(real_data):
    quick = vc.PRESETS["quick"]
    config = quick.with_train(train_subset=2048, test_subset=512, snapshot_size=200, eval_subset=200)
    threads = torch.get_num_threads()
    result = vc.train(quick.model_config, config, show_bar=False)
    assert result.model.config.deskew
    assert len(result.history) == config.epochs
    first, last = result.history[0]["test_loss"], result.history[-1]["test_loss"]
    assert math.isfinite(last) and last < first
    assert last < 300  # an untrained model scores ~545 nats; ~100 steps of a one-cycle run get well below 300
    assert result.snapshots["means"].shape == (1 + config.epochs, 200, 2)  # the start, then every epoch's end
    assert [row["test_images"] for row in result.history] == [200] * (config.epochs - 1) + [512]
    assert result.history[-1]["lr"] < config.lr / 100  # one-cycle anneals to ~0 by the last step
    assert {row["device"] for row in result.history} == {str(vc.pick_device(config.device))}
    assert torch.get_num_threads() == threads  # the preset's thread setting is undone after the run


def test_onecycle_warms_up_to_the_peak_then_anneals():
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0)
    config = vc.TrainConfig(lr=0.01, lr_schedule="onecycle", warmup=0.25)
    scheduler = lr_scheduler(optimizer, config, total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    peak = max(range(100), key=lrs.__getitem__)
    assert 22 <= peak <= 27 and lrs[peak] == pytest.approx(0.01, rel=1e-3)
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1], strict=True))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:], strict=False))
    assert lrs[-1] < 1e-4


def test_a_constant_schedule_has_no_scheduler():
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=1e-3)
    assert lr_scheduler(optimizer, vc.TrainConfig(), total_steps=10) is None


def test_warmup_and_threads_are_checked_like_every_field():
    with pytest.raises(vc.ConfigError) as caught:
        vc.TrainConfig(lr_schedule="step", warmup=1.5, threads=-2, precision="fp16", data_bias="yes")
    assert [p.split(":")[0] for p in caught.value.problems] == ["lr_schedule", "warmup", "threads", "precision",
                                                                 "data_bias"]
    assert "'onecycle'" in caught.value.problems[0]


def test_training_on_one_thread_restores_the_thread_count_even_when_it_fails(tiny_data):
    before = torch.get_num_threads()
    seen = []
    vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64, threads=1), data=tiny_data, show_bar=False,
             progress=lambda p: seen.append(torch.get_num_threads()))
    assert set(seen) == {1}
    assert torch.get_num_threads() == before
    with pytest.raises(vc.TrainingCancelled):
        vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64, threads=1), data=tiny_data, show_bar=False,
                 progress=lambda p: False)
    assert torch.get_num_threads() == before


def test_the_estimate_times_steps_on_the_threads_the_run_will_use(monkeypatch):
    train_module = importlib.import_module("vae_core.train")
    seen = []
    monkeypatch.setattr(train_module, "_seconds_per_call", lambda *a, **k: seen.append(torch.get_num_threads()) or 0.01)
    before = torch.get_num_threads()
    vc.estimate_training_seconds(CFG, vc.TrainConfig(epochs=1, threads=1), n_train=256)
    assert seen == [1, 1] and torch.get_num_threads() == before


@pytest.mark.parametrize(("idle", "threads"), [(1.95, 2), (1.8, 2), (1.6, 1), (1.0, 1), (0.0, 1)])
def test_automatic_threads_take_the_cores_left_idle(monkeypatch, idle, threads):
    train_module = importlib.import_module("vae_core.train")
    monkeypatch.setattr(train_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(train_module, "_idle_cores", lambda cores, window: idle)
    assert train_module.auto_threads() == threads


def test_idle_cores_drop_when_a_process_keeps_a_core_busy():
    idle_cores = importlib.import_module("vae_core.train")._idle_cores
    cores = os.cpu_count() or 1
    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=_spin, args=(stop,))
    busy.start()
    try:
        assert idle_cores(cores, 0.5) <= cores - 0.5
    finally:
        stop.set()
        busy.join()


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def test_without_kernel_counters_the_load_average_says_how_many_cores_are_idle(monkeypatch):
    train_module = importlib.import_module("vae_core.train")
    monkeypatch.setattr("builtins.open", lambda *a, **k: (_ for _ in ()).throw(OSError("no /proc here")))
    monkeypatch.setattr(train_module.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert train_module._idle_cores(2, 0.01) == 1.5
    monkeypatch.delattr(train_module.os, "getloadavg")
    assert train_module._idle_cores(2, 0.01) == 1.0


def test_a_run_on_automatic_threads_uses_the_chosen_count_and_restores_it(monkeypatch, tiny_data):
    train_module = importlib.import_module("vae_core.train")
    monkeypatch.setattr(train_module, "auto_threads", lambda: 1)
    before, seen = torch.get_num_threads(), []
    vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64, threads=vc.AUTO_THREADS), data=tiny_data, show_bar=False,
             progress=lambda p: seen.append(torch.get_num_threads()))
    assert set(seen) == {1} and torch.get_num_threads() == before


def test_bf16_training_records_its_precision_and_keeps_fp32_weights(tiny_data):
    result = vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64, precision="bf16"), data=tiny_data, show_bar=False)
    assert result.history[0]["precision"] == "bf16" and math.isfinite(result.history[0]["test_loss"])
    assert {p.dtype for p in result.model.parameters()} == {torch.float32}
    plain = vc.train(CFG, vc.TrainConfig(epochs=1, batch_size=64), data=tiny_data, show_bar=False)
    assert plain.history[0]["precision"] == "fp32"


def test_automatic_precision_is_bf16_only_on_a_cpu_that_computes_it_natively(monkeypatch):
    train_module = importlib.import_module("vae_core.train")
    auto, cpu = vc.TrainConfig(precision="auto"), torch.device("cpu")
    monkeypatch.setattr(train_module, "bf16_native", lambda device: False)
    assert not train_module.uses_bf16(auto, cpu)
    monkeypatch.setattr(train_module, "bf16_native", lambda device: True)
    assert train_module.uses_bf16(auto, cpu) and not train_module.uses_bf16(vc.TrainConfig(), cpu)


def test_the_decoder_starts_at_the_logit_of_the_mean_training_image(tiny_data):
    expected = torch.logit(tiny_data[0].mean(0).clamp(1e-3, 1 - 1e-3))
    barely = dict(epochs=1, batch_size=64, lr=1e-9)  # the weights move by ~1e-9 a step: the start stays visible
    trained = vc.train(CFG, vc.TrainConfig(**barely), data=tiny_data, show_bar=False)
    assert torch.allclose(trained.model.decoder[-1].bias, expected, atol=1e-4)
    zero = vc.train(CFG, vc.TrainConfig(**barely, data_bias=False), data=tiny_data, show_bar=False)
    assert zero.model.decoder[-1].bias.abs().max() < 0.2  # torch's own uniform init, within 1/sqrt(16)


def test_this_process_own_cpu_time_counts_as_idle_cores(monkeypatch):
    """OpenMP's workers spin after the last torch call: the machine looks busy, but the business is this process's."""
    train_module = importlib.import_module("vae_core.train")
    stat = iter(["cpu  600 0 400 1000 0 0 0 0 0 0\n", "cpu  740 0 410 1050 0 0 0 0 0 0\n"])  # 200 ticks, 50 idle
    clock = iter([10.0, 10.2])  # 0.2 s of wall time ...
    cpu = iter([5.0, 5.3])  # ... in which this process used 0.3 s of CPU: 1.5 cores
    monkeypatch.setattr("builtins.open", lambda *a, **k: io.StringIO(next(stat)))
    monkeypatch.setattr(train_module.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(train_module.time, "process_time", lambda: next(cpu))
    monkeypatch.setattr(train_module.time, "sleep", lambda seconds: None)
    assert train_module._idle_cores(2, 0.2) == pytest.approx(2 * 50 / 200 + 1.5)


def test_the_cli_trains_the_quick_preset_with_its_activation_and_deskewing_unless_a_flag_replaces_them():
    cli = importlib.import_module("vae_core.cli")

    def configs(*flags):
        return cli._configs(cli._parser().parse_args(["train", "--out", "m.pt", *flags]), lambda make: make())

    assert configs("--preset", "quick")[0] == vc.QUICK.model_config
    assert configs("--preset", "quick", "--no-deskew")[0].deskew is False and not configs()[0].deskew
    assert configs("--deskew")[0].deskew is True
    assert configs("--preset", "quick", "--activation", "silu")[0].activation == "silu"
    assert configs("--preset", "quick", "--activation", "silu")[0].hidden == vc.QUICK.model_config.hidden
    assert configs()[0].activation == "leaky_relu"
    with pytest.raises(SystemExit):
        configs("--activation", "relu")
