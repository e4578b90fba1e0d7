"""Pure functions over a model: encode/decode, grid, interpolation, per-image ELBO, IWAE, PCA and metrics."""
import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core.analysis import fit_pca, images_digest
from vae_core.limits import LIMITS, activation_floats_per_image, chunk_size
from vae_core.metrics import embedding_quality, knn_accuracy, trust


def test_encode_decode_shapes(tiny_model):
    x = np.random.default_rng(0).random((10, 784), dtype=np.float32)
    mu, logvar = vc.encode(tiny_model, x)
    assert mu.shape == logvar.shape == (10, 2) and mu.dtype == np.float32
    images = vc.decode(tiny_model, mu)
    assert images.shape == (10, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert vc.decode(tiny_model, [0.5, -0.5]).shape == (1, 28, 28)  # a single z
    assert vc.reconstruct(tiny_model, x).shape == (10, 28, 28)
    z, samples = vc.sample_prior(tiny_model, 6, seed=1)
    assert z.shape == (6, 2) and samples.shape == (6, 28, 28)


def test_grid_spans_the_extent_with_up_as_positive_z2(tiny_model):
    z1, z2 = vc.grid_axes(5, (-3, 3))
    assert z1[0] == -3 and z1[-1] == 3 and z2[0] == 3 and z2[-1] == -3
    grid = vc.decode_grid(tiny_model, 5, (-3, 3))
    assert grid.shape == (5, 5, 28, 28)
    # cell [row, col] is the decoding of (z1[col], z2[row])
    for row, col in [(0, 0), (0, 4), (4, 0), (2, 3)]:
        np.testing.assert_allclose(grid[row, col], vc.decode(tiny_model, [z1[col], z2[row]])[0], atol=1e-6)
    assert vc.tile(grid).shape == (140, 140)
    np.testing.assert_array_equal(vc.tile(grid)[28:56, 56:84], grid[1, 2])


@pytest.mark.parametrize("mode", ["linear", "spherical"])
def test_interpolation_endpoints_equal_the_inputs(mode):
    z0, z1 = np.array([1.5, -0.5]), np.array([-2.0, 1.0])
    path = vc.interpolate(z0, z1, steps=7, mode=mode)
    assert path.shape == (7, 2)
    np.testing.assert_allclose(path[0], z0, rtol=1e-6)
    np.testing.assert_allclose(path[-1], z1, rtol=1e-6)


def test_spherical_interpolation_follows_the_circle():
    path = vc.interpolate([2.0, 0.0], [0.0, 2.0], steps=9, mode="spherical")
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 2.0, rtol=1e-5)  # linear would dip to 1.41
    assert np.linalg.norm(vc.interpolate([2.0, 0.0], [0.0, 2.0], 9, "linear")[4]) < 1.5
    with pytest.raises(ValueError, match="mode must be 'linear' or 'spherical'"):
        vc.interpolate([0, 0], [1, 1], 3, mode="cubic")


def test_pixel_blend_cross_fades():
    a, b = np.zeros((28, 28)), np.ones((28, 28))
    blend = vc.pixel_blend(a, b, steps=5)
    assert blend.shape == (5, 28, 28)
    np.testing.assert_allclose(blend[:, 0, 0], [0, 0.25, 0.5, 0.75, 1])


def test_per_image_elbo_and_iwae_bound(tiny_model):
    x = (torch.rand(20, 784, generator=torch.Generator().manual_seed(0)) > 0.6).float()
    elbo = vc.per_image_elbo(tiny_model, x)
    assert elbo["loss"].shape == (20,)
    np.testing.assert_allclose(elbo["loss"], elbo["reconstruction"] + elbo["kl"], rtol=1e-5)
    log_p_k1 = vc.iwae_log_likelihood(tiny_model, x, k=1, seed=0)
    log_p_k500 = vc.iwae_log_likelihood(tiny_model, x, k=500, seed=0, max_batch=3000)
    assert log_p_k500.shape == (20,)
    # the importance-weighted bound tightens with k: above the single-sample ELBO on average
    assert log_p_k500.mean() > log_p_k1.mean()
    assert log_p_k500.mean() >= -elbo["loss"].mean() - 1.0
    assert (log_p_k500 < 0).all()


def test_pca_projects_onto_two_components():
    rng = np.random.default_rng(0)
    train, test = rng.random((100, 784)), rng.random((30, 784))
    train_codes, test_codes = vc.pca_codes(None, train, test)
    assert train_codes.shape == (100, 2) and test_codes.shape == (30, 2)
    np.testing.assert_allclose(train_codes.mean(0), 0, atol=1e-5)
    assert train_codes[:, 0].var() >= train_codes[:, 1].var()


def test_a_stored_pca_projects_as_scikit_learn_does():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(1)
    train, test = rng.random((200, 784)), rng.random((40, 784))
    pca = fit_pca(train)
    assert pca["mean"].shape == (784,) and pca["components"].shape == (2, 784)
    expected = PCA(n_components=2, random_state=0).fit(train).transform(test)
    np.testing.assert_allclose(vc.project_pca(pca, test), expected, atol=1e-4)
    np.testing.assert_allclose(vc.pca_codes(None, train, test)[1], expected, atol=1e-4)


def test_knn_accuracy_and_trustworthiness_separate_good_from_bad_embeddings():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    centres = rng.normal(0, 10, (4, 2))
    codes = centres[labels] + rng.normal(0, 0.5, (200, 2))
    high = np.hstack([codes, np.zeros((200, 3))])  # the 2-D codes are an exact embedding of this
    assert knn_accuracy(codes[::2], labels[::2], codes[1::2], labels[1::2]) == 1.0
    assert trust(high, codes) == pytest.approx(1.0)
    shuffled = rng.permutation(codes)
    assert knn_accuracy(codes[::2], labels[::2], shuffled[1::2], labels[1::2]) < 0.6
    assert trust(high, shuffled) < 0.7
    quality = embedding_quality(high, labels, high, labels, codes, codes)
    assert set(quality) == {"knn_accuracy", "trustworthiness"}


@pytest.mark.parametrize("n, k", [(300, 5), (700, 12)])  # 700 > TRUST_BLOCK: rows in several blocks
def test_trustworthiness_is_scikit_learns_figure(n, k, monkeypatch):
    """vae_core's trustworthiness counts ranks rather than sorting; on points without ties it is the same figure."""
    from sklearn.manifold import trustworthiness

    rng = np.random.default_rng(n)
    images = rng.random((n, 40))
    codes = images[:, :2] + rng.normal(0, 0.3, (n, 2))  # a noisy, imperfect embedding
    assert 0.5 < trust(images, codes, k) < 0.99
    assert trust(images, codes, k) == pytest.approx(trustworthiness(images, codes, n_neighbors=k), abs=1e-9)
    subset = np.sort(np.random.default_rng(0).choice(n, n // 2, replace=False))  # trust's seeded subset (seed 0)
    assert trust(images, codes, k, max_points=n // 2) == pytest.approx(
        trustworthiness(images[subset], codes[subset], n_neighbors=k), abs=1e-9)


def test_stored_encodings_are_used_only_for_the_images_they_were_made_from(tiny_model, monkeypatch):
    images = torch.rand(30, 784)
    stored = vc.encodings_to_store(tiny_model, images)
    fresh = vc.encode(tiny_model, images)
    assert all(np.array_equal(a, b) for a, b in zip((stored["mu"], stored["logvar"]), fresh, strict=True))
    assert stored["digest"] == images_digest(images.numpy()) != images_digest(images[:29])

    other = images.clone()
    other[3, 100] += 0.5  # one pixel of one image differs
    assert images_digest(other) != stored["digest"]
    expected_other = vc.encode(tiny_model, other)
    calls = []
    monkeypatch.setattr("vae_core.analysis.encode", lambda *a, **k: calls.append(1) or expected_other)
    mu, logvar = vc.stored_or_fresh_encodings(tiny_model, images.numpy(), stored)
    assert mu is stored["mu"] and logvar is stored["logvar"] and not calls  # same images: no encoder pass
    mu, _ = vc.stored_or_fresh_encodings(tiny_model, other, stored)
    assert calls and mu is expected_other[0]  # other images: encoded afresh
    assert vc.stored_or_fresh_encodings(tiny_model, images, {})[0] is expected_other[0]  # nothing stored


# --- memory: evaluation and encoding run in chunks sized from an activation budget ---

def test_the_widest_conv_gets_a_chunk_whose_activations_fit_the_budget():
    widest = vc.ModelConfig(arch="conv", hidden=(128, 128))
    n = chunk_size(widest)
    assert n * activation_floats_per_image(widest) * 4 * LIMITS.chunk_safety <= LIMITS.chunk_bytes
    assert 1 <= n < 4096  # smaller than the largest training batch: the chunk does not follow the batch size
    assert chunk_size(vc.ModelConfig(arch="conv", hidden=(8, 16))) > n  # a narrower model gets a larger chunk
    assert chunk_size(vc.ModelConfig()) > chunk_size(vc.ModelConfig(hidden=(2048,)))


@pytest.fixture(params=[vc.ModelConfig(hidden=(32, 16)), vc.ModelConfig(arch="conv", hidden=(4, 8))],
                ids=["mlp", "conv"])
def small_model(request):
    torch.manual_seed(0)
    return vc.VAE(request.param).eval()


def test_chunked_results_equal_one_pass_over_all_images(small_model, monkeypatch):
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(1))
    whole = dict(batch_size=len(x))
    mu, logvar = vc.encode(small_model, x, **whole)
    decoded = vc.decode(small_model, mu, **whole)
    elbo = vc.per_image_elbo(small_model, x, **whole)
    monkeypatch.setattr("vae_core.analysis.chunk_size", lambda config: 7)  # the default chunking, made tiny
    for a, b in zip((mu, logvar, decoded), (*vc.encode(small_model, x), vc.decode(small_model, mu)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    chunked = vc.per_image_elbo(small_model, x)
    for key in ("loss", "reconstruction", "kl"):  # the same z samples whatever the chunking
        np.testing.assert_allclose(elbo[key], chunked[key], rtol=1e-5, atol=1e-5)


def test_iwae_feeds_the_decoder_at_most_max_batch_samples_even_when_k_exceeds_it(small_model, monkeypatch):
    x = (torch.rand(6, 784, generator=torch.Generator().manual_seed(2)) > 0.6).float()
    rows = []
    decode = small_model.decode
    monkeypatch.setattr(small_model, "decode", lambda z: rows.append(len(z)) or decode(z))
    log_p = vc.iwae_log_likelihood(small_model, x, k=120, max_batch=50, seed=0)
    assert max(rows) <= 50 and sum(rows) == 6 * 120  # every image's 120 samples, in parts of at most 50
    rows.clear()
    reference = vc.iwae_log_likelihood(small_model, x, k=120, max_batch=10_000, seed=0)
    assert rows == [6 * 120]
    assert log_p.shape == (6,) and np.isfinite(log_p).all()
    np.testing.assert_allclose(log_p, reference, atol=5.0)  # other samples, the same bound within Monte-Carlo noise
