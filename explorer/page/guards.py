"""What a page needs before it can draw: the chosen model and, for most pages, MNIST. Each guard either returns the
thing or shows one clear message in the page and stops it (stop_page: the sidebar stays; never a traceback).

A page is: `ensure_navigation()`, imports, `key, ckpt = page_model()`, widgets, one vae_core call (through
explorer.cache), display."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.choice import ModelKey, chosen
from explorer.page.page_run import stop_page
from explorer.page.public_text import public


def page_model(latent_2d: bool = True) -> tuple[ModelKey, vc.Checkpoint]:
    """(the key of the model this session shows, its checkpoint); or an error in the page, which stops.

    latent_2d: the page draws the latent space, so a model whose latent is not 2-D is explained, not crashed on."""
    key = chosen()
    try:
        ckpt = cache.load_model(key)
    except (vc.CheckpointError, OSError) as e:
        st.error(public(f"**The model {Path(key.path).name} cannot be loaded.** {e}"), icon=":material/error:")
        stop_page()
    if latent_2d and ckpt.model_config.latent_dim != 2:
        st.warning(f"**{Path(key.path).stem}** has a {ckpt.model_config.latent_dim}-D latent space; this page draws "
                   "a 2-D one. Pick a model with a 2-D latent space in the sidebar.", icon=":material/info:")
        stop_page()
    return key, ckpt


def mnist_or_none(split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(images, labels) of a split, or None when MNIST is missing (say why with `mnist_advice()`)."""
    try:
        return cache.mnist(split)
    except vc.MnistNotFoundError:
        return None


def mnist_advice() -> str:
    """What to do without MNIST, as the browser may show it (no absolute paths)."""
    return public(vc.mnist_missing_advice())


def need_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of a split; without MNIST the page says what is missing and how to fix it, and stops."""
    try:
        return cache.mnist(split)
    except vc.MnistNotFoundError as e:
        st.error(public(f"**MNIST is not available**, so this view cannot be drawn. {e}"), icon=":material/folder_off:")
        stop_page()
