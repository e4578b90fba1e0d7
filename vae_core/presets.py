"""Named training presets: a ModelConfig and a TrainConfig that go together, for the app's form and the CLI.

"quick" is the live-demo preset: large batches under a one-cycle learning rate for a few epochs, on one CPU
thread, filmed like every run of the app's form. docs/training-speed.md has the measurements behind each choice,
the command that reproduces them, and how far it is from the issue's 30-second goal.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .config import AUTO_THREADS, ModelConfig, TrainConfig

# digits filmed, as the app's training form films every run (explorer.training.form.FILM_DIGITS)
PRESET_FILM_DIGITS = 2000


@dataclass(frozen=True)
class Preset:
    name: str  # the key in PRESETS
    label: str  # what a form shows
    description: str  # one sentence: what it is for
    model_config: ModelConfig
    train_config: TrainConfig

    def with_train(self, **fields) -> TrainConfig:
        """The preset's TrainConfig with some fields replaced (e.g. seed, device, train_subset); checked again."""
        return replace(self.train_config, **fields)


QUICK = Preset(
    name="quick",
    label="Quick (live demo)",
    description="A short, filmed one-cycle run of large batches on the whole training set, for live demos.",
    model_config=ModelConfig(arch="mlp", hidden=(400, 400)),
    train_config=TrainConfig(epochs=12, batch_size=384, lr=6e-3, lr_schedule="onecycle", warmup=0.15,
                             threads=AUTO_THREADS, precision="auto", data_bias=True, snapshot_size=PRESET_FILM_DIGITS),
)

PRESETS: dict[str, Preset] = {QUICK.name: QUICK}
