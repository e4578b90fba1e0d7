"""The same small training, evaluation, IWAE, anomaly scoring and save/load round trip on a CUDA GPU, and the
paths that put them there: the CLI's evaluation after a GPU training, and the app's anomaly scores, calibration fit
and IWAE (explorer.cache, on a GPU copy of the cached model). Skipped, with the reason, on a machine without one; the
CPU side of a GPU-trained checkpoint (it loads with map_location="cpu") is checked by the round trip's load, and the
CPU side of the same paths by tests/test_compute_device.py."""
import numpy as np
import pytest
import torch

import vae_core as vc
from explorer.cache import anomaly_scores, comparison, models
from explorer.model.choice import ModelKey
from vae_core import cli
from vae_core.metrics import evaluate_model
from vae_core.train import evaluate_loss

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: this PyTorch sees no GPU, so the GPU tests do not run")

CFG = vc.ModelConfig(hidden=(32, 16))


@pytest.fixture
def gpu_result(tiny_data):
    return vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=64, device="cuda", snapshot_size=10), data=tiny_data,
                    show_bar=False)


def test_auto_picks_the_gpu_and_training_runs_there(tiny_data):
    assert vc.pick_device("auto").type == "cuda"
    result = vc.train(CFG, vc.TrainConfig(epochs=2, batch_size=64), data=tiny_data, show_bar=False)
    assert result.device.startswith("cuda")
    assert all(row["device"].startswith("cuda") for row in result.history)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert next(result.model.parameters()).device.type == "cpu"  # handed back on the CPU, ready to save
    assert result.snapshots["means"].shape == (3, 10, 2)


def test_evaluation_iwae_and_anomaly_scores_run_on_the_gpu_and_match_the_cpu(gpu_result, tiny_data):
    test_x = tiny_data[1]
    gpu_model = gpu_result.model.to("cuda")
    gpu_loss = evaluate_loss(gpu_model, test_x.cuda())
    assert gpu_loss.device.type == "cuda" and torch.isfinite(gpu_loss).all()
    gpu_nll = vc.iwae_log_likelihood(gpu_model, test_x[:8], k=50)
    scores = vc.anomaly_scores(gpu_model, test_x[:8].numpy(), iwae_k=20)
    assert np.isfinite(gpu_nll).all() and all(np.isfinite(v).all() for v in scores.values())
    cpu_nll = vc.iwae_log_likelihood(gpu_model.cpu(), test_x[:8], k=50)
    assert np.allclose(gpu_nll, cpu_nll, atol=2.0)  # different random streams: close, not equal


def test_a_checkpoint_trained_on_the_gpu_saves_its_device_and_loads_on_the_cpu(gpu_result, tmp_path):
    path = vc.save_checkpoint(tmp_path / "gpu.pt", gpu_result.model, vc.TrainConfig(epochs=2, device="cuda"),
                              gpu_result.history, snapshots=gpu_result.snapshots)
    ckpt = vc.load_checkpoint(path)
    assert {row["device"] for row in ckpt.history} == {gpu_result.device}
    assert ckpt.train_config.device == "cuda"
    assert all(t.device.type == "cpu" for t in ckpt.model.state_dict().values())
    expected = gpu_result.model.cpu().state_dict()
    assert all(torch.equal(expected[k], v) for k, v in ckpt.model.state_dict().items())
    back = ckpt.model.to("cuda")
    assert torch.isfinite(evaluate_loss(back, torch.rand(16, 784, device="cuda"))).all()


def device_of(model) -> str:
    return next(model.parameters()).device.type


def test_the_clis_evaluation_after_a_gpu_training_runs_on_the_gpu(tmp_path, monkeypatch, tiny_data, capsys):
    """`train` on tiny synthetic data (the CLI's own functions, MNIST replaced): the evaluation scores a GPU copy of
    the trained model; the saved model and its figures come back to the CPU and match a CPU evaluation."""
    train_x, test_x, test_y = tiny_data
    labels = torch.randint(0, 10, (len(train_x),), generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(cli, "train", lambda mc, tc, **kw: vc.train(mc, tc, data=tiny_data, show_bar=False, **kw))
    monkeypatch.setattr(cli, "load_mnist", lambda split: (train_x, labels) if split == "train" else (test_x, test_y))
    scored = []
    monkeypatch.setattr(cli, "evaluate_model", lambda model, *a, **kw: scored.append(device_of(model)) or
                        evaluate_model(model, *a, **{**kw, "trust_points": 50, "show_bar": False}))
    out = tmp_path / "gpu.pt"
    assert cli.main(["train", "--epochs", "2", "--hidden", "32", "16", "--snapshot-size", "10", "--iwae-k", "20",
                     "--device", "cuda", "--out", str(out)]) == 0
    assert scored == ["cuda"]
    assert "Trains on CUDA: " in capsys.readouterr().out
    ckpt = vc.load_checkpoint(out)
    assert {row["device"] for row in ckpt.history} == {"cuda"} and device_of(ckpt.model) == "cpu"
    assert np.allclose(ckpt.test_latents["mu"], vc.encode(ckpt.model, test_x)[0], atol=1e-4)  # the encoder: no noise
    cpu = evaluate_model(ckpt.model, train_x, labels, test_x, test_y, iwae_k=20, trust_points=50, show_bar=False)
    assert ckpt.metrics["test_loss"] == pytest.approx(cpu["test_loss"], rel=0.02)  # other noise draws: close
    assert ckpt.metrics["iwae_nll"] == pytest.approx(cpu["iwae_nll"], rel=0.02)


def test_the_apps_anomaly_scores_fit_and_iwae_run_on_a_gpu_copy(gpu_result, tmp_path, monkeypatch, tiny_data):
    """The app's jobs (explorer.cache) on a GPU-trained model with 64 synthetic digits as MNIST and k = 5: every
    scoring call gets a model on the GPU, the cached model stays on the CPU, and the scores match the CPU's."""
    path = vc.save_checkpoint(tmp_path / "gpu.pt", gpu_result.model, vc.TrainConfig(epochs=2, device="cuda"),
                              gpu_result.history)
    key = ModelKey.of(path)
    images, labels = tiny_data[1].numpy(), tiny_data[2].numpy()
    for module in (anomaly_scores, comparison):
        monkeypatch.setattr(module, "mnist", lambda split: (images, labels))
    for name, value in (("IWAE_K", 5), ("N_VALIDATION", 40), ("N_VALIDATION_PROBES", 10)):
        monkeypatch.setattr(anomaly_scores, name, value)
    used, real = [], {name: getattr(vc, name) for name in ("anomaly_scores", "calibrate", "iwae_log_likelihood")}
    for name, function in real.items():
        monkeypatch.setattr(vc, name, lambda model, *a, _real=function, _name=name, **kw: used.append(
            (_name, device_of(model))) or _real(model, *a, **kw))

    complexity = anomaly_scores.anomaly_complexity(key)  # the fit: a shared job, on the GPU
    scores = anomaly_scores._score_test_digits(key)(lambda done, total: None)
    nll = comparison._iwae(key, 5)(lambda done, total: None)
    assert {name for name, _ in used} == {"anomaly_scores", "calibrate", "iwae_log_likelihood"}
    assert {device for _, device in used} == {"cuda"}
    cached = models.load_model(key).model
    assert device_of(cached) == "cpu"
    expected = real["anomaly_scores"](cached, images, 5, complexity)
    assert np.allclose(scores["kl"], expected["kl"], atol=1e-3)  # the encoder only: the same on both devices
    assert np.array_equal(scores["compressed_length"], expected["compressed_length"])
    assert np.allclose(scores["iwae"], expected["iwae"], rtol=0.02)  # other noise draws: close
    assert nll == pytest.approx(float(-real["iwae_log_likelihood"](cached, images, k=5).mean()), rel=0.02)


def test_a_deskewing_model_trains_scores_and_reconstructs_on_the_gpu_as_on_the_cpu(tiny_data):
    upright = vc.ModelConfig(hidden=(32, 16), deskew=True)
    result = vc.train(upright, vc.TrainConfig(epochs=2, batch_size=64, device="cuda", snapshot_size=10),
                      data=tiny_data, show_bar=False)
    assert result.device.startswith("cuda") and result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    test_x = tiny_data[1][:8]
    gpu_model = result.model.to("cuda")
    gpu = vc.reconstruct(gpu_model, test_x), vc.iwae_log_likelihood(gpu_model, test_x, k=50)
    cpu_model = result.model.cpu()
    cpu = vc.reconstruct(cpu_model, test_x), vc.iwae_log_likelihood(cpu_model, test_x, k=50)
    assert np.allclose(gpu[0], cpu[0], atol=1e-4)  # the same shear on either device
    assert np.allclose(gpu[1], cpu[1], atol=2.0)  # different random streams: close, not equal
