import os
from pathlib import Path

import pytest
import torch

import vae_core as vc

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_data():
    """(train images, test images, test labels): random blobs, enough to exercise shapes and training."""
    g = torch.Generator().manual_seed(0)
    train_x = (torch.rand(256, 784, generator=g) > 0.7).float()
    test_x = (torch.rand(64, 784, generator=g) > 0.7).float()
    return train_x, test_x, torch.randint(0, 10, (64,), generator=g)


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return vc.VAE(vc.ModelConfig(hidden=(32, 16))).eval()


def mnist_available() -> bool:
    return (Path(os.environ.get("VAE_DATA_DIR") or "./data") / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists()


@pytest.fixture
def real_data():
    """Real MNIST from VAE_DATA_DIR: a missing copy is a failure, not a skip (CI sets VAE_DATA_DIR)."""
    assert mnist_available(), "MNIST not found: set VAE_DATA_DIR=../shared/data (see README)"
