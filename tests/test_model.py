"""Build, forward and objective."""
import pytest
import torch

import vae_core as vc


@pytest.mark.parametrize("config", [vc.ModelConfig(), vc.ModelConfig(arch="conv", hidden=(8, 16)),
                                    vc.ModelConfig(hidden=(64,), latent_dim=5)])
def test_forward_shapes(config):
    model = vc.VAE(config)
    x = torch.rand(7, 784)
    logits, mu, logvar = model(x)
    assert logits.shape == (7, 784)
    assert mu.shape == logvar.shape == (7, config.latent_dim)
    assert model.decode(torch.zeros(3, config.latent_dim)).shape == (3, 784)


def test_config_is_frozen_and_validated():
    config = vc.ModelConfig()
    with pytest.raises(AttributeError):
        config.latent_dim = 3
    for bad in (dict(arch="rnn"), dict(latent_dim=0), dict(hidden=()), dict(arch="conv", hidden=(8, 16, 32))):
        with pytest.raises(ValueError):
            vc.ModelConfig(**bad)
    for bad in (dict(epochs=0), dict(lr=0.0), dict(beta=-1.0), dict(batch_size=0), dict(lr_schedule="step")):
        with pytest.raises(ValueError):
            vc.TrainConfig(**bad)
    assert vc.ModelConfig(**vc.ModelConfig(hidden=[8, 4]).to_dict()) == vc.ModelConfig(hidden=(8, 4))


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(4, 2)
    assert torch.allclose(vc.kl_divergence(zeros, zeros), torch.zeros(4))
    mu, logvar = torch.randn(100, 2), torch.randn(100, 2)
    kl = vc.kl_divergence(mu, logvar)
    assert (kl > 0).all()
    # closed form agrees with torch.distributions
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)


def test_negative_elbo_is_finite_and_sums_its_parts(tiny_model):
    x = (torch.rand(16, 784) > 0.5).float()
    logits, mu, logvar = tiny_model(x)
    loss, rec, kl = vc.negative_elbo(logits, x, mu, logvar, beta=0.5)
    assert torch.isfinite(loss).all() and loss.shape == (16,)
    assert torch.allclose(loss, rec + 0.5 * kl)
    # huge logits stay finite (BCE on logits, not on sigmoid outputs)
    loss_big, _, _ = vc.negative_elbo(torch.full((2, 784), 1e4), torch.zeros(2, 784), mu[:2], logvar[:2])
    assert torch.isfinite(loss_big).all()


def test_one_optimiser_step_changes_every_parameter(tiny_model):
    tiny_model.train()
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    opt = torch.optim.Adam(tiny_model.parameters(), lr=1e-3)
    x = (torch.rand(32, 784) > 0.5).float()
    logits, mu, logvar = tiny_model(x)
    loss, _, _ = vc.negative_elbo(logits, x, mu, logvar)
    loss.mean().backward()
    opt.step()
    for name, value in tiny_model.state_dict().items():
        assert not torch.equal(before[name], value), name
