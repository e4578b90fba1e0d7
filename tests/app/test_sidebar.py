"""The shared sidebar in AppTest: picker + model card, form validation, retraining end to end, one job across
sessions, and a broken checkpoint falling back to the default."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.model.picker import PICKER
from explorer.training.form import TrainingRequest
from explorer.training.job import shared_job
from tests.app.helpers import open_training_form, stop
from vae_core.settings import CHECKPOINT_DIR_ENV
from vae_core.train import uses_bf16

ROOT = Path(__file__).resolve().parents[2]

HARNESS = str(Path(__file__).with_name("sidebar_app.py"))
SUBMIT = "FormSubmitter:sidebar_train_form-Train"


@pytest.fixture
def ckpt_dir(tmp_path, monkeypatch):
    """Models trained or listed in these tests live in a tmp dir, never in the repo's checkpoints/."""
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(tmp_path))
    return tmp_path


@pytest.fixture
def job():
    """The process-wide job the sidebar uses; no test may leave it running."""
    job = shared_job()
    yield job
    stop(job)


def run_harness() -> AppTest:
    """A session of the sidebar harness with the training form open."""
    at = open_training_form(AppTest.from_file(HARNESS, default_timeout=60).run())
    assert not at.exception, at.exception
    return at


def card(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def page_uses(at: AppTest) -> str:
    return next(m.value for m in at.main.markdown if m.value.startswith("page uses:"))


def small_model(path: Path, hidden=(16,)) -> Path:
    model = vc.VAE(vc.ModelConfig(hidden=hidden))
    return vc.save_checkpoint(path, model, vc.TrainConfig(epochs=2), history=[], metrics={"test_loss": 543.21})


def test_picker_lists_default_and_trained_models_and_the_card_follows_the_choice(ckpt_dir):
    small_model(ckpt_dir / "tiny16.pt")
    at = run_harness()
    picker = at.selectbox(key=PICKER)
    assert picker.options == ["default (shipped)", "beta4 (shipped)", "conv (shipped)", "tiny16"]
    assert "512 × 256" in card(at) and page_uses(at).endswith("default.pt")
    picker.set_value(str(ckpt_dir / "tiny16.pt")).run()
    assert not at.exception
    assert "hidden 16" in card(at) and "543.2" in card(at) and "**2** epochs" in card(at)
    assert page_uses(at).endswith("tiny16.pt")


def test_the_form_offers_the_quick_preset_and_estimates_it_before_training(ckpt_dir, job):
    at = run_harness()
    preset = at.radio(key="sidebar_preset")
    assert preset.options == ["Custom", *(p.label for p in vc.PRESETS.values())]
    before = job.snapshot().job_id
    preset.set_value("quick").run()
    assert not at.exception
    assert not [w for w in at.sidebar.number_input if w.key == "sidebar_epochs"]  # the preset's fields are fixed
    assert vc.QUICK.description in " ".join(c.value for c in at.sidebar.caption)
    assert "digits stood upright (deskewed)" in " ".join(c.value for c in at.sidebar.caption)
    at.button(key="FormSubmitter:sidebar_train_form-Estimate time").click().run()
    assert not at.exception
    assert "About" in " ".join(i.value for i in at.sidebar.info)
    assert job.snapshot().job_id == before  # estimating starts nothing


def test_the_form_says_which_device_trains_and_how_for_each_preset(ckpt_dir):
    at = run_harness()
    device = vc.pick_device()

    def device_line() -> str:
        lines = [c.value for c in at.sidebar.caption if c.value.startswith("Trains on ")]
        assert len(lines) == 1, lines
        return lines[0]

    custom = device_line()
    assert custom.startswith(f"Trains on {vc.device_label(device)}") and custom.endswith("fp32)")  # no bf16 field
    at.radio(key="sidebar_preset").set_value("quick").run()
    assert not at.exception
    quick = device_line()
    assert quick.startswith(f"Trains on {vc.device_label(device)}")
    assert quick.endswith("bf16)" if uses_bf16(vc.QUICK.train_config, device) else "fp32)")
    if device.type == "cpu":
        assert "one thread per core idle when training starts" in quick


def test_invalid_form_input_shows_a_validation_message_and_starts_nothing(ckpt_dir, job):
    at = run_harness()
    before = job.snapshot().job_id
    at.text_input(key="sidebar_name").set_value("default")
    at.text_input(key="sidebar_hidden").set_value("lots")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "Not started" in errors and "cannot be overwritten" in errors and "whole numbers" in errors
    assert job.snapshot().job_id == before
    assert [p for p in ckpt_dir.iterdir() if p.suffix != '.lock'] == []


def test_retraining_from_the_form_saves_and_selects_the_new_model(ckpt_dir, job, real_data):
    at = run_harness()
    at.text_input(key="sidebar_name").set_value("lecture-demo")
    at.number_input(key="sidebar_epochs").set_value(1)
    at.number_input(key="sidebar_subset").set_value(1000)
    at.text_input(key="sidebar_hidden").set_value("64, 32")
    assert at.selectbox(key="sidebar_activation").value == "tanh"  # the shipped default's
    at.selectbox(key="sidebar_activation").set_value("silu")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    status = job.wait(timeout=120)
    assert status.state == "succeeded", status.message
    at.run()  # what the polling fragment does when it sees the job has ended
    assert not at.exception
    new = ckpt_dir / "lecture-demo.pt"
    assert new.exists() and vc.load_checkpoint(new).model_config.hidden == (64, 32)
    assert vc.load_checkpoint(new).model_config.activation == "silu"
    assert at.selectbox(key=PICKER).value == str(new)
    assert "(silu), hidden 64 × 32" in card(at) and "on 1,000 images" in card(at)
    assert page_uses(at).endswith("lecture-demo.pt")
    assert any("Trained 'lecture-demo'" in s.value for s in at.sidebar.success)


def test_a_second_session_sees_the_running_training_and_cannot_start_another(ckpt_dir, job, real_data):
    job.start(TrainingRequest("long-one", vc.ModelConfig(hidden=(64,)),
                              vc.TrainConfig(epochs=50, train_subset=1000, test_subset=1000)))
    at = run_harness()  # another browser session
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "Another session is training: `long-one`" in text
    cancel = [b for b in at.sidebar.button if b.key == "sidebar_cancel"]
    assert len(cancel) == 1 and cancel[0].label == "Cancel training" and not cancel[0].disabled
    at.text_input(key="sidebar_name").set_value("mine")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    assert any("already running" in w.value for w in at.sidebar.warning)
    at.button(key="sidebar_cancel").click().run()
    assert job.wait(timeout=120).state == "cancelled"
    assert [p.name for p in ckpt_dir.iterdir()] == [".training.lock"]  # the folder's lock; no model, no temp file


@pytest.mark.parametrize("content", [b"not a checkpoint at all", b"PK\x03\x04 truncated zip"])
def test_a_broken_checkpoint_shows_its_error_and_the_default_is_used(ckpt_dir, content):
    broken = ckpt_dir / "broken.pt"
    broken.write_bytes(content)
    at = run_harness()
    at.selectbox(key=PICKER).set_value(str(broken)).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Could not load broken.pt" in errors[0] and "default model instead" in errors[0]
    assert page_uses(at) == f"page uses: {DEFAULT_CHECKPOINT}"
    assert "512 × 256" in card(at)


def test_a_foreign_checkpoint_is_refused_too(ckpt_dir):
    import torch
    torch.save({"weights": torch.zeros(3)}, ckpt_dir / "foreign.pt")
    at = run_harness()
    at.selectbox(key=PICKER).set_value(str(ckpt_dir / "foreign.pt")).run()
    assert not at.exception
    assert "not a VAE Latent Explorer checkpoint" in at.error[0].value
    assert page_uses(at).endswith("default.pt")
