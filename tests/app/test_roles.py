"""Presenter and audience in AppTest: outside room mode every session may train; in room mode (VAE_PRESENTER_TOKEN)
a session without the token gets no training form, cancel or delete at all, one that opened ?presenter=<token> (or
typed it into the sidebar) gets them, and the token leaves the address bar."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.model.picker import PICKER
from explorer.training.form import TrainingRequest
from explorer.training.job import shared_job
from tests.app.helpers import open_training_form, stop
from vae_core.settings import TOKEN_ENV

HARNESS = str(Path(__file__).with_name("sidebar_app.py"))
SUBMIT = "FormSubmitter:sidebar_train_form-Train"
TOKEN = "s3cret-token"


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """A trained model in the (tmp) checkpoint folder, so a delete button has something to offer."""
    path = tmp_path / "ckpts" / "lesson.pt"
    path.parent.mkdir(exist_ok=True)
    vc.save_checkpoint(path, vc.VAE(vc.ModelConfig(hidden=(16,))), vc.TrainConfig(epochs=1), metrics={"test_loss": 300.0})
    return path


def session(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(HARNESS, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def offers_changes(at: AppTest) -> dict[str, bool]:
    open_training_form(at)  # the form is built only while its expander is open
    keys = {w.key for w in at.sidebar.get("button")} | {w.key for w in at.sidebar.get("form_submit_button")}
    return {"form": SUBMIT in keys, "delete": "sidebar_delete_confirm" in keys, "cancel": "sidebar_cancel" in keys}


@pytest.fixture
def running():
    """A long training, started by someone, running while the test looks at a session's sidebar."""
    job = shared_job()
    job.start(TrainingRequest("long-one", vc.ModelConfig(hidden=(16,)),
                              vc.TrainConfig(epochs=200, train_subset=1000, test_subset=500)), owner="someone-else")
    yield job
    stop(job)


def test_outside_room_mode_every_session_may_train_and_delete(trained, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    at = session()
    at.selectbox(key=PICKER).set_value(str(trained)).run()
    assert offers_changes(at) == {"form": True, "delete": True, "cancel": False}


def test_the_audience_gets_no_form_no_delete_and_no_cancel(trained, monkeypatch, running, real_data):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = session()
    at.selectbox(key=PICKER).set_value(str(trained)).run()
    assert offers_changes(at) == {"form": False, "delete": False, "cancel": False}
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "long-one" in text  # the room sees what is being trained, nothing to press
    token = [t for t in at.sidebar.text_input if t.key == "room_token"]
    assert len(token) == 1 and token[0].label == "Presenter token"  # where a presenter gives the token


def test_a_presenter_link_gives_the_controls_and_leaves_the_address_bar(trained, monkeypatch, running, real_data):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = session({"presenter": TOKEN})
    assert "presenter" not in at.query_params
    at.selectbox(key=PICKER).set_value(str(trained)).run()
    assert offers_changes(at) == {"form": True, "delete": True, "cancel": True}
    at.run()  # the role is kept for the session, without the token in the URL
    assert offers_changes(at)["form"]
    assert any("Scan to follow along" in c for img in at.sidebar.get("image") for c in img.captions)


def test_a_wrong_token_gives_nothing_and_says_so(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = session({"presenter": "guess"})
    assert not offers_changes(at)["form"]
    assert any("not the presenter token" in c.value for c in at.sidebar.caption)


def test_the_token_can_be_typed_into_the_sidebar(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    at = session()
    at.text_input(key="room_token").set_value(TOKEN)
    at.button(key="FormSubmitter:room_token_form-Present").click().run()
    assert not at.exception
    assert offers_changes(at)["form"]


def test_the_presenter_deletes_a_trained_model_after_confirming(trained, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    at = session()
    at.selectbox(key=PICKER).set_value(str(trained)).run()
    assert trained.exists()  # the popover alone deletes nothing
    at.button(key="sidebar_delete_confirm").click().run()
    assert not at.exception
    assert not trained.exists()
    assert at.selectbox(key=PICKER).options == ["default (shipped)", "beta4 (shipped)", "conv (shipped)"]
