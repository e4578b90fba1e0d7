"""What deskewing costs a training step, and why `vae_core.slant.shear` is its own code rather than torch's
`affine_grid` + `grid_sample`: milliseconds per call at the Quick preset's batch of 384 real training digits, for the
shear alone (forward; forward and backward, as the decoder's slanted-back logits need) and for one optimiser step of
the Quick preset's model with and without `ModelConfig.deskew` (its images stood upright once, as `vc.train` does, or
at every step). Medians of --repeats calls, the variants taken in turn --rounds times so the machine's moods hit all.
Run: VAE_DATA_DIR=../shared/data python bench/shear_cost.py --threads 1 2
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing
import vae_core as vc  # noqa: E402
from vae_core.model import negative_elbo  # noqa: E402
from vae_core.slant import shear, slant  # noqa: E402
from vae_core.train import stood_upright, uses_bf16  # noqa: E402

BATCH = 384


def grid_sample_shear(images: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The same shear by torch's general resampler."""
    n = len(images)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = 1, alpha, 1
    grid = F.affine_grid(theta, [n, 1, 28, 28], align_corners=False)
    return F.grid_sample(images.reshape(n, 1, 28, 28), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).reshape(n, -1)


def backward_too(fn: Callable, x: torch.Tensor, alpha: torch.Tensor) -> Callable[[], None]:
    leaf = x.clone().requires_grad_()
    return lambda: fn(leaf, alpha).sum().backward()


def step_of(deskew: bool, once: bool, x: torch.Tensor) -> Callable[[], None]:
    """One optimiser step of the Quick preset's model as vc.train takes it (bf16 autocast where the CPU has it)."""
    torch.manual_seed(0)
    preset = vc.PRESETS["quick"]
    model = vc.VAE(replace(preset.model_config, deskew=deskew))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16,
                              enabled=uses_bf16(preset.train_config, torch.device("cpu")))
    upright = stood_upright(model, x) if once else None

    def step() -> None:
        with autocast:
            logits, mu, logvar = model(x, *(upright or ()))
        loss, _, _ = negative_elbo(logits.float(), x, mu.float(), logvar.float(), 0.5)
        optimizer.zero_grad(set_to_none=True)
        loss.mean().backward()
        optimizer.step()
    return step


def median_ms(fn: Callable[[], None], repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=40)
    args = p.parse_args()
    x = vc.load_mnist("train", limit=BATCH)[0].reshape(BATCH, -1).float()
    alpha = slant(x)
    variants = {
        "grid_sample shear, forward": lambda: grid_sample_shear(x, alpha),
        "slant.shear, forward": lambda: shear(x, alpha),
        "grid_sample shear, forward + backward": backward_too(grid_sample_shear, x, alpha),
        "slant.shear, forward + backward": backward_too(shear, x, alpha),
        "slant of 384 digits": lambda: slant(x),
        "step, no deskew": step_of(False, False, x),
        "step, deskew, upright once a run": step_of(True, True, x),
        "step, deskew, upright every step": step_of(True, False, x),
    }
    print(f"torch {torch.__version__}, batch {BATCH} real training digits, median of {args.repeats} calls, "
          f"{args.rounds} rounds (ms)")
    for threads in args.threads:
        torch.set_num_threads(threads)
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, fn in variants.items():
                results[name].append(median_ms(fn, args.repeats))
        for name, values in results.items():
            print(f"{threads} thread{'s' if threads > 1 else ' '}  {name:40s} "
                  + "  ".join(f"{v:6.2f}" for v in values))


if __name__ == "__main__":
    main()
