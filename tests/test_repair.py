"""Damaged digits: corruptions, the VAE's repairs, the baselines, the pixel classifier, and `repair` on the CLI."""
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core.baselines import knn_fill, mean_fill, median_filter
from vae_core.cli import main
from vae_core.corruption import (
    STANDARD_CORRUPTIONS,
    damaged,
    gaussian_noise,
    missing_half,
    missing_rectangle,
    salt_and_pepper,
)
from vae_core.pixel_classifier import PixelClassifier, cached_pixel_classifier, train_pixel_classifier
from vae_core.repair import SIGMAS, denoise, impute, latent_grid, posterior_repair

DEFAULT = Path(__file__).resolve().parent.parent / "checkpoints" / "default.pt"


@pytest.fixture
def images():
    return np.random.default_rng(0).random((6, 784), dtype=np.float32)


@pytest.fixture
def sharp_model(tiny_model):
    """The tiny model with its decoder's output layer scaled up: decoded images change clearly with z."""
    with torch.no_grad():
        tiny_model.decoder[-1].weight.mul_(40)
    return tiny_model


# ---- corruptions

def test_noise_keeps_every_pixel_in_the_unit_interval_and_is_seeded(images):
    for corrupt in (gaussian_noise, salt_and_pepper):
        x, observed = corrupt(images, seed=1)
        assert x.shape == (6, 784) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
        assert observed.all() and not np.array_equal(x, images)
        assert np.array_equal(x, corrupt(images, seed=1)[0]) and not np.array_equal(x, corrupt(images, seed=2)[0])
    x, _ = salt_and_pepper(images, p=0.3, seed=0)
    changed = x != images
    assert 0.2 < changed.mean() < 0.4 and set(np.unique(x[changed])) <= {0.0, 1.0}


def test_missing_pixels_are_zero_and_marked_unobserved(images):
    x, observed = missing_rectangle(images, row0=2, col0=5, height=4, width=3)
    assert (~observed).sum(1).tolist() == [12] * 6 and (x[~observed] == 0).all()
    assert (~observed.reshape(6, 28, 28))[:, 2:6, 5:8].all()
    assert (x[observed] == images[observed]).all()
    for half, (rows, cols) in {"top": (slice(0, 14), slice(None)), "right": (slice(None), slice(14, 28))}.items():
        _, observed = missing_half(images, half)
        assert (~observed).sum() == 6 * 392 and (~observed.reshape(6, 28, 28)[:, rows, cols]).all()
    with pytest.raises(ValueError, match="half must be one of"):
        missing_half(images, "middle")


def test_repairs_are_scored_on_all_pixels_for_noise_and_on_the_missing_ones_otherwise(images):
    for corruption in STANDARD_CORRUPTIONS:
        _, observed = corruption(images)
        expected = np.ones_like(observed) if corruption.kind == "noise" else ~observed
        assert np.array_equal(damaged(corruption.kind, observed), expected), corruption.name


# ---- the VAE's repairs

def test_denoise_is_the_decoding_of_the_code_mean(tiny_model, images):
    expected = vc.decode(tiny_model, vc.encode(tiny_model, images)[0]).reshape(6, -1)
    assert np.array_equal(denoise(tiny_model, images), expected)


def test_imputation_leaves_observed_pixels_exactly_as_given_and_keeps_every_step(tiny_model, images):
    x, observed = missing_half(images, "bottom")
    out = impute(tiny_model, x, observed, n_iter=4, fill=0.5)
    assert out["steps"].shape == (5, 6, 784) and out["latents"].shape == (5, 6, 2)
    assert (out["images"][observed] == x[observed]).all()  # equality, not closeness
    assert all((step[observed] == x[observed]).all() for step in out["steps"])
    assert (out["steps"][0][~observed] == 0.5).all() and np.array_equal(out["images"], out["steps"][-1])
    assert np.array_equal(out["latents"][-1], vc.encode(tiny_model, out["images"])[0])
    step1 = vc.decode(tiny_model, vc.encode(tiny_model, out["steps"][0])[0]).reshape(6, -1)
    assert np.array_equal(out["steps"][1][~observed], step1[~observed])


def test_the_latent_grid_is_a_row_major_lattice_with_the_decoder_on_it(tiny_model):
    grid = latent_grid(tiny_model, side=5, extent=2.0)
    assert grid.z.shape == (25, 2) and grid.probs.shape == (25, 784)
    assert grid.z[1].tolist() == [-1.0, -2.0] and grid.z[5].tolist() == [-2.0, -1.0]  # z1 varies along a row
    np.testing.assert_allclose(grid.probs, vc.decode(tiny_model, grid.z).reshape(25, -1), atol=1e-6)
    np.testing.assert_allclose(grid.log1m, np.log1p(-grid.probs), atol=1e-4)
    with pytest.raises(ValueError, match="needs a 2-D latent space"):
        latent_grid(vc.VAE(vc.ModelConfig(hidden=(8,), latent_dim=3)))


def test_posterior_repair_finds_the_code_an_image_was_decoded_from(sharp_model):
    grid = latent_grid(sharp_model, side=41, extent=4.0)
    truth = grid.z[[300, 1000, 1400]]
    clean = grid.probs[[300, 1000, 1400]]
    x, observed = missing_half(clean, "left")
    out = posterior_repair(grid, x, observed, return_posterior=True)
    assert np.abs(out["z_mean"] - truth).max() < 0.3
    assert (out["images"][observed] == x[observed]).all()
    assert np.abs(out["images"] - clean)[~observed].mean() < 0.05
    np.testing.assert_allclose(out["posterior"].sum((1, 2)), 1.0, rtol=1e-5)
    assert out["posterior"].shape == (3, 41, 41)


def test_posterior_denoising_estimates_the_noise_level_it_was_not_told(sharp_model):
    grid = latent_grid(sharp_model, side=41)
    clean = grid.probs[np.random.default_rng(0).choice(len(grid.z), 20)]
    rng = np.random.default_rng(1)
    for sigma in (0.1, 0.4):
        noisy = (clean + rng.normal(0, sigma, clean.shape)).astype(np.float32)  # unclipped: the model's own noise
        out = posterior_repair(grid, noisy, noise="gaussian")
        assert np.median(out["sigma"]) == min(SIGMAS, key=lambda s: abs(s - sigma))
        assert ((out["images"] - clean) ** 2).mean() < ((noisy - clean) ** 2).mean() / 4
    with pytest.raises(ValueError, match="noise must be 'bernoulli' or 'gaussian'"):
        posterior_repair(grid, clean, noise="poisson")


# ---- baselines

def test_mean_fill_puts_the_mean_where_pixels_are_missing(images):
    x, observed = missing_half(images, "top")
    mean = np.full(784, 0.25, np.float32)
    out = mean_fill(x, observed, mean)
    assert (out[observed] == x[observed]).all() and (out[~observed] == 0.25).all()


def test_knn_fill_copies_a_training_duplicate_and_keeps_observed_pixels(images):
    train = np.vstack([images, np.random.default_rng(5).random((30, 784), dtype=np.float32)])
    x, observed = missing_rectangle(images, 4, 4, 10, 10)
    out = knn_fill(x, observed, train, n_neighbors=1)
    assert (out[observed] == x[observed]).all()
    np.testing.assert_allclose(out, images, atol=1e-6)


def test_the_median_filter_removes_an_isolated_salt_pixel():
    x = np.zeros((1, 784), np.float32)
    x[0, 14 * 28 + 14] = 1.0
    assert median_filter(x).max() == 0.0
    block = np.zeros((1, 28, 28), np.float32)
    block[0, 10:16, 10:16] = 1.0
    assert np.array_equal(median_filter(block.reshape(1, -1)).reshape(28, 28)[11:15, 11:15], np.ones((4, 4)))


# ---- the pixel classifier

@pytest.fixture
def separable():
    """Ten classes told apart by which band of 78 pixels is lit."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    x = rng.random((500, 784), dtype=np.float32) * 0.2
    for i, label in enumerate(y):
        x[i, label * 78:(label + 1) * 78] += 0.8
    return x, y


def test_the_classifier_learns_and_survives_a_save_load_round_trip_exactly(separable, tmp_path):
    x, y = separable
    clf = train_pixel_classifier(x, y, hidden=16, epochs=30)
    assert clf.accuracy(x, y) > 0.95
    again = PixelClassifier.load(clf.save(tmp_path / "c.npz"))
    assert all(np.array_equal(a, b) for a, b in zip(clf.weights + clf.biases, again.weights + again.biases, strict=True))
    assert np.array_equal(again.predict(x), clf.predict(x))


def test_the_classifier_is_cached_by_training_data_and_a_pickle_in_the_cache_is_never_loaded(separable, tmp_path,
                                                                                              monkeypatch):
    x, y = separable
    trained = []
    real_train = train_pixel_classifier
    monkeypatch.setattr("vae_core.pixel_classifier.train_pixel_classifier",
                        lambda *a, **k: trained.append(1) or real_train(*a, hidden=8, epochs=2))
    first = cached_pixel_classifier(x, y, tmp_path)
    second = cached_pixel_classifier(x, y, tmp_path)
    assert len(trained) == 1 and np.array_equal(first.weights[0], second.weights[0])
    cached_pixel_classifier(x[:400], y[:400], tmp_path)  # other data, another cache entry
    assert len(trained) == 2 and len(list(tmp_path.glob("*.npz"))) == 2
    cached = next(p for p in tmp_path.glob("*.npz") if np.array_equal(PixelClassifier.load(p).weights[0], first.weights[0]))
    np.savez(cached, w0=np.array([object()], dtype=object))  # an object array: loadable only by unpickling
    cached_pixel_classifier(x, y, tmp_path)
    assert len(trained) == 3  # refused and retrained, not unpickled
    assert PixelClassifier.load(cached).weights[0].dtype == np.float32


# ---- on real digits

def test_repair_prints_a_row_for_every_corruption_and_method(real_data, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_CACHE_DIR", str(tmp_path))
    assert main(["repair", str(DEFAULT), "--n", "50", "--train-subset", "2000"]) == 0
    out = capsys.readouterr().out
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")][1:]
    methods = {c.name: {r[1]: (float(r[2]), float(r[3])) for r in rows if r[0] == c.name} for c in STANDARD_CORRUPTIONS}
    for corruption in STANDARD_CORRUPTIONS:
        got = methods[corruption.name]
        expected = ({"VAE encode-decode", "median filter 3x3", "mean image"} if corruption.kind == "noise"
                    else {"VAE iterative (10)", "mean fill", "KNNImputer (5-NN of 2000)"})
        assert {"none (corrupted)", "VAE latent posterior"} | expected == set(got), corruption.name
        assert all(0 <= acc <= 1 and mse >= 0 for mse, acc in got.values())
        # the exact posterior beats filling with the mean image on both figures
        mean = got["mean image" if corruption.kind == "noise" else "mean fill"]
        assert got["VAE latent posterior"][0] < mean[0] and got["VAE latent posterior"][1] > mean[1], corruption.name
    assert list(tmp_path.glob("pixel_classifier-*.npz"))  # cached where VAE_CACHE_DIR points
