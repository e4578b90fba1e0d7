"""Wall-clock to reach test -ELBO <= 145 nats: the textbook PyTorch VAE loop vs vae_core.train, same machine.

Textbook: 784-400-400-2 LeakyReLU(0.2) MLP VAE, DataLoader over torchvision MNIST with ToTensor(), batch 100,
Adam 1e-3, sigmoid + BCE (as in pytorch/examples vae/main.py). Ours: vae_core.train on the same architecture,
with its in-memory data and the training recipe in OURS below (batch size, one-cycle schedule, decoder bias started
at the mean image, bf16 autocast where the CPU has it, threads chosen from the load); the textbook loop keeps torch's
defaults. Both evaluate the full test set after every
epoch and stop at the first epoch whose test -ELBO is <= the target; the clock includes data loading and
those evaluations. Run: VAE_DATA_DIR=../shared/data python bench/train_speed.py
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing
import vae_core as vc  # noqa: E402
from vae_core.train import auto_threads, uses_bf16  # noqa: E402

# ours: the recipe the speed ratio is measured with, unfilmed, on the textbook's own architecture (400-400, leaky ReLU):
# the Quick preset's until it moved to a tanh 256-256 model for its 5-NN (docs/training-speed.md: why each lever, and
# what it gained)
OURS = vc.TrainConfig(epochs=12, batch_size=384, lr=6e-3, lr_schedule="onecycle", warmup=0.15, threads=vc.AUTO_THREADS,
                      precision="auto", data_bias=True)


class TextbookVAE(nn.Module):
    def __init__(self):
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.enc = nn.Sequential(nn.Linear(784, 400), act, nn.Linear(400, 400), act)
        self.fc_mu, self.fc_logvar = nn.Linear(400, 2), nn.Linear(400, 2)
        self.dec = nn.Sequential(nn.Linear(2, 400), act, nn.Linear(400, 400), act, nn.Linear(400, 784), nn.Sigmoid())

    def forward(self, x):
        h = self.enc(x.view(-1, 784))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z), mu, logvar


def textbook_loss(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def run_textbook(target: float, max_epochs: int, seed: int) -> tuple[float, int, float]:
    torch.manual_seed(seed)
    start = time.perf_counter()
    root = str(vc.data_dir())
    train = DataLoader(datasets.MNIST(root, train=True, transform=transforms.ToTensor()), batch_size=100, shuffle=True)
    test = DataLoader(datasets.MNIST(root, train=False, transform=transforms.ToTensor()), batch_size=100)
    model = TextbookVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, max_epochs + 1):
        model.train()
        for x, _ in train:
            opt.zero_grad()
            recon, mu, logvar = model(x)
            loss = textbook_loss(recon, x, mu, logvar)
            loss.backward()
            opt.step()
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for x, _ in test:
                recon, mu, logvar = model(x)
                test_loss += textbook_loss(recon, x, mu, logvar).item()
        test_loss /= len(test.dataset)
        print(f"  textbook epoch {epoch:2d}: test -ELBO {test_loss:7.2f}  ({time.perf_counter() - start:6.1f} s)")
        if test_loss <= target:
            return time.perf_counter() - start, epoch, test_loss
    return float("inf"), max_epochs, test_loss


def run_ours(target: float, config: vc.TrainConfig) -> tuple[float, int, float]:
    start = time.perf_counter()
    reached = {}

    def stop_at_target(p: vc.Progress):
        if p.step == p.steps:
            row = p.history[-1]
            print(f"  ours     epoch {row['epoch']:2d}: test -ELBO {row['test_loss']:7.2f}  "
                  f"({time.perf_counter() - start:6.1f} s)")
            if row["test_loss"] <= target:
                reached.update(seconds=time.perf_counter() - start, epoch=row["epoch"], loss=row["test_loss"])
                return False  # stop here
        return None

    try:
        vc.train(vc.ModelConfig(hidden=(400, 400)), config, progress=stop_at_target, show_bar=False)
    except vc.TrainingCancelled:
        return reached["seconds"], reached["epoch"], reached["loss"]
    return float("inf"), config.epochs, float("nan")


def ours_config(args: argparse.Namespace) -> vc.TrainConfig:
    return vc.TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, lr_schedule=args.lr_schedule,
                          warmup=args.warmup, threads=args.threads, seed=args.seed, precision=args.precision,
                          data_bias=not args.zero_bias)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", type=float, default=145.0)
    p.add_argument("--max-epochs", type=int, default=60, help="textbook")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=OURS.epochs, help="ours: the planned run (its schedule's length)")
    p.add_argument("--batch-size", type=int, default=OURS.batch_size, help="ours")
    p.add_argument("--lr", type=float, default=OURS.lr, help="ours: the (peak) learning rate")
    p.add_argument("--lr-schedule", choices=("constant", "cosine", "onecycle"), default=OURS.lr_schedule, help="ours")
    p.add_argument("--warmup", type=float, default=OURS.warmup, help="ours: onecycle's warm-up share")
    p.add_argument("--threads", type=int, default=OURS.threads,
                   help="ours: torch threads while training (0 = torch's, -1 = one per idle core)")
    p.add_argument("--precision", choices=("fp32", "bf16", "auto"), default=OURS.precision, help="ours")
    p.add_argument("--zero-bias", action="store_true", help="ours: start the decoder's output bias at 0, not the mean")
    p.add_argument("--only", choices=("ours", "textbook"), help="run one side only")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    config = ours_config(args)
    threads = {0: torch.get_num_threads(), vc.AUTO_THREADS: auto_threads()}.get(config.threads, config.threads)
    precision = "bf16" if uses_bf16(config, torch.device("cpu")) else "fp32"
    print(f"torch {torch.__version__}, textbook on {torch.get_num_threads()} threads (torch's default), ours on "
          f"{threads} (load average {os.getloadavg()[0]:.2f}), {precision}; target test -ELBO <= {args.target}")
    ours = textbook = (float("nan"), 0, float("nan"))
    if args.only != "textbook":
        ours = run_ours(args.target, config)
    if args.only != "ours":
        textbook = run_textbook(args.target, args.max_epochs, args.seed)
    print(f"textbook loop : {textbook[0]:7.1f} s  ({textbook[1]} epochs, test -ELBO {textbook[2]:.2f})")
    print(f"vae_core.train: {ours[0]:7.1f} s  ({ours[1]} epochs, test -ELBO {ours[2]:.2f}, batch {config.batch_size}, "
          f"{config.lr_schedule} lr {config.lr:g}, {config.epochs} epochs planned)")
    print(f"speed-up      : {textbook[0] / ours[0]:.2f}x")


if __name__ == "__main__":
    main()
