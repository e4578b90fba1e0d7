"""Room mode in a real browser (127.0.0.1 only): a session without the token finds no training form, no cancel and no
delete; a session opened with ?presenter=<token> finds them, loses the token from its address bar, and can cancel a
training the audience can only watch. Runs on `room_server` (tests/browser/conftest.py); the presenter and the
audience are two browser contexts. (That the room command's server looks nothing up on the internet at start is
tests/app/test_room.py's.)"""
from __future__ import annotations

import re

import pytest

from bench.browser_harness import open_page, wait_idle
from tests.browser.conftest import ROOM_TOKEN
from tests.browser.helpers import SIDEBAR, SLOW, expect_text, pick_model, shot, start_training

pytestmark = pytest.mark.browser
VIEWPORT = (1600, 1200)


@pytest.fixture(scope="module")
def presenter(page):
    return page


@pytest.fixture(scope="module")
def audience(second_page):
    return second_page


def controls(page) -> dict[str, int]:
    sidebar = page.locator(SIDEBAR)
    return {"form": sidebar.get_by_text("Train a new model").count(),
            "delete": sidebar.get_by_text("Delete this model").count(),
            "cancel": sidebar.get_by_role("button", name="Cancel training").count()}


def test_the_audience_finds_nothing_that_changes_the_server(room_server, audience):
    open_page(audience, room_server.url)
    expect_text(audience, "Variational autoencoder on MNIST", "audience overview", SLOW)
    wait_idle(audience, SLOW)
    pick_model(audience, "earlier")
    assert controls(audience) == {"form": 0, "delete": 0, "cancel": 0}
    assert audience.locator(SIDEBAR).get_by_text("Presenter?").count() == 1
    shot(audience, "room_01_audience")


def test_the_presenter_link_gives_the_controls_and_the_qr_code(room_server, presenter):
    open_page(presenter, room_server.url, query=f"?presenter={ROOM_TOKEN}")
    expect_text(presenter, "Variational autoencoder on MNIST", "presenter overview", SLOW)
    wait_idle(presenter, SLOW)
    assert ROOM_TOKEN not in presenter.url, f"the token stayed in the address bar: {presenter.url}"
    pick_model(presenter, "earlier")
    assert controls(presenter)["form"] == 1 and controls(presenter)["delete"] == 1
    presenter.locator(SIDEBAR).get_by_text("Share with the room").click()
    expect_text(presenter, "Scan to follow along", "the audience link's QR code")
    shot(presenter, "room_02_presenter")


def test_a_training_the_audience_can_watch_but_only_the_presenter_can_cancel(room_server, presenter, audience):
    sidebar = presenter.locator(SIDEBAR)
    start_training(presenter, {"Name": "room-run", "Epochs": "100", "Training images": "1000"},
                   form_text="Hidden sizes")
    expect_text(presenter, re.compile("Your training"), "presenter sees the training", SLOW)
    audience.reload()
    expect_text(audience, re.compile("The presenter is training"), "audience sees the training", SLOW)
    # the presenter's panel is a polling fragment: its button is drawn after the curves, so wait for it
    sidebar.get_by_role("button", name="Cancel training").wait_for(state="visible", timeout=SLOW)
    assert controls(audience)["cancel"] == 0 and controls(presenter)["cancel"] == 1
    shot(audience, "room_03_audience_watching")
    sidebar.get_by_role("button", name="Cancel training").click()
    expect_text(presenter, re.compile("cancelled"), "presenter cancelled the training", SLOW)
    assert not (room_server.checkpoints / "room-run.pt").exists()
