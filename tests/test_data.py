"""MNIST from VAE_DATA_DIR: in-memory tensors, and one clear error when it is missing."""
import pytest
import torch

import vae_core as vc


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
    with pytest.raises(ValueError):
        vc.load_mnist("validation")


@pytest.mark.real_data
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
        vc.download_mnist(tmp_path)
    assert str(tmp_path) in str(err.value) and "VAE_DATA_DIR" in str(err.value)
