"""A digit damaged and repaired by the VAE and by the baselines."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model, mnist

KNN_POOL = 2000  # training digits the KNNImputer baseline searches, as `python -m vae_core repair` (bounds a digit's time)


@st.cache_resource(show_spinner="Reading the training digits for the baselines…", max_entries=2)
def _repair_baseline_data(root: str) -> tuple[np.ndarray, np.ndarray]:
    """(the training digits' mean image, the first KNN_POOL training digits), per MNIST folder."""
    train = mnist("train")[0]
    return train.mean(0), np.array(train[:KNN_POOL])


@st.cache_data(show_spinner="Repairing…", max_entries=64)
def repair(key, image: np.ndarray, corruption: tuple, n_iter: int = 10, seed: int = 0) -> dict:
    """One digit (784,) damaged (`_corrupt`) and repaired by the VAE and by the baselines, each scored by its mean
    squared error against the undamaged digit on the damaged pixels (vc.damaged: all of them for noise).

    Returns {"corrupted", "observed", "kind", "vae" (the VAE's repair), "steps" (the iterations' images, (n, 784):
    noise: [corrupted, repaired]; missing: vc.impute's steps), "path" ((n, 2) z along them: noise: the clean
    digit's code, then the damaged one's, which is decoded), "baselines" {name: image}, "mse" {name: error} with
    "damaged" (no repair), "VAE" and each baseline}."""
    model = load_model(key).model
    clean = np.asarray(image, dtype=np.float32).reshape(1, -1)
    corrupted, observed, kind = vc.corrupt(clean, corruption, seed)
    mean_image, pool = _repair_baseline_data(str(vc.data_dir().resolve()))
    if kind == "noise":
        vae = vc.denoise(model, corrupted)
        steps = np.concatenate([corrupted, vae])
        path = vc.encode(model, np.concatenate([clean, corrupted]))[0]
        baselines = {"median filter 3×3": vc.median_filter(corrupted),
                     "mean image": vc.mean_fill(corrupted, np.zeros_like(observed), mean_image)}
    else:
        fill = vc.impute(model, corrupted, observed, n_iter)
        vae, steps, path = fill["images"], fill["steps"][:, 0], fill["latents"][:, 0]
        baselines = {"mean fill": vc.mean_fill(corrupted, observed, mean_image),
                     f"KNNImputer (5-NN of {KNN_POOL:,})": vc.knn_fill(corrupted, observed, pool)}
    scored = vc.damaged(kind, observed)
    mse = {name: float(((repaired - clean) ** 2)[scored].mean())
           for name, repaired in {"damaged": corrupted, "VAE": vae, **baselines}.items()}
    return {"corrupted": corrupted[0], "observed": observed[0], "kind": kind, "vae": vae[0], "steps": steps,
            "path": path, "baselines": {name: b[0] for name, b in baselines.items()}, "mse": mse}
