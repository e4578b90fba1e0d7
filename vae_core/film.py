"""A training film: the latent means of fixed test digits, and a small decoded grid, at chosen moments of a training.

Frames are taken before the first step, after FILM_STEPS steps inside the first epoch (when the map forms fastest)
and after every epoch. Stored compactly in the checkpoint's `snapshots`:
  indices (n,) int64, labels (n,) int64  -- which test digits, and their labels
  steps (F,) int64                       -- optimiser steps done at each frame (0 = the untrained model)
  epochs (F,) float32                    -- the same moment in epochs (steps / steps per epoch)
  means (F, n, latent) float16           -- float16 is ample for drawing: 3 significant digits over [-5, 5]
  grids (bytes,) uint8, grid_offsets (F + 1,) int64
                                         -- frame f's FILM_GRID x FILM_GRID decoded digits over [-FILM_EXTENT,
                                            FILM_EXTENT]^2 as one zlib-compressed uint8 picture, bytes
                                            grids[offsets[f]:offsets[f+1]]; none (all offsets 0) unless latent is 2-D
A 12 x 12 grid is 113 KB as uint8, ~49 KB compressed and ~27 KB in FILM_GREY_LEVELS greys: 165 frames of raw grids
would take 18.6 MB, over the 20 MB a shipped checkpoint may weigh once its 11.7 MB of weights are in.
"""
from __future__ import annotations

import zlib

import numpy as np
import torch

from .limits import FILM_GRID, chunk_size, frame_steps, grid_side_pixels
from .model import VAE

FILM_EXTENT = 3.0  # the grid covers [-FILM_EXTENT, FILM_EXTENT]^2, like the app's decoder grid
# grey levels a stored grid keeps: 32 levels compress a frame to ~27 KB against ~49 KB for all 256 (the default's
# 165 frames: 4.5 MB against 8.1 MB, which put the file at 21.4 MB); the film page shows 16 and its GIFs 32 anyway
FILM_GREY_LEVELS = 32
FILM_KEYS = frozenset({"indices", "labels", "steps", "epochs", "means", "grids", "grid_offsets"})


class FilmError(ValueError):
    """A stored film frame cannot be read (corrupt or oversized compressed grid)."""


def quantised(picture: np.ndarray, levels: int = FILM_GREY_LEVELS) -> np.ndarray:
    """The uint8 picture rounded to `levels` evenly spaced grey levels (0 and 255 kept), as a frame stores it."""
    step = 255 / (levels - 1)
    return (np.round(np.round(picture / step) * step)).astype(np.uint8)


@torch.no_grad()
def decoded_grid_picture(model: VAE, grid: int = FILM_GRID, extent: float = FILM_EXTENT) -> np.ndarray:
    """(grid * 28, grid * 28) uint8: decoded digits at the centres of a grid x grid tiling of [-extent, extent]^2,
    z2 growing upwards (row 0 is the top), as the app's decoder grid draws it."""
    side = model.config.image_size
    axis = torch.linspace(-extent, extent, grid)
    z1, z2 = torch.meshgrid(axis, axis.flip(0), indexing="xy")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], 1).to(next(model.parameters()).device)
    was_training = model.training
    model.eval()
    pixels = torch.sigmoid(model.decode(z)).float().cpu()
    model.train(was_training)
    tiles = (pixels * 255).round().to(torch.uint8).reshape(grid, grid, side, side)
    return tiles.permute(0, 2, 1, 3).reshape(grid * side, grid * side).numpy()


class FilmRecorder:
    """Takes the frames of one training; `record(model, step)` after the steps `frame_steps` names."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor, steps_per_epoch: int,
                 epochs: int):
        self.images, self.indices, self.labels = images, indices.cpu(), labels.cpu()
        self.steps_per_epoch = steps_per_epoch
        self.wanted = set(frame_steps(steps_per_epoch, epochs))
        self.steps: list[int] = []
        self.means: list[torch.Tensor] = []
        self.grids: list[bytes] = []
        self.upright: torch.Tensor | None = None  # the filmed digits as the encoder sees them: the same every frame

    def wants(self, step: int) -> bool:
        return step in self.wanted and (not self.steps or self.steps[-1] != step)

    @torch.no_grad()
    def record(self, model: VAE, step: int) -> None:
        was_training = model.training
        model.eval()
        size = chunk_size(model.config)
        if self.upright is None:
            self.upright = (torch.cat([model.upright(x) for x in self.images.split(size)]) if model.config.deskew
                            else self.images)
        self.means.append(torch.cat([model.encode(x, upright)[0] for x, upright in
                                     zip(self.images.split(size), self.upright.split(size), strict=True)])
                          .to(torch.float16).cpu())
        model.train(was_training)
        picture = quantised(decoded_grid_picture(model)) if model.config.latent_dim == 2 else None
        self.grids.append(b"" if picture is None else zlib.compress(picture.tobytes(), 6))
        self.steps.append(step)

    def latest_means(self) -> torch.Tensor | None:
        return self.means[-1] if self.means else None

    def result(self) -> dict:
        offsets = np.cumsum([0, *map(len, self.grids)])
        steps = torch.tensor(self.steps, dtype=torch.int64)
        return {"indices": self.indices.to(torch.int64), "labels": self.labels.to(torch.int64), "steps": steps,
                "epochs": (steps.double() / self.steps_per_epoch).float(), "means": torch.stack(self.means),
                "grids": torch.from_numpy(np.frombuffer(b"".join(self.grids), dtype=np.uint8).copy()),
                "grid_offsets": torch.from_numpy(offsets.astype(np.int64))}


def has_film(snapshots: dict) -> bool:
    return bool(snapshots) and FILM_KEYS <= snapshots.keys() and len(snapshots["steps"]) > 0


def has_grids(snapshots: dict) -> bool:
    return has_film(snapshots) and int(snapshots["grid_offsets"][-1]) > 0


def frame_grid(snapshots: dict, frame: int, image_size: int = 28) -> np.ndarray:
    """Frame `frame`'s decoded grid, (FILM_GRID * 28, FILM_GRID * 28) uint8. FilmError if the stored bytes do not
    decompress to exactly that many pixels; decompression stops at that size, so a crafted stream cannot balloon."""
    offsets = snapshots["grid_offsets"]
    start, end = int(offsets[frame]), int(offsets[frame + 1])
    side = grid_side_pixels(image_size)
    if end <= start:
        raise FilmError(f"frame {frame} has no decoded grid")
    data = snapshots["grids"][start:end].numpy().tobytes()
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, side * side)
    except zlib.error as e:
        raise FilmError(f"frame {frame}'s decoded grid is corrupt ({e})") from None
    if len(raw) != side * side or inflater.unconsumed_tail:
        raise FilmError(f"frame {frame}'s decoded grid is not a {side} x {side} picture")
    return np.frombuffer(raw, dtype=np.uint8).reshape(side, side)


def frame_caption(snapshots: dict, frame: int) -> str:
    """'untrained', 'step 30 of epoch 1' or 'epoch 5', for a slider or a GIF's frame."""
    step, epoch = int(snapshots["steps"][frame]), float(snapshots["epochs"][frame])
    if step == 0:
        return "untrained"
    if epoch < 1 - 1e-6:
        return f"step {step} of epoch 1"
    return f"epoch {round(epoch)}"
