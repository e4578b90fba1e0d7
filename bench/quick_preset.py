"""Time the Quick preset (vae_core.PRESETS["quick"]) end to end on all of MNIST: wall-clock of vc.train, data
loading and the training film included, then its test -ELBO (full test set) and 5-NN accuracy of the latent means
(fit on the 60,000 training codes, scored on the 10,000 test codes) -- the figures the preset promises (<= 145 nats,
>= 0.80, <= 30 s on an idle 2-core CPU) -- and how its map reads: the share of each class's nearest map neighbours
of the same class. Run: VAE_DATA_DIR=../shared/data python bench/quick_preset.py
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing
import vae_core as vc  # noqa: E402
from vae_core.metrics import knn_accuracy  # noqa: E402
from vae_core.train import TrainResult  # noqa: E402


def time_preset(preset: vc.Preset, seed: int) -> tuple[TrainResult, float]:
    config = preset.with_train(seed=seed)
    start = time.perf_counter()
    result = vc.train(preset.model_config, config, show_bar=False)
    return result, time.perf_counter() - start


def knn_of(model: vc.VAE) -> float:
    train_x, train_y = vc.load_mnist("train")
    test_x, test_y = vc.load_mnist("test")
    return knn_accuracy(vc.encode(model, train_x)[0], train_y.numpy(), vc.encode(model, test_x)[0], test_y.numpy())


def neighbour_shares(model: vc.VAE, k: int = 5) -> np.ndarray:
    """How the map reads: for each class, the share of its test digits' k nearest test digits on the map (latent
    means, the digit itself left out) that are of the same class; the eleventh value is over all digits."""
    from sklearn.neighbors import NearestNeighbors  # here: importing scikit-learn takes ~2 s

    test_x, test_y = vc.load_mnist("test")
    codes, labels = vc.encode(model, test_x)[0], test_y.numpy()
    near = NearestNeighbors(n_neighbors=k + 1).fit(codes).kneighbors(codes, return_distance=False)[:, 1:]
    same = (labels[near] == labels[:, None]).mean(1)
    return np.array([*(same[labels == c].mean() for c in range(10)), same.mean()])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="quick", choices=sorted(vc.PRESETS))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    preset = vc.PRESETS[args.preset]
    parts = vc.training_time_parts(preset.model_config, preset.train_config)
    estimate = sum(parts.values())
    print(f"torch {torch.__version__}, preset {preset.name!r}: {preset.model_config} / {preset.train_config}")
    result, seconds = time_preset(preset, args.seed)
    frames = len(result.snapshots.get("steps", ()))
    print(f"estimate      : {estimate:6.1f} s  (vc.estimate_training_seconds, before training: "
          + ", ".join(f"{name} {part:.1f} s" for name, part in parts.items()) + ")")
    print(f"wall-clock    : {seconds:6.1f} s  (vc.train on {result.device}, data loading and {frames} film frames "
          f"included)")
    epochs = [row["seconds"] for row in result.history]
    print(f"epochs        : {sum(epochs):6.1f} s  (steps and evaluation; {min(epochs):.2f}-{max(epochs):.2f} s each, "
          f"the last {epochs[-1]:.2f} s with the whole test set's evaluation)")
    print(f"test -ELBO    : {result.history[-1]['test_loss']:6.2f} nats  (target <= 145, on "
          f"{result.history[-1]['test_images']:,} test digits)")
    print(f"5-NN accuracy : {knn_of(result.model):6.4f}  (target >= 0.80)")
    shares = neighbour_shares(result.model)
    print(f"map neighbours: {shares[-1]:6.3f}  of the same class (5 nearest on the map); by class 0-9: "
          + " ".join(f"{v:.2f}" for v in shares[:10]))


if __name__ == "__main__":
    main()
