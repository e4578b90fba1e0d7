"""Frozen configs: what a model is (ModelConfig) and how it was trained (TrainConfig)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

ARCHITECTURES = ("mlp", "conv")


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "mlp"  # "mlp" (fully connected) or "conv" (small convolutional net)
    latent_dim: int = 2  # size of z; 2 so the latent space can be drawn
    hidden: tuple[int, ...] = (512, 256)  # mlp: widths of the encoder layers (decoder mirrors them); conv: channels
    image_size: int = 28  # images are image_size x image_size, one channel (MNIST)

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden must be one or more positive sizes, got {self.hidden}")
        if self.arch == "conv" and len(self.hidden) != 2:
            raise ValueError("the conv architecture takes exactly two channel counts in hidden, e.g. (32, 64)")

    @property
    def n_pixels(self) -> int:
        return self.image_size * self.image_size

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the training set
    batch_size: int = 128  # images per optimiser step
    lr: float = 1e-3  # Adam learning rate (peak, when a schedule is used)
    lr_schedule: str = "constant"  # "constant" or "cosine" (decays lr to 1% of its peak over the run)
    beta: float = 1.0  # weight on the KL term (1.0 is the true ELBO; beta-VAE otherwise)
    binarize: bool = False  # resample training images as Bernoulli(pixels) every step (dynamic binarisation, a regulariser)
    seed: int = 0  # seeds torch for init, shuffling and sampling (reproducible on CPU)
    device: str = "auto"  # "auto" (cuda, then mps, then cpu) or an explicit torch device string
    train_subset: int = 0  # use only the first N training images (0 = all 60,000)
    test_subset: int = 0  # evaluate on only the first N test images (0 = all 10,000)
    snapshot_size: int = 0  # keep the latent means of this many fixed test digits after every epoch (0 = off)

    def __post_init__(self):
        checks = [
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (self.lr_schedule in ("constant", "cosine"), "lr_schedule must be 'constant' or 'cosine'"),
            (self.beta >= 0, "beta must be >= 0"),
            (min(self.train_subset, self.test_subset, self.snapshot_size) >= 0, "subset sizes must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict:
        return asdict(self)

