"""The VAE: encoder -> (mu, logvar) of q(z|x), reparameterised sample, decoder -> Bernoulli logits.

With ModelConfig.deskew the encoder sees each digit upright and the decoder's image is slanted back like the input
(vae_core.slant): the likelihood is still of the digit's own pixels, given its slant."""
from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from . import slant as slanting
from .config import ModelConfig
from .slant import shear

BACKGROUND_LOGIT = -10.0  # a deskewing model's slanted image: what comes in past an edge is ink with p = 4.5e-5

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

    def slant(self, x: torch.Tensor) -> torch.Tensor | None:
        """x: (N, pixels) -> each image's slant (N,) when the model deskews, else None (`decode` leaves it upright)."""
        return slanting.slant(x) if self.config.deskew else None

    def upright(self, x: torch.Tensor, slant: torch.Tensor | None = None) -> torch.Tensor:
        """What the encoder sees: x stood upright by its slant when the model deskews, else x itself."""
        if not self.config.deskew:
            return x
        return shear(x, slanting.slant(x) if slant is None else slant)

    def encode(self, x: torch.Tensor, upright: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, pixels) in [0, 1] -> mean and log-variance of q(z|x), each (N, latent_dim). upright: `self.upright(x)`
        when it is at hand (a training loop makes it once for every epoch)."""
        mu, logvar = self.encoder(self.upright(x) if upright is None else upright).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def decode(self, z: torch.Tensor, slant: torch.Tensor | None = None) -> torch.Tensor:
        """z: (N, latent_dim) -> Bernoulli logits (N, pixels); apply sigmoid only for display. slant (N,), from
        `self.slant(x)`: each image slanted like its x, background (probability sigmoid(BACKGROUND_LOGIT)) coming in
        past the edges."""
        logits = self.decoder(z)
        # in fp32 even under bf16 autocast: a shift of up to 14 columns needs more than bf16's 8 bits for its fraction
        return logits if slant is None else shear(logits.float(), -slant.float(), background=BACKGROUND_LOGIT)

    def forward(self, x: torch.Tensor, slant: torch.Tensor | None = None, upright: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits of a sampled reconstruction, mu, logvar. slant and upright: `self.slant(x)` and `self.upright(x)`
        when at hand."""
        slant = self.slant(x) if slant is None else slant
        mu, logvar = self.encode(x, self.upright(x, slant) if upright is None else upright)
        return self.decode(self.reparameterize(mu, logvar), slant), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    # KL(N(mu, sigma^2) || N(0, I)) in closed form (Kingma & Welling 2014, appendix B):
    # -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2), one value per row.
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def negative_elbo(logits, x, mu, logvar, beta: float = 1.0):
    """Per-image -ELBO = BCE summed over pixels + beta * KL, in nats; also returns both parts."""
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = kl_divergence(mu, logvar)
    return reconstruction + beta * kl, reconstruction, kl
