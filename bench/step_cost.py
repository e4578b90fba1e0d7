"""Seconds one epoch of optimiser steps (60,000 images) costs vae_core's 784-400-400-2 MLP VAE, by batch size and
torch thread count, on random images (no data loading, no evaluation): the per-step levers of bench/train_speed.py
measured alone. Runs the thread counts alternately, --rounds times, so contention hits both alike.
Run: python bench/step_cost.py --threads 1 2 --batch-sizes 100 128 256 512 1024 --rounds 2
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing
import vae_core as vc  # noqa: E402
from vae_core.model import negative_elbo  # noqa: E402
from vae_core.train import cpu_threads  # noqa: E402


def epoch_seconds(batch_size: int, fused: bool, images: int = 6000) -> float:
    """Seconds per 60,000 images of training steps, timed over `images` images after 3 warm-up steps."""
    torch.manual_seed(0)
    model = vc.VAE(vc.ModelConfig(hidden=(400, 400)))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    x = torch.rand(batch_size, 784)

    def step() -> None:
        logits, mu, logvar = model(x)
        loss, _, _ = negative_elbo(logits, x, mu, logvar)
        optimizer.zero_grad(set_to_none=True)
        loss.mean().backward()
        optimizer.step()

    for _ in range(3):
        step()
    n = max(3, images // batch_size)
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / (n * batch_size) * 60_000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 128, 256, 512, 1024])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--unfused", action="store_true", help="also time the per-tensor Adam loop")
    args = p.parse_args()
    print(f"torch {torch.__version__}; seconds per 60,000-image epoch of steps")
    for round_ in range(1, args.rounds + 1):
        for threads in args.threads:
            with cpu_threads(threads):
                for fused in (True, False) if args.unfused else (True,):
                    cells = "  ".join(f"b{b}: {epoch_seconds(b, fused):6.1f}" for b in args.batch_sizes)
                    print(f"round {round_}, {threads} thread(s), {'fused' if fused else 'per-tensor'} Adam: {cells}",
                          flush=True)


if __name__ == "__main__":
    main()
