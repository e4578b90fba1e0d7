"""One file per model: a plain dict of tensors and primitives, saved atomically, loaded without running code."""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

from .config import ModelConfig, TrainConfig
from .model import VAE

FORMAT = "vae-latent-explorer"  # marks a file as ours
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """Base class: the checkpoint at a path cannot be used."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    pass


class CheckpointCorruptError(CheckpointError):
    """Truncated or garbage bytes."""


class CheckpointUnsafeError(CheckpointError):
    """The file asks to import or call code (a pickle payload); it was refused, not run."""


class NotACheckpointError(CheckpointError):
    """A readable file, but not a VAE Latent Explorer checkpoint."""


class CheckpointVersionError(CheckpointError):
    pass


class CheckpointMismatchError(CheckpointError):
    """The weights do not fit the model config stored beside them."""


@dataclass
class Checkpoint:
    model: VAE
    model_config: ModelConfig
    train_config: TrainConfig | None
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    snapshots: dict = field(default_factory=dict)
    pca: dict = field(default_factory=dict)  # the PCA baseline its VAE-vs-PCA scores used: {"mean", "components"}
    test_latents: dict = field(default_factory=dict)  # `encodings_to_store` of its test set: {"mu", "logvar", "digest"}
    created: str = ""
    command: str = ""
    path: Path | None = None


def save_checkpoint(path: str | Path, model: VAE, train_config: TrainConfig | None = None,
                    history: list[dict] | None = None, metrics: dict | None = None,
                    snapshots: dict | None = None, command: str = "", pca: dict | None = None,
                    test_latents: dict | None = None) -> Path:
    """Write the checkpoint to a temp file beside `path`, then rename it into place (atomic).

    pca: the fitted PCA baseline (`fit_pca`) that metrics compare against, stored so it need not be refitted.
    test_latents: `encodings_to_store(model, test images)`, so the app can draw the latent map without encoding."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "train_config": train_config.to_dict() if train_config else None,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "history": list(history or []),
        "metrics": dict(metrics or {}),
        "snapshots": dict(snapshots or {}),
        "pca": {k: torch.as_tensor(v).detach().cpu().clone() for k, v in (pca or {}).items()},
        "test_latents": {k: v if isinstance(v, str) else torch.as_tensor(v).detach().cpu().clone()
                         for k, v in (test_latents or {}).items()},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "torch_version": str(torch.__version__),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointNotFoundError(f"no checkpoint file at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "global" in str(e).lower():  # the pickle names a function or class to import: code, refused
            raise CheckpointUnsafeError(f"{path} asks to run code when loaded; it was refused ({_first_line(e)})") from e
        raise CheckpointCorruptError(f"{path} is not a readable checkpoint: garbage or damaged bytes") from e
    except (EOFError, RuntimeError, zipfile.BadZipFile, ValueError, OSError) as e:
        raise CheckpointCorruptError(f"{path} is truncated or damaged ({_first_line(e)})") from e


def _first_line(e: Exception) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    unsupported = [ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln]
    return (unsupported or lines or [type(e).__name__])[0].strip()[:200]


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint onto the CPU; raises one CheckpointError subclass per way it can be unusable."""
    path = Path(path)
    ckpt = _read(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise NotACheckpointError(f"{path} is a PyTorch file but not a VAE Latent Explorer checkpoint")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise CheckpointVersionError(f"{path} has format version {ckpt.get('format_version')!r}; "
                                     f"this code reads version {FORMAT_VERSION}")
    try:
        model_config = ModelConfig(**ckpt["model_config"])
        train_config = TrainConfig(**ckpt["train_config"]) if ckpt.get("train_config") else None
    except (KeyError, TypeError, ValueError) as e:
        raise NotACheckpointError(f"{path} has an invalid model or training config: {e}") from e
    model = VAE(model_config)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, RuntimeError) as e:
        raise CheckpointMismatchError(f"{path}: the weights do not match its model config "
                                      f"({model_config}): {_first_line(e)}") from e
    model.eval()
    extras = {name: ckpt.get(name) or {} for name in ("pca", "test_latents")}  # absent in older checkpoints
    if not all(isinstance(d, dict) for d in extras.values()):
        raise NotACheckpointError(f"{path} has a malformed pca or test_latents entry")
    arrays = lambda d: {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in d.items()}
    return Checkpoint(model, model_config, train_config, ckpt.get("history", []), ckpt.get("metrics", {}),
                      ckpt.get("snapshots", {}), arrays(extras["pca"]), arrays(extras["test_latents"]),
                      ckpt.get("created", ""), ckpt.get("command", ""), path)
