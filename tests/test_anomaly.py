"""Anomaly scores (higher = more anomalous), the complexity-corrected score and its fit, and `anomalies` on the CLI."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core.anomaly import SCORES, Complexity, _rank_auroc, anomaly_scores, auroc, compressed_length, fit_complexity
from vae_core.cli import main
from vae_core.probes import PROBE_NAMES

DEFAULT = Path(__file__).resolve().parent.parent / "checkpoints" / "default.pt"


def blobs(n, density, seed=0):
    return (np.random.default_rng(seed).random((n, 784)) < density).astype(np.float32)


# ---- the scores

def test_every_score_is_one_float_per_image_and_the_parts_add_up(tiny_model):
    x = blobs(12, 0.3)
    s = anomaly_scores(tiny_model, x, iwae_k=8, complexity=Complexity(levels=4, weight=0.5))
    assert set(SCORES) <= set(s) and "compressed_length" in s
    assert all(s[k].shape == (12,) and s[k].dtype == np.float64 for k in s)
    np.testing.assert_allclose(s["neg_elbo"], s["reconstruction"] + s["kl"], rtol=1e-5)
    np.testing.assert_allclose(s["corrected"], s["iwae"] - 0.5 * s["compressed_length"])
    np.testing.assert_allclose(s["compressed_length"], compressed_length(x, 4))
    assert (s["kl"] >= 0).all() and (s["iwae"] > 0).all()  # -log p of a Bernoulli model is positive


def test_scores_are_seeded(tiny_model):
    x = blobs(5, 0.3)
    a, b = anomaly_scores(tiny_model, x, iwae_k=4, seed=1), anomaly_scores(tiny_model, x, iwae_k=4, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_compressed_length_grows_with_what_there_is_to_describe():
    blank, sparse, noise = np.zeros((1, 784)), blobs(1, 0.05), np.random.default_rng(0).random((1, 784))
    lengths = [compressed_length(x, 16)[0] for x in (blank, sparse, noise)]
    assert lengths[0] < lengths[1] < lengths[2]
    assert compressed_length(noise, 2)[0] < compressed_length(noise, 256)[0]  # coarser levels, less to describe


# ---- AUROC

def test_auroc_is_one_when_every_probe_scores_higher_and_a_half_by_chance():
    assert auroc([1, 2, 3], [4, 5]) == 1.0 and auroc([4, 5], [1, 2, 3]) == 0.0
    rng = np.random.default_rng(0)
    assert abs(auroc(rng.normal(size=4000), rng.normal(size=4000)) - 0.5) < 0.02


def test_the_rank_auroc_used_by_the_fit_equals_scikit_learns_also_with_ties():
    rng = np.random.default_rng(1)
    a, b = np.round(rng.normal(size=700), 1), np.round(rng.normal(0.4, size=90), 1)
    assert _rank_auroc(a, b) == pytest.approx(auroc(a, b), abs=1e-12)



def test_the_roc_curve_runs_from_nothing_flagged_to_everything_flagged_with_auroc_as_its_area():
    rng = np.random.default_rng(2)
    digits, probes = rng.normal(size=500), rng.normal(1.0, size=200)
    fpr, tpr = vc.roc(digits, probes)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all()
    assert np.trapezoid(tpr, fpr) == pytest.approx(auroc(digits, probes), abs=1e-12)


def test_share_more_anomalous_counts_the_reference_scores_strictly_above():
    reference = np.array([5.0, 1.0, 3.0, 3.0])
    np.testing.assert_array_equal(vc.share_more_anomalous(reference, [0.0, 3.0, 4.0, 9.0]), [1.0, 0.25, 0.25, 0.0])


def test_the_auroc_table_has_one_row_per_score_and_one_entry_per_probe_set():
    rng = np.random.default_rng(3)
    digits = {s: rng.normal(size=50) for s in SCORES}
    probes = {"far": {s: rng.normal(9.0, size=20) for s in SCORES}, "near": {s: rng.normal(size=20) for s in SCORES}}
    table = vc.auroc_table(digits, probes)
    assert list(table) == list(SCORES) and all(list(row) == ["far", "near"] for row in table.values())
    assert table["kl"]["far"] == 1.0 and table["kl"]["near"] == auroc(digits["kl"], probes["near"]["kl"])


# ---- the fit of the complexity term

def test_the_fit_finds_a_weight_that_separates_simple_probes_that_likelihood_alone_ranks_as_typical():
    rng = np.random.default_rng(0)
    digit_images, blank_images = blobs(200, 0.2), blobs(50, 0.01, seed=1)
    # likelihood alone: the simple images look *more* typical than the digits (lower -log p)
    digits = {"iwae": 100 + rng.normal(0, 5, 200), "neg_elbo": 102 + rng.normal(0, 5, 200)}
    probes = {"blank": {"iwae": 80 + rng.normal(0, 5, 50), "neg_elbo": 82 + rng.normal(0, 5, 50)}}
    fitted, aucs = fit_complexity(digits, digit_images, probes, {"blank": blank_images})
    assert auroc(digits["iwae"], probes["blank"]["iwae"]) < 0.01
    assert fitted.weight > 0 and aucs["blank"] == 1.0


def test_the_fit_keeps_the_weight_at_zero_when_any_weight_would_cost_a_set_its_auroc():
    rng = np.random.default_rng(0)
    digit_images, complex_images = blobs(200, 0.1), blobs(50, 0.5, seed=1)  # probes more complex than digits
    digits = {"iwae": 100 + rng.normal(0, 1, 200), "neg_elbo": 100 + rng.normal(0, 1, 200)}
    probes = {"busy": {"iwae": 104 + rng.normal(0, 1, 50), "neg_elbo": 104 + rng.normal(0, 1, 50)}}
    fitted, aucs = fit_complexity(digits, digit_images, probes, {"busy": complex_images}, weights=(0.5, 1.0, 2.0))
    assert fitted.weight == 0.0 and aucs["busy"] == auroc(digits["iwae"], probes["busy"]["iwae"])


# ---- on the shipped model

def test_the_corrected_score_finds_a_blank_image_more_atypical_than_real_digits_unlike_likelihood(real_data):
    model = vc.load_checkpoint(DEFAULT).model
    torch.manual_seed(0)
    digits = vc.load_mnist("test", limit=200)[0].numpy()
    scores = anomaly_scores(model, np.vstack([digits, np.zeros((1, 784), np.float32)]), iwae_k=20)
    blank = {k: v[-1] for k, v in scores.items()}
    assert blank["corrected"] > scores["corrected"][:-1].mean()
    assert blank["corrected"] > np.percentile(scores["corrected"][:-1], 95)
    # likelihood alone is fooled: the blank does not stand out among the digits (under their 95th percentile)
    assert blank["iwae"] < np.percentile(scores["iwae"][:-1], 95)


def test_anomalies_prints_every_score_for_every_probe_set(real_data, capsys):
    code = main(["anomalies", str(DEFAULT), "--n", "100", "--probes", "20", "--iwae-k", "5",
                 "--validation", "200", "--validation-probes", "20"])
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| probe set"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == list(SCORES)
    for name in PROBE_NAMES:
        row = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        values = [float(v) for v in row.strip("|").split("|")[1:]]
        assert len(values) == len(SCORES) and all(0 <= v <= 1 for v in values), row
    assert re.search(r"corrected = iwae - [\d.]+ x zlib length of the image at \d+ grey levels", out)
    assert "most digit-like letters" in out


def test_calibrate_fits_on_the_last_training_images_and_probe_sets_made_from_them(tiny_model):
    fitted, aucs = vc.calibrate(tiny_model, blobs(300, 0.2), iwae_k=2, n_validation=100, n_probes=10)
    assert fitted.levels in vc.anomaly.LEVELS and fitted.weight >= 0
    assert set(aucs) == set(PROBE_NAMES) and all(0 <= v <= 1 for v in aucs.values())
