"""What one training may cost: size caps checked by the configs, and the memory budget evaluation is chunked by.

No torch here: the configs check a model's size from these numbers before anything is allocated, so a hostile
checkpoint asking for hidden=[3_000_000] is refused without building it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    image_size: int = 28  # MNIST only: the data loader, the app and the conv strides all assume 28 x 28
    latent_dim: tuple[int, int] = (1, 16)  # the app draws 2-D; 16 is ample for a 784-pixel digit
    mlp_layers: tuple[int, int] = (1, 4)  # hidden layers of the mlp encoder (the decoder mirrors them)
    mlp_width: tuple[int, int] = (4, 2048)  # units per mlp layer; the default model's widest is 1024
    conv_channels: tuple[int, int] = (1, 128)  # each of the conv architecture's two channel counts
    # 5M parameters, 1.7x the default model's 2.9M. Step times of the largest allowed models here (2-core CPU, fused
    # Adam, best of several steps; other jobs were running, so these are upper-ish bounds):
    #   mlp (2048, 384), 4.79M parameters: 0.021 s per 128-image step (2 threads; 0.034 s on 1), 0.69 s per
    #     4096-image step (0.82 s on 1 thread) -- ~10 s per 60k-image epoch either way;
    #   conv (128, 128), 3.76M parameters: 0.27-0.38 s per 128-image step, 11.0 s per 4096-image step (2 threads)
    #     -- ~3 min per epoch, so its runs are bounded by the time budget, not by these caps.
    max_parameters: int = 5_000_000
    # 4096 x the conv cap: training's peak RSS grew by 2.85 GB (activations kept for backward); the mlp cap 0.26 GB
    batch_size: tuple[int, int] = (1, 4096)
    epochs: tuple[int, int] = (1, 1000)  # the time budget (VAE_MAX_TRAIN_MINUTES) is what really bounds a run
    # a training film (film_bytes below: float16 means of the filmed digits and a 12 x 12 decoded grid per frame, the
    # grids bounded by their raw size though stored compressed at ~1/4), in memory and in the checkpoint: the CLI's
    # default 2000 digits fit for 1000 epochs at latent_dim 2 (126 MiB bound; ~35 MB as stored)
    snapshot_bytes: int = 128 * 1024 ** 2
    # activations one evaluation/encoding chunk may hold, whatever the batch size the model was trained with: the
    # conv cap (128, 128) gets 509 images per chunk (peak RSS growth measured: 200 MiB), the default mlp 6,472 (158 MiB)
    chunk_bytes: int = 256 * 1024 ** 2
    # peak RSS growth of one chunk / (4 bytes x activation_floats_per_image x chunk), measured over encode, -ELBO,
    # evaluate_loss and IWAE: up to 3.25 for the conv cap (oneDNN keeps reordered copies of the feature maps),
    # up to 2.5 for the mlps
    chunk_safety: float = 4.0


LIMITS = Limits()


def parameter_count(config) -> int:
    """Weights and biases of VAE(config), from the config alone (nothing is allocated); equals
    sum(p.numel() for p in VAE(config).parameters())."""
    pixels, latent, side = config.image_size ** 2, config.latent_dim, config.image_size
    linear = (lambda a, b: a * b + b)
    if config.arch == "conv":
        c1, c2 = config.hidden
        flat = c2 * (side // 4) ** 2
        conv = (lambda a, b: a * b * 16 + b)  # 4 x 4 kernels
        encoder = conv(1, c1) + conv(c1, c2) + linear(flat, 256) + linear(256, 2 * latent)
        decoder = linear(latent, 256) + linear(256, flat) + conv(c2, c1) + conv(c1, 1)
        return encoder + decoder
    sizes = [pixels, *config.hidden]
    encoder = sum(linear(a, b) for a, b in zip(sizes, [*sizes[1:], 2 * latent], strict=True))
    decoder = sum(linear(a, b) for a, b in zip([latent, *reversed(sizes[1:])], reversed(sizes), strict=True))
    return encoder + decoder


def activation_floats_per_image(config) -> int:
    """Floats one image's forward pass holds at its peak, roughly: the widest layer for the mlp, both feature maps
    for the conv (c1 x 14 x 14 + c2 x 7 x 7), plus twice the pixels (the logits and their cross-entropy)."""
    pixels, side = config.image_size ** 2, config.image_size
    if config.arch == "conv":
        c1, c2 = config.hidden
        return c1 * (side // 2) ** 2 + c2 * (side // 4) ** 2 + 2 * pixels
    return max(config.hidden) + 2 * pixels


def chunk_size(config, limits: Limits = LIMITS) -> int:
    """Images per evaluation/encoding chunk, so its activations stay under limits.chunk_bytes whatever the
    training batch size was: chunk x floats per image x 4 bytes x safety <= budget."""
    per_image = activation_floats_per_image(config) * 4 * limits.chunk_safety
    return max(1, int(limits.chunk_bytes // per_image))


# ------------------------------------------------------------------ the training film's size (film.py records it)

FILM_STEPS = (10, 30, 100, 300)  # steps inside epoch 1 that get a frame (those shorter than the epoch)
FILM_GRID = 12  # decoded digits per side of each frame's grid


def frame_steps(steps_per_epoch: int, epochs: int) -> list[int]:
    """The optimiser steps after which a frame is taken: 0, FILM_STEPS inside epoch 1, then every epoch's end."""
    early = [s for s in FILM_STEPS if s < steps_per_epoch]
    return [0, *early, *(e * steps_per_epoch for e in range(1, epochs + 1))]


def frame_count(epochs: int, steps_per_epoch: int) -> int:
    return len(frame_steps(steps_per_epoch, epochs))


def grid_side_pixels(image_size: int = 28) -> int:
    return FILM_GRID * image_size


def film_bytes(epochs: int, snapshot_size: int, latent_dim: int, steps_per_epoch: int, image_size: int = 28) -> int:
    """An upper bound on a film's bytes: its means in float16, and its grids stored raw (zlib never grows data by
    more than a few bytes per 16 KB block, bounded here by a tenth)."""
    frames = frame_count(epochs, steps_per_epoch)
    grid = grid_side_pixels(image_size) ** 2 * 11 // 10 + 64 if latent_dim == 2 else 0
    return frames * (snapshot_size * latent_dim * 2 + grid + 24) + 16 * snapshot_size
