"""MNIST as two in-memory tensors (images in [0, 1], labels), from VAE_DATA_DIR in torchvision's layout.

torchvision downloads MNIST (`download_mnist`) into <root>/MNIST/raw. Reading those four IDX files is done here
with NumPy instead of torchvision.datasets.MNIST, which reads the same files the same way: importing torchvision
takes seconds (it pulls in torch._dynamo through torchvision.ops), a large share of the app's cold start.
tests/test_data.py checks that both give identical tensors.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .settings import DATA_ENV, DEFAULT_DATA_DIR, data_dir

DOWNLOAD_COMMAND = "python -m vae_core download"


class MnistNotFoundError(FileNotFoundError):
    """MNIST is not where VAE_DATA_DIR points and could not be downloaded there."""


def mnist_missing_advice(root: str | Path | None = None) -> str:
    """What to do when MNIST is not in `root` (default VAE_DATA_DIR): the one wording the CLI, the app and the
    errors share."""
    root = Path(root) if root is not None else data_dir()
    return (f"MNIST was not found under {root.resolve()}: it needs the four files MNIST/raw/*-ubyte there. "
            f"Set {DATA_ENV} to the folder that holds MNIST/raw, or run `{DOWNLOAD_COMMAND}` "
            f"(it needs internet access) to fetch it into {DATA_ENV} (default {DEFAULT_DATA_DIR}).")


def _not_found(root: Path) -> MnistNotFoundError:
    return MnistNotFoundError(mnist_missing_advice(root))


RAW_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (the MNIST format): 0, 0, type 0x08 = unsigned byte, ndim, ndim big-endian int32 sizes, data."""
    raw = np.fromfile(path, dtype=np.uint8)
    ndim = int(raw[3]) if len(raw) >= 4 else 0
    if ndim == 0 or raw[:3].tolist() != [0, 0, 8]:
        raise MnistNotFoundError(f"{path} is not an MNIST IDX file of unsigned bytes; delete it and download MNIST again.")
    shape = tuple(int(n) for n in raw[4:4 + 4 * ndim].view(">i4"))
    data = raw[4 + 4 * ndim:]
    if data.size != np.prod(shape):
        raise MnistNotFoundError(f"{path} is truncated ({data.size:,} of {int(np.prod(shape)):,} bytes); "
                                 "delete it and download MNIST again.")
    return data.reshape(shape)


def load_mnist(split: str = "train", root: str | Path | None = None, limit: int = 0,
               device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Images as one float tensor (N, 784) in [0, 1] and labels (N,), on `device`; the first `limit` if > 0."""
    if split not in RAW_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else data_dir()
    paths = [root / "MNIST" / "raw" / name for name in RAW_FILES[split]]
    if not all(p.is_file() for p in paths):
        raise _not_found(root)
    images, labels = (torch.from_numpy(read_idx(p)) for p in paths)
    if len(images) != len(labels):
        raise MnistNotFoundError(f"{paths[0]} holds {len(images):,} images but {paths[1]} {len(labels):,} labels.")
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = images.reshape(len(images), -1).to(device=device, dtype=torch.float32) / 255.0
    return images, labels.to(device=device, dtype=torch.int64)


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
