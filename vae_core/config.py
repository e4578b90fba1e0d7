"""Frozen configs: what a model is (ModelConfig) and how it was trained (TrainConfig).

Both check every field against vae_core.limits when built -- from the CLI, the app's form or a checkpoint's
stored dict -- and raise one ConfigError listing every problem, before anything is allocated.
"""
from __future__ import annotations

import math
import reprlib
from dataclasses import asdict, dataclass
from numbers import Integral, Real

from .limits import LIMITS, film_bytes, parameter_count

ARCHITECTURES = ("mlp", "conv")
ACTIVATIONS = ("leaky_relu", "elu", "silu", "tanh")  # the hidden layers' nonlinearity (model.ACTIVATION_LAYERS)
LR_SCHEDULES = ("constant", "cosine", "onecycle")
PRECISIONS = ("fp32", "bf16", "auto")
AUTO_THREADS = -1  # TrainConfig.threads: as many as the machine has idle cores, at least one (train.auto_threads)
DEVICE_TYPES = ("cpu", "cuda", "mps")


class ConfigError(ValueError):
    """A config has one or more invalid fields. `problems` holds one sentence per problem, each starting with the
    field's name (e.g. "hidden: each width must be between 4 and 2048 (got 3000000)"); str(e) joins them by lines."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _int_problem(name: str, value, lo: int, hi: int | None = None, note: str = "") -> str | None:
    """None if value is a whole number in [lo, hi] (no upper bound if hi is None), else the sentence saying so."""
    if _is_int(value) and value >= lo and (hi is None or value <= hi):
        return None
    allowed = f"between {lo:,} and {hi:,}" if hi is not None else f">= {lo:,}"
    return f"{name}: must be a whole number {allowed}{note} (got {value!r})"


def _number_problem(name: str, value, lo: float, strict: bool) -> str | None:
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and (
            value > lo if strict else value >= lo):
        return None
    return f"{name}: must be a number {'>' if strict else '>='} {lo:g} (got {value!r})"


def _sizes(hidden) -> tuple[tuple[int, ...], str | None]:
    """hidden as a tuple of ints, or () and the problem when it is not a sequence of whole numbers."""
    if isinstance(hidden, (list, tuple)) and all(_is_int(h) for h in hidden):
        return tuple(int(h) for h in hidden), None
    shown = repr(hidden) if len(repr(hidden)) <= 60 else repr(hidden)[:57] + "..."
    return (), f"hidden: must be a list of whole numbers, e.g. (512, 256) (got {shown})"


def device_type_problem(device) -> str | None:
    """None if device is "auto" or parses as a cpu/cuda/mps torch device string; says nothing about availability
    (a checkpoint trained on cuda still loads on a CPU-only machine -- see train.device_problem)."""
    import torch  # here, not at the top: the configs themselves need no torch

    expected = f"device: must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps' (got {device!r})"
    if device == "auto":
        return None
    if not isinstance(device, str):
        return expected
    try:
        parsed = torch.device(device)
    except RuntimeError:
        return expected
    return None if parsed.type in DEVICE_TYPES else expected


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "mlp"  # "mlp" (fully connected) or "conv" (small convolutional net)
    latent_dim: int = 2  # size of z; 2 so the latent space can be drawn
    hidden: tuple[int, ...] = (512, 256)  # mlp: widths of the encoder layers (decoder mirrors them); conv: channels
    image_size: int = 28  # images are image_size x image_size, one channel (MNIST only)
    # after every hidden layer: "leaky_relu" (slope 0.2), "elu", "silu" or "tanh"; in a short run tanh reaches a lower
    # loss and better-separated classes than leaky ReLU (docs/training-speed.md)
    activation: str = "leaky_relu"
    # encode each digit upright (its slant sheared out) and slant the decoded image back like the input, so the two
    # latent dimensions need not spend one on slant, which every class shares (vae_core.slant, docs/training-speed.md)
    deskew: bool = False

    def __post_init__(self):
        hidden, problem = _sizes(self.hidden)
        object.__setattr__(self, "hidden", hidden)
        lim = LIMITS
        problems = [
            None if self.arch in ARCHITECTURES else f"arch: must be 'mlp' or 'conv' (got {self.arch!r})",
            _int_problem("latent_dim", self.latent_dim, *lim.latent_dim),
            None if _is_int(self.image_size) and self.image_size == lim.image_size else
            f"image_size: must be {lim.image_size}, the size of MNIST's digits: no other images are supported "
            f"(got {self.image_size!r})",
            problem or self._hidden_problem(),
            None if isinstance(self.activation, str) and self.activation in ACTIVATIONS else
            f"activation: must be one of {', '.join(map(repr, ACTIVATIONS))} (got {reprlib.repr(self.activation)})",
            None if isinstance(self.deskew, bool) else f"deskew: must be True or False (got {reprlib.repr(self.deskew)})",
        ]
        if not any(problems) and parameter_count(self) > lim.max_parameters:
            problems.append(f"hidden: this model would have {parameter_count(self):,} parameters, over the limit of "
                            f"{lim.max_parameters:,}; use fewer or narrower layers")
        if any(problems):
            raise ConfigError([p for p in problems if p])

    def _hidden_problem(self) -> str | None:
        hidden, lim = self.hidden, LIMITS
        if self.arch == "conv":
            lo, hi = lim.conv_channels
            if len(hidden) != 2:
                return f"hidden: the conv architecture takes exactly two channel counts, e.g. (32, 64) (got {len(hidden)})"
            if not all(lo <= h <= hi for h in hidden):
                return f"hidden: each channel count must be between {lo} and {hi} (got {_listed(hidden)})"
        elif self.arch == "mlp":
            (fewest, most), (lo, hi) = lim.mlp_layers, lim.mlp_width
            if not fewest <= len(hidden) <= most:
                return f"hidden: the mlp takes {fewest} to {most} layer widths, e.g. (512, 256) (got {len(hidden)})"
            if not all(lo <= h <= hi for h in hidden):
                return f"hidden: each width must be between {lo} and {hi} (got {_listed(hidden)})"
        return None

    @property
    def n_pixels(self) -> int:
        return self.image_size * self.image_size

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}


def _listed(sizes: tuple[int, ...]) -> str:
    return ", ".join(map(str, sizes[:8])) + (", ..." if len(sizes) > 8 else "")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # passes over the training set
    batch_size: int = 128  # images per optimiser step
    lr: float = 1e-3  # Adam learning rate (peak, when a schedule is used)
    # "constant"; "cosine" (decays lr to 1% of its peak over the run); "onecycle" (warms up from lr / 25 to lr over the
    # first `warmup` share of the steps, then anneals to ~0: large batches at a high peak lr reach a good model in
    # fewer epochs)
    lr_schedule: str = "constant"
    beta: float = 1.0  # weight on the KL term (1.0 is the true ELBO; beta-VAE otherwise)
    binarize: bool = False  # resample training images as Bernoulli(pixels) every step (dynamic binarisation, a regulariser)
    seed: int = 0  # seeds torch for init, shuffling and sampling (reproducible on CPU); 0 to 2**32 - 1
    device: str = "auto"  # "auto" (cuda, then mps, then cpu) or an explicit torch device string
    train_subset: int = 0  # use only the first N training images (0 = all 60,000)
    test_subset: int = 0  # evaluate on only the first N test images (0 = all 10,000)
    warmup: float = 0.25  # onecycle only: the share of all steps spent warming up, in (0, 1)
    # CPU threads torch uses while training (0 = leave torch's setting; AUTO_THREADS = -1: one per idle core when the
    # run starts, at least one); restored afterwards
    threads: int = 0
    # "fp32"; "bf16": the training steps' forward and backward run under bfloat16 autocast (evaluation, the film and
    # the saved weights stay fp32); "auto": bf16 where the CPU computes it natively (AVX512-BF16 or AMX), else fp32
    precision: str = "fp32"
    # start the decoder's output bias at the logit of the mean training image, so the first steps learn strokes
    # rather than the average brightness of each pixel
    data_bias: bool = True
    snapshot_size: int = 0  # film this many fixed test digits' latent means (and a decoded grid) as it trains (0 = off)
    # the test figures of every epoch but the last are taken on this many fixed test digits, a sample drawn with the
    # run's seed (the filmed digits when it equals snapshot_size); 0 = the whole test set after every epoch. The last
    # epoch is always scored on the whole test set, and each history row says how many digits its figures are on
    eval_subset: int = 0
    # decoupled weight decay (AdamW) on the decoder's weight matrices, a regulariser against its learning the training
    # digits by heart (docs/model-card.md has what it did to the default model's recipe); 0 = plain Adam
    weight_decay: float = 0.0

    def __post_init__(self):
        lim = LIMITS
        problems = [
            _int_problem("epochs", self.epochs, *lim.epochs),
            _int_problem("batch_size", self.batch_size, *lim.batch_size),
            _number_problem("lr", self.lr, 0.0, strict=True),
            None if self.lr_schedule in LR_SCHEDULES else
            f"lr_schedule: must be 'constant', 'cosine' or 'onecycle' (got {self.lr_schedule!r})",
            _number_problem("beta", self.beta, 0.0, strict=False),
            _number_problem("weight_decay", self.weight_decay, 0.0, strict=False),
            None if isinstance(self.binarize, bool) else f"binarize: must be True or False (got {self.binarize!r})",
            _int_problem("seed", self.seed, 0, 2 ** 32 - 1),
            device_type_problem(self.device),
            _int_problem("train_subset", self.train_subset, 0, note=" (0 = all 60,000)"),
            _int_problem("test_subset", self.test_subset, 0, note=" (0 = all 10,000)"),
            _int_problem("snapshot_size", self.snapshot_size, 0, note=" (0 = off)"),
            _int_problem("eval_subset", self.eval_subset, 0, note=" (0 = the whole test set every epoch)"),
            None if isinstance(self.warmup, Real) and not isinstance(self.warmup, bool) and 0 < self.warmup < 1 else
            f"warmup: must be a number between 0 and 1, a share of the steps (got {self.warmup!r})",
            _int_problem("threads", self.threads, AUTO_THREADS, 256, note=" (0 = torch's setting, -1 = automatic)"),
            None if self.precision in PRECISIONS else
            f"precision: must be 'fp32', 'bf16' or 'auto' (got {self.precision!r})",
            None if isinstance(self.data_bias, bool) else f"data_bias: must be True or False (got {self.data_bias!r})",
        ]
        problems = [p for p in problems if p]
        if problems:
            raise ConfigError(problems)

    def to_dict(self) -> dict:
        return asdict(self)


def run_problems(model_config: ModelConfig, train_config: TrainConfig) -> list[str]:
    """Limits that need both configs: the training film (snapshot means and decoded grids, `limits.film_bytes`) kept in
    memory and in the checkpoint."""
    n_train = min(train_config.train_subset or 60_000, 60_000)
    steps = -(-n_train // train_config.batch_size)
    snapshot_bytes = film_bytes(train_config.epochs, train_config.snapshot_size, model_config.latent_dim, steps,
                                model_config.image_size) if train_config.snapshot_size else 0
    if snapshot_bytes <= LIMITS.snapshot_bytes:
        return []
    return [f"snapshot_size: a training film of {train_config.snapshot_size:,} digits over {train_config.epochs:,} "
            f"epochs would take up to {snapshot_bytes / 2 ** 20:,.0f} MiB, over the limit of "
            f"{LIMITS.snapshot_bytes / 2 ** 20:.0f} MiB; keep fewer digits or train fewer epochs"]
