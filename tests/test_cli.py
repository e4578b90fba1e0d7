"""`python -m vae_core train|evaluate|download`: a small real-data run, and the checks that stop a bad command
before any training (these read no MNIST: VAE_DATA_DIR points at an empty folder in them)."""
import errno
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core import cli
from vae_core.analysis import fit_pca, images_digest
from vae_core.cli import main
from vae_core.metrics import BINARIZE_SEED, binarize, evaluate_model

SMALL = ["--epochs", "1", "--hidden", "16", "--snapshot-size", "10"]


def test_train_then_evaluate(tmp_path, capsys, real_data):
    out = tmp_path / "small.pt"
    assert main(["train", "--epochs", "3", "--train-subset", "3000", "--batch-size", "50", "--lr", "2e-3",
                 "--hidden", "128", "64", "--snapshot-size", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5-NN accuracy" in printed and f"saved {out}" in printed and "estimated" in printed
    ckpt = vc.load_checkpoint(out)
    assert ckpt.model_config.hidden == (128, 64) and len(ckpt.history) == 3
    assert ckpt.history[2]["test_loss"] < ckpt.history[0]["test_loss"] < 250
    assert ckpt.command == ("python -m vae_core train --epochs 3 --train-subset 3000 --batch-size 50 --lr 2e-3 "
                            f"--hidden 128 64 --snapshot-size 50 --out {out}")
    assert ckpt.snapshots["means"].shape == (6, 50, 2)  # 60 steps per epoch: frames at steps 0, 10, 30, 60, 120, 180
    assert ckpt.snapshots["steps"].tolist() == [0, 10, 30, 60, 120, 180] and vc.has_grids(ckpt.snapshots)
    for key in ("test_loss", "vae_knn_accuracy", "pca_knn_accuracy", "vae_trustworthiness", "pca_trustworthiness"):
        assert key in ckpt.metrics
    test_x = vc.load_mnist("test")[0]
    assert ckpt.test_latents["digest"] == images_digest(test_x)  # the app reuses them instead of encoding
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
    code = main(["train", "--epochs", "1", "--train-subset", "2000", "--lr", "1e12", "--hidden", "16", "--out", str(out),
                 "--force"])
    assert code == 2
    assert "NaN or infinite" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_a_run_over_its_time_budget_stops_with_one_line_and_saves_nothing(tmp_path, capsys, monkeypatch, real_data):
    monkeypatch.setenv("VAE_MAX_TRAIN_MINUTES", "0.0005")
    out = tmp_path / "late.pt"
    assert main(["train", "--epochs", "50", "--train-subset", "2000", *SMALL[2:], "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: training stopped at its time budget of 0.0005 min") and "VAE_MAX_TRAIN_MINUTES" in err
    assert not out.exists()


def test_errors_are_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    run = subprocess.run([sys.executable, "-m", "vae_core", "evaluate", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.startswith("error:") and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "vae_core", "train", "--epochs", "0", "--out", str(tmp_path / "new.pt")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == ["error: epochs: must be a whole number between 1 and 1,000 (got 0)"]


# --- checks before training: nothing is read, trained or written when the command cannot succeed ---

@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """VAE_DATA_DIR -> an empty folder: a check that let training start would fail on MNIST, not pass."""
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "no-mnist"))


def refused(capsys, *args) -> str:
    """Run `train` with args; it must exit 2 with one 'error:' line on stderr, which is returned."""
    assert main(["train", *SMALL, *args]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize(("name", "message"), [
    ("model.ckpt", "--out: must be a file path ending in .pt"),
    ("folder.pt", "is a folder; give a file path ending in .pt"),
    ("a-file/model.pt", "a-file is a file, not a folder"),
])
def test_out_must_be_a_pt_file_whose_folder_can_be_made(tmp_path, capsys, no_mnist, name, message):
    (tmp_path / "folder.pt").mkdir()
    (tmp_path / "a-file").write_text("in the way")
    assert message in refused(capsys, "--out", str(tmp_path / name))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "folder.pt"]  # nothing written or made


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's sysfs, a folder that takes no new files")
def test_out_in_a_folder_no_one_may_write_in_is_refused(capsys, no_mnist):
    """sysfs takes no new files from anyone, root included (CI runs as root, who writes through a 0o500 folder)."""
    out = Path("/sys/kernel/m.pt")
    assert refused(capsys, "--out", str(out)).startswith("error: --out: cannot write into the folder /sys/kernel (")
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through a 0o500 folder (the sysfs case runs as root)")
def test_out_in_a_read_only_folder_is_refused(tmp_path, capsys, no_mnist):
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert refused(capsys, "--out", str(locked / "m.pt")).startswith(
            f"error: --out: cannot write into the folder {locked} (")
        assert not (locked / "m.pt").exists()
    finally:
        locked.chmod(0o700)


def test_a_missing_folder_is_fine_it_is_created_when_training_starts(tmp_path):
    assert cli._out_problems(tmp_path / "new" / "deeper" / "m.pt", force=False) == []
    assert not (tmp_path / "new").exists()  # not created by the check itself


def test_an_existing_file_is_kept_without_force(tmp_path, capsys, no_mnist):
    out = tmp_path / "mine.pt"
    out.write_bytes(b"precious")
    assert "mine.pt already exists; pass --force to replace it" in refused(capsys, "--out", str(out))
    assert out.read_bytes() == b"precious"


def test_the_shipped_default_checkpoint_has_its_own_refusal(capsys, no_mnist, monkeypatch):
    before = cli.DEFAULT_CHECKPOINT.stat()
    monkeypatch.chdir(cli.DEFAULT_CHECKPOINT.parent.parent)
    for out in ("checkpoints/default.pt", str(cli.DEFAULT_CHECKPOINT), "checkpoints/../checkpoints/default.pt"):
        assert "is the shipped default checkpoint the app starts with; it is not replaced without --force" in refused(
            capsys, "--out", out)
    after = cli.DEFAULT_CHECKPOINT.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


@pytest.mark.parametrize(("device", "message"), [
    ("cuda:99", "device: 'cuda:99' is not available"),
    ("gpu", "device: must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps' (got 'gpu')"),
])
def test_a_device_that_cannot_be_used_here_is_refused_before_training(tmp_path, capsys, no_mnist, device, message):
    line = refused(capsys, "--device", device, "--out", str(tmp_path / "m.pt"))
    assert message in line and line.count("device:") == 1


def test_every_problem_is_listed_on_one_line(tmp_path, capsys, no_mnist, monkeypatch):
    monkeypatch.setenv("VAE_MAX_TRAIN_MINUTES", "soon")
    line = refused(capsys, "--batch-size", "0", "--hidden", "3000000", "--device", "gpu", "--iwae-k", "-1",
                   "--out", str(tmp_path / "m.txt"))
    for field in ("batch_size:", "hidden:", "device:", "--iwae-k:", "VAE_MAX_TRAIN_MINUTES:", "--out:"):
        assert field in line
    assert not list(tmp_path.iterdir())


def test_a_folder_another_training_writes_into_is_refused(tmp_path, capsys, no_mnist):
    with vc.training_lock(tmp_path):
        line = refused(capsys, "--out", str(tmp_path / "m.pt"))
    assert "another training is writing into" in line


# --- the settings: --preset, and each flag given replacing one field (parsed only: nothing is trained) ---

def configs(*args) -> tuple[vc.ModelConfig, vc.TrainConfig]:
    """The (model, train) configs `train` would use for these arguments; fails on any config problem."""
    problems = []

    def built(make):
        try:
            return make()
        except vc.ConfigError as e:
            problems.extend(e.problems)

    result = cli._configs(cli._parser().parse_args(["train", *args, "--out", "m.pt"]), built)
    assert not problems, problems
    return result


def test_a_preset_is_taken_whole_when_no_other_flag_is_given():
    assert configs("--preset", "quick") == (vc.QUICK.model_config, vc.QUICK.train_config)


def test_flags_given_with_a_preset_replace_only_their_own_fields():
    model, train = configs("--preset", "quick", "--epochs", "3", "--hidden", "64", "32", "--zero-bias", "--threads",
                           "0", "--precision", "fp32", "--seed", "5")
    assert model == replace(vc.QUICK.model_config, hidden=(64, 32))
    assert train == vc.QUICK.with_train(epochs=3, data_bias=False, threads=0, precision="fp32", seed=5)
    assert (train.lr_schedule, train.batch_size, train.warmup) == ("onecycle", 384, vc.QUICK.train_config.warmup)


def test_without_a_preset_the_defaults_are_the_configs_filmed_as_before():
    assert configs() == (vc.ModelConfig(), vc.TrainConfig(snapshot_size=2000))


def test_the_new_training_flags_set_their_fields():
    _, train = configs("--lr-schedule", "onecycle", "--warmup", "0.1", "--threads", "-1", "--precision", "bf16",
                       "--zero-bias", "--binarize", "--eval-subset", "500")
    assert train == vc.TrainConfig(lr_schedule="onecycle", warmup=0.1, threads=vc.AUTO_THREADS, precision="bf16",
                                   data_bias=False, binarize=True, snapshot_size=2000, eval_subset=500)
    assert configs("--precision", "auto")[1].precision == "auto" and configs()[1].data_bias  # the mean-image bias


def test_the_help_says_what_minus_one_threads_means(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--threads THREADS CPU threads torch trains with: -1 = automatic, one per idle core" in help_text
    assert "--preset {quick}" in help_text and "onecycle" in help_text and "--zero-bias" in help_text


def test_bad_values_of_the_new_flags_are_refused_before_training(tmp_path, capsys, no_mnist):
    line = refused(capsys, "--preset", "quick", "--warmup", "1.5", "--threads", "-2", "--out", str(tmp_path / "m.pt"))
    assert "warmup: must be a number between 0 and 1" in line and "threads: must be a whole number" in line
    assert not list(tmp_path.iterdir())
    with pytest.raises(SystemExit):  # not one of fp32, bf16, auto: argparse's own refusal
        main(["train", "--precision", "fp16", "--out", str(tmp_path / "m.pt")])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err


# --- saving: --force, a file that appears while training, a full disk (training on tiny synthetic data) ---

@pytest.fixture
def tiny_runs(monkeypatch, tiny_data, no_mnist):
    """The CLI's train and evaluation on tiny synthetic data: the real functions, just not on MNIST."""
    labels = torch.randint(0, 10, (len(tiny_data[0]),), generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(cli, "train", lambda mc, tc, **kw: vc.train(mc, tc, data=tiny_data, show_bar=False, **kw))

    def evaluate(model, iwae_k, trust_points, device="auto"):
        metrics = evaluate_model(model, tiny_data[0], labels, tiny_data[1], tiny_data[2], trust_points=50,
                                    show_bar=False)
        return metrics, fit_pca(tiny_data[0].numpy()), vc.encodings_to_store(model, tiny_data[1])

    monkeypatch.setattr(cli, "_evaluate", evaluate)
    return monkeypatch


def test_force_replaces_an_existing_checkpoint(tmp_path, capsys, tiny_runs):
    out = tmp_path / "m.pt"
    out.write_bytes(b"old")
    assert main(["train", *SMALL, "--out", str(out), "--force"]) == 0
    assert vc.load_checkpoint(out).model_config.hidden == (16,)
    assert f"saved {out}" in capsys.readouterr().out


def test_each_epoch_line_says_when_its_test_figure_is_on_a_sample(tmp_path, capsys, tiny_runs):
    assert main(["train", *SMALL, "--epochs", "2", "--eval-subset", "16", "--out", str(tmp_path / "m.pt")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and "on 16 test digits" in lines[0]
    assert "on 64 test digits" in lines[1]  # the last epoch: all of this run's (tiny) test set


def test_the_checkpoint_records_the_presets_settings_with_the_flags_given(tmp_path, capsys, tiny_runs):
    out = tmp_path / "quick.pt"
    assert main(["train", "--preset", "quick", "--epochs", "1", "--snapshot-size", "10", "--precision", "fp32",
                 "--out", str(out)]) == 0
    ckpt = vc.load_checkpoint(out)
    assert ckpt.model_config == vc.QUICK.model_config
    assert ckpt.train_config == vc.QUICK.with_train(epochs=1, snapshot_size=10, precision="fp32")
    assert {row["precision"] for row in ckpt.history} == {"fp32"}
    assert ckpt.command.startswith("python -m vae_core train --preset quick --epochs 1")
    printed = capsys.readouterr().out
    assert f"Trains on {vc.device_label(vc.pick_device())}" in printed and "estimated" in printed


def test_the_evaluation_after_training_runs_on_the_training_device(tmp_path, tiny_runs):
    devices = []
    evaluate = cli._evaluate
    tiny_runs.setattr(cli, "_evaluate", lambda model, k, points, device: devices.append(device) or evaluate(
        model, k, points, device))
    assert main(["train", *SMALL, "--device", "cpu", "--out", str(tmp_path / "m.pt")]) == 0
    assert devices == ["cpu"]


def test_the_evaluation_on_the_cpu_scores_the_model_itself_not_a_copy(monkeypatch, tiny_data, tiny_model):
    labels = torch.randint(0, 10, (len(tiny_data[0]),), generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(cli, "load_mnist", lambda split: (tiny_data[0], labels) if split == "train" else tiny_data[1:])
    scored = []
    monkeypatch.setattr(cli, "evaluate_model", lambda model, *a, **kw: scored.append(model) or evaluate_model(
        model, *a, **{**kw, "trust_points": 50, "show_bar": False}))
    metrics, _, latents = cli._evaluate(tiny_model, 5, 50, "cpu")
    assert scored == [tiny_model] and scored[0] is tiny_model
    assert (latents["mu"] == vc.encode(tiny_model, tiny_data[1])[0]).all()
    assert metrics["iwae_k"] == 5 and np.isfinite(metrics["iwae_nll"])


def test_a_file_that_appears_while_training_is_left_untouched(tmp_path, capsys, tiny_runs):
    out = tmp_path / "m.pt"
    trained = cli.train

    def train_then_someone_writes(*args, **kwargs):
        result = trained(*args, **kwargs)
        out.write_bytes(b"written meanwhile")
        return result

    tiny_runs.setattr(cli, "train", train_then_someone_writes)
    assert main(["train", *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "appeared while training and was left untouched" in err
    assert out.read_bytes() == b"written meanwhile"


def test_a_full_disk_is_one_line_and_leaves_no_file(tmp_path, capsys, tiny_runs):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    tiny_runs.setattr(torch, "save", no_space)
    out = tmp_path / "m.pt"
    assert main(["train", *SMALL, "--out", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: disk full")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # the temp file went too


# --- evaluate --binarized: the published anchors' protocol, on tiny synthetic grey-level digits ---

@pytest.fixture
def grey_runs(monkeypatch, no_mnist, tmp_path):
    """`evaluate` on 40 grey-level synthetic digits (the real functions, just not on MNIST); returns (images, model
    path, model)."""
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(40, 784, generator=g) ** 2, torch.randint(0, 10, (40,), generator=g)
    monkeypatch.setattr(cli, "load_mnist", lambda split: (images, labels))
    monkeypatch.setattr(cli, "_evaluate", lambda model, iwae_k, trust_points, device="auto": (
        evaluate_model(model, images, labels, images, labels, iwae_k=iwae_k, trust_points=40, show_bar=False),
        None, None))
    torch.manual_seed(0)
    model = vc.VAE(vc.ModelConfig(hidden=(16,))).eval()
    return images, vc.save_checkpoint(tmp_path / "m.pt", model), model


def test_binarize_draws_each_pixel_once_from_its_grey_level_with_a_fixed_seed():
    grey = np.random.default_rng(1).random((200, 784), dtype=np.float32)
    grey[:, :10], grey[:, 10:20] = 0.0, 1.0
    b = binarize(grey)
    assert b.dtype == np.float32 and set(np.unique(b)) == {0.0, 1.0}
    assert (b[:, :10] == 0).all() and (b[:, 10:20] == 1).all()
    assert abs(b.mean() - grey.mean()) < 0.005  # E[b] = pixel: 156,800 draws, standard error 0.0012
    assert np.array_equal(b, binarize(grey, seed=BINARIZE_SEED)) and BINARIZE_SEED == 0
    assert not np.array_equal(b, binarize(grey, seed=1))
    assert np.array_equal(binarize(torch.from_numpy(grey)), b)  # a tensor gives the same digits


def test_evaluate_binarized_scores_the_binarised_digits_and_labels_them(capsys, grey_runs):
    images, path, model = grey_runs
    assert main(["evaluate", str(path), "--iwae-k", "5", "--binarized", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    binary = binarize(images)
    assert figures["binarized_test_loss"] == pytest.approx(float(vc.per_image_elbo(model, binary)["loss"].mean()))
    assert figures["binarized_iwae_nll"] == pytest.approx(float(-vc.iwae_log_likelihood(model, binary, k=5).mean()))
    assert figures["binarized_seed"] == 0 and figures["binarized_iwae_k"] == 5
    assert figures["binarized_test_loss"] != pytest.approx(figures["test_loss"])  # not the grey-level figure again

    assert main(["evaluate", str(path), "--iwae-k", "5", "--binarized"]) == 0
    report = capsys.readouterr().out.splitlines()
    assert "on binarised test digits (b ~ Bernoulli(pixel), numpy seed 0; the figures above are on grey levels):" in report
    assert any(line.startswith("binarised -ELBO") and f"{figures['binarized_test_loss']:.2f}" in line for line in report)
    assert any(line.startswith("binarised IWAE") and "(k=5)" in line for line in report)


def test_evaluate_without_binarized_prints_no_binarised_figures(capsys, grey_runs):
    _, path, _ = grey_runs
    assert main(["evaluate", str(path), "--iwae-k", "5", "--json"]) == 0
    assert not [key for key in json.loads(capsys.readouterr().out) if key.startswith("binarized")]
