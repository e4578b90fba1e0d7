"""VAE Latent Explorer's engine: train, save, load and look inside a 2-D latent MNIST VAE (no UI code here).

`import vae_core as vc` gives the names below, the ones the app and a notebook use (README: "Use it from a
notebook"); everything else is imported from its module (`from vae_core.metrics import knn_accuracy`). Importing
the package is cheap: the modules behind these names, and torch with them, are imported when the first name is used,
so the app can import the torch-free modules (settings, palette, config, limits) before torch.
"""
from __future__ import annotations

import importlib
import sys
import types

# module -> the public names it defines
_PUBLIC = {
    "analysis": ("decode", "decode_grid", "encode", "encodings_to_store", "grid_axes", "interpolate",
                 "iwae_log_likelihood", "per_image_elbo", "pixel_blend", "project_pca", "reconstruct", "sample_prior",
                 "stored_or_fresh_encodings", "tile"),
    "anomaly": ("SCORES", "Complexity", "anomaly_scores", "calibrate", "roc", "share_more_anomalous"),
    "atlas": ("digits_picture", "spread_picks", "tile_size"),
    "baselines": ("knn_fill", "mean_fill", "median_filter"),
    "checkpoint": ("Checkpoint", "CheckpointDiskFullError", "CheckpointError", "CheckpointExistsError",
                   "load_checkpoint", "remove_stale_temp_files", "save_checkpoint"),
    "comparison": ("ACTIVE_THRESHOLD", "COMPARED_FIGURES", "best_of", "model_figures"),
    "config": ("ACTIVATIONS", "ARCHITECTURES", "AUTO_THREADS", "ConfigError", "ModelConfig", "TrainConfig"),
    "corruption": ("corrupt", "damaged"),
    "data": ("DOWNLOAD_COMMAND", "MnistNotFoundError", "load_mnist", "mnist_missing_advice"),
    "file_lock": ("FolderBusyError", "training_lock"),
    "film": ("FILM_EXTENT", "FilmRecorder", "frame_caption", "frame_grid", "has_film", "has_grids"),
    "holes": ("DensityGrid", "KLEstimate", "aggregate_kl", "density_grid", "gallery_picks", "hole_share",
              "prior_density_ratio"),
    "limits": ("FILM_GRID",),
    "map_table": ("map_table",),
    "metrics": ("compare_embeddings", "pca_codes"),
    "model": ("VAE",),
    "preprocess": ("ImageRejected", "NothingDrawn", "load_upload", "to_mnist"),
    "probes": ("PROBE_NAMES", "letter_characters", "probe_sets"),
    "repair": ("denoise", "impute"),
    "reports": ("auroc_table",),
    "settings": ("BUDGET_ENV", "DATA_ENV", "DEFAULT_CHECKPOINT", "data_dir", "max_train_minutes"),
    "presets": ("PRESETS", "PRESET_FILM_DIGITS", "QUICK", "Preset"),
    "train": ("Progress", "TrainingCancelled", "TrainingDiverged", "device_label", "estimate_training_seconds",
              "on_compute_device", "pick_device", "train", "training_device_line", "training_time_parts"),
}
_HOME = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted([*_HOME, "settings"])


def _import_public_names() -> None:
    """Import every module of the public API and bind its names here, all at once, as an ordinary package's imports
    would (the app's warm-up thread does it on its first call, before the first page needs the engine)."""
    for module, names in _PUBLIC.items():
        imported = importlib.import_module(f"{__name__}.{module}")
        for name in names:
            globals()[name] = getattr(imported, name)


def __getattr__(name: str):
    """A public name (the first one used imports them all); or a submodule (`vc.settings`, `vc.preprocess`)."""
    if name in _HOME:
        _import_public_names()
        return globals()[name]
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package keeps its public functions under the names they share with their modules (`train`, `map_table`):
    importing a submodule binds it as an attribute of its package, which would hide the function of that name."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
