"""Save/load round trip, atomic writes, and one clear error per kind of bad file."""
import os
import pickle
import random
import zipfile

import pytest
import torch

import vae_core as vc


@pytest.fixture
def saved(tmp_path, tiny_model):
    history = [{"epoch": 1, "train_loss": 200.0, "test_loss": 190.5}]
    snapshots = {"indices": torch.arange(5), "labels": torch.arange(5), "means": torch.randn(2, 5, 2)}
    pca = vc.fit_pca(torch.rand(50, 784).numpy())
    test_latents = vc.encodings_to_store(tiny_model, torch.rand(20, 784))
    path = vc.save_checkpoint(tmp_path / "m.pt", tiny_model, vc.TrainConfig(epochs=1), history,
                              {"test_loss": 190.5}, snapshots, command="python -m vae_core train --epochs 1", pca=pca,
                              test_latents=test_latents)
    return path, tiny_model, history, snapshots, pca, test_latents


def test_round_trip_restores_every_tensor_and_field(saved):
    path, model, history, snapshots, pca, test_latents = saved
    ckpt = vc.load_checkpoint(path)
    original, loaded = model.state_dict(), ckpt.model.state_dict()
    assert original.keys() == loaded.keys()
    assert all(torch.equal(original[k], loaded[k]) for k in original)
    assert ckpt.model_config == model.config and ckpt.train_config == vc.TrainConfig(epochs=1)
    assert ckpt.history == history and ckpt.metrics == {"test_loss": 190.5}
    assert all(torch.equal(snapshots[k], ckpt.snapshots[k]) for k in snapshots)
    assert ckpt.pca.keys() == {"mean", "components"} and all((pca[k] == ckpt.pca[k]).all() for k in pca)
    assert ckpt.test_latents.keys() == {"mu", "logvar", "digest"}
    assert all(torch.equal(torch.as_tensor(test_latents[k]), torch.as_tensor(ckpt.test_latents[k]))
               for k in ("mu", "logvar"))
    assert ckpt.test_latents["digest"] == test_latents["digest"]
    assert ckpt.command.startswith("python -m vae_core train") and ckpt.created
    assert not ckpt.model.training


def test_conv_round_trip(tmp_path):
    model = vc.VAE(vc.ModelConfig(arch="conv", hidden=(4, 8)))
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "c.pt", model))
    assert all(torch.equal(v, ckpt.model.state_dict()[k]) for k, v in model.state_dict().items())
    assert ckpt.pca == {}  # no baseline stored: the app fits one


def test_save_is_atomic(saved, monkeypatch):
    path, model, *_ = saved
    before = path.read_bytes()

    def exploding_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(vc.checkpoint.torch, "save", exploding_save)
    with pytest.raises(OSError, match="disk full"):
        vc.save_checkpoint(path, model)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_missing_file(tmp_path):
    with pytest.raises(vc.CheckpointNotFoundError, match="no checkpoint"):
        vc.load_checkpoint(tmp_path / "nope.pt")


def test_truncated_file(saved):
    path = saved[0]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(vc.CheckpointCorruptError):
        vc.load_checkpoint(path)


@pytest.mark.parametrize("payload", [b"", b"\x00garbage" * 100, random.Random(0).randbytes(4096)])
def test_garbage_bytes(tmp_path, payload):
    path = tmp_path / "garbage.pt"
    path.write_bytes(payload)
    with pytest.raises(vc.CheckpointCorruptError):
        vc.load_checkpoint(path)


def test_a_torch_file_that_is_not_ours(tmp_path, tiny_model):
    path = tmp_path / "state_dict.pt"
    torch.save(tiny_model.state_dict(), path)
    with pytest.raises(vc.NotACheckpointError):
        vc.load_checkpoint(path)


def _rewrite(path, **changes):
    ckpt = torch.load(path, weights_only=True)
    ckpt.update(changes)
    torch.save(ckpt, path)


def test_unknown_format_version(saved):
    _rewrite(saved[0], format_version=99)
    with pytest.raises(vc.CheckpointVersionError, match="99"):
        vc.load_checkpoint(saved[0])


@pytest.mark.parametrize("entry", ["pca", "test_latents"])
def test_a_malformed_stored_extra_is_a_clear_error(saved, entry):
    _rewrite(saved[0], **{entry: [1, 2, 3]})
    with pytest.raises(vc.NotACheckpointError, match="malformed"):
        vc.load_checkpoint(saved[0])


def test_an_older_checkpoint_without_stored_extras_loads(saved):
    ckpt = torch.load(saved[0], weights_only=True)
    del ckpt["pca"], ckpt["test_latents"]
    torch.save(ckpt, saved[0])
    loaded = vc.load_checkpoint(saved[0])
    assert loaded.pca == {} and loaded.test_latents == {}


def test_weights_that_do_not_match_the_config(saved):
    _rewrite(saved[0], model_config=vc.ModelConfig(hidden=(64, 16)).to_dict())
    with pytest.raises(vc.CheckpointMismatchError):
        vc.load_checkpoint(saved[0])


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path, as_zip):
    """Protocol 2, as torch writes it, so the loader reaches the payload's GLOBAL and must refuse it."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if as_zip:  # the payload inside a torch-style zip archive
        torch.save({"format": "vae-latent-explorer", "evil": _RunsCode(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"format": "vae-latent-explorer", "evil": _RunsCode(marker)}, protocol=2))
    with pytest.raises(vc.CheckpointUnsafeError, match="refused"):
        vc.load_checkpoint(path)
    assert not marker.exists()
    if as_zip:
        assert zipfile.is_zipfile(path)


def test_saved_on_gpu_loads_on_cpu(saved):
    # every tensor in the file is a CPU tensor, and loading maps to CPU
    ckpt = vc.load_checkpoint(saved[0])
    assert {p.device.type for p in ckpt.model.parameters()} == {"cpu"}


def test_a_newer_pickle_protocol_payload_is_refused_too(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil4.pt"
    path.write_bytes(pickle.dumps(_RunsCode(marker), protocol=pickle.HIGHEST_PROTOCOL))
    with pytest.raises(vc.CheckpointError):
        vc.load_checkpoint(path)
    assert not marker.exists()
