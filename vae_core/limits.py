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
    # 5M parameters, 1.7x the default model's 2.9M: the largest allowed models train an epoch in seconds (mlp) to
    # minutes (conv), so the time budget, not these caps, bounds a run (step times: docs/performance.md)
    max_parameters: int = 5_000_000
    # 4096 x the conv cap keeps training's activations for backward under ~3 GB (docs/performance.md)
    batch_size: tuple[int, int] = (1, 4096)
    epochs: tuple[int, int] = (1, 1000)  # the time budget (VAE_MAX_TRAIN_MINUTES) is what really bounds a run
    # a training film (film_bytes below: float16 means of the filmed digits and a 12 x 12 decoded grid per frame, the
    # grids bounded by their raw size though stored compressed at ~1/4), in memory and in the checkpoint: the CLI's
    # default 2000 digits fit for 1000 epochs at latent_dim 2 (126 MiB bound; ~35 MB as stored)
    snapshot_bytes: int = 128 * 1024 ** 2
    # activations one evaluation/encoding chunk may hold, whatever the batch size the model was trained with
    chunk_bytes: int = 256 * 1024 ** 2
    # peak RSS growth of one chunk over its float32 activations, with a margin: oneDNN keeps reordered copies of
    # the conv feature maps (the measured ratios: docs/performance.md)
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
    for the conv (c1 x 14 x 14 + c2 x 7 x 7), plus twice the pixels (the logits and their cross-entropy); a
    deskewing model's shear adds about six image-sizes (the upright copy, the padded rows, the window and the gather's
    int64 index)."""
    pixels, side = config.image_size ** 2, config.image_size
    shear = 6 * pixels if config.deskew else 0
    if config.arch == "conv":
        c1, c2 = config.hidden
        return c1 * (side // 2) ** 2 + c2 * (side // 4) ** 2 + 2 * pixels + shear
    return max(config.hidden) + 2 * pixels + shear


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
