"""MNIST from VAE_DATA_DIR: in-memory tensors, and one clear error when it is missing."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core.data import download_mnist


def test_missing_mnist_names_the_variable_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    assert vc.data_dir() == tmp_path
    with pytest.raises(vc.MnistNotFoundError) as err:
        vc.load_mnist("test")
    message = str(err.value)
    assert str(tmp_path) in message and "VAE_DATA_DIR" in message and "python -m vae_core download" in message
    assert isinstance(err.value, FileNotFoundError)


def test_default_root_is_data(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    assert str(vc.data_dir()) == "data"


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        vc.load_mnist("validation")


def test_real_mnist_loads_as_in_memory_tensors(real_data):
    x, y = vc.load_mnist("test")
    assert x.shape == (10000, 784) and x.dtype == torch.float32 and y.shape == (10000,)
    assert 0.0 == x.min() and x.max() == 1.0
    assert set(y.tolist()) == set(range(10))
    small, labels = vc.load_mnist("train", limit=100)
    assert small.shape == (100, 784) and labels.shape == (100,)


def test_a_failed_download_says_it_needs_internet(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(vc.MnistNotFoundError, match="needs internet access") as err:
        download_mnist(tmp_path)
    assert str(tmp_path) in str(err.value) and "VAE_DATA_DIR" in str(err.value)


def _write_idx(path, array):
    """An IDX file as torchvision's download leaves it: 0, 0, 0x08, ndim, big-endian sizes, bytes."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root, n=7):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
    _write_idx(raw / "t10k-images-idx3-ubyte", images)
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    return raw, images, labels


def test_idx_files_are_read_exactly(tmp_path):
    _, images, labels = _fake_mnist(tmp_path)
    x, y = vc.load_mnist("test", root=tmp_path)
    assert torch.equal(x, torch.tensor(images.reshape(7, 784) / 255.0, dtype=torch.float32))
    assert torch.equal(y, torch.tensor(labels, dtype=torch.int64))
    assert vc.load_mnist("test", root=tmp_path, limit=3)[0].shape == (3, 784)


@pytest.mark.parametrize("damage", ["truncated", "not_idx"])
def test_a_damaged_file_is_named_with_the_fix(tmp_path, damage):
    raw, _, _ = _fake_mnist(tmp_path)
    path = raw / "t10k-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:-100] if damage == "truncated" else b"<html>404</html>" + data)
    with pytest.raises(vc.MnistNotFoundError, match="download MNIST again") as err:
        vc.load_mnist("test", root=tmp_path)
    assert str(path) in str(err.value)


def test_same_tensors_as_torchvision(real_data):
    from torchvision.datasets import MNIST

    for split in ("train", "test"):
        ours_x, ours_y = vc.load_mnist(split)
        ds = MNIST(str(vc.data_dir()), train=split == "train", download=False)
        assert torch.equal(ours_x, ds.data.reshape(len(ds.data), -1).float() / 255.0)
        assert torch.equal(ours_y, ds.targets)


def test_reading_mnist_does_not_import_torchvision(real_data):
    """The NumPy IDX reader exists to skip torchvision's ~2 s import (it pulls in torch._dynamo) on a cold start."""
    code = "import sys, vae_core as vc; vc.load_mnist('test', limit=10); print('torchvision' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-1000:]
    assert run.stdout.strip() == "False"
