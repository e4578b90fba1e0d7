"""`python -m vae_core train|evaluate|download` on a small real-data run."""
import subprocess
import sys

import pytest

import vae_core as vc
from vae_core.cli import main

pytestmark = pytest.mark.real_data


def test_train_then_evaluate(tmp_path, capsys, real_data):
    out = tmp_path / "small.pt"
    assert main(["train", "--epochs", "3", "--train-subset", "3000", "--batch-size", "50", "--lr", "2e-3",
                 "--hidden", "128", "64", "--snapshot-size", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5-NN accuracy" in printed and f"saved {out}" in printed
    ckpt = vc.load_checkpoint(out)
    assert ckpt.model_config.hidden == (128, 64) and len(ckpt.history) == 3
    assert ckpt.history[2]["test_loss"] < ckpt.history[0]["test_loss"] < 250
    assert ckpt.command == ("python -m vae_core train --epochs 3 --train-subset 3000 --batch-size 50 --lr 2e-3 "
                            f"--hidden 128 64 --snapshot-size 50 --out {out}")
    assert ckpt.snapshots["means"].shape == (4, 50, 2)
    for key in ("test_loss", "vae_knn_accuracy", "pca_knn_accuracy", "vae_trustworthiness", "pca_trustworthiness"):
        assert key in ckpt.metrics
    test_x = vc.load_mnist("test")[0]
    assert ckpt.test_latents["digest"] == vc.images_digest(test_x)  # the app reuses them instead of encoding
    assert (ckpt.test_latents["mu"] == vc.encode(ckpt.model, test_x)[0]).all()
    assert ckpt.metrics["vae_knn_accuracy"] > 0.2  # twice chance after a few seconds; the shipped model is tested for 0.8
    assert ckpt.pca["mean"].shape == (784,) and ckpt.pca["components"].shape == (2, 784)  # the baseline scored

    assert main(["evaluate", str(out), "--iwae-k", "20", "--trust-points", "1000"]) == 0
    report = capsys.readouterr().out
    assert "test -ELBO" in report and "IWAE" in report and "PCA-2D" in report


def test_a_diverging_run_leaves_the_existing_checkpoint_untouched(tmp_path, capsys, real_data):
    out = tmp_path / "keep.pt"
    vc.save_checkpoint(out, vc.VAE(vc.ModelConfig(hidden=(16,))))
    before = out.read_bytes()
    code = main(["train", "--epochs", "1", "--train-subset", "2000", "--lr", "1e12", "--hidden", "16", "--out", str(out)])
    assert code == 2
    assert "NaN or infinite" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_errors_are_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    run = subprocess.run([sys.executable, "-m", "vae_core", "evaluate", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.startswith("error:") and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "vae_core", "train", "--epochs", "0", "--out", str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "epochs must be >= 1" in run.stderr
