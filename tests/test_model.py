"""Build, forward and objective; the configs' checks and the size caps they enforce."""
import pytest
import torch

import vae_core as vc
from vae_core.config import ConfigError
from vae_core.limits import LIMITS, parameter_count
from vae_core.model import kl_divergence, negative_elbo


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
    with pytest.raises(AttributeError, match="cannot assign to field 'latent_dim'"):
        config.latent_dim = 3
    for bad, field in ((dict(arch="rnn"), "arch"), (dict(latent_dim=0), "latent_dim"), (dict(hidden=()), "hidden"),
                       (dict(arch="conv", hidden=(8, 16, 32)), "hidden")):
        with pytest.raises(ValueError, match=f"^{field}: "):
            vc.ModelConfig(**bad)
    for bad in (dict(epochs=0), dict(lr=0.0), dict(beta=-1.0), dict(batch_size=0), dict(lr_schedule="step")):
        with pytest.raises(ValueError, match=f"^{next(iter(bad))}: must"):
            vc.TrainConfig(**bad)
    assert vc.ModelConfig(**vc.ModelConfig(hidden=[8, 4]).to_dict()) == vc.ModelConfig(hidden=(8, 4))


@pytest.mark.parametrize("arch, hidden", [("mlp", (16, 8)), ("conv", (4, 8))])
def test_every_hidden_layer_uses_the_configured_activation(arch, hidden):
    expected = {"leaky_relu": torch.nn.LeakyReLU, "elu": torch.nn.ELU, "silu": torch.nn.SiLU, "tanh": torch.nn.Tanh}
    assert set(expected) == set(vc.ACTIVATIONS)
    for name, layer in expected.items():
        model = vc.VAE(vc.ModelConfig(arch=arch, hidden=hidden, activation=name))
        kinds = {type(m) for m in model.modules() if type(m) in expected.values()}
        assert kinds == {layer}
        n_linear = sum(isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d))
                       for m in model.modules())
        assert sum(isinstance(m, layer) for m in model.modules()) == n_linear - 2  # all but each half's last layer


def test_the_default_activation_is_the_leaky_relu_older_models_were_built_with():
    assert vc.ModelConfig().activation == "leaky_relu"
    slopes = {m.negative_slope for m in vc.VAE(vc.ModelConfig()).modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}
    config = vc.ModelConfig(hidden=(8, 4), activation="silu")
    assert vc.ModelConfig(**config.to_dict()) == config and config.to_dict()["activation"] == "silu"


@pytest.mark.parametrize("bad", ["relu", "Tanh", "", None, 3, ["tanh"]])
def test_an_unknown_activation_is_refused_naming_the_choices(bad):
    with pytest.raises(ConfigError, match=r"^activation: must be one of 'leaky_relu', 'elu', 'silu', 'tanh'"):
        vc.ModelConfig(activation=bad)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(4, 2)
    assert torch.allclose(kl_divergence(zeros, zeros), torch.zeros(4))
    mu, logvar = torch.randn(100, 2), torch.randn(100, 2)
    kl = kl_divergence(mu, logvar)
    assert (kl > 0).all()
    # closed form agrees with torch.distributions
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)


def test_negative_elbo_is_finite_and_sums_its_parts(tiny_model):
    x = (torch.rand(16, 784) > 0.5).float()
    logits, mu, logvar = tiny_model(x)
    loss, rec, kl = negative_elbo(logits, x, mu, logvar, beta=0.5)
    assert torch.isfinite(loss).all() and loss.shape == (16,)
    assert torch.allclose(loss, rec + 0.5 * kl)
    # huge logits stay finite (BCE on logits, not on sigmoid outputs)
    loss_big, _, _ = negative_elbo(torch.full((2, 784), 1e4), torch.zeros(2, 784), mu[:2], logvar[:2])
    assert torch.isfinite(loss_big).all()


def test_one_optimiser_step_changes_every_parameter(tiny_model):
    tiny_model.train()
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    opt = torch.optim.Adam(tiny_model.parameters(), lr=1e-3)
    x = (torch.rand(32, 784) > 0.5).float()
    logits, mu, logvar = tiny_model(x)
    loss, _, _ = negative_elbo(logits, x, mu, logvar)
    loss.mean().backward()
    opt.step()
    for name, value in tiny_model.state_dict().items():
        assert not torch.equal(before[name], value), name


# --- configs: every problem listed, caps enforced before anything is built ---

def test_a_config_error_lists_every_problem_each_naming_its_field():
    with pytest.raises(ConfigError) as caught:
        vc.ModelConfig(arch="rnn", latent_dim=0, image_size=32)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["arch", "latent_dim", "image_size"]
    assert str(caught.value) == "\n".join(problems) and isinstance(caught.value, ValueError)

    with pytest.raises(ConfigError) as caught:
        vc.TrainConfig(epochs=0, batch_size=10_000, lr=float("nan"), lr_schedule="step", beta=-1.0, binarize="yes",
                       seed=-1, device="gpu", train_subset=-1, test_subset=2.5, snapshot_size=-3)
    fields = [p.split(":")[0] for p in caught.value.problems]
    assert fields == ["epochs", "batch_size", "lr", "lr_schedule", "beta", "binarize", "seed", "device",
                      "train_subset", "test_subset", "snapshot_size"]


@pytest.mark.parametrize(("fields", "message"), [
    (dict(hidden=[3_000_000]), "hidden: each width must be between 4 and 2048 (got 3000000)"),
    (dict(hidden=[3]), "each width must be between 4 and 2048"),
    (dict(hidden=[8] * 5), "the mlp takes 1 to 4 layer widths"),
    (dict(hidden=()), "the mlp takes 1 to 4 layer widths"),
    (dict(hidden="512"), "must be a list of whole numbers"),
    (dict(hidden=[512.5]), "must be a list of whole numbers"),
    (dict(hidden=(2048, 2048)), "parameters, over the limit of 5,000,000"),
    (dict(arch="conv", hidden=(256, 8)), "each channel count must be between 1 and 128"),
    (dict(arch="conv", hidden=(0, 8)), "each channel count must be between 1 and 128"),
    (dict(arch="conv", hidden=(8, 16, 32)), "exactly two channel counts"),
    (dict(latent_dim=17), "latent_dim: must be a whole number between 1 and 16"),
    (dict(latent_dim=True), "latent_dim"),
    (dict(image_size=32), "image_size: must be 28"),
])
def test_model_configs_beyond_the_caps_are_refused(fields, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        vc.ModelConfig(**fields)


@pytest.mark.parametrize(("fields", "message"), [
    (dict(batch_size=4097), "batch_size: must be a whole number between 1 and 4,096"),
    (dict(epochs=1001), "epochs: must be a whole number between 1 and 1,000"),
    (dict(lr=float("inf")), "lr: must be a number > 0"),
    (dict(train_subset=-1), "train_subset: must be a whole number >= 0"),
    (dict(device="meta"), "device: must be 'auto', 'cpu', 'cuda'"),
])
def test_train_configs_beyond_the_caps_are_refused(fields, message):
    with pytest.raises(ConfigError, match=message):
        vc.TrainConfig(**fields)


def test_the_largest_allowed_configs_are_accepted():
    for config in (vc.ModelConfig(arch="conv", hidden=(128, 128), latent_dim=16), vc.ModelConfig(hidden=(2048,)),
                   vc.ModelConfig(hidden=(4, 4, 4, 4), latent_dim=1), vc.ModelConfig(hidden=(1024, 512, 256))):
        assert parameter_count(config) <= LIMITS.max_parameters
    vc.TrainConfig(epochs=1000, batch_size=4096, device="cuda:1")  # a device is checked for availability only to train


@pytest.mark.parametrize("config", [
    vc.ModelConfig(), vc.ModelConfig(hidden=(4,), latent_dim=1), vc.ModelConfig(hidden=(1024, 512, 256)),
    vc.ModelConfig(hidden=(2048, 384), latent_dim=16), vc.ModelConfig(hidden=(64, 32, 16, 8), latent_dim=5),
    vc.ModelConfig(arch="conv", hidden=(8, 16)), vc.ModelConfig(arch="conv", hidden=(1, 1), latent_dim=16),
    vc.ModelConfig(arch="conv", hidden=(128, 128), latent_dim=3),
])
def test_parameter_count_from_the_config_equals_the_built_models(config):
    assert parameter_count(config) == sum(p.numel() for p in vc.VAE(config).parameters())


def test_a_checkpoint_asking_for_a_huge_model_is_refused_before_it_is_built(tmp_path, monkeypatch):
    path = vc.save_checkpoint(tmp_path / "hostile.pt", vc.VAE(vc.ModelConfig(hidden=(8,))))
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["hidden"] = [3_000_000]
    torch.save(payload, path)
    built = []
    monkeypatch.setattr("vae_core.checkpoint.VAE", lambda config: built.append(config))
    with pytest.raises(vc.CheckpointError, match="hidden: each width must be between 4 and 2048"):
        vc.load_checkpoint(path)
    assert built == []
