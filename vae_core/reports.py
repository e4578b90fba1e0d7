"""The tables `python -m vae_core anomalies|repair` print: rows computed here, formatted as Markdown."""
from __future__ import annotations

import time

import numpy as np

from .anomaly import SCORES, anomaly_scores, auroc, calibrate, share_more_anomalous
from .baselines import knn_fill, mean_fill, median_filter
from .corruption import STANDARD_CORRUPTIONS, damaged
from .model import VAE
from .pixel_classifier import cached_pixel_classifier
from .probes import letter_characters, probe_sets
from .repair import denoise, impute, latent_grid, posterior_repair


def _np(a) -> np.ndarray:
    return a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a)


def anomaly_report(model: VAE, test_images, train_images, n_probes: int = 1000, iwae_k: int = 100, seed: int = 0,
                   n_validation: int = 5000, n_validation_probes: int = 500, progress=None) -> dict:
    """AUROC of "test digit vs probe" for every score in SCORES and every probe set (seed `seed`), with the corrected
    score's constants fitted first on held-out data: the last n_validation training images and probe sets made from
    them with seed + 1 (never the reported sets). progress(message) is called before each stage."""
    say = progress or (lambda message: None)
    test, train = _np(test_images), _np(train_images)
    start = time.perf_counter()
    say(f"fitting the complexity term on {n_validation} validation digits and their probe sets")
    fitted, validation_auroc = calibrate(model, train, iwae_k, seed + 1, n_validation, n_validation_probes)
    say(f"scoring {len(test)} test digits (IWAE k={iwae_k})")
    t = time.perf_counter()
    digits = anomaly_scores(model, test, iwae_k, fitted)
    test_seconds = time.perf_counter() - t
    say(f"scoring {n_probes} images of each probe set")
    probes = probe_sets(test, n_probes, seed)
    probe_scores = {k: anomaly_scores(model, v, iwae_k, fitted) for k, v in probes.items()}
    # how digit-like each character is: the share of test digits the corrected score finds more anomalous
    chars = letter_characters(n_probes)
    above = share_more_anomalous(digits["corrected"], probe_scores["letters"]["corrected"])
    per_char = {str(c): float(above[chars == c].mean()) for c in dict.fromkeys(chars)}
    return {
        "auroc": auroc_table(digits, probe_scores),
        "complexity": fitted, "validation_auroc": validation_auroc,
        "digit_like_letters": sorted(per_char.items(), key=lambda kv: -kv[1]),
        "n_test": len(test), "n_probes": n_probes, "iwae_k": iwae_k, "seed": seed,
        "test_seconds": test_seconds, "seconds": time.perf_counter() - start,
    }


def auroc_table(digit_scores: dict, probe_scores: dict[str, dict], scores=SCORES) -> dict[str, dict[str, float]]:
    """{score: {probe set: AUROC of "test digit vs probe"}} from `anomaly_scores` outputs of the digits and of each set."""
    return {s: {k: auroc(digit_scores[s], v[s]) for k, v in probe_scores.items()} for s in scores}


def format_anomaly_report(report: dict, n_letters: int = 10) -> str:
    sets = list(next(iter(report["auroc"].values())))
    lines = [f"AUROC, test digits (n={report['n_test']}) vs each probe set (n={report['n_probes']}, seed {report['seed']}); "
             f"probe = positive class, 1.0 = perfectly separated, 0.5 = chance",
             "", "| probe set | " + " | ".join(SCORES) + " |", "|---" * (len(SCORES) + 1) + "|"]
    lines += [f"| {k} | " + " | ".join(f"{report['auroc'][s][k]:.3f}" for s in SCORES) + " |" for k in sets]
    c = report["complexity"]
    lines += ["", f"corrected = iwae - {c.weight:g} x zlib length of the image at {c.levels} grey levels (nats); "
              f"constants fitted on validation digits and probe sets of another seed; IWAE k={report['iwae_k']}",
              f"scoring the {report['n_test']} test digits took {report['test_seconds']:.1f} s "
              f"(all of this report {report['seconds']:.1f} s)", "",
              "most digit-like letters and symbols (share of test digits the corrected score finds more anomalous):",
              "  " + "  ".join(f"{ch!r} {share:.2f}" for ch, share in report["digit_like_letters"][:n_letters])]
    return "\n".join(lines)


def repair_report(model: VAE, test_images, test_labels, train_images, train_labels, n: int = 1000, seed: int = 0,
                  n_iter: int = 10, n_knn: int = 2000, progress=None) -> dict:
    """For each corruption in corruption.STANDARD_CORRUPTIONS applied to n seeded test digits: the mean squared error on the
    damaged pixels (`corruption.damaged`) and the accuracy of the fixed pixel classifier, for the corrupted images,
    the VAE's repairs and the baselines. The classifier, the mean image and the KNN imputer's pool (the first
    n_knn) come from the training images."""
    say = progress or (lambda message: None)
    start = time.perf_counter()
    test, labels, train, train_y = map(_np, (test_images, test_labels, train_images, train_labels))
    idx = np.sort(np.random.default_rng(seed).choice(len(test), min(n, len(test)), replace=False))
    clean, y = test[idx].reshape(len(idx), -1), labels[idx]
    say("loading or training the pixel classifier")
    t = time.perf_counter()
    classifier = cached_pixel_classifier(train, train_y)
    classifier_seconds = time.perf_counter() - t
    mean_image, grid = train.mean(0), latent_grid(model)
    rows = []
    for corruption in STANDARD_CORRUPTIONS:
        say(f"repairing: {corruption.name}")
        corrupted, observed = corruption(clean, seed=seed)
        scored = damaged(corruption.kind, observed)
        if corruption.kind == "noise":
            repairs = {"VAE encode-decode": denoise(model, corrupted),
                       "VAE latent posterior": posterior_repair(grid, corrupted, noise="gaussian")["images"],
                       "median filter 3x3": median_filter(corrupted),
                       "mean image": mean_fill(corrupted, ~scored, mean_image)}
        else:
            repairs = {f"VAE iterative ({n_iter})": impute(model, corrupted, observed, n_iter)["images"],
                       "VAE latent posterior": posterior_repair(grid, corrupted, observed)["images"],
                       "mean fill": mean_fill(corrupted, observed, mean_image),
                       f"KNNImputer (5-NN of {n_knn})": knn_fill(corrupted, observed, train[:n_knn])}
        for method, images in {"none (corrupted)": corrupted, **repairs}.items():
            rows.append({"corruption": corruption.name, "method": method,
                         "mse": float(((images - clean) ** 2)[scored].mean()), "accuracy": classifier.accuracy(images, y)})
    return {"rows": rows, "clean_accuracy": classifier.accuracy(clean, y), "n": len(idx), "seed": seed,
            "seconds": time.perf_counter() - start, "classifier_seconds": classifier_seconds}


def format_repair_report(report: dict) -> str:
    lines = [f"{report['n']} test digits (seed {report['seed']}); pixel classifier accuracy on the clean digits: "
             f"{report['clean_accuracy']:.3f}. MSE on the damaged pixels (noise: all pixels vs clean; missing: the "
             "missing ones); accuracy of the same classifier on the repaired images", "",
             "| corruption | method | MSE | accuracy |", "|---|---|---|---|"]
    lines += [f"| {r['corruption']} | {r['method']} | {r['mse']:.4f} | {r['accuracy']:.3f} |" for r in report["rows"]]
    lines += ["", "VAE encode-decode: decode(mean of q(z|x)); VAE iterative (n): fill 0, then n rounds of encode, decode, "
              "put the observed pixels back; VAE latent posterior: the posterior mean of the decoded image under "
              "p(z | what is seen) on a 128x128 lattice of z (noise: Gaussian with its sigma estimated per image; "
              "missing: the model's likelihood of the observed pixels)",
              f"took {report['seconds']:.1f} s, of which {report['classifier_seconds']:.1f} s loading or training the "
              "classifier"]
    return "\n".join(lines)


def add_parsers(sub) -> None:
    """The `anomalies` and `repair` subcommands, added to the CLI's subparsers."""
    a = sub.add_parser("anomalies", help="AUROC of each anomaly score at telling test digits from generated non-digits")
    a.add_argument("path", help="checkpoint")
    a.add_argument("--n", type=int, default=10000, help="test digits scored (the first N)")
    a.add_argument("--probes", type=int, default=1000, help="images per probe set")
    a.add_argument("--iwae-k", type=int, default=100, help="importance samples of the IWAE bound")
    a.add_argument("--seed", type=int, default=0, help="seed of the reported probe sets (validation uses seed + 1)")
    a.add_argument("--validation", type=int, default=5000, help="last N training images the complexity term is fitted on")
    a.add_argument("--validation-probes", type=int, default=500, help="images per validation probe set")
    r = sub.add_parser("repair", help="repair corrupted test digits with the VAE and baselines: pixel error, accuracy")
    r.add_argument("path", help="checkpoint")
    r.add_argument("--n", type=int, default=1000, help="test digits corrupted per corruption (a seeded sample)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--train-subset", type=int, default=0,
                   help="fit the classifier, mean image and KNN pool on the first N training images (0 = all)")


def run(args) -> str:
    """Run the `anomalies` or `repair` subcommand; returns the table to print."""
    import sys

    from .checkpoint import load_checkpoint
    from .data import load_mnist
    from .train import on_compute_device

    model = load_checkpoint(args.path).model
    say = lambda message: print(message + " ...", file=sys.stderr, flush=True)
    if args.command == "anomalies":
        test = load_mnist("test", limit=args.n)[0]
        report = anomaly_report(on_compute_device(model)[1], test, load_mnist("train")[0], args.probes, args.iwae_k,
                                args.seed, args.validation, args.validation_probes, progress=say)  # a GPU if any
        return format_anomaly_report(report)
    test_x, test_y = load_mnist("test")
    train_x, train_y = load_mnist("train", limit=args.train_subset)
    return format_repair_report(repair_report(model, test_x, test_y, train_x, train_y, args.n, args.seed, progress=say))
