"""The VAE: encoder -> (mu, logvar) of q(z|x), reparameterised sample, decoder -> Bernoulli logits."""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig

# ModelConfig.activation -> a new layer of it (config.ACTIVATIONS names the same keys)
ACTIVATION_LAYERS: dict[str, Callable[[], nn.Module]] = {
    "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "silu": nn.SiLU, "tanh": nn.Tanh,
}


def _mlp(sizes: list[int], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATION_LAYERS[activation]())
    return nn.Sequential(*layers)


def _conv_encoder(cfg: ModelConfig) -> nn.Sequential:
    c1, c2 = cfg.hidden
    side = cfg.image_size // 4
    act = ACTIVATION_LAYERS[cfg.activation]
    return nn.Sequential(
        nn.Unflatten(1, (1, cfg.image_size, cfg.image_size)),
        nn.Conv2d(1, c1, 4, 2, 1), act(),  # 28 -> 14
        nn.Conv2d(c1, c2, 4, 2, 1), act(),  # 14 -> 7
        nn.Flatten(), nn.Linear(c2 * side * side, 256), act(),
        nn.Linear(256, 2 * cfg.latent_dim),
    )


def _conv_decoder(cfg: ModelConfig) -> nn.Sequential:
    c1, c2 = cfg.hidden
    side = cfg.image_size // 4
    act = ACTIVATION_LAYERS[cfg.activation]
    return nn.Sequential(
        nn.Linear(cfg.latent_dim, 256), act(),
        nn.Linear(256, c2 * side * side), act(),
        nn.Unflatten(1, (c2, side, side)),
        nn.ConvTranspose2d(c2, c1, 4, 2, 1), act(),  # 7 -> 14
        nn.ConvTranspose2d(c1, 1, 4, 2, 1),  # 14 -> 28
        nn.Flatten(),
    )


class VAE(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        if config.arch == "conv":
            if config.image_size % 4:
                raise ValueError("the conv architecture needs image_size divisible by 4")
            self.encoder, self.decoder = _conv_encoder(config), _conv_decoder(config)
        else:
            sizes = [config.n_pixels, *config.hidden]
            self.encoder = _mlp([*sizes, 2 * config.latent_dim], config.activation)
            self.decoder = _mlp([config.latent_dim, *reversed(sizes)], config.activation)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, pixels) in [0, 1] -> mean and log-variance of q(z|x), each (N, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (N, latent_dim) -> Bernoulli logits (N, pixels); apply sigmoid only for display."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    # KL(N(mu, sigma^2) || N(0, I)) in closed form (Kingma & Welling 2014, appendix B):
    # -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2), one value per row.
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def negative_elbo(logits, x, mu, logvar, beta: float = 1.0):
    """Per-image -ELBO = BCE summed over pixels + beta * KL, in nats; also returns both parts."""
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = kl_divergence(mu, logvar)
    return reconstruction + beta * kl, reconstruction, kl
