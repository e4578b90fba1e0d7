"""Repairing damaged digits with the VAE: one pass through the code, the iterative fill, and exact inference on z."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .analysis import decode, encode
from .baselines import median_filter
from .model import VAE
from .slant import shear, slant


def denoise(model: VAE, images) -> np.ndarray:
    """decode(mean of q(z|x)): the digit the model thinks a noisy image is, (N, 784) probabilities. A deskewing
    model takes each digit's slant from its 3x3 median-filtered image: the noisy image's own slant is mostly the
    noise's (a fifth to a third of the digit's under the Repair page's noises), its filtered one close to the digit's."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    guide = median_filter(x) if model.config.deskew else None
    return decode(model, encode(model, x, like=guide)[0], like=x if guide is None else guide).reshape(len(x), -1)


def impute(model: VAE, images, observed, n_iter: int = 10, fill=0.0) -> dict[str, np.ndarray]:
    """Fill the unobserved pixels by iterating fill -> encode -> decode -> put the observed pixels back.

    images, observed: (N, 784) values and a bool mask (True = observed; those pixels are returned exactly as given).
    fill: the first guess for the missing pixels, a scalar or an (784,) image such as the training mean. On 1,000
    validation digits (the last training images) starting from 0 beat starting from the mean image on both figures
    for each missing half, and lost by 5% of error on a central 12x12 hole; 10 iterations came within 2.5% of 30's.
    Returns {"images": (N, 784) the result, "steps": (n_iter + 1, N, 784) the image after each iteration, step 0
    being the filled input, "latents": (n_iter + 1, N, latent_dim) the encoder mean of each step} -- the strip and
    the path on the latent map. Each iteration is a deterministic version of the pseudo-Gibbs sampler of Rezende et
    al. 2014 (the mean instead of a sample): it settles where the code explains the observed pixels."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    observed = np.asarray(observed, dtype=bool).reshape(x.shape)
    current = np.where(observed, x, np.broadcast_to(np.asarray(fill, dtype=np.float32), x.shape))
    steps, latents = [current], []
    for _ in range(n_iter):
        mu = encode(model, current)[0]
        latents.append(mu)
        current = np.where(observed, x, decode(model, mu, like=current).reshape(x.shape))
        steps.append(current)
    latents.append(encode(model, current)[0])
    return {"images": current, "steps": np.stack(steps), "latents": np.stack(latents)}


SIGMAS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7)  # noise levels posterior_repair weighs for noise="gaussian"


@dataclass(frozen=True)
class LatentGrid:
    """The decoder evaluated once on a side x side lattice over [-extent, extent]^2: what exact inference needs."""
    axis: np.ndarray  # (side,) z values along each axis; point g is (axis[g % side], axis[g // side])
    z: np.ndarray  # (G, 2) the lattice, G = side^2, row-major with z2 constant along a row
    probs: np.ndarray  # (G, 784) decoded pixel probabilities
    logits: np.ndarray  # (G, 784) their logits
    log1m: np.ndarray  # (G, 784) log(1 - probs), computed stably from the logits
    log_prior: np.ndarray  # (G,) log N(z; 0, I) up to a constant (the lattice is uniform)
    deskew: bool = False  # the model deskews (ModelConfig.deskew): the lattice's digits stand upright


@torch.no_grad()
def latent_grid(model: VAE, side: int = 128, extent: float = 4.0) -> LatentGrid:
    """128^2 points over [-4, 4]^2 (spacing 0.063, 1e-4 of the prior's mass outside): a finer lattice barely
    changes the repairs' errors and costs several times the time (docs/performance.md)."""
    if model.config.latent_dim != 2:
        raise ValueError("inference on a lattice needs a 2-D latent space")
    axis = np.linspace(-extent, extent, side, dtype=np.float32)
    z = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    p = next(model.parameters())
    logits = torch.cat([model.decode(c.to(p.device, p.dtype)) for c in torch.from_numpy(z).split(4096)]).float().cpu()
    return LatentGrid(axis, z, torch.sigmoid(logits).numpy(), logits.numpy(), (-F.softplus(logits)).numpy(),
                      -0.5 * (z.astype(np.float64) ** 2).sum(1), model.config.deskew)


def _upright(x: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """Damaged digits and their masks stood upright by the slant of what is seen, for a lattice of upright digits;
    also the slants, to slant the repairs back."""
    alpha = slant(torch.from_numpy(x * observed))
    upright = shear(torch.from_numpy(x), alpha).numpy()
    return upright, shear(torch.from_numpy(observed.astype(np.float32)), alpha).numpy() > 0.5, alpha


def _normalise(log_w: np.ndarray) -> np.ndarray:
    w = np.exp(log_w - log_w.max(1, keepdims=True))
    return w / w.sum(1, keepdims=True)


def posterior_repair(model_or_grid, images, observed=None, noise: str = "bernoulli", batch_size: int = 256,
                     return_posterior: bool = False) -> dict[str, np.ndarray]:
    """Repair by exact inference over the 2-D code: p(z | what is seen) on a lattice (`latent_grid`), then the
    posterior mean of the decoded image -- the expectation Metropolis-within-Gibbs (Mattei & Frellsen 2018) samples,
    computed by quadrature because z has only two dimensions.

    noise="bernoulli": the model's own likelihood of the observed pixels only, p(x_obs | z) (missing pixels);
        the observed pixels are returned exactly as given.
    noise="gaussian": every pixel seen as decoded mean + N(0, sigma^2) (noise), with sigma not given but chosen per
        image from SIGMAS by the marginal likelihood p(x | sigma); every pixel is replaced.
    Returns {"images": (N, 784), "z_mean": (N, 2) the posterior mean of z, "sigma": (N,) (gaussian only),
    "posterior": (N, side, side) the weights, rows = z2 ascending, only if return_posterior}."""
    grid = model_or_grid if isinstance(model_or_grid, LatentGrid) else latent_grid(model_or_grid)
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    observed = np.ones(x.shape, dtype=bool) if observed is None else np.asarray(observed, dtype=bool).reshape(x.shape)
    if noise not in ("bernoulli", "gaussian"):
        raise ValueError(f"noise must be 'bernoulli' or 'gaussian', got {noise!r}")
    out: dict[str, list] = {"images": [], "z_mean": [], "sigma": [], "posterior": []}
    sq_probs = (grid.probs ** 2).sum(1)
    seen_x, seen, alpha = _upright(x, observed) if grid.deskew else (x, observed, None)
    for start in range(0, len(x), batch_size):
        rows = slice(start, start + batch_size)
        xb, ob, given, given_mask = seen_x[rows], seen[rows], x[rows], observed[rows]
        if noise == "bernoulli":
            # sum over observed pixels of x log p + (1 - x) log(1 - p) = (m x) . logit + m . log(1 - p)
            log_w = (ob * xb) @ grid.logits.T + ob.astype(np.float32) @ grid.log1m.T + grid.log_prior
        else:
            sq_dist = (xb ** 2).sum(1, keepdims=True) - 2 * xb @ grid.probs.T + sq_probs  # (b, G)
            evidence = np.stack([_logsumexp(-sq_dist / (2 * s * s) + grid.log_prior) - x.shape[1] * np.log(s)
                                 for s in SIGMAS])
            sigma = np.asarray(SIGMAS)[evidence.argmax(0)][:, None]
            log_w = -sq_dist / (2 * sigma * sigma) + grid.log_prior
            out["sigma"].append(sigma[:, 0])
        w = _normalise(log_w)
        mean = (w @ grid.probs).astype(np.float32)
        if alpha is not None:
            mean = shear(torch.from_numpy(mean), -alpha[rows]).numpy()
        out["images"].append(np.where(given_mask, given, mean) if noise == "bernoulli" else mean)
        out["z_mean"].append((w @ grid.z).astype(np.float32))
        if return_posterior:
            out["posterior"].append(w.reshape(len(xb), len(grid.axis), len(grid.axis)).astype(np.float32))
    return {k: np.concatenate(v) for k, v in out.items() if v}


def _logsumexp(a: np.ndarray) -> np.ndarray:
    m = a.max(1)
    return m + np.log(np.exp(a - m[:, None]).sum(1))
