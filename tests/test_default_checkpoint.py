"""The shipped default checkpoint meets the issue's targets on the 10,000 MNIST test digits."""
from pathlib import Path

import numpy as np
import pytest

import vae_core as vc

DEFAULT = Path(__file__).resolve().parent.parent / "checkpoints" / "default.pt"


@pytest.fixture(scope="module")
def default():
    return vc.load_checkpoint(DEFAULT)


def test_shipped_checkpoint_is_small_and_documented(default):
    assert DEFAULT.stat().st_size <= 20 * 1024 * 1024
    assert default.model_config.latent_dim == 2
    assert default.command.startswith("python -m vae_core train")
    assert default.command in (DEFAULT.parent.parent / "README.md").read_text()
    assert len(default.history) == default.train_config.epochs
    assert default.snapshots["means"].shape[0] == default.train_config.epochs + 1


def test_test_elbo_meets_the_target(default, real_data):
    x, _ = vc.load_mnist("test")
    assert len(x) == 10000
    loss = vc.per_image_elbo(default.model, x)["loss"].mean()
    assert loss <= 135.0, f"test -ELBO {loss:.2f} nats/image"


def test_knn_accuracy_of_the_latent_means_meets_the_target(default, real_data):
    (train_x, train_y), (test_x, test_y) = vc.load_mnist("train"), vc.load_mnist("test")
    accuracy = vc.knn_accuracy(vc.encode(default.model, train_x)[0], train_y, vc.encode(default.model, test_x)[0], test_y)
    assert accuracy >= 0.80, f"5-NN accuracy {accuracy:.4f}"


def test_stored_test_encodings_are_the_models_own(default, real_data):
    x, _ = vc.load_mnist("test")
    assert default.test_latents["digest"] == vc.images_digest(x)
    mu, logvar = vc.encode(default.model, x)
    assert np.allclose(default.test_latents["mu"], mu, atol=1e-5)
    assert np.allclose(default.test_latents["logvar"], logvar, atol=1e-5)
