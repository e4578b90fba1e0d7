"""The model in a shared link (?model=<name>), through navigation.py and the sidebar picker: a fresh session opens on
the link's model, on any page, and every page's address names the model it shows; a bad name falls back to the
default with one notice. (The pages' own fields: tests/app/test_decoder_grid.py, test_interpolation.py.)"""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.model.link import LINKED
from explorer.model.picker import PICKER
from explorer.page import url_state as us
from tests.app.links import opened

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "navigation.py")
HARNESS = str(Path(__file__).with_name("sidebar_app.py"))  # the sidebar alone: AppTest keeps its widgets on reruns
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py"))
WITH_COPY_LINK = ["overview", "decoder_grid", "interpolation", "repair", "anomalies", "holes", "film", "compare"]


def picked(at: AppTest) -> str:
    return Path(at.selectbox(key=PICKER).value).stem


def test_a_link_naming_a_shipped_model_opens_the_app_on_it(real_data):
    at = opened(APP, {"model": "beta4"})
    assert picked(at) == "beta4" and at.query_params["model"] == "beta4" and not at.toast
    assert any("β = 4" in m.value for m in at.sidebar.markdown)  # the model card: the model in use


def test_a_link_to_a_page_opens_that_page_on_the_links_model_and_view(real_data):
    at = opened(APP, {"model": "conv", "grid": "8", "z1": "1.5"}, page="decoder_grid")
    assert picked(at) == "conv" and at.slider(key="grid_size").value == 8
    assert at.markdown[0].value == "### z = (+1.50, +0.00)"
    assert dict(at.query_params) == {"model": "conv", "grid": "8", "extent": "3.0", "z1": "1.5", "z2": "0.0",
                                     "overlay": "false"}


def test_a_link_can_name_a_model_trained_since(tmp_path):
    trained = vc.save_checkpoint(tmp_path / "ckpts" / "lesson-1.pt", vc.VAE(vc.ModelConfig(hidden=(16,))))
    at = opened(HARNESS, {"model": "lesson-1"})
    assert at.selectbox(key=PICKER).value == str(trained)
    assert next(m.value for m in at.main.markdown if m.value.startswith("page uses:")).endswith("lesson-1.pt")


@pytest.mark.parametrize("bad", ["gone", "", "../default", "default.pt"])
def test_an_unknown_model_opens_the_default_with_one_notice_and_the_address_names_the_default(bad):
    at = opened(HARNESS, {"model": bad})
    assert at.selectbox(key=PICKER).value == str(DEFAULT_CHECKPOINT)
    (notice,) = at.toast
    assert "`model=" in notice.value and "showing the default (default)" in notice.value
    assert at.query_params["model"] == "default"


def test_the_unknown_model_notice_is_not_repeated_by_the_page(real_data):
    at = opened(APP, {"model": "gone", "grid": "8"}, page="decoder_grid")
    assert len(at.toast) == 1 and "model=gone" in at.toast[0].value
    assert at.slider(key="grid_size").value == 8 and at.query_params["model"] == "default"


def test_the_link_is_read_once_then_the_picker_owns_the_model_and_the_address_follows_it():
    at = opened(HARNESS, {"model": "beta4"})
    at.selectbox(key=PICKER).set_value(str(DEFAULT_CHECKPOINT.with_name("conv.pt"))).run()
    assert picked(at) == "conv" and at.query_params["model"] == "conv"
    at.run()
    assert picked(at) == "conv"  # the link's beta4 is not read again


def test_the_links_model_is_kept_when_a_page_is_clicked_before_the_sidebar_is_drawn():
    at = AppTest.from_file(HARNESS, default_timeout=60)
    at.session_state[LINKED] = ["conv"]  # noted by navigation.py as the first run started; the new page's address
    at.run()  # has no query any more
    assert picked(at) == "conv" and at.query_params["model"] == "conv"


def test_navigation_notes_the_links_model_as_the_first_run_starts(real_data):
    at = opened(APP, {"model": "beta4"})
    assert at.session_state[LINKED] == ["beta4"]


def test_the_links_model_is_sent_with_the_picker_until_the_user_picks_one():
    """A first run cut short by a page click loses its messages in the browser: the value is sent again (set_value)
    on later runs; after a pick in the browser, and without a link, the browser's value is left alone."""
    at = opened(HARNESS, {"model": "beta4"})
    at.run()
    assert at.selectbox(key=PICKER).proto.set_value and picked(at) == "beta4"
    at.selectbox(key=PICKER).set_value(str(DEFAULT_CHECKPOINT.with_name("conv.pt"))).run()
    at.run()
    assert not at.selectbox(key=PICKER).proto.set_value and picked(at) == "conv"
    plain = opened(HARNESS, {})
    plain.run()
    assert not plain.selectbox(key=PICKER).proto.set_value


def test_a_session_without_a_link_names_the_default_model_in_its_address():
    at = opened(HARNESS, {})
    assert at.query_params["model"] == "default" and not at.toast


@pytest.mark.parametrize("page", PAGES)
def test_every_page_keeps_the_model_in_its_address(page, real_data, cheap_anomaly_scores):
    at = opened(APP, {"model": "beta4"}, page=page)
    assert picked(at) == "beta4" and at.query_params["model"] == "beta4"


@pytest.mark.parametrize("page", WITH_COPY_LINK)
def test_the_copy_link_button_at_the_top_of_a_page_gives_its_link_with_the_model(page, real_data, cheap_anomaly_scores):
    at = opened(APP, {"model": "beta4"}, page=page)
    assert not at.get("code")  # closed: no link made
    at.session_state[us.COPY.format(page=page)] = True
    at.run()
    (code,) = at.get("code")
    assert code.value.startswith(f"http://localhost:8501/{page}?model=beta4")
