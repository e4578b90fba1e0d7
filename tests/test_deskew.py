"""Deskewing (vae_core.slant, ModelConfig.deskew): the slant of a digit, the shear that takes it out and puts it
back, and a model that encodes digits upright while its likelihood stays on each digit's own pixels."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vae_core as vc
from vae_core.analysis import elbo_by_chunk
from vae_core.limits import chunk_size
from vae_core.model import BACKGROUND_LOGIT, kl_divergence
from vae_core.repair import latent_grid, posterior_repair
from vae_core.slant import MAX_SLANT, shear, slant
from vae_core.train import stood_upright

CFG = vc.ModelConfig(hidden=(32, 16), deskew=True)


def _grid_sample_shear(images: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The shear as torch's own affine_grid + grid_sample compute it (bilinear, zeros past the edges)."""
    n = len(images)
    theta = torch.zeros(n, 2, 3, dtype=images.dtype)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = 1, alpha, 1
    grid = F.affine_grid(theta, [n, 1, 28, 28], align_corners=False)
    return F.grid_sample(images.reshape(n, 1, 28, 28), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).reshape(n, -1)


def _upright_bar(n: int = 1) -> torch.Tensor:
    """n upright strokes, "1"s: a 3-px-wide vertical bar from row 4 to row 23."""
    x = torch.zeros(n, 28, 28)
    x[:, 4:24, 12:15] = 1.0
    return x.reshape(n, -1)


def test_the_shear_is_the_bilinear_shear_of_grid_sample():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 784, generator=g, dtype=torch.float64)
    alpha = torch.rand(16, generator=g, dtype=torch.float64) * 2 - 1
    assert torch.allclose(shear(x, alpha), _grid_sample_shear(x, alpha), atol=1e-10)
    assert torch.allclose(shear(x, alpha, background=-10.0), _grid_sample_shear(x + 10, alpha) - 10, atol=1e-10)


def test_the_shears_gradient_is_the_opposite_shear_and_correct():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 784, generator=g, dtype=torch.float64, requires_grad=True)
    alpha = torch.tensor([0.37, -0.81, 0.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: shear(t, alpha, background=-3.0), (x,))


def test_slanting_an_upright_digit_gives_it_that_slant_and_deskewing_takes_it_out():
    upright = _upright_bar(3)
    assert slant(upright).abs().max() < 0.05
    alpha = torch.tensor([0.4, -0.3, 0.15])
    slanted = shear(upright, -alpha)
    assert torch.allclose(slant(slanted), alpha, atol=0.04)
    assert slant(shear(slanted, slant(slanted))).abs().max() < 0.04
    # and the sign reads as a person would: a digit leaning right (top to the right) has a negative slant
    top_right = slanted.reshape(3, 28, 28)[0]
    assert top_right[5].argmax() < top_right[20].argmax()  # alpha 0.4: the bar's top sits left of its bottom


def test_a_blank_image_and_a_flat_stroke_have_no_slant_and_no_slant_is_beyond_the_limit():
    blank = torch.zeros(1, 784)
    flat = torch.zeros(1, 28, 28)
    flat[0, 14, 4:24] = 1.0
    wild = torch.zeros(1, 28, 28)
    wild[0, 13, 0], wild[0, 14, 27] = 1.0, 1.0
    assert slant(blank).item() == 0.0 and slant(flat.reshape(1, -1)).item() == 0.0
    assert slant(wild.reshape(1, -1)).abs().item() <= MAX_SLANT
    assert torch.equal(shear(blank, slant(blank)), blank)


def test_a_deskewing_model_encodes_a_slanted_digit_as_it_encodes_the_upright_one():
    torch.manual_seed(0)
    model = vc.VAE(CFG).eval()
    upright = _upright_bar()
    slanted = shear(upright, torch.tensor([-0.5]))
    with torch.no_grad():
        assert torch.equal(model.encode(slanted)[0], model.encoder(shear(slanted, slant(slanted))).chunk(2, 1)[0])
    # what its encoder sees of the slanted "1" is the upright "1", up to the blur of two linear interpolations
    assert (model.upright(slanted) - model.upright(upright)).norm() < 0.3 * (slanted - upright).norm()


def test_a_deskewing_model_draws_its_reconstruction_in_the_digits_own_slant():
    torch.manual_seed(0)
    model = vc.VAE(CFG).eval()
    x = shear(_upright_bar(2), torch.tensor([-0.45, 0.3]))
    z = torch.zeros(2, 2)
    with torch.no_grad():
        expected = shear(model.decoder(z), -slant(x), background=BACKGROUND_LOGIT)
        assert torch.allclose(model.decode(z, model.slant(x)), expected)
        assert not torch.allclose(model.decode(z, model.slant(x)), model.decode(z), atol=1e-3)
        mu = model.encode(x)[0]
        slanted_back, standing = torch.sigmoid(model.decode(mu, slant(x))), torch.sigmoid(model.decoder(mu))
    assert np.allclose(vc.reconstruct(model, x.numpy()).reshape(2, -1), slanted_back.numpy(), atol=1e-6)
    # without an image to follow, a decoded code stands upright
    assert np.allclose(vc.decode(model, mu.numpy()).reshape(2, -1), standing.numpy(), atol=1e-6)


def test_a_deskewing_models_elbo_scores_the_digits_own_pixels_given_its_slant():
    torch.manual_seed(0)
    model = vc.VAE(CFG).eval()
    x = shear(_upright_bar(4), torch.tensor([-0.4, 0.2, 0.0, 0.6]))
    noise = torch.randn(4, 2)
    with torch.no_grad():
        loss = torch.cat([part[0] for part in elbo_by_chunk(model, x, noise=noise)])
        alpha = slant(x)
        mu, logvar = model.encoder(shear(x, alpha)).chunk(2, dim=1)
        logits = shear(model.decoder(mu + noise * torch.exp(0.5 * logvar)), -alpha, background=BACKGROUND_LOGIT)
        expected = (F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
                    + kl_divergence(mu, logvar))
    assert torch.allclose(loss, expected, atol=1e-4)


def test_a_deskewing_model_trains_saves_and_loads_as_one(tiny_data, tmp_path):
    train_x, test_x, test_y = tiny_data
    config = vc.TrainConfig(epochs=2, batch_size=64, snapshot_size=16)
    result = vc.train(CFG, config, data=tiny_data, show_bar=False)
    assert all(math.isfinite(row["test_loss"]) for row in result.history)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    vc.save_checkpoint(tmp_path / "d.pt", result.model, config, result.history, {}, snapshots=result.snapshots)
    loaded = vc.load_checkpoint(tmp_path / "d.pt")
    assert loaded.model_config.deskew and loaded.model.config.deskew
    assert np.allclose(vc.encode(loaded.model, test_x)[0], vc.encode(result.model, test_x)[0], atol=1e-6)


def test_a_training_stands_its_images_upright_once_not_at_every_step(tiny_data, monkeypatch):
    calls = []
    real = vc.VAE.upright

    def counted(self, x, slant=None):
        calls.append(len(x))
        return real(self, x, slant)

    monkeypatch.setattr(vc.VAE, "upright", counted)
    vc.train(CFG, vc.TrainConfig(epochs=3, batch_size=32), data=tiny_data, show_bar=False)
    # 256 training images in 8 steps a epoch, 3 epochs: once for the set, never per step (evaluations stand their
    # own 64 test digits upright, once per epoch)
    assert calls.count(256) == 1 and 32 not in calls


def test_a_model_that_does_not_deskew_is_untouched_by_the_option():
    torch.manual_seed(0)
    model = vc.VAE(vc.ModelConfig(hidden=(32, 16))).eval()
    x = shear(_upright_bar(), torch.tensor([-0.5]))
    assert model.slant(x) is None and model.upright(x) is x
    with torch.no_grad():
        assert torch.equal(model.encode(x)[0], model.encoder(x).chunk(2, dim=1)[0])


def test_deskew_is_checked_like_every_field_and_older_checkpoints_load_without_it(tmp_path, tiny_model):
    with pytest.raises(vc.ConfigError, match="deskew: must be True or False"):
        vc.ModelConfig(deskew="yes")
    vc.save_checkpoint(tmp_path / "old.pt", tiny_model, vc.TrainConfig(), [], {})
    ckpt = torch.load(tmp_path / "old.pt", weights_only=True)
    del ckpt["model_config"]["deskew"]  # as written before the field existed
    torch.save(ckpt, tmp_path / "old.pt")
    assert vc.load_checkpoint(tmp_path / "old.pt").model_config.deskew is False


def test_a_deskewing_models_posterior_repair_keeps_what_is_seen_and_fills_in_its_slant():
    torch.manual_seed(0)
    model = vc.VAE(CFG).eval()
    grid = latent_grid(model, side=16)
    assert grid.deskew
    x = shear(_upright_bar(2), torch.tensor([-0.5, 0.4])).numpy()
    observed = np.ones_like(x, dtype=bool)
    observed[:, 14 * 28:] = False  # the bottom half is missing
    out = posterior_repair(grid, x, observed)
    assert np.array_equal(out["images"][observed], x[observed])
    # the fill is the posterior mean of upright digits slanted back by the slant of what is seen
    seen_slant = slant(torch.from_numpy(x * observed))
    upright = shear(torch.from_numpy(x), seen_slant).numpy()
    seen_upright = shear(torch.from_numpy(observed.astype(np.float32)), seen_slant).numpy() > 0.5
    log_w = (seen_upright * upright) @ grid.logits.T + seen_upright.astype(np.float32) @ grid.log1m.T + grid.log_prior
    w = np.exp(log_w - log_w.max(1, keepdims=True))
    mean = shear(torch.from_numpy(((w / w.sum(1, keepdims=True)) @ grid.probs).astype(np.float32)), -seen_slant)
    assert np.allclose(out["images"][~observed], mean.numpy()[~observed], atol=1e-5)


def test_stood_upright_is_nothing_for_a_model_that_does_not_deskew(tiny_model):
    assert stood_upright(tiny_model, torch.rand(8, 784)) is None
    slants, upright = stood_upright(vc.VAE(CFG), _upright_bar(5000))
    assert slants.shape == (5000,) and upright.shape == (5000, 784)


def test_the_slant_is_computed_in_full_precision_even_under_a_training_steps_bf16_autocast():
    x = shear(_upright_bar(8) * torch.linspace(0.3, 1.0, 8)[:, None], torch.linspace(-0.9, 0.9, 8))
    exact = slant(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.allclose(slant(x), exact, atol=1e-5)


def test_a_deskewing_model_takes_a_noisy_digits_slant_from_its_median_filtered_image():
    torch.manual_seed(0)
    model = vc.VAE(CFG).eval()
    x = shear(_upright_bar(2), torch.tensor([-0.6, 0.5]))
    rng = np.random.default_rng(0)
    noisy = x.numpy().copy()
    flips = rng.random(noisy.shape) < 0.2
    noisy[flips] = rng.integers(0, 2, flips.sum()).astype(np.float32)  # salt and pepper
    guide = torch.from_numpy(vc.median_filter(noisy))
    assert (slant(guide) - slant(x)).abs().max() < (slant(torch.from_numpy(noisy)) - slant(x)).abs().max()
    a = slant(guide)
    with torch.no_grad():
        mu = model.encoder(shear(torch.from_numpy(noisy), a)).chunk(2, dim=1)[0]
        expected = torch.sigmoid(shear(model.decoder(mu), -a, background=BACKGROUND_LOGIT)).numpy()
    assert np.allclose(vc.denoise(model, noisy), expected, atol=1e-6)


def test_a_deskewing_models_chunks_leave_room_for_the_shear():
    plain, upright = vc.ModelConfig(hidden=(256, 256)), vc.ModelConfig(hidden=(256, 256), deskew=True)
    assert chunk_size(upright) < chunk_size(plain) / 3
