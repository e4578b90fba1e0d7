"""Named training presets: a ModelConfig and a TrainConfig that go together, for the app's form and the CLI.

"quick" is the live-demo preset: a small tanh MLP that sees its digits upright (ModelConfig.deskew), large batches
under a one-cycle learning rate for a few epochs, on the CPU threads left idle, filmed like every run of the app's
form, its epochs but the last scored on the filmed digits, with half the KL weight (beta = 0.5) while it trains; its
test -ELBO is the true one (beta = 1), as every run's. docs/training-speed.md has the measurements behind each choice
and the command that reproduces them.
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
    # tanh rather than the default leaky ReLU: in a short run it reaches a lower loss and latent means whose classes
    # overlap less (their 5-NN accuracy); 256 units a layer make 18 epochs cost about what 12 of 400 did. Half the KL
    # weight separates the classes' means as well in 16 epochs as the full weight did in 18. Deskewing frees the
    # second latent dimension from slant: its map shows ten clusters (4 apart from 9, 3, 5 and 8 apart), and 12
    # epochs of it beat 16 without it on every figure, in the same time (docs/training-speed.md)
    model_config=ModelConfig(arch="mlp", hidden=(256, 256), activation="tanh", deskew=True),
    train_config=TrainConfig(epochs=12, batch_size=384, lr=1e-2, lr_schedule="onecycle", warmup=0.15, beta=0.5,
                             threads=AUTO_THREADS, precision="auto", data_bias=True, snapshot_size=PRESET_FILM_DIGITS,
                             # the epochs before the last are scored on the filmed digits, the last on all 10,000:
                             # a fifth of the evaluation time, the same model (train.evaluate_loss's rows)
                             eval_subset=PRESET_FILM_DIGITS),
)

PRESETS: dict[str, Preset] = {QUICK.name: QUICK}
