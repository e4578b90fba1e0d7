"""Holes in the latent space (vae_core.holes): the KL and hole-share estimators on cases with a known answer, the
aggregate density itself, determinism, and memory bounded by chunking. All on synthetic encodings (no model)."""
import math
import tracemalloc

import numpy as np
import pytest

from vae_core import holes


def identical(n: int, centre, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """n components all N(centre, sigma^2 I): their mixture is that one Gaussian."""
    mu = np.tile(np.asarray(centre, dtype=np.float32), (n, 1))
    return mu, np.full_like(mu, 2 * math.log(sigma))


def normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# --- known answers ---

def test_q_equal_to_the_prior_has_zero_kl_and_no_holes():
    mu, logvar = identical(300, (0.0, 0.0))
    kl = holes.aggregate_kl(mu, logvar, n_samples=3000)
    assert kl.value == pytest.approx(0.0, abs=1e-4) and kl.stderr < 1e-4
    assert kl.leave_one_out == pytest.approx(0.0, abs=1e-4)
    assert kl.mean_kl == pytest.approx(0.0, abs=1e-6) and kl.information == pytest.approx(0.0, abs=1e-4)
    z, log_ratio = holes.prior_density_ratio(mu, logvar, n_samples=3000)
    assert np.abs(log_ratio).max() < 1e-4  # q/p = 1 everywhere
    assert holes.hole_share(log_ratio, 0.99) == (0.0, 0.0)


@pytest.mark.parametrize("m", [0.5, 1.5, 3.0])
def test_a_shifted_gaussian_has_kl_m_squared_over_two(m):
    mu, logvar = identical(50, (m, 0.0))
    kl = holes.aggregate_kl(mu, logvar, n_samples=20_000, seed=1)
    # log q - log p = m z1 - m^2/2 with z1 ~ N(m, 1): mean m^2/2, standard deviation m
    assert abs(kl.value - m * m / 2) < 4 * kl.stderr
    assert kl.stderr == pytest.approx(m / math.sqrt(20_000), rel=0.05)
    assert kl.value == pytest.approx(kl.leave_one_out, abs=1e-4)  # the other 49 components are the same Gaussian


@pytest.mark.parametrize(("m", "tau"), [(1.0, 0.1), (1.0, 0.5), (2.5, 0.1), (2.5, 0.01)])
def test_the_hole_share_of_a_shifted_gaussian_matches_its_closed_form(m, tau):
    mu, logvar = identical(20, (m, 0.0))
    _, log_ratio = holes.prior_density_ratio(mu, logvar, n_samples=20_000, seed=2)
    share, stderr = holes.hole_share(log_ratio, tau)
    # q/p = exp(m z1 - m^2/2) < tau  <=>  z1 < (m^2/2 + log tau) / m, with z1 ~ N(0, 1) under the prior
    expected = normal_cdf((m * m / 2 + math.log(tau)) / m)
    assert abs(share - expected) < 4 * stderr
    assert stderr == pytest.approx(math.sqrt(expected * (1 - expected) / 20_000), rel=0.1)


def test_the_two_kl_estimates_bracket_the_population_value():
    """Means mu_i ~ N(0, 0.8^2 I) with sigma = 0.05: the population aggregate posterior is N(0, v I), v = 0.6425,
    whose KL to the prior is v - 1 - log v = 0.0849. 500 narrow components make a spiky mixture: the full estimate
    lies above, the leave-one-out one below."""
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 2)) * 0.8
    logvar = np.full_like(mu, 2 * math.log(0.05))
    v = 0.8 ** 2 + 0.05 ** 2
    truth = v - 1 - math.log(v)
    kl = holes.aggregate_kl(mu, logvar, n_samples=4000)
    assert kl.leave_one_out + 3 * kl.leave_one_out_stderr < truth < kl.value - 3 * kl.stderr
    assert 0 < kl.information <= math.log(500) + 3 * kl.stderr  # I(i; z) is at most log N


def test_mean_kl_is_the_closed_form_kl_term_averaged_over_components():
    mu = np.array([[1.0, 0.0], [0.0, -2.0]])
    logvar = np.array([[0.0, math.log(4.0)], [math.log(0.25), 0.0]])
    per_component = [0.5 * (1 + (4 - 1 - math.log(4))), 0.5 * (0.25 - 1 - math.log(0.25)) + 0.5 * 4]
    assert holes.aggregate_kl(mu, logvar, n_samples=10).mean_kl == pytest.approx(np.mean(per_component))


# --- the density ---

def test_log_q_is_the_log_of_the_mean_of_the_component_densities():
    mu = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]])
    logvar = np.array([[0.0, 0.0], [-4.0, -2.0], [1.0, -6.0]])
    z = np.random.default_rng(3).normal(size=(40, 2)) * 1.5
    sigma2 = np.exp(logvar)
    direct = np.exp(-0.5 * ((z[:, None] - mu) ** 2 / sigma2).sum(-1)) / (2 * np.pi * np.sqrt(sigma2.prod(1)))
    np.testing.assert_allclose(holes.log_aggregate_posterior(z, mu, logvar), np.log(direct.mean(1)), atol=1e-4)
    np.testing.assert_allclose(holes.log_prior(z), np.log(np.exp(-0.5 * (z ** 2).sum(1)) / (2 * np.pi)), atol=1e-12)


def test_far_from_every_component_log_q_stays_finite():
    mu, logvar = identical(10, (0.0, 0.0), sigma=0.01)
    log_q = holes.log_aggregate_posterior(np.array([[4.0, 4.0]]), mu, logvar)
    assert np.isfinite(log_q).all() and log_q[0] < -1e5  # logsumexp: no exp underflow to log(0)


def test_the_density_grid_has_row_zero_at_the_bottom_and_the_prior_beside_it():
    mu, logvar = identical(5, (2.0, -1.0), sigma=0.3)
    grid = holes.density_grid(mu, logvar, extent=(-4.0, 4.0), size=81)
    assert grid.axis.shape == (81,) and grid.log_q.shape == grid.log_p.shape == (81, 81)
    row, col = np.unravel_index(np.argmax(grid.log_q), grid.log_q.shape)
    assert (grid.axis[row], grid.axis[col]) == (pytest.approx(-1.0), pytest.approx(2.0))  # (z2, z1)
    assert np.unravel_index(np.argmax(grid.log_p), grid.log_p.shape) == (40, 40)
    assert grid.log_p[40, 40] == pytest.approx(-math.log(2 * math.pi))
    with pytest.raises(ValueError, match="2-D"):
        holes.density_grid(np.zeros((3, 3)), np.zeros((3, 3)))


# --- holes and the gallery ---

def test_the_hole_share_needs_a_positive_threshold():
    with pytest.raises(ValueError, match="positive"):
        holes.hole_share(np.zeros(5), 0.0)


def test_gallery_picks_holes_and_dense_samples_in_the_order_drawn():
    log_ratio = np.log([0.05, 2.0, 0.5, 0.01, 1.0, 0.09, 3.0])
    in_hole, dense = holes.gallery_picks(log_ratio, tau=0.1, n_hole=2, n_dense=5)
    assert in_hole.tolist() == [0, 3] and dense.tolist() == [1, 4, 6]


# --- determinism and memory ---

def test_seeded_estimates_repeat_exactly_and_other_seeds_differ():
    rng = np.random.default_rng(4)
    mu, logvar = rng.normal(size=(200, 2)), rng.normal(-3, 0.5, size=(200, 2))
    assert holes.aggregate_kl(mu, logvar, 2000, seed=7) == holes.aggregate_kl(mu, logvar, 2000, seed=7)
    assert holes.aggregate_kl(mu, logvar, 2000, seed=7) != holes.aggregate_kl(mu, logvar, 2000, seed=8)
    (z1, r1), (z2, r2) = (holes.prior_density_ratio(mu, logvar, 500, seed=7) for _ in range(2))
    assert np.array_equal(z1, z2) and np.array_equal(r1, r2)
    assert not np.array_equal(z1, holes.prior_density_ratio(mu, logvar, 500, seed=8)[0])


def test_chunking_bounds_memory_and_does_not_change_the_result():
    rng = np.random.default_rng(5)
    mu, logvar = rng.normal(size=(4000, 2)), rng.normal(-3, 0.5, size=(4000, 2))
    z = rng.normal(size=(4000, 2))
    tracemalloc.start()
    try:
        chunked = holes.log_aggregate_posterior(z, mu, logvar, chunk_elements=1 << 15)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        holes.aggregate_kl(mu, logvar, n_samples=4000, chunk_elements=1 << 15)
        _, kl_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full_matrix = 4000 * 4000 * 4  # 64 MB of float32 log-densities if all were held at once
    assert peak < 2_000_000 and kl_peak < 2_000_000, (peak, kl_peak)  # a few 128 KB chunks and the (4000, 2) inputs
    assert peak < full_matrix / 30
    one_chunk = holes.log_aggregate_posterior(z[:500], mu, logvar, chunk_elements=1 << 30)
    np.testing.assert_allclose(chunked[:500], one_chunk, rtol=0, atol=1e-9)
