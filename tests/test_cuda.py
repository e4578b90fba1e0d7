"""The same small training, evaluation, IWAE, anomaly scoring and save/load round trip on a CUDA GPU. Skipped, with
the reason, on a machine without one; the CPU side of a GPU-trained checkpoint (it loads with map_location="cpu")
is checked by the round trip's load."""
import numpy as np
import pytest
import torch

import vae_core as vc
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
