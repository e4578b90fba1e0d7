"""Training: one function from configs to a trained model and its per-epoch history, within a time budget."""
from __future__ import annotations

import copy
import math
import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .analysis import elbo_by_chunk
from .config import AUTO_THREADS, ConfigError, ModelConfig, TrainConfig, device_type_problem, run_problems
from .data import load_mnist
from .film import FilmRecorder
from .limits import frame_count
from .model import VAE, negative_elbo
from .settings import BUDGET_ENV, max_train_minutes

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000


class TrainingCancelled(Exception):
    """The progress callback asked to stop."""


class TrainingTimeout(TrainingCancelled):
    """The run went over its wall-clock budget (VAE_MAX_TRAIN_MINUTES); nothing was returned or saved."""


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; nothing was saved."""


def device_problem(device: str) -> str | None:
    """None if training can run on `device` on this machine ("auto" always can), else a sentence saying why not."""
    problem = device_type_problem(device)
    if problem or device == "auto":
        return problem
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        return f"device: {device!r} is not available: this PyTorch sees no CUDA GPU here (use 'auto' or 'cpu')"
    if d.type == "cuda" and d.index is not None and d.index >= torch.cuda.device_count():
        return f"device: {device!r} is not available: this machine has {torch.cuda.device_count()} CUDA device(s)"
    mps = getattr(torch.backends, "mps", None)
    if d.type == "mps" and not (mps is not None and mps.is_available()):
        return f"device: {device!r} is not available: Apple's MPS backend is not available here (use 'auto' or 'cpu')"
    return None


def pick_device(preference: str = "auto") -> torch.device:
    """cuda, then mps, then cpu -- unless a device is named; ConfigError if the named one is not available here."""
    if preference != "auto":
        problem = device_problem(preference)
        if problem:
            raise ConfigError([problem])
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def on_compute_device(model: VAE, preference: str = "auto") -> tuple[torch.device, VAE]:
    """(pick_device(preference), the model there): heavy computations of a trained model -- evaluation, IWAE, anomaly
    scores -- run on a GPU when there is one. A model already on that device is returned itself, so on a CPU-only
    machine nothing is copied and the results are those of calling with `model`, bit for bit; elsewhere the model is
    a copy moved there (train/eval mode kept), and `model` -- a checkpoint's, which the app shares between sessions --
    stays where it was. The analysis functions return NumPy arrays, so results come back on the CPU either way."""
    device = pick_device(preference)
    here = next(model.parameters()).device
    if here.type == device.type and device.index in (None, here.index):  # "cuda" takes a model on cuda:1 as it is
        return device, model
    return device, copy.deepcopy(model).to(device)


def device_label(device: torch.device) -> str:
    """How the device is named to a person: "CPU", "CUDA: <the GPU's name>" or "MPS (Apple GPU)"."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "MPS (Apple GPU)"
    return "CPU"


def training_device_line(tc: TrainConfig) -> str:
    """One line saying where a run of `tc` trains and how, without measuring anything: "Trains on CUDA: <name>
    (fp32)", or on a CPU its cores, threads and precision, e.g. "Trains on CPU (2 cores; one thread per core idle
    when training starts; bf16)" -- automatic threads are counted when the run starts (auto_threads samples the CPU
    for a quarter of a second), not here. Raises ConfigError if tc.device is not available here."""
    device = pick_device(tc.device)
    precision = "bf16" if uses_bf16(tc, device) else "fp32"
    if device.type != "cpu":
        return f"Trains on {device_label(device)} ({precision})"
    if tc.threads == AUTO_THREADS:
        threads = "one thread per core idle when training starts"
    else:
        n = tc.threads or torch.get_num_threads()
        threads = f"{n} thread{'s' if n != 1 else ''}"
    cores = os.cpu_count() or 1
    return f"Trains on CPU ({cores} core{'s' if cores != 1 else ''}; {threads}; {precision})"


@dataclass
class Progress:
    """What a progress callback sees; `history` holds one dict per finished epoch."""
    epoch: int  # the epoch under way, 1-based
    epochs: int
    step: int  # steps done in this epoch
    steps: int  # steps per epoch
    history: list[dict]
    _sums: torch.Tensor | None = None  # running (loss, reconstruction, kl) sums; read lazily (host sync)
    _seen: int = 0
    film: FilmRecorder | None = None  # the frames so far, when filming (a live view draws film.latest_means())

    @property
    def fraction(self) -> float:
        return ((self.epoch - 1) * self.steps + self.step) / (self.epochs * self.steps)

    @property
    def running_loss(self) -> float:
        """Mean train -ELBO of this epoch so far (nats/image)."""
        return float(self._sums[0]) / max(self._seen, 1) if self._sums is not None else math.nan


@dataclass
class TrainResult:
    model: VAE
    # per epoch: train/test loss (-ELBO), reconstruction and kl (nats/image), test_images (how many test digits the
    # test figures are on: TrainConfig.eval_subset), lr, seconds
    history: list[dict]
    snapshots: dict = field(default_factory=dict)  # the training film (film.py's layout), or {}
    device: str = "cpu"
    seconds: float = 0.0


@torch.no_grad()
def evaluate_loss(model: VAE, images: torch.Tensor, batch_size: int | None = None,
                  rows: torch.Tensor | None = None) -> torch.Tensor:
    """Mean (-ELBO, reconstruction, KL) over images, one z sample each, as a 3-tensor (no host sync).
    Chunks of `batch_size` images, by default as many as fit the activation budget (limits.chunk_size); the
    result does not depend on the chunking (the noise is drawn up front, see analysis.elbo_by_chunk).
    rows: score only these images (indices into `images`). Their noise is still drawn for every image and the rows'
    taken, so torch's global generator advances as a whole evaluation's does, and a training's later steps -- hence
    its model -- do not depend on how much of the test set its intermediate evaluations scored."""
    was_training = model.training
    model.eval()
    noise = None
    if rows is not None:
        noise = torch.randn(len(images), model.config.latent_dim, device=images.device, dtype=images.dtype)[rows]
        images = images[rows]
    sums = torch.zeros(3, device=images.device)
    for loss, rec, kl in elbo_by_chunk(model, images, batch_size, noise):
        sums += torch.stack([loss.sum(), rec.sum(), kl.sum()])
    model.train(was_training)
    return sums / len(images)


def evaluation_rows(tc: TrainConfig, n_test: int) -> torch.Tensor | None:
    """The test digits (sorted indices into the run's test set) every epoch but the last is scored on, or None for
    the whole set: a sample of tc.eval_subset drawn with the run's seed -- the digits the film shows when
    eval_subset equals snapshot_size (the film draws its sample first from a generator seeded the same)."""
    if not tc.eval_subset or tc.eval_subset >= n_test:
        return None
    return torch.randperm(n_test, generator=torch.Generator().manual_seed(tc.seed))[: tc.eval_subset].sort().values


@dataclass
class _Budget:
    """The wall-clock limit of one run; `check` costs one clock read, so it runs every step."""
    minutes: float
    start: float = field(default_factory=time.perf_counter)

    def check(self, fraction: float, where: str) -> None:
        elapsed = time.perf_counter() - self.start
        if elapsed <= self.minutes * 60:
            return
        needed = math.ceil(elapsed / max(fraction, 1e-3) / 60 * 1.1)  # at this pace, plus a tenth
        raise TrainingTimeout(
            f"training stopped at its time budget of {self.minutes:g} min ({BUDGET_ENV}): after {elapsed / 60:.1f} min "
            f"it was {where}, {fraction:.0%} of the run; nothing was saved. To allow a longer run, set {BUDGET_ENV} "
            f"(e.g. {BUDGET_ENV}={needed} for this one) or train fewer epochs or images")


def make_optimizer(model: VAE, tc: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """Adam, or with tc.weight_decay AdamW decaying only the decoder's weight matrices (not its biases, not the
    encoder). Fused: ~15% less time per epoch on this 2-core CPU than the default per-tensor loop."""
    fused = device.type in ("cpu", "cuda")
    if not tc.weight_decay:
        return torch.optim.Adam(model.parameters(), lr=tc.lr, fused=fused)
    decayed = {id(p) for p in model.decoder.parameters() if p.ndim > 1}
    groups = [{"params": [p for p in model.parameters() if id(p) in decayed], "weight_decay": tc.weight_decay},
              {"params": [p for p in model.parameters() if id(p) not in decayed], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=tc.lr, fused=fused)


def lr_scheduler(optimizer: torch.optim.Optimizer, tc: TrainConfig, total_steps: int):
    """The per-step scheduler tc.lr_schedule names, or None for a constant lr."""
    if tc.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps, eta_min=tc.lr * 0.01)
    if tc.lr_schedule == "onecycle":
        # Adam's beta1 stays at 0.9 (cycle_momentum off): only the learning rate follows the cycle. One step more
        # than the run takes: the trainer steps the scheduler after every optimiser step, the last one included,
        # and past its end OneCycleLR's cosine would climb again
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=tc.lr, total_steps=total_steps + 1,
                                                   pct_start=tc.warmup, cycle_momentum=False)
    return None


def auto_threads(window: float = 0.25) -> int:
    """One thread per core left idle, at least one. Two threads on this 2-core machine train 1.6x faster than one
    when it is idle and 2.6x slower with one other process keeping a core busy (docs/training-speed.md): OpenMP's
    threads wait for each other at every barrier of a millisecond-long step. Idle cores are read from the kernel's CPU
    counters over `window` seconds (Linux), this process's own use counted as idle; else from the 1-minute load
    average, which trails the last minute's work."""
    cores = os.cpu_count() or 1
    idle = _idle_cores(cores, window)
    return max(1, min(cores, int(idle + 0.25)))


def _idle_cores(cores: int, window: float) -> float:
    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat") as f:
            counters = [int(v) for v in f.readline().split()[1:]]
        return counters[3] + counters[4], sum(counters[:8])  # idle + iowait; user..steal (guest is inside user)

    try:
        idle0, total0 = idle_and_total()
        own0, clock0 = time.process_time(), time.perf_counter()
        time.sleep(window)
        idle1, total1 = idle_and_total()
        # this process's own threads count as idle: OpenMP's workers spin for a while after the last torch call
        own = (time.process_time() - own0) / max(time.perf_counter() - clock0, 1e-3)
        return min(cores, cores * (idle1 - idle0) / max(total1 - total0, 1) + own)
    except (OSError, ValueError, IndexError):  # not Linux
        pass
    try:
        return cores - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average either (Windows): the safe choice under contention
        return 1.0


SLOWDOWN = 3.0  # steps this many times slower than the run's fastest, two windows running: back to one thread


class ThreadFallback:
    """A run on automatic threads (AUTO_THREADS) that chose more than one drops to one thread when its steps slow
    down SLOWDOWN-fold for two windows of steps running: another process took a core after the run started, and
    OpenMP's threads then wait for each other at every barrier of a millisecond-long step, where one thread would
    only share its core (docs/training-speed.md has the measurements). Two windows, so a single stall (a frame of the
    film, the machine's hiccup) does not cost the rest of the run its second thread."""

    def __init__(self, active: bool, clock: Callable[[], float] = time.perf_counter):
        self.active = active and torch.get_num_threads() > 1
        self.clock, self.best, self.slow_windows = clock, math.inf, 0
        self.start, self.steps = clock(), 0

    def restart(self) -> None:
        """A new window from now: after each window, once the caller's own work is done (a progress report, the
        evaluation between epochs), so that only steps are timed."""
        self.start, self.steps = self.clock(), 0

    def stepped(self, steps: int) -> bool:
        """After `steps` more steps (at a host sync); True when it has just dropped to one thread."""
        if not self.active:
            return False
        per_step = (self.clock() - self.start) / max(steps, 1)
        self.best = min(self.best, per_step)
        self.slow_windows = self.slow_windows + 1 if per_step > SLOWDOWN * self.best else 0
        if self.slow_windows < 2:
            return False
        torch.set_num_threads(1)  # train()'s cpu_threads restores the process's setting when the run ends
        self.active = False
        return True


def bf16_native(device: torch.device) -> bool:
    """True where bfloat16 matrix products run natively: a CPU with AVX512-BF16 or AMX, a CUDA GPU that supports
    bf16. Elsewhere autocast emulates bf16 and a step gets slower, not faster."""
    if device.type == "cpu":
        return any(getattr(torch.cpu, f"_is_{name}_supported", lambda: False)() for name in ("avx512_bf16", "amx_tile"))
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def uses_bf16(tc: TrainConfig, device: torch.device) -> bool:
    """Whether a run of `tc` on `device` trains under bfloat16 autocast: "bf16" always, "auto" on a CPU computing it
    natively (GPU runs stay fp32 under "auto": the 0.2-nat check of mixed precision has only been run on a CPU)."""
    return tc.precision == "bf16" or (tc.precision == "auto" and device.type == "cpu" and bf16_native(device))


@contextmanager
def cpu_threads(threads: int):
    """torch's intra-op thread count set to `threads` inside the block (0 = unchanged, AUTO_THREADS = auto_threads()),
    restored after it: the setting is process-wide, and the app and benchmarks run other work in the same process."""
    before = torch.get_num_threads()
    if threads == AUTO_THREADS:
        threads = auto_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads:
            torch.set_num_threads(before)


def train(model_config: ModelConfig, train_config: TrainConfig,
          data: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
          progress: Callable[[Progress], bool | None] | None = None,
          progress_every: int = 20, show_bar: bool = True) -> TrainResult:
    """Train a VAE. data = (train_images, test_images, test_labels) or None to read MNIST from VAE_DATA_DIR.

    `progress` is called every `progress_every` steps and after each epoch; returning False cancels
    (TrainingCancelled). A NaN/inf loss raises TrainingDiverged. A run longer than VAE_MAX_TRAIN_MINUTES
    (`max_train_minutes()`, read here; data loading counts) raises TrainingTimeout at the step or evaluation that
    crosses it. Limits that need both configs (`run_problems`) and an unavailable device raise ConfigError.
    Nothing is written to disk here. Each history row names the device it ran on ("device"), so a saved checkpoint
    records it; train_config.threads sets torch's CPU threads for the run only.
    """
    with cpu_threads(train_config.threads):
        return _train(model_config, train_config, data, progress, progress_every, show_bar)


def _train(model_config: ModelConfig, tc: TrainConfig, data, progress, progress_every: int,
           show_bar: bool) -> TrainResult:
    budget = _Budget(max_train_minutes())
    problems = run_problems(model_config, tc)
    if problems:
        raise ConfigError(problems)
    device = pick_device(tc.device)
    torch.manual_seed(tc.seed)
    if data is None:
        train_x, _ = load_mnist("train", limit=tc.train_subset, device=device)
        test_x, test_y = load_mnist("test", limit=tc.test_subset, device=device)
    else:
        train_x, test_x, test_y = (t.to(device) for t in data)
        if tc.train_subset:
            train_x = train_x[: tc.train_subset]
        if tc.test_subset:
            test_x, test_y = test_x[: tc.test_subset], test_y[: tc.test_subset]
    model = VAE(model_config).to(device)
    seen_upright = None if tc.binarize else stood_upright(model, train_x)  # once for all epochs
    if tc.data_bias:
        _start_at_mean_image(model, train_x, None if seen_upright is None else seen_upright[1])
    bf16 = uses_bf16(tc, device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    optimizer = make_optimizer(model, tc, device)
    steps = math.ceil(len(train_x) / tc.batch_size)
    scheduler = lr_scheduler(optimizer, tc, tc.epochs * steps)
    generator = torch.Generator().manual_seed(tc.seed)

    film = None
    if tc.snapshot_size:
        idx = torch.randperm(len(test_x), generator=generator)[: tc.snapshot_size].sort().values
        film = FilmRecorder(test_x[idx.to(device)], test_y[idx.to(device)], idx, steps, tc.epochs)
        film.record(model, 0)

    eval_rows = evaluation_rows(tc, len(test_x))
    if eval_rows is not None:
        eval_rows = eval_rows.to(device)
    history: list[dict] = []
    fallback = ThreadFallback(tc.threads == AUTO_THREADS and device.type == "cpu")
    start = time.perf_counter()
    bar = tqdm(total=tc.epochs * steps, desc="training", unit="step", disable=not show_bar, leave=False)
    try:
        for epoch in range(1, tc.epochs + 1):
            epoch_start = time.perf_counter()
            model.train()
            sums = torch.zeros(3, device=device)
            order = torch.randperm(len(train_x), generator=generator).to(device)
            fallback.restart()
            last_sync = 0
            for step, idx in enumerate(order.split(tc.batch_size), start=1):
                x = torch.bernoulli(train_x[idx]) if tc.binarize else train_x[idx]
                with autocast:
                    logits, mu, logvar = model(x, *([] if seen_upright is None else [t[idx] for t in seen_upright]))
                loss, rec, kl = negative_elbo(logits.float(), x, mu.float(), logvar.float(), tc.beta)
                optimizer.zero_grad(set_to_none=True)
                loss.mean().backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                # accumulate on the device: no host sync per step
                sums += torch.stack([(rec + kl).sum(), rec.sum(), kl.sum()]).detach()
                bar.update()
                if film is not None and epoch == 1 and step < steps and film.wants(step):
                    film.record(model, step)
                budget.check(((epoch - 1) * steps + step) / (tc.epochs * steps),
                             f"in epoch {epoch} of {tc.epochs}, step {step} of {steps}")
                if step % progress_every == 0 or step == steps:
                    seen = min(step * tc.batch_size, len(train_x))
                    if not torch.isfinite(sums).all():  # one sync every progress_every steps
                        raise TrainingDiverged(f"the loss became NaN or infinite in epoch {epoch}, step {step} "
                                               f"(try a lower learning rate than {tc.lr:g}); nothing was saved")
                    fallback.stepped(step - last_sync)  # timed here: the sync has waited for the steps
                    last_sync = step
                    if progress is not None and step != steps and progress(
                            Progress(epoch, tc.epochs, step, steps, history, sums, seen, film)) is False:
                        raise TrainingCancelled(f"training cancelled in epoch {epoch}, step {step}")
                    fallback.restart()
            train_stats = (sums / len(train_x)).tolist()
            sample = None if epoch == tc.epochs else eval_rows  # the last epoch: always the whole test set
            test_stats = evaluate_loss(model, test_x, rows=sample).tolist()
            if not all(map(math.isfinite, test_stats)):
                raise TrainingDiverged(f"the test loss became NaN or infinite after epoch {epoch}; nothing was saved")
            budget.check(epoch / tc.epochs, f"evaluating epoch {epoch} of {tc.epochs}")
            history.append({
                "epoch": epoch,
                "train_loss": train_stats[0], "train_reconstruction": train_stats[1], "train_kl": train_stats[2],
                "test_loss": test_stats[0], "test_reconstruction": test_stats[1], "test_kl": test_stats[2],
                "test_images": len(test_x) if sample is None else len(sample),
                "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - epoch_start,
                "device": str(device), "precision": "bf16" if bf16 else "fp32", "threads": torch.get_num_threads(),
            })
            bar.set_postfix(epoch=epoch, test_loss=f"{test_stats[0]:.2f}")
            if film is not None:
                film.record(model, epoch * steps)
            if progress is not None and progress(
                    Progress(epoch, tc.epochs, steps, steps, history, sums, len(train_x), film)) is False:
                raise TrainingCancelled(f"training cancelled after epoch {epoch}")
    finally:
        bar.close()
    model.eval()
    return TrainResult(model.cpu(), history, film.result() if film else {}, str(device), time.perf_counter() - start)


@torch.no_grad()
def stood_upright(model: VAE, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A deskewing model's training images' slants and upright forms, made once for all epochs rather than at every
    step (None for a model that does not deskew). In chunks, so the gather's indices stay small."""
    if not model.config.deskew:
        return None
    slants, upright = torch.empty(len(images), device=images.device), torch.empty_like(images)
    for start in range(0, len(images), UPRIGHT_CHUNK):
        rows = slice(start, start + UPRIGHT_CHUNK)
        slants[rows] = model.slant(images[rows])
        upright[rows] = model.upright(images[rows], slants[rows])
    return slants, upright


UPRIGHT_CHUNK = 4096  # images stood upright at once: the shear's temporaries stay at a few tens of MB
MEAN_UPRIGHT_IMAGES = 10_000  # a deskewing model's starting bias, when its run has no upright set: as good a mean


@torch.no_grad()
def _start_at_mean_image(model: VAE, train_x: torch.Tensor, upright: torch.Tensor | None = None) -> None:
    """Set the decoder's last bias to the logit of the mean training image (pixels clamped to [1e-3, 1 - 1e-3]); of
    the images stood upright when the model deskews, as its decoder draws them (`upright`, the run's set, else the
    first MEAN_UPRIGHT_IMAGES stood upright here)."""
    x = train_x
    if model.config.deskew:
        x = upright if upright is not None else stood_upright(model, train_x[:MEAN_UPRIGHT_IMAGES])[1]
    mean = x.float().mean(dim=0).clamp(1e-3, 1 - 1e-3)
    last = [m for m in model.decoder.modules() if isinstance(m, (torch.nn.Linear, torch.nn.ConvTranspose2d))][-1]
    if isinstance(last, torch.nn.Linear):
        last.bias.copy_(torch.logit(mean))
    else:  # one output channel: one bias, the logit of the mean pixel
        last.bias.fill_(torch.logit(mean.mean()).item())


ESTIMATE_BATCH = 128  # images per probe step: every estimate times a few steps this size first
# a step the probe predicts at most RETIME_STEP_SECONDS long is timed again at the run's own batch size: small batches
# cost more per image than large ones (a fixed overhead per step), so scaling the probe overestimates a run of large
# batches of a small model (the Quick preset's by 60-80 %, more under a room's load); slower steps are scaled from the
# probe, which bounds the estimate's own time for the largest allowed models (seconds per image at 128 and 4096 differ
# by < 10 % for those)
RETIME_STEP_SECONDS = 0.1
ESTIMATE_STEP_SECONDS = 0.05
# evaluation and the film are timed on as many images as one ESTIMATE_STEP_SECONDS step trains (at least the probe's),
# up to the largest set the run scores, and scaled to each set's size


def _seconds_per_call(fn: Callable[[], object], device: torch.device, warmup: int, repeats: int,
                      max_seconds: float = 0.4) -> float:
    """Median wall time of fn() after warm-up calls; stops early once max_seconds were spent (slow models)."""
    def sync() -> None:  # GPU work is queued: wait for it, or the clock reads only the queueing
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elif device.type == "mps":
            torch.mps.synchronize()

    spent = 0.0
    for _ in range(warmup):
        t = time.perf_counter()
        fn()
        sync()
        spent += time.perf_counter() - t
        if spent > max_seconds / 2:  # one warm-up is enough when a call takes this long
            break
    times: list[float] = []
    while len(times) < repeats and (not times or sum(times) < max_seconds):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def estimate_training_seconds(model_config: ModelConfig, train_config: TrainConfig, n_train: int | None = None) -> float:
    """Seconds `train(model_config, train_config)` should take on this machine: the sum of training_time_parts."""
    return sum(training_time_parts(model_config, train_config, n_train).values())


def training_time_parts(model_config: ModelConfig, train_config: TrainConfig,
                        n_train: int | None = None) -> dict[str, float]:
    """Seconds a run of these configs should spend in its optimiser steps ("steps"), its test evaluations
    ("evaluation") and its film ("film"), from timing what the run does with this model on random images on the
    configured device, on train_config.threads CPU threads as the run uses: optimiser steps (with the run's scheduler
    and loss bookkeeping) at the run's batch size when a step is short (RETIME_STEP_SECONDS), else at
    ESTIMATE_BATCH images scaled to it; the test evaluation after every epoch as train_config.eval_subset says (a
    sample between epochs, the whole test set after the last); one film frame (its means and decoded grid) times the
    frames `frame_steps` takes, when snapshot_size is set. Data loading and thread sampling are not counted (a few
    tenths of a second). n_train: training images (default: train_subset, else all 60,000). Leaves torch's random
    state and thread count as they were. Takes ~0.5 s for the default model and the Quick preset here, ~1.5 s for the
    slowest allowed."""
    tc = train_config
    n_train = n_train or min(tc.train_subset or MNIST_TRAIN, MNIST_TRAIN)
    n_test = min(tc.test_subset or MNIST_TEST, MNIST_TEST)
    n_between = n_test if not tc.eval_subset else min(tc.eval_subset, n_test)  # images scored after epochs 1..E-1
    n_film = min(tc.snapshot_size, n_test)  # the film shows test digits
    steps = math.ceil(n_train / tc.batch_size)
    device = pick_device(tc.device)
    with torch.random.fork_rng(devices=[]), cpu_threads(tc.threads):
        model = VAE(model_config).to(device)
        optimizer = make_optimizer(model, tc, device)
        scheduler = lr_scheduler(optimizer, tc, tc.epochs * steps)
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(tc, device))
        sums = torch.zeros(3, device=device)

        def step(x: torch.Tensor, upright: tuple | None) -> None:  # the training loop's step, as train() runs it
            nonlocal sums
            with autocast:
                logits, mu, logvar = model(x, *(upright or ()))
            loss, rec, kl = negative_elbo(logits.float(), x, mu.float(), logvar.float(), tc.beta)
            optimizer.zero_grad(set_to_none=True)
            loss.mean().backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            sums += torch.stack([(rec + kl).sum(), rec.sum(), kl.sum()]).detach()

        probe = min(tc.batch_size, ESTIMATE_BATCH)
        x = torch.rand(probe, model_config.n_pixels, device=device)
        upright = None if tc.binarize else stood_upright(model, x)
        per_image = _seconds_per_call(lambda: step(x, upright), device, warmup=2, repeats=3) / probe
        if tc.threads == AUTO_THREADS and device.type == "cpu" and torch.get_num_threads() > 1:
            # on a busy machine the run falls back to one thread (ThreadFallback), where its OpenMP threads would
            # wait for each other: time one thread too, and go on with the faster
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            single = _seconds_per_call(lambda: step(x, upright), device, warmup=1, repeats=3) / probe
            if single < per_image:
                per_image = single
            else:
                torch.set_num_threads(threads)
        if tc.batch_size > probe and per_image * tc.batch_size <= RETIME_STEP_SECONDS:
            x = torch.rand(tc.batch_size, model_config.n_pixels, device=device)
            upright = None if tc.binarize else stood_upright(model, x)
            # a new shape: oneDNN builds its kernels in the first calls, so more warm-up; these steps are short, so
            # the median of more of them (up to 0.4 s) steadies the figure against the scheduler's hiccups
            per_image = _seconds_per_call(lambda: step(x, upright), device, warmup=4, repeats=15) / tc.batch_size
        step_seconds = per_image * tc.batch_size

        timed = min(max(probe, int(ESTIMATE_STEP_SECONDS / max(per_image, 1e-9))), n_test)
        images = torch.rand(timed, model_config.n_pixels, device=device)
        eval_seconds = _seconds_per_call(lambda: evaluate_loss(model, images), device, warmup=1, repeats=2,
                                         max_seconds=0.2) / timed
        film_seconds = 0.0
        if n_film:
            shown = min(timed, n_film)
            # a frame costs less than scoring its digits and the grid's 144: when that is long (the largest models),
            # one call each, which bounds the estimate's own time; else a warm-up and the median of two
            quick = eval_seconds * (shown + 144) <= ESTIMATE_STEP_SECONDS

            def frame_seconds(n: int) -> float:  # one frame of a film of n digits: their means and the grid
                film = FilmRecorder(images[:n], torch.zeros(n, dtype=torch.int64), torch.arange(n), steps, tc.epochs)
                return _seconds_per_call(lambda: film.record(model, 0), device, warmup=1 if quick else 0,
                                         repeats=2 if quick else 1, max_seconds=0.1)

            grid = frame_seconds(1)  # the decoded grid and its compression: the same whatever the digits filmed
            encode = max(frame_seconds(shown) - grid, 0.0) * n_film / shown
            film_seconds = frame_count(tc.epochs, steps) * (grid + encode)
    return {"steps": tc.epochs * steps * step_seconds,
            "evaluation": ((tc.epochs - 1) * n_between + n_test) * eval_seconds, "film": film_seconds}
