import pytest
import torch

import vae_core as vc


def mnist_available() -> bool:
    return (vc.data_dir() / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists()


def pytest_collection_modifyitems(items):
    """Every test that reads MNIST (it asks for the real_data fixture, directly or through another fixture, or drives
    the app in a browser, where a module's later tests go on with the page its first test opened) is marked
    real_data, so `pytest -m "not real_data"` runs everything else on a machine without the dataset."""
    for item in items:
        if "real_data" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.real_data)


@pytest.fixture(autouse=True)
def own_room_data(tmp_path, monkeypatch):
    """Each test gets its own room data folder: results a test stores on disk (the shared computations',
    explorer/cache/result_store.py) are never read by another, and nothing lands in the checkout's room-data/."""
    monkeypatch.setenv("VAE_ROOM_DATA_DIR", str(tmp_path / "room-data"))


@pytest.fixture(autouse=True)
def own_torch_threads():
    """Each test starts with the process's thread count: one that sets torch.set_num_threads leaves it to no other."""
    threads = torch.get_num_threads()
    yield
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def real_data():
    """Real MNIST from VAE_DATA_DIR: a missing copy is a failure, not a skip (CI sets VAE_DATA_DIR)."""
    assert mnist_available(), "MNIST not found: set VAE_DATA_DIR=../shared/data (see README)"


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
