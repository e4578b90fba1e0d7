"""Where the heavy computations of a trained model run (vc.on_compute_device: a GPU when there is one, on a copy;
on a CPU, the model itself, so the results are unchanged bit for bit), the app's caches that use it, and the line
that says where a training runs. The GPU side itself is tests/test_cuda.py's (skipped without a GPU)."""
import importlib
import os

import numpy as np
import pytest
import torch

import vae_core as vc
from explorer.cache import anomaly_scores, comparison, models
from explorer.model.choice import ModelKey

train_module = importlib.import_module("vae_core.train")  # the module: `vae_core.train` is the function


def test_on_the_cpu_the_model_itself_is_used_and_nothing_is_copied(tiny_model):
    device, model = vc.on_compute_device(tiny_model, "cpu")
    assert device == torch.device("cpu") and model is tiny_model


def test_on_another_device_a_copy_moves_there_and_the_original_stays(tiny_model, monkeypatch):
    """"meta" stands in for a GPU: a device a CPU-only machine can move a model to (its tensors hold no data)."""
    monkeypatch.setattr(train_module, "pick_device", lambda preference="auto": torch.device("meta"))
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    device, model = vc.on_compute_device(tiny_model)
    assert device.type == "meta" and model is not tiny_model
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert {p.device.type for p in tiny_model.parameters()} == {"cpu"}
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    assert model.training is tiny_model.training is False  # eval mode kept: the copy scores as the model would
    assert model.config == tiny_model.config


def test_a_device_that_is_not_here_is_a_config_error(tiny_model):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: 'cuda' is available here")
    with pytest.raises(vc.ConfigError, match="not available"):
        vc.on_compute_device(tiny_model, "cuda")


# --- the line saying where a training runs ---

def test_the_training_line_names_the_cpu_its_threads_and_precision():
    cores = os.cpu_count()
    plural = "s" if cores != 1 else ""
    line = vc.training_device_line(vc.TrainConfig(device="cpu", threads=3))
    assert line == f"Trains on CPU ({cores} core{plural}; 3 threads; fp32)"
    assert vc.training_device_line(vc.TrainConfig(device="cpu", threads=1, precision="bf16")).endswith(
        "; 1 thread; bf16)")
    native = train_module.bf16_native(torch.device("cpu"))
    assert vc.training_device_line(vc.TrainConfig(device="cpu", precision="auto")).endswith(
        "bf16)" if native else "fp32)")
    assert f"; {torch.get_num_threads()} thread" in vc.training_device_line(vc.TrainConfig(device="cpu", threads=0))


def test_automatic_threads_are_described_without_sampling_the_cpu(monkeypatch):
    def sampled(*args, **kwargs):
        raise AssertionError("the line sampled the CPU's idle time")

    monkeypatch.setattr(train_module, "auto_threads", sampled)
    monkeypatch.setattr(train_module, "_idle_cores", sampled)
    line = vc.training_device_line(vc.TrainConfig(device="cpu", threads=vc.AUTO_THREADS))
    assert "one thread per core idle when training starts" in line


def test_a_gpu_is_named_by_its_device_name(monkeypatch):
    """A CUDA machine as torch would report it (no GPU needed: the line reads only these three answers)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Lecture GPU 9000")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **kw: True)
    assert vc.training_device_line(vc.TrainConfig()) == "Trains on CUDA: Lecture GPU 9000 (fp32)"
    assert vc.training_device_line(vc.QUICK.train_config) == "Trains on CUDA: Lecture GPU 9000 (fp32)"  # auto: CPU only
    assert vc.training_device_line(vc.TrainConfig(precision="bf16")).endswith("(bf16)")
    assert vc.device_label(torch.device("mps")) == "MPS (Apple GPU)" and vc.device_label(torch.device("cpu")) == "CPU"


# --- the app's heavy computations: on a CPU-only machine, the cached model itself ---

@pytest.fixture
def cpu_only():
    if vc.pick_device().type != "cpu":
        pytest.skip(f"this machine computes on {vc.pick_device()}: tests/test_cuda.py covers it")


@pytest.fixture
def app_model(tmp_path, monkeypatch, tiny_model):
    """A saved tiny model the app's caches know by its key, with 40 synthetic test digits as MNIST and k = 3."""
    path = vc.save_checkpoint(tmp_path / "tiny.pt", tiny_model)
    images = np.random.default_rng(0).random((40, 784), dtype=np.float32) ** 3
    labels = np.arange(40) % 10
    for module in (anomaly_scores, comparison):
        monkeypatch.setattr(module, "mnist", lambda split: (images, labels))
    monkeypatch.setattr(anomaly_scores, "IWAE_K", 3)
    monkeypatch.setattr(anomaly_scores, "anomaly_complexity", lambda key: vc.Complexity())
    return ModelKey.of(path), images


def test_the_apps_scoring_and_iwae_use_the_cached_model_itself_on_a_cpu(cpu_only, app_model, monkeypatch):
    key, images = app_model
    used = []
    scores, iwae = vc.anomaly_scores, vc.iwae_log_likelihood
    monkeypatch.setattr(vc, "anomaly_scores", lambda model, *a, **kw: used.append(model) or scores(model, *a, **kw))
    monkeypatch.setattr(vc, "iwae_log_likelihood", lambda model, *a, **kw: used.append(model) or iwae(model, *a, **kw))
    cached = models.load_model(key).model
    assert models.compute_model(key) is cached

    test_scores = anomaly_scores._score_test_digits(key)(lambda done, total: None)
    nll = comparison._iwae(key, 3)(lambda done, total: None)
    assert used and all(model is cached for model in used)
    expected = scores(cached, images, 3, vc.Complexity())
    assert all(np.array_equal(test_scores[name], expected[name]) for name in expected)  # the CPU's, bit for bit
    assert nll == pytest.approx(float(-iwae(cached, images, k=3).mean()))
