"""The figures the compare page puts side by side: active latent units on cases with a known answer, stored figures
read rather than recomputed, IWAE computed when missing (with progress), and which value of a row is the best."""
import numpy as np
import pytest
import torch

import vae_core as vc
from vae_core import comparison
from vae_core.comparison import active_units
from vae_core.metrics import knn_accuracy, trust

STORED = {"n_test": 64, "test_loss": 150.5, "test_reconstruction": 140.25, "test_kl": 10.25, "iwae_nll": 148.0,
          "iwae_k": 50, "vae_knn_accuracy": 0.75, "vae_trustworthiness": 0.875, "pca_knn_accuracy": 0.5,
          "pca_trustworthiness": 0.625}


def checkpoint(tmp_path, model, metrics=None, name="m.pt") -> vc.Checkpoint:
    return vc.load_checkpoint(vc.save_checkpoint(tmp_path / name, model, metrics=metrics))


def must_not_run(*args, **kwargs):
    raise AssertionError("a stored figure was computed again")


# ------------------------------------------------------------------------------------------------- active units


def test_a_unit_whose_mean_varies_is_active_and_a_constant_one_is_not():
    rng = np.random.default_rng(0)
    means = np.column_stack([rng.standard_normal(1000), np.full(1000, 0.7)])
    count, variances = active_units(means)
    assert count == 1
    assert variances == pytest.approx([np.var(means[:, 0]), 0.0], abs=1e-12)


def test_the_threshold_is_a_variance_of_one_hundredth():
    signs = np.tile([-1.0, 1.0], 50)
    means = np.column_stack([0.05 * signs, 0.2 * signs])  # variances 0.0025 and 0.04, either side of 0.01
    count, variances = active_units(means)
    assert count == 1 and variances == pytest.approx([0.0025, 0.04])
    assert active_units(means, threshold=0.001)[0] == 2


def test_a_model_whose_second_latent_mean_is_constant_has_one_active_unit(tmp_path, tiny_model, tiny_data):
    last = tiny_model.encoder[-1]  # Linear(16, 2 * latent_dim): rows 0, 1 are the means, 2, 3 the log-variances
    with torch.no_grad():
        last.weight[0] *= 50  # the first mean varies with x, well past the threshold
        last.weight[1] = 0.0  # the second is its bias, whatever the digit
    _, test_x, test_y = tiny_data
    figures = vc.model_figures(checkpoint(tmp_path, tiny_model), test_x.numpy(), test_y.numpy(), iwae_k=0)
    assert figures["active_units"] == 1 and figures["latent_dim"] == 2
    variances = figures["unit_variances"]
    assert variances[0] > vc.ACTIVE_THRESHOLD and variances[1] == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------------------- stored or computed


def test_stored_figures_are_read_and_nothing_is_computed_again(tmp_path, tiny_model, tiny_data, monkeypatch):
    _, test_x, test_y = tiny_data
    ckpt = checkpoint(tmp_path, tiny_model, STORED)
    for name in ("per_image_elbo", "iwae_log_likelihood", "knn_accuracy", "trust", "encode"):
        monkeypatch.setattr(comparison, name, must_not_run)
    figures = vc.model_figures(ckpt, test_x.numpy(), test_y.numpy(), iwae_k=50, progress=must_not_run,
                               train=(test_x.numpy(), test_y.numpy()))
    assert {name: figures[name] for name in ("test_loss", "test_reconstruction", "test_kl", "iwae_nll",
                                             "knn_accuracy", "trustworthiness")} == {
        "test_loss": 150.5, "test_reconstruction": 140.25, "test_kl": 10.25, "iwae_nll": 148.0,
        "knn_accuracy": 0.75, "trustworthiness": 0.875}
    assert sorted(figures["stored"]) == sorted(["test_loss", "test_reconstruction", "test_kl", "iwae_nll",
                                                "knn_accuracy", "trustworthiness"])


def test_figures_stored_for_another_number_of_test_digits_are_computed_afresh(tmp_path, tiny_model, tiny_data):
    _, test_x, test_y = tiny_data
    ckpt = checkpoint(tmp_path, tiny_model, {**STORED, "n_test": 10_000})
    figures = vc.model_figures(ckpt, test_x.numpy(), test_y.numpy(), iwae_k=0)
    elbo = vc.per_image_elbo(tiny_model, test_x)
    assert figures["test_loss"] == pytest.approx(float(elbo["loss"].mean()))
    assert figures["test_kl"] == pytest.approx(float(elbo["kl"].mean()))
    mu = vc.encode(tiny_model, test_x)[0]
    assert figures["trustworthiness"] == pytest.approx(trust(test_x.numpy(), mu))
    assert figures["stored"] == [] and figures["knn_accuracy"] is None  # no training digits to fit 5-NN on


def test_five_nn_accuracy_is_fitted_on_the_training_codes_when_not_stored(tmp_path, tiny_model, tiny_data):
    train_x, test_x, test_y = tiny_data
    train_y = torch.arange(len(train_x)) % 10
    figures = vc.model_figures(checkpoint(tmp_path, tiny_model), test_x.numpy(), test_y.numpy(), iwae_k=0,
                               train=(train_x.numpy(), train_y.numpy()))
    expected = knn_accuracy(vc.encode(tiny_model, train_x)[0], train_y.numpy(), vc.encode(tiny_model, test_x)[0],
                               test_y.numpy())
    assert figures["knn_accuracy"] == expected


# ----------------------------------------------------------------------------------------------------------- IWAE


def test_iwae_is_computed_when_missing_and_reports_its_progress(tmp_path, tiny_model, tiny_data):
    _, test_x, test_y = tiny_data
    calls = []
    figures = vc.model_figures(checkpoint(tmp_path, tiny_model), test_x.numpy(), test_y.numpy(), iwae_k=500,
                               progress=lambda done, total: calls.append((done, total)))
    expected = -vc.iwae_log_likelihood(tiny_model, test_x, k=500).mean()
    assert figures["iwae_nll"] == pytest.approx(float(expected), rel=1e-6) and figures["iwae_k"] == 500
    assert len(calls) > 1  # 500 samples each: the digits go through in several chunks, each reported
    assert [total for _, total in calls] == [64] * len(calls) and calls[-1][0] == 64
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:], strict=False))


def test_an_iwae_stored_with_another_k_is_not_taken_for_this_k(tmp_path, tiny_model, tiny_data):
    _, test_x, test_y = tiny_data
    ckpt = checkpoint(tmp_path, tiny_model, STORED)  # k = 50 stored
    figures = vc.model_figures(ckpt, test_x.numpy(), test_y.numpy(), iwae_k=20)
    assert figures["iwae_nll"] == pytest.approx(float(-vc.iwae_log_likelihood(tiny_model, test_x, k=20).mean()))
    assert "iwae_nll" not in figures["stored"] and "test_loss" in figures["stored"]


def test_a_missing_iwae_stays_missing_when_not_asked_for(tmp_path, tiny_model, tiny_data, monkeypatch):
    _, test_x, test_y = tiny_data
    ckpt = checkpoint(tmp_path, tiny_model)
    monkeypatch.setattr(comparison, "iwae_log_likelihood", must_not_run)
    assert vc.model_figures(ckpt, test_x.numpy(), test_y.numpy(), iwae_k=0)["iwae_nll"] is None
    assert vc.model_figures(ckpt, test_x.numpy(), test_y.numpy(), iwae_k=50, compute_iwae=False)["iwae_nll"] is None


# --------------------------------------------------------------------------------------------------- best values


def test_the_best_value_is_the_lowest_loss_or_the_highest_score():
    assert vc.best_of([133.9, 147.6], -1) == [True, False]
    assert vc.best_of([0.74, 0.87], +1) == [False, True]


def test_no_value_is_best_on_a_tie_a_missing_value_or_a_figure_without_a_better_side():
    assert vc.best_of([0.87, 0.87], +1) == [False, False]
    assert vc.best_of([None, 131.4], -1) == [False, False]
    assert vc.best_of([2, 1], 0) == [False, False]


def test_every_compared_figure_has_a_label_and_a_direction():
    names = [name for name, _, _ in vc.COMPARED_FIGURES]
    assert names == ["test_loss", "test_reconstruction", "test_kl", "iwae_nll", "knn_accuracy", "trustworthiness",
                     "active_units"]
    assert all(direction in (-1, 0, 1) for _, _, direction in vc.COMPARED_FIGURES)
