"""The retraining form's validation: valid values become configs; every problem is named at once, in the form's
words, with the checks of vae_core's own configs (the same caps as the CLI); existing names are never reused."""
import pytest

import vae_core as vc
from explorer.model.files import name_problem
from explorer.training.form import preset_request, validate_request

VALID = dict(name="quick", epochs=1, batch_size=128, lr=1e-3, beta=1.0, arch="mlp", hidden="64, 32", seed=0,
             train_subset=1000)



def test_valid_form_values_become_configs(tmp_path):
    request = validate_request(**VALID, directory=tmp_path)
    assert request.name == "quick"
    assert request.model_config.hidden == (64, 32) and request.model_config.arch == "mlp"
    assert (request.train_config.epochs, request.train_config.train_subset) == (1, 1000)
    full = validate_request(**{**VALID, "train_subset": 60000}, directory=tmp_path)
    assert full.train_config.train_subset == 0  # all of them
    assert request.model_config.activation == "tanh"  # the shipped default's, unless the form says otherwise
    assert validate_request(**VALID, activation="leaky_relu", directory=tmp_path).model_config.activation == "leaky_relu"
    assert not request.model_config.deskew  # a custom run deskews only when the form's box is ticked
    assert validate_request(**VALID, deskew=True, directory=tmp_path).model_config.deskew


@pytest.mark.parametrize("changes, fragment", [
    ({"name": "default"}, "cannot be overwritten"),
    ({"name": "Default"}, "cannot be overwritten"),
    ({"name": "../evil"}, "Name: use"),
    ({"name": ""}, "Name: use"),
    ({"epochs": 0}, "Epochs: must be a whole number between 1"),
    ({"lr": float("nan")}, "Learning rate"),
    ({"hidden": "2048, 2048, 2048"}, "parameters, over the limit of 5,000,000"),
    ({"beta": -1.0}, "β: must be a number >= 0"),
    ({"batch_size": 0}, "Batch size"),
    ({"train_subset": 10}, "Training images"),
    ({"hidden": "abc"}, "whole numbers"),
    ({"hidden": "0, 32"}, "Hidden sizes: each width must be between 4 and 2048"),
    ({"arch": "conv", "hidden": "32, 64, 128"}, "exactly two channel counts"),
    ({"hidden": "8, 8, 8, 8, 8"}, "1 to 4 layer widths"),
    ({"arch": "rnn"}, "Architecture"),
    ({"activation": "sigmoid"}, "Activation: must be one of"),
])
def test_invalid_form_values_are_refused_with_a_reason(tmp_path, changes, fragment):
    with pytest.raises(ValueError, match=None) as info:
        validate_request(**{**VALID, **changes}, directory=tmp_path)
    assert fragment in str(info.value)


def test_all_problems_are_reported_at_once(tmp_path):
    with pytest.raises(ValueError, match="^Name: ") as info:
        validate_request(**{**VALID, "name": "a b", "epochs": 0, "hidden": "x"}, directory=tmp_path)
    assert len(str(info.value).splitlines()) == 3


def test_existing_names_are_never_overwritten(tmp_path, tiny_checkpoint):
    tiny_checkpoint(tmp_path / "taken.pt")
    assert "already exists" in name_problem("taken", tmp_path)
    assert name_problem("free-name_2", tmp_path) is None


def test_a_preset_request_takes_the_presets_configs_whole_with_the_forms_seed(tmp_path):
    request = preset_request(vc.QUICK, name="demo", seed=7, directory=tmp_path)
    assert request.model_config == vc.QUICK.model_config
    assert request.train_config == vc.QUICK.with_train(seed=7)
    assert request.train_config.lr_schedule == vc.QUICK.train_config.lr_schedule  # no form field for it
    with pytest.raises(ValueError, match="cannot be overwritten"):
        preset_request(vc.QUICK, name="default", seed=0, directory=tmp_path)
