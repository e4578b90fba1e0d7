"""What a page needs before it can draw: a loadable model and, for most pages, MNIST. Each guard either returns
the thing or shows a clear message in the page and stops it (never a traceback)."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc

from . import cache


def mnist_missing_text(error: Exception | None = None) -> str:
    """What is missing and how to fix it, naming VAE_DATA_DIR and the download command."""
    return (f"**MNIST is not available**, so this view cannot be drawn. The app reads the dataset from the folder "
            f"in the environment variable `{vc.DATA_ENV}` (now: `{vc.data_dir()}`), which must hold `MNIST/raw`. "
            f"Point `{vc.DATA_ENV}` at a copy, or fetch one on a machine with internet access with "
            f"`{vc.DOWNLOAD_COMMAND}`, then reload this page."
            + (f"\n\nDetails: {error}" if error else ""))


def mnist_missing_short() -> str:
    return (f"MNIST was not found under `{vc.DATA_ENV}` (now `{vc.data_dir()}`). Point `{vc.DATA_ENV}` at a copy "
            f"or run `{vc.DOWNLOAD_COMMAND}`.")


def mnist_or_none(split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(images, labels) of a split, or None when MNIST is missing."""
    try:
        return cache.mnist(split)
    except vc.MnistNotFoundError:
        return None


def need_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return cache.mnist(split)
    except vc.MnistNotFoundError as e:
        st.error(mnist_missing_text(e), icon=":material/folder_off:")
        st.stop()


def need_model(path: str, mtime: float) -> vc.Checkpoint:
    try:
        return cache.load_model(path, mtime)
    except vc.CheckpointError as e:
        st.error(f"**The checkpoint could not be loaded.** {e}", icon=":material/error:")
        st.stop()
