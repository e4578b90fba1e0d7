"""The retraining form's values -> a TrainingRequest, or every problem with them at once.

The model and training settings are checked by vae_core's own configs (ModelConfig / TrainConfig: the same caps hold
for the CLI and for loading a file); this module adds only what belongs to the form: the name of the new file, the
hidden-sizes text and the share of the training set."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import vae_core as vc
from explorer.model.files import name_problem

FULL_TRAIN = 60000
SUBSET_RANGE = (1000, FULL_TRAIN)  # fewer than 1,000 images give no readable latent map
# Every sidebar training is filmed, like the CLI's (its --snapshot-size default): the film page draws it live and
# plays it once saved. ~58 KB a frame in the checkpoint (float16 means + compressed grid).
FILM_DIGITS = 2000
# The configs name their fields; the form shows its own labels.
LABELS = {"arch": "Architecture", "hidden": "Hidden sizes", "activation": "Activation", "deskew": "Deskew",
          "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate", "beta": "β", "seed": "Seed"}
# A custom run's default nonlinearity: the shipped default's and the Quick preset's (docs/model-card.md, "Why tanh")
DEFAULT_ACTIVATION = "tanh"


@dataclass(frozen=True)
class TrainingRequest:
    name: str  # the new file is <checkpoint folder>/<name>.pt
    model_config: vc.ModelConfig
    train_config: vc.TrainConfig


def parse_hidden(text: str) -> tuple[int, ...]:
    """'512, 256' -> (512, 256); ValueError with a readable message otherwise."""
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError("Hidden sizes: write whole numbers separated by commas, e.g. 512, 256 "
                         f"(got {text!r}).") from None
    if not sizes:
        raise ValueError("Hidden sizes: give at least one size, e.g. 512, 256.")
    return sizes


def _build(config_class, problems: list[str], **fields):
    """config_class(**fields), or None with its problems (all of them) added to `problems`."""
    try:
        return config_class(**fields)
    except (TypeError, ValueError) as e:
        for problem in getattr(e, "problems", None) or str(e).splitlines():
            field, _, rest = problem.partition(": ")
            problems.append(f"{LABELS[field]}: {rest}" if field in LABELS and rest else problem)
        return None


def validate_request(*, name: str, epochs: int, batch_size: int, lr: float, beta: float, arch: str, hidden: str,
                     seed: int, train_subset: int, activation: str = DEFAULT_ACTIVATION, deskew: bool = False,
                     directory: Path | None = None) -> TrainingRequest:
    """Check every field of the form; raise ValueError listing all problems (one per line), else a request."""
    problems = []
    name = (name or "").strip()
    if problem := name_problem(name, directory):
        problems.append(problem)
    try:
        sizes = parse_hidden(hidden)
    except ValueError as e:
        problems.append(str(e))
        sizes = None
    if train_subset is None or not SUBSET_RANGE[0] <= train_subset <= SUBSET_RANGE[1]:
        problems.append(f"Training images: must be between {SUBSET_RANGE[0]:,} and {SUBSET_RANGE[1]:,} "
                        f"(got {train_subset!r}).")
    model_config = _build(vc.ModelConfig, problems, arch=arch, activation=activation, deskew=deskew,
                          **({"hidden": sizes} if sizes else {}))
    subset = 0 if (train_subset or 0) >= FULL_TRAIN else int(train_subset or 0)
    train_config = _build(vc.TrainConfig, problems, epochs=epochs, batch_size=batch_size, lr=lr, beta=beta,
                          seed=seed, train_subset=subset, snapshot_size=FILM_DIGITS)
    if problems:
        raise ValueError("\n".join(problems))
    return TrainingRequest(name, model_config, train_config)


def preset_request(preset: vc.Preset, *, name: str, seed: int, directory: Path | None = None) -> TrainingRequest:
    """A request for a named preset (vc.PRESETS) under a new file name; ValueError if the name is refused. The
    preset's configs are taken whole: the form has no fields for its schedule, warm-up or threads."""
    name = (name or "").strip()
    if problem := name_problem(name, directory):
        raise ValueError(problem)
    return TrainingRequest(name, preset.model_config, preset.with_train(seed=int(seed)))
