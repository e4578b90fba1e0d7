"""MNIST as two in-memory tensors (images in [0, 1], labels), read with torchvision from VAE_DATA_DIR."""
from __future__ import annotations

import os
from pathlib import Path

import torch

DATA_ENV = "VAE_DATA_DIR"
DOWNLOAD_COMMAND = "python -m vae_core download"


class MnistNotFoundError(FileNotFoundError):
    """MNIST is not where VAE_DATA_DIR points and could not be downloaded there."""


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or "./data")


def _not_found(root: Path, cause: Exception | None = None) -> MnistNotFoundError:
    return MnistNotFoundError(
        f"MNIST was not found under {root.resolve()} (expected {root.resolve() / 'MNIST' / 'raw'}/*-ubyte). "
        f"Set {DATA_ENV} to the folder that holds MNIST/raw, or run `{DOWNLOAD_COMMAND}` "
        f"on a machine with internet access to fetch it into {DATA_ENV} (default ./data)."
        + (f" ({cause})" if cause else "")
    )


def load_mnist(split: str = "train", root: str | Path | None = None, limit: int = 0,
               device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Images as one float tensor (N, 784) in [0, 1] and labels (N,), on `device`; the first `limit` if > 0."""
    from torchvision.datasets import MNIST

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else data_dir()
    try:
        ds = MNIST(str(root), train=split == "train", download=False)
    except RuntimeError as e:  # torchvision: "Dataset not found. You can use download=True ..."
        raise _not_found(root, e) from e
    images, labels = ds.data, ds.targets
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = images.reshape(len(images), -1).to(device=device, dtype=torch.float32) / 255.0
    return images, labels.to(device)


def download_mnist(root: str | Path | None = None) -> Path:
    """Fetch MNIST into root (default VAE_DATA_DIR); needs internet access."""
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else data_dir()
    try:
        for train in (True, False):
            MNIST(str(root), train=train, download=True)
    except Exception as e:  # no network, DNS failure, HTTP error ...
        raise MnistNotFoundError(
            f"Could not download MNIST into {root.resolve()}: this needs internet access. Run `{DOWNLOAD_COMMAND}` on a "
            f"connected machine and copy the MNIST folder over, or set {DATA_ENV} to a folder that holds MNIST/raw. ({e})"
        ) from e
    return root
