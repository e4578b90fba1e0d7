"""Room mode in a real browser (127.0.0.1 only): a session without the token finds no training form, no cancel and no
delete; a session opened with ?presenter=<token> finds them, loses the token from its address bar, and can cancel a
training the audience can only watch. The server's start-up makes no outbound call."""
from __future__ import annotations

import re

import pytest

import vae_core as vc
from bench.browser_harness import chromium, open_page, serve_app, wait_idle
from tests.browser.test_app_in_browser import SHOTS, SLOW, expect_text, shot

pytestmark = pytest.mark.browser
TOKEN = "browser-test-token-0123"
SIDEBAR = '[data-testid="stSidebar"]'


@pytest.fixture(scope="module")
def room(tmp_path_factory, real_data):
    """(base url, presenter page, audience page, checkpoint dir, server log) on one room-mode server."""
    tmp = tmp_path_factory.mktemp("room")
    checkpoints = tmp / "checkpoints"
    checkpoints.mkdir()
    vc.save_checkpoint(checkpoints / "earlier.pt", vc.VAE(vc.ModelConfig(hidden=(16,))), vc.TrainConfig(epochs=1),
                       metrics={"test_loss": 300.0})
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = tmp / "streamlit.log"
    with serve_app(checkpoints, log, env={"VAE_PRESENTER_TOKEN": TOKEN}) as (url, _), \
            chromium(viewport=(1600, 1200)) as presenter:
        audience = presenter.context.browser.new_page(viewport={"width": 1600, "height": 1200})
        for page in (presenter, audience):
            page.set_default_timeout(30_000)
        yield url, presenter, audience, checkpoints, log


def controls(page) -> dict[str, int]:
    sidebar = page.locator(SIDEBAR)
    return {"form": sidebar.get_by_text("Train a new model").count(),
            "delete": sidebar.get_by_text("Delete this model").count(),
            "cancel": sidebar.get_by_role("button", name="Cancel training").count()}


def pick(page, name: str) -> None:
    page.locator(f'{SIDEBAR} input[aria-label="Model"]').click()
    page.locator('[role="option"]').filter(has_text=name).first.click()
    wait_idle(page, SLOW)


def test_the_audience_finds_nothing_that_changes_the_server(room):
    url, _, audience, _, _ = room
    open_page(audience, url)
    expect_text(audience, "Variational autoencoder on MNIST", "audience overview", SLOW)
    wait_idle(audience, SLOW)
    pick(audience, "earlier")
    assert controls(audience) == {"form": 0, "delete": 0, "cancel": 0}
    assert audience.locator(SIDEBAR).get_by_text("Presenter?").count() == 1
    shot(audience, "room_01_audience")


def test_the_presenter_link_gives_the_controls_and_the_qr_code(room):
    url, presenter, _, _, _ = room
    open_page(presenter, url, query=f"?presenter={TOKEN}")
    expect_text(presenter, "Variational autoencoder on MNIST", "presenter overview", SLOW)
    wait_idle(presenter, SLOW)
    assert TOKEN not in presenter.url, f"the token stayed in the address bar: {presenter.url}"
    pick(presenter, "earlier")
    assert controls(presenter)["form"] == 1 and controls(presenter)["delete"] == 1
    presenter.locator(SIDEBAR).get_by_text("Share with the room").click()
    expect_text(presenter, "Scan to follow along", "the audience link's QR code")
    shot(presenter, "room_02_presenter")


def test_a_training_the_audience_can_watch_but_only_the_presenter_can_cancel(room):
    url, presenter, audience, checkpoints, _ = room
    sidebar = presenter.locator(SIDEBAR)
    sidebar.get_by_text("Train a new model").click()
    form = sidebar.locator('[data-testid="stForm"]').filter(has_text="Hidden sizes")
    for label, value in (("Name", "room-run"), ("Epochs", "100"), ("Training images", "1000")):
        field = form.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    form.get_by_role("button", name="Train", exact=True).click()
    expect_text(presenter, re.compile("Your training"), "presenter sees the training", SLOW)
    audience.reload()
    expect_text(audience, re.compile("A training is already running"), "audience sees the training", SLOW)
    # the presenter's panel is a polling fragment: its button is drawn after the curves, so wait for it
    sidebar.get_by_role("button", name="Cancel training").wait_for(state="visible", timeout=SLOW)
    assert controls(audience)["cancel"] == 0 and controls(presenter)["cancel"] == 1
    shot(audience, "room_03_audience_watching")
    sidebar.get_by_role("button", name="Cancel training").click()
    expect_text(presenter, re.compile("cancelled"), "presenter cancelled the training", SLOW)
    assert not (checkpoints / "room-run.pt").exists()


def test_starting_the_server_looked_nothing_up_on_the_internet(room):
    log = room[4].read_text()
    assert "external IP" not in log and "External URL" not in log, log[-1500:]
