"""Checkpoints: round trips of every format version, hostile and broken files refused early and cheaply (one error
reason per kind), and writes that never overwrite unasked and leave nothing behind."""
import errno
import io
import os
import pickle
import random
import time
import zipfile
from contextlib import contextmanager

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core import checkpoint as ckpt_module
from vae_core.analysis import fit_pca
from vae_core.checkpoint import FORMAT_VERSION
from vae_core.limits import frame_steps

# Each former error class, as the set of reasons it covered (a class caught its subclasses' cases too).
CORRUPT = {"corrupt", "unsupported"}
UNSAFE = {"unsafe", "too_large"}
NOT_OURS = {"not_ours", "config", "field"}


@contextmanager
def refused(reasons: str | set[str], match: str | None = None):
    """Expects a CheckpointError (matching `match`) whose reason is `reasons` or one of them."""
    with pytest.raises(vc.CheckpointError, match=match) as e:
        yield e
    assert e.value.reason in ({reasons} if isinstance(reasons, str) else reasons), e.value.reason


def _row(epoch: int) -> dict:
    loss = 200.0 - epoch
    return {"epoch": epoch, "train_loss": loss, "test_loss": loss - 0.5, "train_reconstruction": loss - 5,
            "test_reconstruction": loss - 5.5, "train_kl": 5.0, "test_kl": 5.0, "lr": 1e-3, "seconds": 1.5}


def _film(model, n: int = 5, epochs: int = 2) -> dict:
    """A real training film of `model` (unchanged between frames): 3 steps per epoch, frames at 0, 1 and 2 epochs."""
    film = vc.FilmRecorder(torch.rand(n, 784), torch.arange(n) % 10, torch.arange(n) * 3, 3, epochs)
    for step in frame_steps(3, epochs):
        film.record(model, step)
    return film.result()


@pytest.fixture
def saved(tmp_path, tiny_model):
    history = [_row(1), _row(2)]
    snapshots = _film(tiny_model)
    pca = fit_pca(torch.rand(50, 784).numpy())
    test_latents = vc.encodings_to_store(tiny_model, torch.rand(20, 784))
    path = vc.save_checkpoint(tmp_path / "m.pt", tiny_model, vc.TrainConfig(epochs=2), history,
                              {"test_loss": 190.5, "n_test": 20, "iwae_nll": float("nan")}, snapshots,
                              command="python -m vae_core train --epochs 2", pca=pca, test_latents=test_latents)
    return path, tiny_model, history, snapshots, pca, test_latents


def _rewrite(path, **changes):
    ckpt = torch.load(path, weights_only=True)
    ckpt.update(changes)
    torch.save(ckpt, path)


def _same_tensors(a: dict, b: dict) -> bool:
    as_tensor = lambda v: torch.as_tensor(np.asarray(v)) if not isinstance(v, torch.Tensor) else v
    return a.keys() == b.keys() and all(torch.equal(as_tensor(a[k]), as_tensor(b[k])) for k in a)


def _assert_loads_every_field(ckpt, model, train_config, history, metrics, snapshots, pca, test_latents):
    assert _same_tensors(model.state_dict(), ckpt.model.state_dict())
    assert ckpt.model_config == model.config and ckpt.train_config == train_config
    assert ckpt.history == history
    assert ckpt.metrics.keys() == metrics.keys()
    assert all(ckpt.metrics[k] == v or (np.isnan(v) and np.isnan(ckpt.metrics[k])) for k, v in metrics.items())
    assert _same_tensors(snapshots, ckpt.snapshots)
    assert _same_tensors(pca, ckpt.pca)
    assert _same_tensors({k: v for k, v in test_latents.items() if k != "digest"},
                         {k: v for k, v in ckpt.test_latents.items() if k != "digest"})
    assert ckpt.test_latents.get("digest") == test_latents.get("digest")
    assert not ckpt.model.training


@pytest.fixture
def built_models(monkeypatch):
    """The device every VAE the loader constructs is built on: a hostile file must never get past "meta"."""
    devices = []

    def recording_vae(config):
        devices.append(torch.get_default_device().type)
        return vc.VAE(config)

    monkeypatch.setattr(ckpt_module, "VAE", recording_vae)
    return devices


@pytest.fixture
def unpickling_forbidden(monkeypatch):
    """Use after building the file: a refusal must come before torch.load reads the payload."""
    def forbidden(*args, **kwargs):
        raise AssertionError("torch.load was called on a file that should have been refused unread")

    monkeypatch.setattr(torch, "load", forbidden)


# ---------------------------------------------------------------------------------------- round trips and versions


def test_round_trip_restores_every_tensor_and_field(saved):
    path, model, history, snapshots, pca, test_latents = saved
    ckpt = vc.load_checkpoint(path)
    _assert_loads_every_field(ckpt, model, vc.TrainConfig(epochs=2), history,
                              {"test_loss": 190.5, "n_test": 20, "iwae_nll": float("nan")}, snapshots, pca, test_latents)
    assert type(ckpt.metrics["n_test"]) is int
    assert ckpt.command == "python -m vae_core train --epochs 2" and ckpt.created and ckpt.path == path
    assert torch.load(path, weights_only=True)["format_version"] == FORMAT_VERSION == 3


def test_conv_round_trip(tmp_path):
    model = vc.VAE(vc.ModelConfig(arch="conv", hidden=(4, 8)))
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "c.pt", model))
    assert _same_tensors(model.state_dict(), ckpt.model.state_dict())
    assert ckpt.pca == {} and ckpt.test_latents == {} and ckpt.snapshots == {}  # none stored: the app computes them


def test_a_model_with_another_activation_round_trips_and_computes_the_same(tmp_path):
    model = vc.VAE(vc.ModelConfig(hidden=(16, 8), activation="tanh")).eval()
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "tanh.pt", model))
    assert ckpt.model.config.activation == "tanh"
    x = torch.rand(5, 784)
    assert torch.equal(ckpt.model.encode(x)[0], model.encode(x)[0])
    assert torch.equal(ckpt.model.decode(torch.ones(3, 2)), model.decode(torch.ones(3, 2)))


def test_a_model_config_from_before_the_activation_field_loads_as_leaky_relu(saved):
    stored = {k: v for k, v in saved[1].config.to_dict().items() if k != "activation"}
    _rewrite(saved[0], model_config=stored)
    ckpt = vc.load_checkpoint(saved[0])
    assert ckpt.model.config.activation == "leaky_relu"
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in ckpt.model.modules())
    assert _same_tensors(saved[1].state_dict(), ckpt.model.state_dict())


def test_a_one_dimensional_latent_model_loads(tmp_path):
    """latent_dim 1 is a legal model; whether the app can draw it is the app's decision, not the loader's."""
    model = vc.VAE(vc.ModelConfig(latent_dim=1, hidden=(16,))).eval()
    snapshots = _film(model, n=4, epochs=1)
    test_latents = vc.encodings_to_store(model, torch.rand(10, 784))
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "one.pt", model, None, [_row(1)], {}, snapshots,
                                                 test_latents=test_latents))
    _assert_loads_every_field(ckpt, model, None, [_row(1)], {}, snapshots, {}, test_latents)
    assert ckpt.test_latents["mu"].shape == (10, 1)
    assert ckpt.snapshots["means"].shape == (2, 4, 1) and not vc.has_grids(ckpt.snapshots)  # no grid for a 1-D latent


NEWER_TRAIN_FIELDS = ("precision", "data_bias", "eval_subset")  # TrainConfig fields added after version 1 was written


def _v1_payload(model, with_extras: bool) -> dict:
    """A version-1 file exactly as the version-1 save_checkpoint wrote it (pca/test_latents came late in v1)."""
    payload = {
        "format": "vae-latent-explorer", "format_version": 1,
        "model_config": model.config.to_dict(),
        "train_config": {k: v for k, v in vc.TrainConfig(epochs=2).to_dict().items() if k not in NEWER_TRAIN_FIELDS},
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "history": [_row(1), _row(2)], "metrics": {"test_loss": 190.5},
        "snapshots": {"indices": torch.arange(5), "labels": torch.arange(5), "means": torch.randn(3, 5, 2)},
        "created": "2025-01-01T00:00:00+00:00", "command": "python -m vae_core train", "torch_version": "2.5.0",
    }
    if with_extras:
        payload["pca"] = {k: torch.as_tensor(v) for k, v in fit_pca(torch.rand(30, 784).numpy()).items()}
        mu, logvar = vc.encode(model, torch.rand(9, 784))
        payload["test_latents"] = {"mu": torch.as_tensor(mu), "logvar": torch.as_tensor(logvar), "digest": "9x784:0123"}
    return payload


@pytest.mark.parametrize("with_extras", [False, True], ids=["before pca/test_latents", "with pca/test_latents"])
def test_a_version_1_file_loads_migrated_with_every_field(tmp_path, tiny_model, with_extras):
    payload = _v1_payload(tiny_model, with_extras)
    path = tmp_path / "v1.pt"
    torch.save(payload, path)
    ckpt = vc.load_checkpoint(path)
    _assert_loads_every_field(ckpt, tiny_model, vc.TrainConfig(epochs=2, data_bias=False), payload["history"],
                              payload["metrics"],
                              {}, payload.get("pca", {}), payload.get("test_latents", {}))  # per-epoch means: no film
    assert (ckpt.created, ckpt.command) == (payload["created"], payload["command"])
    if not with_extras:
        assert ckpt.pca == {} and ckpt.test_latents == {}


def test_a_training_config_from_before_the_mean_image_bias_reads_as_a_zero_bias_fp32_run(tmp_path, tiny_model):
    payload = _v1_payload(tiny_model, with_extras=False)
    torch.save(payload, tmp_path / "old.pt")
    config = vc.load_checkpoint(tmp_path / "old.pt").train_config
    assert config.data_bias is False and config.precision == "fp32"


def test_a_training_config_from_before_the_evaluation_subset_reads_as_scoring_every_epoch_on_all(tmp_path,
                                                                                                  tiny_model):
    payload = _v1_payload(tiny_model, with_extras=False)
    torch.save(payload, tmp_path / "old.pt")
    assert vc.load_checkpoint(tmp_path / "old.pt").train_config.eval_subset == 0


def test_an_evaluation_subset_and_the_rows_saying_how_many_digits_were_scored_round_trip(tmp_path, tiny_model):
    config = vc.TrainConfig(epochs=2, snapshot_size=40, eval_subset=40)
    history = [{**_row(1), "test_images": 40}, {**_row(2), "test_images": 10_000}]
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "m.pt", tiny_model, config, history))
    assert ckpt.train_config == config and ckpt.train_config.eval_subset == 40
    assert [row["test_images"] for row in ckpt.history] == [40, 10_000]


def test_a_version_2_file_loads_without_a_film(saved):
    """Version 2 kept per-epoch float32 means with no steps and no grids: the file loads, its snapshots dropped."""
    ckpt = torch.load(saved[0], weights_only=True)
    ckpt.update(format_version=2, snapshots={"indices": torch.arange(5), "labels": torch.arange(5),
                                             "means": torch.randn(3, 5, 2)})
    saved[0].unlink()
    torch.save(ckpt, saved[0])
    loaded = vc.load_checkpoint(saved[0])
    assert loaded.snapshots == {} and not vc.has_film(loaded.snapshots)
    assert _same_tensors(saved[1].state_dict(), loaded.model.state_dict())


def test_every_older_version_has_one_migration_step():
    assert set(ckpt_module._MIGRATIONS) == set(range(1, FORMAT_VERSION))


@pytest.mark.parametrize("version", [4, 99])
def test_a_newer_format_version_is_refused_with_a_clear_message(saved, version):
    _rewrite(saved[0], format_version=version)
    with refused("version", match=f"format version {version}, written by a newer version"):
        vc.load_checkpoint(saved[0])


@pytest.mark.parametrize("version", [0, "2", None, 1.0, True])
def test_an_unknown_format_version_is_refused(saved, version):
    _rewrite(saved[0], format_version=version)
    with refused("version", match="unknown format version"):
        vc.load_checkpoint(saved[0])


def test_a_current_file_missing_a_field_names_it(saved):
    ckpt = torch.load(saved[0], weights_only=True)
    del ckpt["test_latents"]
    saved[0].unlink()
    torch.save(ckpt, saved[0])
    with refused("field", match="'test_latents' is missing") as e:
        vc.load_checkpoint(saved[0])
    assert e.value.field == "test_latents"


# ------------------------------------------------------------------------------- refused before a byte is read


def test_missing_file(tmp_path):
    with refused("not_found", match="no checkpoint"):
        vc.load_checkpoint(tmp_path / "nope.pt")


def test_a_dangling_symlink_is_not_found(tmp_path):
    (tmp_path / "link.pt").symlink_to(tmp_path / "gone.pt")
    with refused("not_found", match="symlink to a missing file"):
        vc.load_checkpoint(tmp_path / "link.pt")


def test_a_symlink_to_a_checkpoint_loads(saved):
    link = saved[0].with_name("link.pt")
    link.symlink_to(saved[0])
    assert _same_tensors(saved[1].state_dict(), vc.load_checkpoint(link).model.state_dict())


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "folder.pt").mkdir()
    with refused("not_a_file", match="is a folder"):
        vc.load_checkpoint(tmp_path / "folder.pt")


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.pt")
    with refused("not_a_file", match="not a regular file"):
        vc.load_checkpoint(tmp_path / "pipe.pt")


def test_an_oversized_file_is_refused_unread(tmp_path, unpickling_forbidden):
    path = tmp_path / "huge.pt"
    with open(path, "wb") as f:
        f.truncate(vc.checkpoint.MAX_FILE_BYTES + 1)  # sparse: no disk space used
    with refused("too_large", match="refused unread"):
        vc.load_checkpoint(path)


# ------------------------------------------------------------------------------------ refused before unpickling


def test_truncated_file(saved):
    path = saved[0]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with refused(CORRUPT):
        vc.load_checkpoint(path)


@pytest.mark.parametrize("payload", [b"", b"\x00garbage" * 100, random.Random(0).randbytes(4096), b"PK\x03\x04junk"])
def test_garbage_bytes(tmp_path, payload):
    path = tmp_path / "garbage.pt"
    path.write_bytes(payload)
    with refused(CORRUPT):
        vc.load_checkpoint(path)


def test_a_legacy_non_zip_torch_file_is_refused_unread(tmp_path, tiny_model):
    path = tmp_path / "legacy.pt"
    torch.save(_v1_payload(tiny_model, False), path, _use_new_zipfile_serialization=False)
    with refused("unsupported", match="not a zip-format PyTorch file"):
        vc.load_checkpoint(path)


def _rezip(source, target, compression=zipfile.ZIP_STORED, extra: dict | None = None):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", compression) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)


def test_a_compressed_entry_is_refused_unread(saved, unpickling_forbidden):
    target = saved[0].with_name("deflated.pt")
    _rezip(saved[0], target, zipfile.ZIP_DEFLATED)
    with refused("unsupported", match="compressed entries"):
        vc.load_checkpoint(target)


def test_a_compressed_entry_that_inflates_1000x_is_refused_unread(saved, unpickling_forbidden):
    target = saved[0].with_name("bomb.pt")
    with zipfile.ZipFile(saved[0]) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("m/data/99", bytes(vc.checkpoint.MAX_FILE_BYTES), compress_type=zipfile.ZIP_DEFLATED)
        bomb = dst.getinfo("m/data/99")
    assert bomb.file_size > 1000 * bomb.compress_size
    with refused("unsupported", match="compressed"):
        vc.load_checkpoint(target)


def test_a_declared_huge_uncompressed_size_is_refused_unread(tmp_path, unpickling_forbidden):
    path = tmp_path / "declared.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", b"\x80\x02}q\x00.")
    data = bytearray(path.read_bytes())
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 20: directory + 28] = (0xFFFFFFF0).to_bytes(4, "little") * 2  # compressed and uncompressed size
    path.write_bytes(bytes(data))
    with refused("too_large", match="declares 4,294,967,280 bytes"):
        vc.load_checkpoint(path)


def test_an_oversized_pickle_is_refused_unread(tmp_path, unpickling_forbidden):
    path = tmp_path / "long_history.pt"
    torch.save({"format": "vae-latent-explorer", "history": [float(i) for i in range(150_000)]}, path)
    with refused("too_large", match="pickle"):
        vc.load_checkpoint(path)


def test_a_huge_zip_directory_is_refused_before_it_is_parsed(tmp_path, unpickling_forbidden):
    path = tmp_path / "many.pt"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(12_000):
            z.writestr(f"archive/data/{'x' * 40}{i}", b"")
    with refused("too_large", match="zip directory"):
        vc.load_checkpoint(path)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path, as_zip):
    """Protocol 2, as torch writes it. In a torch zip the loader reaches the payload's GLOBAL and must refuse it;
    a bare pickle is refused before it is unpickled at all."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if as_zip:  # the payload inside a torch-style zip archive
        torch.save({"format": "vae-latent-explorer", "evil": _RunsCode(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"format": "vae-latent-explorer", "evil": _RunsCode(marker)}, protocol=2))
    error = UNSAFE if as_zip else "unsupported"
    with refused(error, match="refused"):
        vc.load_checkpoint(path)
    assert not marker.exists()
    assert zipfile.is_zipfile(path) == as_zip


def test_a_newer_pickle_protocol_payload_is_refused_too(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil4.pt"
    path.write_bytes(pickle.dumps(_RunsCode(marker), protocol=pickle.HIGHEST_PROTOCOL))
    with pytest.raises(vc.CheckpointError):
        vc.load_checkpoint(path)
    assert not marker.exists()


# ------------------------------------------------------------------- refused after unpickling, before allocating


def test_a_torch_file_that_is_not_ours(tmp_path, tiny_model):
    path = tmp_path / "state_dict.pt"
    torch.save(tiny_model.state_dict(), path)
    with refused(NOT_OURS):
        vc.load_checkpoint(path)


def test_a_config_too_big_to_allocate_fails_fast_without_building_the_model(saved, built_models):
    """hidden=[3_000_000] would be 9.4 GB of encoder weights: refused by ModelConfig's own limits."""
    _rewrite(saved[0], model_config={**saved[1].config.to_dict(), "hidden": [3_000_000]})
    with refused("config", match="hidden") as e:
        vc.load_checkpoint(saved[0])
    assert e.value.problems and built_models == []


@pytest.mark.parametrize("stored", [{"arch": "transformer"}, {"latent_dim": 0}, {"colour": True}, [1, 2]],
                         ids=["unknown arch", "latent 0", "unknown key", "not a dict"])
def test_an_invalid_model_config_lists_its_problems(saved, built_models, stored):
    _rewrite(saved[0], model_config={**saved[1].config.to_dict(), **stored} if isinstance(stored, dict) else stored)
    with refused("config", match="invalid model config") as e:
        vc.load_checkpoint(saved[0])
    assert e.value.problems and built_models == []


def _with_deep_list(payload: dict, path, depth: int = 100_000):
    """torch.save(payload) with its "PLACEHOLDER" string swapped for a list nested `depth` deep: too deep for Python's
    own pickler to write, but ~200 KB of opcodes the weights-only unpickler reads without recursing."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    placeholder = b"X" + len(b"PLACEHOLDER").to_bytes(4, "little") + b"PLACEHOLDER"
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                data = data.replace(placeholder, b"]" * depth + b"a" * (depth - 1))  # EMPTY_LIST x depth, APPENDs
            dst.writestr(info.filename, data)


@pytest.mark.parametrize("where", ["model_config", "metrics"])
def test_a_hostile_deeply_nested_value_is_refused_not_a_recursion_error(saved, where):
    ckpt = torch.load(saved[0], weights_only=True)
    if where == "model_config":
        ckpt["model_config"] = {**ckpt["model_config"], "hidden": "PLACEHOLDER"}
        error = "config"
    else:
        ckpt["metrics"] = {"test_loss": "PLACEHOLDER"}
        error = "field"
    _with_deep_list(ckpt, saved[0])
    with refused(error):
        vc.load_checkpoint(saved[0])


def test_an_invalid_training_config_is_refused(saved):
    _rewrite(saved[0], train_config={**vc.TrainConfig().to_dict(), "epochs": 0})
    with refused("config", match="training config.*epochs"):
        vc.load_checkpoint(saved[0])


def test_weights_that_do_not_match_the_config_are_caught_on_the_meta_device(saved, built_models):
    _rewrite(saved[0], model_config=vc.ModelConfig(hidden=(64, 16)).to_dict())
    with refused("mismatch", match="the config needs"):
        vc.load_checkpoint(saved[0])
    assert built_models == ["meta"]


@pytest.mark.parametrize("change", ["shape", "dtype", "missing", "extra", "not a tensor"])
def test_each_kind_of_weight_mismatch_is_refused(saved, built_models, change):
    state = {k: v.clone() for k, v in saved[1].state_dict().items()}
    key = "encoder.0.weight"
    if change == "shape":
        state[key] = state[key].T.contiguous()
    elif change == "dtype":
        state[key] = state[key].double()
    elif change == "missing":
        del state[key]
    elif change == "extra":
        state["encoder.9.weight"] = torch.zeros(1)
    else:
        state[key] = [1.0, 2.0]
    _rewrite(saved[0], state_dict=state)
    with refused("mismatch"):
        vc.load_checkpoint(saved[0])
    assert built_models == ["meta"]


@pytest.mark.parametrize("field", ["state_dict", "test_latents"])
def test_a_tensor_claiming_more_elements_than_its_bytes_is_refused(saved, built_models, field):
    """A zero-stride view saves 4 bytes and loads as any shape; copying it would allocate the whole shape."""
    if field == "state_dict":
        state = dict(saved[1].state_dict())
        state["encoder.0.weight"] = torch.zeros(1).expand_as(state["encoder.0.weight"])
        _rewrite(saved[0], state_dict=state)
    else:
        huge = torch.zeros(1).expand(10**9, 2)
        _rewrite(saved[0], test_latents={"mu": huge, "logvar": huge, "digest": "x"})
    with refused("too_large", match="claims"):
        vc.load_checkpoint(saved[0])
    assert built_models == []


# ------------------------------------------------------------------------------- every field the app reads


_FILM = {"indices": torch.arange(5), "labels": torch.arange(5), "steps": torch.tensor([0, 3, 6]),
         "epochs": torch.tensor([0.0, 1.0, 2.0]), "means": torch.zeros(3, 5, 2, dtype=torch.float16),
         "grids": torch.zeros(10, dtype=torch.uint8), "grid_offsets": torch.tensor([0, 4, 7, 10])}
MALFORMED = {
    "metrics is not a dict": ("metrics", [1.0]),
    "a metric is not a number": ("metrics", {"test_loss": "low"}),
    "a metric is infinite": ("metrics", {"test_loss": float("inf")}),
    "history is not a list": ("history", {"epoch": 1}),
    "history rows without the loss keys": ("history", [{"epoch": 1, "train_loss": 1.0, "test_loss": 1.0}]),
    "history row without an epoch": ("history", [{k: v for k, v in _row(1).items() if k != "epoch"}]),
    "history epoch not an int": ("history", [{**_row(1), "epoch": 1.0}]),
    "pca is not a dict": ("pca", [1, 2, 3]),
    "pca of the wrong shape": ("pca", {"mean": torch.zeros(784), "components": torch.zeros(3, 784)}),
    "pca for another image size": ("pca", {"mean": torch.zeros(100), "components": torch.zeros(2, 100)}),
    "pca missing its mean": ("pca", {"components": torch.zeros(2, 784)}),
    "test_latents is not a dict": ("test_latents", [1, 2, 3]),
    "test_latents of different lengths": ("test_latents", {"mu": torch.zeros(5, 2), "logvar": torch.zeros(4, 2),
                                                           "digest": "x"}),
    "test_latents of another latent size": ("test_latents", {"mu": torch.zeros(5, 3), "logvar": torch.zeros(5, 3),
                                                             "digest": "x"}),
    "test_latents as integers": ("test_latents", {"mu": torch.zeros(5, 2, dtype=torch.long),
                                                  "logvar": torch.zeros(5, 2), "digest": "x"}),
    "test_latents digest not a string": ("test_latents", {"mu": torch.zeros(5, 2), "logvar": torch.zeros(5, 2),
                                                          "digest": 7}),
    "snapshots in the version 2 layout": ("snapshots", {"indices": torch.arange(5), "labels": torch.arange(5),
                                                        "means": torch.zeros(2, 5, 2)}),
    "snapshots means of the wrong size": ("snapshots", {**_FILM, "means": torch.zeros(3, 4, 2)}),
    "snapshot indices as floats": ("snapshots", {**_FILM, "indices": torch.zeros(5)}),
    "snapshot grid offsets past the bytes": ("snapshots", {**_FILM, "grid_offsets": torch.tensor([0, 5, 9, 10**6])}),
    "snapshot grid offsets going back": ("snapshots", {**_FILM, "grid_offsets": torch.tensor([0, 8, 4, 10])}),
    "snapshot steps out of order": ("snapshots", {**_FILM, "steps": torch.tensor([0, 6, 3])}),
    "command not a string": ("command", None),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_field_is_refused_naming_the_field(saved, built_models, case):
    name, value = MALFORMED[case]
    _rewrite(saved[0], **{name: value})
    with refused("field", match=f"malformed: field '{name}'") as e:
        vc.load_checkpoint(saved[0])
    assert e.value.field == name and e.value.reason in NOT_OURS
    assert built_models == ["meta"]  # refused before the real model was allocated


def test_the_file_holds_cpu_tensors_and_the_model_loads_on_the_cpu(saved):
    """What makes a file saved anywhere load on a machine without a GPU: its tensors are stored as CPU tensors."""
    stored = torch.load(saved[0], weights_only=True)["state_dict"]
    assert {t.device.type for t in stored.values()} == {"cpu"}
    ckpt = vc.load_checkpoint(saved[0])
    assert {p.device.type for p in ckpt.model.parameters()} == {"cpu"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device to save a model from")
def test_a_model_saved_on_the_gpu_loads_on_the_cpu(tmp_path, tiny_model):
    on_gpu = tiny_model.to("cuda")  # the fixture is this test's own
    path = vc.save_checkpoint(tmp_path / "gpu.pt", on_gpu)
    ckpt = vc.load_checkpoint(path)
    assert {p.device.type for p in ckpt.model.parameters()} == {"cpu"}
    assert _same_tensors({k: v.cpu() for k, v in on_gpu.state_dict().items()}, ckpt.model.state_dict())


def test_a_loaded_checkpoint_does_not_depend_on_its_file(saved):
    """The file is memory-mapped while it is checked; everything kept is a copy, so rewriting the file in place
    afterwards (as another program might) cannot change the loaded model or its stored encodings."""
    ckpt = vc.load_checkpoint(saved[0])
    expected = {k: v.clone() for k, v in ckpt.model.state_dict().items()}
    mu = ckpt.test_latents["mu"].copy()
    with open(saved[0], "r+b") as f:
        f.write(bytes(saved[0].stat().st_size))
    assert _same_tensors(expected, ckpt.model.state_dict()) and np.array_equal(mu, ckpt.test_latents["mu"])


# -------------------------------------------------------------------------------------------------- writing


def _only_file_left(path):
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_save_never_overwrites_unless_asked(saved):
    path, model, *_ = saved
    before = path.read_bytes()
    with pytest.raises(vc.CheckpointExistsError, match="already exists") as e:
        vc.save_checkpoint(path, vc.VAE(vc.ModelConfig(hidden=(8,))))
    assert isinstance(e.value, FileExistsError) and str(path) in str(e.value)
    assert path.read_bytes() == before
    _only_file_left(path)


def test_overwrite_replaces_the_file(saved):
    path = saved[0]
    other = vc.VAE(vc.ModelConfig(hidden=(8,)))
    vc.save_checkpoint(path, other, overwrite=True)
    assert vc.load_checkpoint(path).model_config.hidden == (8,)
    _only_file_left(path)


def test_a_file_that_appears_while_saving_is_left_untouched(tmp_path, tiny_model, monkeypatch):
    path = tmp_path / "race.pt"
    real_save = torch.save

    def save_while_someone_else_writes(obj, f):
        real_save(obj, f)
        path.write_bytes(b"the other writer's checkpoint")

    monkeypatch.setattr(torch, "save", save_while_someone_else_writes)
    with pytest.raises(vc.CheckpointExistsError, match="appeared while saving"):
        vc.save_checkpoint(path, tiny_model)
    assert path.read_bytes() == b"the other writer's checkpoint"
    _only_file_left(path)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_a_full_disk_is_a_clear_error_and_changes_nothing(saved, monkeypatch, code):
    path, model, *_ = saved
    before = path.read_bytes()

    def disk_fills_up(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(torch, "save", disk_fills_up)
    with pytest.raises(vc.CheckpointDiskFullError) as e:
        vc.save_checkpoint(path, model, overwrite=True)
    assert str(e.value).startswith("disk full") and str(path.parent) in str(e.value)
    assert path.read_bytes() == before
    _only_file_left(path)


def test_any_other_write_error_is_raised_as_is_and_changes_nothing(saved, monkeypatch):
    path, model, *_ = saved
    before = path.read_bytes()

    def exploding_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(torch, "save", exploding_save)
    with pytest.raises(OSError, match="I/O error") as e:
        vc.save_checkpoint(path, model, overwrite=True)
    assert not isinstance(e.value, vc.CheckpointError)
    assert path.read_bytes() == before
    _only_file_left(path)


def test_a_folder_without_hard_links_still_never_overwrites(tmp_path, tiny_model, monkeypatch):
    def no_hard_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    path = vc.save_checkpoint(tmp_path / "fat.pt", tiny_model)
    assert _same_tensors(tiny_model.state_dict(), vc.load_checkpoint(path).model.state_dict())
    before = path.read_bytes()
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f: (real_save(obj, f), path.write_bytes(b"theirs")))
    path.unlink()
    with pytest.raises(vc.CheckpointExistsError):
        vc.save_checkpoint(path, tiny_model)
    assert path.read_bytes() == b"theirs" != before
    _only_file_left(path)


def test_save_refuses_fields_the_loader_would_refuse_and_writes_nothing(tmp_path, tiny_model):
    with pytest.raises(ValueError, match="field 'history' row 0 has no number for 'train_reconstruction'"):
        vc.save_checkpoint(tmp_path / "bad.pt", tiny_model, history=[{"epoch": 1, "train_loss": 1.0, "test_loss": 1.0}])
    assert list(tmp_path.iterdir()) == []


def test_numpy_numbers_are_stored_as_plain_numbers(tmp_path, tiny_model):
    metrics = {"test_loss": np.float32(1.5), "n_test": np.int64(3), "knn": np.float64(0.25)}
    ckpt = vc.load_checkpoint(vc.save_checkpoint(tmp_path / "np.pt", tiny_model, metrics=metrics))
    assert ckpt.metrics == {"test_loss": 1.5, "n_test": 3, "knn": 0.25} and type(ckpt.metrics["n_test"]) is int


def test_stale_temp_files_are_removed_and_nothing_else(tmp_path):
    old = time.time() - 7200
    names = [".m.pt.ab12_xyz.tmp", ".m.pt.ab12_xyz.tmp.keep", "m.pt", "x.tmp", ".m.pt.short.tmp", ".m.ckpt.ab12_xyz.tmp"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / ".fresh.pt.abcdefgh.tmp").write_bytes(b"x")  # a save in progress
    (tmp_path / ".dir.pt.abcdefgh.tmp").mkdir()
    (tmp_path / ".link.pt.abcdefgh.tmp").symlink_to(tmp_path / "m.pt")
    os.utime(tmp_path / ".link.pt.abcdefgh.tmp", (old, old), follow_symlinks=False)
    removed = vc.remove_stale_temp_files(tmp_path, older_than_seconds=3600)
    assert removed == [tmp_path / ".m.pt.ab12_xyz.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*names[1:], ".fresh.pt.abcdefgh.tmp", ".dir.pt.abcdefgh.tmp", ".link.pt.abcdefgh.tmp"])
    assert vc.remove_stale_temp_files(tmp_path / "no such folder") == []


def test_the_temp_file_a_killed_save_leaves_is_one_that_is_removed(tmp_path, tiny_model, monkeypatch):
    made = []
    real_mkstemp = ckpt_module.tempfile.mkstemp
    monkeypatch.setattr(ckpt_module.tempfile, "mkstemp", lambda **kw: made.append(real_mkstemp(**kw)) or made[-1])
    vc.save_checkpoint(tmp_path / "killed.pt", tiny_model)
    leftover = made[0][1]
    with open(leftover, "wb") as f:  # what a kill between write and publish leaves
        f.write(b"half")
    os.utime(leftover, (time.time() - 7200,) * 2)
    assert [str(p) for p in vc.remove_stale_temp_files(tmp_path)] == [leftover]
