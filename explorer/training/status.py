"""What a training looks like from outside: its status and the latest frame of its film, as the sidebar and the film
page show it -- this worker's own job (explorer.training.job) or another worker's, read from the room's board
(explorer.training.live_board). No Streamlit here."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

import vae_core as vc


@dataclass(frozen=True)
class LiveFrame:
    """The latest frame of a running training's film, as the film page draws it live: ~8 KB of float16 means and a
    ~50 KB compressed grid, replaced (never mutated) at each new frame, so every session's snapshot can share it."""
    index: int  # frames taken so far - 1
    step: int  # optimiser steps done
    caption: str  # "step 30 of epoch 1", "epoch 3" (vae_core.frame_caption)
    means: np.ndarray  # (n, latent) float16, read-only: the filmed test digits' latent means
    labels: np.ndarray  # (n,) int64, read-only: their labels (the same array in every frame of a job)
    grid: bytes  # the decoded grid, zlib-compressed as in a checkpoint's film (b"" unless the latent is 2-D)

    def grid_picture(self) -> np.ndarray | None:
        """(336, 336) uint8, or None without a grid."""
        if not self.grid:
            return None
        film = {"grids": torch.frombuffer(bytearray(self.grid), dtype=torch.uint8), "grid_offsets": [0, len(self.grid)]}
        return vc.frame_grid(film, 0)


def live_frame(film: vc.FilmRecorder, labels: np.ndarray) -> LiveFrame:
    """A copy of the recorder's latest frame (called in the training thread, between two recordings)."""
    means = film.latest_means().numpy().copy()
    means.flags.writeable = False
    step = film.steps[-1]
    caption = vc.frame_caption({"steps": [step], "epochs": [step / film.steps_per_epoch]}, 0)
    return LiveFrame(len(film.steps) - 1, step, caption, means, labels, film.grids[-1])


@dataclass
class JobStatus:
    """A copy of the job's state, safe to read while the thread runs."""
    job_id: int = 0
    state: str = "idle"  # idle | running | saving | succeeded | failed | cancelled
    name: str = ""
    owner: str = ""  # the session id that started it (explorer.room.roles.session_id)
    epoch: int = 0
    epochs: int = 0
    fraction: float = 0.0
    running_loss: float = math.nan  # mean train -ELBO of the epoch under way
    history: list[dict] = field(default_factory=list)
    message: str = ""  # the error or the success note
    path: str = ""  # the checkpoint written (succeeded only)
    film: LiveFrame | None = None  # the latest frame of its film (the film page draws it while the job is active)
    started: float = 0.0  # time.time() when it started
    updated: float = 0.0  # another worker's job (explorer.training.live_board): when that worker last wrote it

    @property
    def active(self) -> bool:
        return self.state in ("running", "saving")

    @property
    def elsewhere(self) -> bool:
        """Another worker's job (only that worker's sessions can cancel it)."""
        return self.updated > 0
