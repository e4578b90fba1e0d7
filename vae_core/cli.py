"""Command line: `python -m vae_core train|evaluate|download|anomalies|repair`."""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from . import reports
from .analysis import encodings_to_store, fit_pca
from .checkpoint import CheckpointError, CheckpointExistsError, load_checkpoint, save_checkpoint
from .config import (
    ACTIVATIONS,
    ARCHITECTURES,
    AUTO_THREADS,
    LR_SCHEDULES,
    PRECISIONS,
    ConfigError,
    ModelConfig,
    TrainConfig,
    run_problems,
)
from .data import MnistNotFoundError, download_mnist, load_mnist
from .file_lock import FolderBusyError, training_lock
from .metrics import BINARIZE_SEED, binarized_figures, evaluate_model
from .presets import PRESET_FILM_DIGITS, PRESETS
from .settings import BUDGET_ENV, DEFAULT_CHECKPOINT, max_train_minutes
from .train import (
    MNIST_TEST,
    TrainingCancelled,
    TrainingDiverged,
    device_problem,
    estimate_training_seconds,
    on_compute_device,
    train,
    training_device_line,
)

# `train`'s base settings when no --preset is named: the configs' defaults, filmed as the app's form films every run
BASE_MODEL = ModelConfig()
BASE_TRAIN = TrainConfig(snapshot_size=PRESET_FILM_DIGITS)
# `train`'s flags that set one field of a config: (flag's dest, config field). Their argparse default is None, so a
# flag the user gave is told from one left out: given ones replace the field of the base (or the preset) settings
MODEL_FLAGS = (("arch", "arch"), ("hidden", "hidden"), ("latent_dim", "latent_dim"), ("activation", "activation"),
               ("deskew", "deskew"))
TRAIN_FLAGS = (("epochs", "epochs"), ("batch_size", "batch_size"), ("lr", "lr"), ("lr_schedule", "lr_schedule"),
               ("warmup", "warmup"), ("beta", "beta"), ("binarize", "binarize"), ("seed", "seed"),
               ("device", "device"), ("threads", "threads"), ("precision", "precision"),
               ("zero_bias", "data_bias"), ("train_subset", "train_subset"), ("snapshot_size", "snapshot_size"),
               ("eval_subset", "eval_subset"), ("weight_decay", "weight_decay"))


def _default(field: str, config=BASE_TRAIN) -> str:
    """'default X; quick: Y' for a help text: the base value of a field, and each preset's where it differs."""
    def shown(value) -> str:
        return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)

    value = getattr(config, field)
    parts = [f"default {shown(value)}"]
    for name, preset in PRESETS.items():
        theirs = getattr(preset.train_config if isinstance(config, TrainConfig) else preset.model_config, field)
        if theirs != value:
            parts.append(f"{name}: {shown(theirs)}")
    return "; ".join(parts)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vae_core", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a VAE on MNIST and save a checkpoint",
                       description="Train a VAE on MNIST and save a checkpoint. Every setting has a default, or the "
                                   "named --preset's value; a flag given replaces that one setting.")
    t.add_argument("--preset", choices=tuple(PRESETS), default=None,
                   help="start from a named preset's model and training settings, as the app's sidebar form "
                        "offers them; the other flags given replace single settings. "
                        + " ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items()))
    t.add_argument("--epochs", type=int, help=f"passes over the training set ({_default('epochs')})")
    t.add_argument("--batch-size", type=int, help=f"images per optimiser step ({_default('batch_size')})")
    t.add_argument("--lr", type=float, help=f"Adam's learning rate, the peak of a schedule ({_default('lr')})")
    t.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help="constant; cosine: decays to 1%% of --lr; onecycle: warms up to --lr over --warmup of the "
                        f"steps, then anneals to ~0 ({_default('lr_schedule')})")
    t.add_argument("--warmup", type=float,
                   help=f"onecycle only: the share of the steps spent warming up, in (0, 1) ({_default('warmup')})")
    t.add_argument("--beta", type=float, help=f"weight on the KL term, 1 = the true ELBO ({_default('beta')})")
    t.add_argument("--arch", choices=ARCHITECTURES, help=f"model architecture ({_default('arch', BASE_MODEL)})")
    t.add_argument("--hidden", type=int, nargs="+",
                   help=f"mlp: layer widths; conv: two channel counts ({_default('hidden', BASE_MODEL)})")
    t.add_argument("--latent-dim", type=int, help=f"size of z ({_default('latent_dim', BASE_MODEL)})")
    t.add_argument("--activation", choices=ACTIVATIONS,
                   help=f"after every hidden layer ({_default('activation', BASE_MODEL)})")
    t.add_argument("--deskew", action=argparse.BooleanOptionalAction, default=None,
                   help="encode each digit upright and draw the decoded digit slanted back like the input "
                        f"(ModelConfig.deskew; {_default('deskew', BASE_MODEL)})")
    t.add_argument("--binarize", action="store_true", default=None,
                   help="dynamically binarise the training images (regulariser)")
    t.add_argument("--seed", type=int, help=f"seeds init, shuffling and sampling ({_default('seed')})")
    t.add_argument("--device", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (default auto); the "
                                    "evaluation after training runs on the same device")
    t.add_argument("--threads", type=int,
                   help=f"CPU threads torch trains with: {AUTO_THREADS} = automatic, one per idle core counted when "
                        f"training starts (at least one); 0 = torch's own setting ({_default('threads')})")
    t.add_argument("--precision", choices=PRECISIONS,
                   help="fp32; bf16: forward and backward under bfloat16 autocast (evaluation and the saved weights "
                        f"stay fp32); auto: bf16 on a CPU that computes it natively, else fp32 ({_default('precision')})")
    t.add_argument("--zero-bias", dest="zero_bias", action="store_const", const=False, default=None,
                   help="leave the decoder's output bias at PyTorch's initialisation, near zero, instead of starting "
                        "it at the logit of the mean training image (TrainConfig.data_bias off)")
    t.add_argument("--weight-decay", type=float,
                   help="decoupled weight decay (AdamW) on the decoder's weight matrices, a regulariser "
                        f"({_default('weight_decay')}: plain Adam)")
    t.add_argument("--train-subset", type=int, help="train on the first N images only (default 0 = all 60,000)")
    t.add_argument("--snapshot-size", type=int,
                   help=f"test digits filmed as it trains, 0 = no film ({_default('snapshot_size')})")
    t.add_argument("--eval-subset", type=int,
                   help="score every epoch but the last on this many fixed test digits, 0 = the whole test set every "
                        f"epoch; the last epoch is always scored on the whole set ({_default('eval_subset')})")
    t.add_argument("--iwae-k", type=int, default=0, help="also store an IWAE estimate with k samples")
    t.add_argument("--out", required=True, help="checkpoint path to write (atomically), ending in .pt")
    t.add_argument("--force", action="store_true", help="replace --out if it exists (never done without this flag)")
    e = sub.add_parser("evaluate", help="print test -ELBO, IWAE, 5-NN accuracy and trustworthiness (VAE vs PCA)")
    e.add_argument("path")
    e.add_argument("--iwae-k", type=int, default=1000)
    e.add_argument("--trust-points", type=int, default=5000, help="test digits used for trustworthiness")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.add_argument("--device", default="auto", help="where the model is scored: auto (cuda, then mps, then cpu), cpu, "
                                                    "cuda, cuda:N or mps")
    e.add_argument("--binarized", action="store_true",
                   help=f"also -ELBO and IWAE on dynamically binarised test digits, b ~ Bernoulli(pixel) drawn once "
                        f"with numpy seed {BINARIZE_SEED}: the protocol of the published MNIST likelihoods")
    d = sub.add_parser("download", help="fetch MNIST into VAE_DATA_DIR (needs internet access)")
    d.add_argument("--root", default=None)
    reports.add_parsers(sub)  # anomalies, repair
    return p


def _evaluate(model, iwae_k: int, trust_points: int, device: str = "auto") -> tuple[dict, dict, dict]:
    """(the metrics, the PCA baseline they compare against, the test digits' encodings to store), computed on
    `device` (a GPU when there is one, on a copy of the model: `on_compute_device`; on a CPU, with `model` itself)."""
    _, model = on_compute_device(model, device)
    train_x, train_y = load_mnist("train")
    test_x, test_y = load_mnist("test")
    pca = fit_pca(train_x.numpy())
    return (evaluate_model(model, train_x, train_y, test_x, test_y, iwae_k=iwae_k, trust_points=trust_points, pca=pca),
            pca, encodings_to_store(model, test_x))


def _print_epoch(p) -> None:
    if p.step == p.steps:  # the end-of-epoch call
        row = p.history[-1]
        sample = f", on {row['test_images']:,} test digits" if row["test_images"] < MNIST_TEST else ""
        tqdm.write(f"epoch {row['epoch']:3d}  train -ELBO {row['train_loss']:7.2f}  test -ELBO {row['test_loss']:7.2f}"
                   f"  (KL {row['test_kl']:.2f}{sample}, {row['seconds']:.1f} s)")


def _report(metrics: dict) -> str:
    lines = [f"test -ELBO        {metrics['test_loss']:8.2f} nats/image  "
             f"(reconstruction {metrics['test_reconstruction']:.2f} + KL {metrics['test_kl']:.2f}, "
             f"{metrics['n_test']} test digits)"]
    if "iwae_nll" in metrics:
        lines.append(f"IWAE -log p(x)    {metrics['iwae_nll']:8.2f} nats/image  (k={metrics['iwae_k']})")
    lines.append(f"{'':18}{'VAE':>8}  {'PCA-2D':>8}")
    for key, label in (("knn_accuracy", "5-NN accuracy"), ("trustworthiness", "trustworthiness")):
        lines.append(f"{label:18}{metrics['vae_' + key]:8.4f}  {metrics['pca_' + key]:8.4f}")
    if "binarized_test_loss" in metrics:
        b = {key.removeprefix("binarized_"): value for key, value in metrics.items() if key.startswith("binarized_")}
        lines.append(f"on binarised test digits (b ~ Bernoulli(pixel), numpy seed {b['seed']}; "
                     "the figures above are on grey levels):")
        lines.append(f"binarised -ELBO   {b['test_loss']:8.2f} nats/image  "
                     f"(reconstruction {b['test_reconstruction']:.2f} + KL {b['test_kl']:.2f})")
        if "iwae_nll" in b:
            lines.append(f"binarised IWAE    {b['iwae_nll']:8.2f} nats/image  (k={b['iwae_k']})")
    return "\n".join(lines)


def _out_problems(out: Path, force: bool) -> list[str]:
    """Why --out cannot be written, checked before training: a .pt file whose folder exists or can be created and
    takes a new file; an existing file is replaced only with --force, the shipped default with its own warning."""
    if out.suffix != ".pt":
        return [f"--out: must be a file path ending in .pt (got {str(out)!r})"]
    if out.is_dir():
        return [f"--out: {out} is a folder; give a file path ending in .pt inside it"]
    if os.path.lexists(out) and not force:
        if out.resolve() == DEFAULT_CHECKPOINT:
            return [f"--out: {out} is the shipped default checkpoint the app starts with; it is not replaced "
                    "without --force (write your model to another file, e.g. checkpoints/mine.pt)"]
        return [f"--out: {out} already exists; pass --force to replace it, or choose another name"]
    folder = out.absolute().parent
    existing = next(p for p in (folder, *folder.parents) if os.path.lexists(p))  # the folder, or where it will be made
    if not existing.is_dir():
        return [f"--out: cannot create the folder {out.parent}: {existing} is a file, not a folder"]
    try:
        with tempfile.TemporaryFile(dir=existing):  # a real write: access() says yes to root and on read-only mounts
            pass
    except OSError as e:
        return [f"--out: cannot write into the folder {existing} ({e.strerror or type(e).__name__})"]
    return []


def _configs(args: argparse.Namespace, built) -> tuple[ModelConfig | None, TrainConfig | None]:
    """The run's configs: the --preset's (or the base ones) with each flag the user gave replacing its field.
    built(make) returns make() or None, keeping the ConfigError's problems (both configs' are listed at once)."""
    preset = PRESETS.get(args.preset)
    model_base, train_base = (preset.model_config, preset.train_config) if preset else (BASE_MODEL, BASE_TRAIN)
    given = lambda flags: {field: getattr(args, dest) for dest, field in flags if getattr(args, dest) is not None}
    model_fields = given(MODEL_FLAGS)
    if "hidden" in model_fields:
        model_fields["hidden"] = tuple(model_fields["hidden"])
    return (built(lambda: replace(model_base, **model_fields)), built(lambda: replace(train_base, **given(TRAIN_FLAGS))))


def _train(args: argparse.Namespace, argv: list[str]) -> None:
    """Check everything that can be checked before training (configs, --device, --out, the time budget) and stop
    with every problem at once; then train, evaluate and save while holding the --out folder's training lock."""
    problems: list[str] = []

    def built(make):
        try:
            return make()
        except ConfigError as e:
            problems.extend(e.problems)

    model_config, train_config = _configs(args, built)
    if model_config and train_config:
        problems += run_problems(model_config, train_config)
    device = args.device if args.device is not None else (train_config or BASE_TRAIN).device
    unavailable = device_problem(device)  # the config checks the spelling; this, that it exists here
    if unavailable and unavailable not in problems:
        problems.append(unavailable)
    if args.iwae_k < 0:
        problems.append(f"--iwae-k: must be 0 (off) or a number of samples (got {args.iwae_k})")
    try:
        minutes = max_train_minutes()
    except ConfigError as e:
        problems += e.problems
    out = Path(args.out)
    problems += _out_problems(out, args.force)
    if problems:
        raise ConfigError(problems)
    with training_lock(out.parent):
        estimate = estimate_training_seconds(model_config, train_config)
        print(f"{training_device_line(train_config)}; estimated {estimate / 60:.1f} min on this machine "
              f"(budget {minutes:g} min, {BUDGET_ENV})", flush=True)
        if estimate > minutes * 60:
            print(f"warning: this run will likely stop at its budget; set {BUDGET_ENV}={math.ceil(estimate / 60 * 1.2)} "
                  "to let it finish", file=sys.stderr, flush=True)
        result = train(model_config, train_config, progress=_print_epoch)
        metrics, pca, test_latents = _evaluate(result.model, args.iwae_k, 5000, result.device)
        command = "python -m vae_core " + shlex.join(argv)
        try:
            path = save_checkpoint(out, result.model, train_config, result.history, metrics, result.snapshots, command,
                                   pca=pca, test_latents=test_latents, overwrite=args.force)
        except CheckpointExistsError:
            raise CheckpointExistsError(f"{out} appeared while training and was left untouched; this run was not "
                                        "saved (pass --force to replace such a file)") from None
    print(_report(metrics))
    print(f"saved {path} after {result.seconds:.0f} s on {result.device}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    try:
        if args.command == "download":
            print(f"MNIST is in {download_mnist(args.root)}")
        elif args.command in ("anomalies", "repair"):
            print(reports.run(args))
        elif args.command == "evaluate":
            ckpt = load_checkpoint(args.path)
            metrics, _, _ = _evaluate(ckpt.model, args.iwae_k, args.trust_points, args.device)
            if args.binarized:
                model = on_compute_device(ckpt.model, args.device)[1]
                metrics.update(binarized_figures(model, load_mnist("test")[0], args.iwae_k))
            print(json.dumps(metrics, indent=2) if args.json else _report(metrics))
        else:
            _train(args, argv)
    except (CheckpointError, MnistNotFoundError, TrainingDiverged, TrainingCancelled, FolderBusyError, ValueError) as e:
        print("error: " + "; ".join(str(e).splitlines()), file=sys.stderr)  # one line, however many problems
        return 2
    return 0
