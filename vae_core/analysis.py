"""Pure functions over a trained model: arrays in, NumPy arrays out (what the pages show)."""
from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
import torch.nn.functional as F

from .limits import chunk_size
from .model import VAE, negative_elbo


def _tensor(a, model: VAE) -> torch.Tensor:
    """An array or tensor on the model's device and dtype (a read-only array is copied: torch needs it writable)."""
    p = next(model.parameters())
    if not isinstance(a, torch.Tensor):
        a = np.asarray(a)
        a = torch.from_numpy(a if a.flags.writeable else a.copy())
    return a.to(p.device, p.dtype)


def _chunks(x: torch.Tensor, model: VAE, batch_size: int | None) -> tuple[torch.Tensor, ...]:
    """x in chunks of batch_size rows, by default as many as fit the activation budget (limits.chunk_size): memory
    stays bounded however many images come in or whatever batch size the model was trained with."""
    return x.split(batch_size or chunk_size(model.config))


def _guides(model: VAE, like, n: int, batch_size: int | None) -> tuple[torch.Tensor, ...] | tuple[None, ...]:
    """`like` (N images whose slant a deskewing model is to take) in the same chunks as the N rows it goes with; as
    many Nones for a model that does not deskew, or without `like`."""
    if like is None or not model.config.deskew:
        return (None,) * -(-n // (batch_size or chunk_size(model.config)))  # as many chunks as _chunks makes
    return _chunks(_tensor(like, model).reshape(n, -1), model, batch_size)


@torch.no_grad()
def encode(model: VAE, images, batch_size: int | None = None, like=None) -> tuple[np.ndarray, np.ndarray]:
    """Latent means and log-variances of q(z|x), each (N, latent_dim). like: N images whose slant stands each image
    upright when the model deskews (a noisy digit's own slant is mostly its noise's), instead of its own."""
    x = _tensor(images, model).reshape(len(images), -1)
    parts = [model.encode(chunk) if guide is None else model.encode(chunk, model.upright(chunk, model.slant(guide)))
             for chunk, guide in zip(_chunks(x, model, batch_size), _guides(model, like, len(x), batch_size),
                                     strict=True)]
    return (torch.cat([p[0] for p in parts]).cpu().numpy(), torch.cat([p[1] for p in parts]).cpu().numpy())


def images_digest(images) -> str:
    """A fingerprint of an image array (shape and float32 bytes): tells whether stored encodings are of these images."""
    a = np.ascontiguousarray(images.cpu().numpy() if isinstance(images, torch.Tensor) else images, dtype=np.float32)
    return f"{'x'.join(map(str, a.shape))}:{hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest()}"


def encodings_to_store(model: VAE, images) -> dict:
    """{"mu", "logvar", "digest"}: a checkpoint keeps these for its test set, so the app need not encode it again."""
    mu, logvar = encode(model, images)
    return {"mu": mu, "logvar": logvar, "digest": images_digest(images)}


def stored_or_fresh_encodings(model: VAE, images, stored: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """`encode(model, images)`, taken from `stored` (`encodings_to_store`) when it was made from these same images."""
    if stored and stored.get("digest") == images_digest(images):
        return stored["mu"], stored["logvar"]
    return encode(model, images)


@torch.no_grad()
def decode(model: VAE, z, batch_size: int | None = None, like=None) -> np.ndarray:
    """Pixel probabilities (N, side, side) for latent codes z (N, latent_dim). like: N images whose slant each
    decoded image takes when the model deskews (ModelConfig.deskew); otherwise, and without it, they stand upright."""
    z = _tensor(np.atleast_2d(np.asarray(z, dtype=np.float32)), model)
    side = model.config.image_size
    out = torch.cat([torch.sigmoid(model.decode(chunk) if guide is None else model.decode(chunk, model.slant(guide)))
                     for chunk, guide in zip(_chunks(z, model, batch_size), _guides(model, like, len(z), batch_size),
                                             strict=True)])
    return out.reshape(-1, side, side).cpu().numpy()


def reconstruct(model: VAE, images) -> np.ndarray:
    """Decode the latent means of images, each slanted like its image: (N, side, side) probabilities."""
    return decode(model, encode(model, images)[0], like=images)


def sample_prior(model: VAE, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n codes drawn from N(0, I) and their decoded images."""
    z = np.random.default_rng(seed).standard_normal((n, model.config.latent_dim)).astype(np.float32)
    return z, decode(model, z)


def grid_axes(grid_size: int = 20, extent: tuple[float, float] = (-3.0, 3.0)) -> tuple[np.ndarray, np.ndarray]:
    """z1 values left to right and z2 values top to bottom (descending, so up is +z2 as on a scatter)."""
    z1 = np.linspace(extent[0], extent[1], grid_size, dtype=np.float32)
    return z1, z1[::-1].copy()


def decode_grid(model: VAE, grid_size: int = 20, extent: tuple[float, float] = (-3.0, 3.0)) -> np.ndarray:
    """Decode a grid_size x grid_size lattice over extent^2: (G, G, side, side); [row, col]."""
    if model.config.latent_dim != 2:
        raise ValueError("a decoded grid needs a 2-D latent space")
    z1, z2 = grid_axes(grid_size, extent)
    zz = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(-1, 2)  # row-major: row r has z2[r], col c has z1[c]
    side = model.config.image_size
    return decode(model, zz).reshape(grid_size, grid_size, side, side)


def tile(images: np.ndarray) -> np.ndarray:
    """(R, C, h, w) -> one (R*h, C*w) mosaic."""
    r, c, h, w = images.shape
    return images.transpose(0, 2, 1, 3).reshape(r * h, c * w)


def interpolate(z0, z1, steps: int = 10, mode: str = "linear") -> np.ndarray:
    """steps codes from z0 to z1 (both ends included): straight line or great-circle (slerp)."""
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if mode == "linear":
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    if mode != "spherical":
        raise ValueError(f"mode must be 'linear' or 'spherical', got {mode!r}")
    # slerp (Shoemake 1985) on the directions, with the norms interpolated linearly
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    omega = math.acos(np.clip(np.dot(z0, z1) / max(n0 * n1, 1e-12), -1.0, 1.0))
    if omega < 1e-6 or n0 < 1e-12 or n1 < 1e-12:
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    so = math.sin(omega)
    direction = (np.sin((1 - t) * omega) / so) * (z0 / n0) + (np.sin(t * omega) / so) * (z1 / n1)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    out = direction * ((1 - t) * n0 + t * n1)
    out[0], out[-1] = z0, z1
    return out.astype(np.float32)


def pixel_blend(x0, x1, steps: int = 10) -> np.ndarray:
    """Cross-fade two images in pixel space, for contrast with latent interpolation."""
    x0, x1 = np.asarray(x0, dtype=np.float32), np.asarray(x1, dtype=np.float32)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape(-1, *([1] * x0.ndim))
    return (1 - t) * x0 + t * x1


def elbo_by_chunk(model: VAE, x: torch.Tensor, batch_size: int | None = None, noise: torch.Tensor | None = None):
    """Yield (-ELBO, reconstruction, KL) per image, chunk by chunk, one z sample each. The noise for every image is
    drawn up front (N x latent_dim floats, from torch's global generator) unless given, so chunking does not change
    the result."""
    if noise is None:
        noise = torch.randn(len(x), model.config.latent_dim, device=x.device, dtype=x.dtype)
    for chunk, eps in zip(_chunks(x, model, batch_size), _chunks(noise, model, batch_size), strict=True):
        slants = model.slant(chunk)
        mu, logvar = model.encode(chunk, model.upright(chunk, slants))
        z = mu + eps * torch.exp(0.5 * logvar)
        yield negative_elbo(model.decode(z) if slants is None else model.decode(z, slants), chunk, mu, logvar)


@torch.no_grad()
def per_image_elbo(model: VAE, images, batch_size: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """-ELBO, reconstruction and KL per image (nats), one z sample each, seeded."""
    torch.manual_seed(seed)
    x = _tensor(images, model).reshape(len(images), -1)
    parts = list(elbo_by_chunk(model, x, batch_size))
    return {name: torch.cat([p[i] for p in parts]).cpu().numpy() for i, name in enumerate(("loss", "reconstruction", "kl"))}


@torch.no_grad()
def iwae_log_likelihood(model: VAE, images, k: int = 1000, max_batch: int | None = None, seed: int = 0,
                        progress=None) -> np.ndarray:
    """Importance-weighted estimate of log p(x) per image (Burda et al. 2016): a lower bound that
    tightens as k grows. log p(x) ~= logsumexp_k[log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k.
    The decoder sees up to max_batch samples at once (default: as many as fit the activation budget); when k alone
    exceeds that, each image's k samples go through in parts and their weights are combined."""
    torch.manual_seed(seed)
    x = _tensor(images, model).reshape(len(images), -1)
    rows = max_batch or chunk_size(model.config)
    out = []
    for chunk in x.split(max(1, rows // k)):
        slants = model.slant(chunk)
        mu, logvar = model.encode(chunk, model.upright(chunk, slants))
        std = torch.exp(0.5 * logvar)
        log_w = torch.cat([_log_weights(model, chunk, mu, std, part, slants)
                           for part in _parts(k, max(1, rows // len(chunk)))])
        out.append(torch.logsumexp(log_w, dim=0) - math.log(k))
        if progress is not None:
            progress(len(chunk))
    return torch.cat(out).cpu().numpy()


def _parts(k: int, size: int) -> list[int]:
    """k split into parts of at most size: _parts(10, 4) == [4, 4, 2]."""
    return [min(size, k - start) for start in range(0, k, size)]


def _log_weights(model: VAE, x: torch.Tensor, mu: torch.Tensor, std: torch.Tensor, k: int,
                 slants: torch.Tensor | None = None) -> torch.Tensor:
    """log p(x|z) + log p(z) - log q(z|x) for k samples z ~ q(z|x) of each image: (k, b). slants: `model.slant(x)`,
    for a deskewing model."""
    z = mu + std * torch.randn(k, *mu.shape, device=mu.device)  # (k, b, L)
    z_all = z.reshape(-1, z.shape[-1])
    logits = (model.decode(z_all) if slants is None else model.decode(z_all, slants.repeat(k))).reshape(k, len(x), -1)
    log_px_z = -F.binary_cross_entropy_with_logits(logits, x.expand(k, -1, -1), reduction="none").sum(-1)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_qz = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)
    return log_px_z + log_pz - log_qz


def fit_pca(images, n_components: int = 2) -> dict[str, np.ndarray]:
    """PCA of the images (scikit-learn): {"mean": (D,), "components": (n_components, D)}, float32 -- all that
    projecting needs, so a checkpoint can store it beside the scores it gave."""
    from sklearn.decomposition import PCA  # here, not at the top: importing scikit-learn takes ~2 s

    pca = PCA(n_components=n_components, random_state=0).fit(np.asarray(images).reshape(len(images), -1))
    return {"mean": pca.mean_.astype(np.float32), "components": pca.components_.astype(np.float32)}


def project_pca(pca: dict[str, np.ndarray], images) -> np.ndarray:
    """Codes of the images under a fitted PCA: (x - mean) @ components.T, as PCA.transform (no whitening)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    return (x - pca["mean"]) @ pca["components"].T
